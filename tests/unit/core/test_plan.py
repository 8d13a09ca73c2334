"""diff: ownership-limited removal and the order changes are applied in."""

from __future__ import annotations

import random

from routerd.core.desired import DesiredState, Observed, Route, Sysctl
from routerd.core.plan import SatisfiedMemo, diff


def state(*objs) -> DesiredState:
    d = DesiredState()
    for o in objs:
        d.add(o, "test")
    return d


def observed(*objs, owned=True) -> Observed:
    o = Observed()
    for x in objs:
        o.objects[x.key] = x
        if owned:
            o.owned.add(x.key)
    return o


def test_removals_only_of_owned_objects_and_devices_before_routes():
    want = state(Route("10.0.0.1/32", "wg0", 120), Sysctl("net.ipv4.ip_forward", "1"))
    have = observed(Route("10.0.0.9/32", "wg0", 120))
    have.objects[("route", "254", "10.0.0.8/32")] = Route("10.0.0.8/32", "eth0")  # foreign
    ops = [(c.op, c.key) for c in diff(want, have)]
    assert ops == [
        ("remove", ("route", "254", "10.0.0.9/32")),
        ("add", ("sysctl", "net.ipv4.ip_forward")),
        ("add", ("route", "254", "10.0.0.1/32")),
    ]


def test_memo_gives_the_same_changes_as_no_memo_over_random_passes():
    rng = random.Random(7)
    memo: SatisfiedMemo = {}
    routes = [Route(f"10.0.{i // 256}.{i % 256}/32", "wg0", 120) for i in range(300)]
    have_objs = dict(enumerate(routes))
    want = state(*routes)
    for _ in range(40):
        for _ in range(5):  # the host drifts: a route moved, removed, or re-read (new object)
            i = rng.randrange(300)
            roll = rng.random()
            if roll < 0.3:
                have_objs[i] = Route(routes[i].dst, "eth9", 120)
            elif roll < 0.6:
                have_objs.pop(i, None)
            else:
                have_objs[i] = Route(routes[i].dst, "wg0", 120)
        have = observed(*have_objs.values())
        with_memo = diff(want, have, memo=memo)
        assert with_memo == diff(want, have)
        for c in with_memo:  # applied, as a backend would
            have_objs[routes.index(c.new)] = c.new


def test_memo_drops_keys_no_longer_desired():
    memo: SatisfiedMemo = {}
    objs = [Route(f"10.1.0.{i}/32", "wg0") for i in range(100)]
    diff(state(*objs), observed(*objs), memo=memo)
    assert len(memo) == 100
    few = objs[:10]
    diff(state(*few), observed(*few), memo=memo)  # 100 > 2*10+64: stale keys dropped
    assert set(memo) == {o.key for o in few}
