"""A tail overlay that does not track its written keys publishes what a tracking one does."""

from __future__ import annotations

import random

from routerd.core.desired import Key
from routerd.core.tail_overlay import TailOverlay


def _sum(base: int | None, tail: int) -> int:
    return (base or 0) + tail


def test_untracked_overlay_publishes_the_same_maps() -> None:
    rng = random.Random(7)
    tracked: TailOverlay[int, int] = TailOverlay(_sum)
    untracked: TailOverlay[int, int] = TailOverlay(_sum, track=False)
    keys: list[Key] = [("k", str(i)) for i in range(12)]
    fresh = list(keys)
    for step in range(400):
        k = rng.choice(keys)
        value = rng.choice([None, 1, 2, 3])
        op = rng.randrange(3)
        if op == 0:
            tracked.set_base(k, value)
            untracked.set_base(k, value)
        elif op == 1:
            tracked.set_tail(k, value)
            untracked.set_tail(k, value)
        elif fresh and tracked.base(fresh[-1]) is None:
            bulk = {fresh.pop(): step}
            tracked.set_bases(dict(bulk))
            untracked.set_bases(dict(bulk))
        assert tracked.base(k) == untracked.base(k)
        if step % 7 == 0:
            assert tracked.finish() == untracked.finish()
    assert tracked.finish() == untracked.finish()
    assert tracked.written
    assert untracked.written == set()
