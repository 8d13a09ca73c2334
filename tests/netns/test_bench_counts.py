"""The bench's "kernel objects touched" counters see every change and look-up the backend
sends, whichever way its netlink socket sends them.

``bench.kernel``'s one-claim figures (objects ≤ 5 per change) stand on these counters. The
backend's socket has grown ways to send besides ``transact`` (bare route bodies for route
adds, look-ups read in place), and a counter that missed them read 0 objects for a claim
added: a target met by a figure that could not fail. Here each one-claim change, run as the
bench runs it at a small N in a fresh namespace, must count exactly the routes it changes
and the look-ups that prove it.
"""

from __future__ import annotations

import pytest

from bench import kernel
from bench import kernel_worker as kw
from tests.support.netns import Cleanup

pytestmark = [pytest.mark.netns]

N = 20


@pytest.mark.parametrize("side", ["proxy-arp", "provider"])
def test_each_one_claim_change_counts_its_routes_and_lookups(side):
    cleanup = Cleanup()
    try:
        worker, _ = kernel._open(side, N, cleanup)
        first = worker.call(kw.engine_cold_pass, timeout=120)
        assert first["failures"] == 0, first
        worker.call(kw.settle, timeout=120)
        added = worker.call(kw.one_claim, "add")
        removed = worker.call(kw.one_claim, "remove")
        moved = worker.call(kw.one_claim, "modify")
        kernel._close(worker)
    finally:
        assert not cleanup.close()
    assert added["by_kind"] == {"route": 1}, added
    assert added["lookups"] >= 1, added  # the new claim's delivery is looked up
    assert removed["by_kind"] == {"route": 1}, removed
    assert moved["by_kind"] == {"route": 2}, moved  # the old route goes, the new one comes
