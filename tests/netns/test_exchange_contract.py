"""The route-exchange contract (``tests.support.exchange_contract``) on ``GobgpExchange``.

The scenarios the simulator's ``SimExchange`` passes (``tests/unit/backends/sim/
test_exchange_contract.py``), run here on real gobgpd speakers peering with a BIRD2 route
reflector in namespaces (``bgp_lab``): the same inputs must give the same views. Time is
wall time; a partition is the router's link to the shared bridge going down, so both
speakers notice only when their hold timer expires, as in a real WAN cut.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import pytest

from routerd.core.exchange import Neighbor, Origination
from tests.netns import bgp_host as h
from tests.netns.bgp_lab import BgpLab
from tests.support import exchange_contract as contract
from tests.support.netns import Cleanup, scan_processes
from tests.support.wait import wait_until

pytestmark = [
    pytest.mark.netns,
    pytest.mark.slow,
    pytest.mark.skipif(
        any(shutil.which(t) is None for t in ("gobgpd", "bird", "birdc")),
        reason="needs gobgpd and bird2 (run tools/bootstrap)",
    ),
]


class GobgpHarness:
    """``ExchangeHarness`` on a ``BgpLab``."""

    def __init__(self, lab: BgpLab) -> None:
        self.lab = lab
        self.direct: list[tuple[str, str]] = []

    def build(self, sites: Mapping[str, int], direct: Sequence[tuple[str, str]] = ()) -> None:
        self.lab.build(dict(sites))
        for x, y in direct:
            for me, other in ((x, y), (y, x)):
                r, peer = self.lab.routers[me], self.lab.routers[other]
                extra = Neighbor(peer.address, description=f"{other} direct")
                r.extra_neighbors = (*r.extra_neighbors, extra)

    def open(self, name: str) -> None:
        self.lab.open(name)
        r = self.lab.routers[name]
        assert r.call(h.wait_synced, 15), f"{name}: gobgpd tables not read"

    def close(self, name: str, *, cleanup: bool) -> None:
        self.lab.close(name, cleanup=cleanup, keep_worker=True)

    def address(self, name: str) -> str:
        return self.lab.routers[name].address

    def sync(self, name: str, originations: dict[str, Origination]) -> list[str]:
        errors: list[str] = self.lab.routers[name].call(h.sync, originations)
        return errors

    def inject(self, name: str, originations: list[Origination]) -> None:
        self.lab.routers[name].call(h.inject, originations)

    def snapshot(self, name: str) -> dict[str, Any]:
        snap: dict[str, Any] = self.lab.routers[name].call(h.snapshot)
        return snap

    def wait(self, check: Callable[[], str | None], what: str, *, timeout: float) -> None:
        wait_until(check, timeout=timeout, interval=0.05, what=what)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def _bridge_port(self, name: str, state: str) -> None:
        bridge = self.lab.namespaces[0]
        bridge.ip("link", "set", f"p{name}", state)

    def cut(self, name: str) -> None:
        self._bridge_port(name, "down")

    def heal(self, name: str) -> None:
        self._bridge_port(name, "up")


@pytest.fixture
def harness() -> Iterator[GobgpHarness]:
    """Name: harness / Scope: function / Depends: nothing. A BgpLab, torn down after."""
    cleanup = Cleanup()
    lab = BgpLab(cleanup)
    try:
        yield GobgpHarness(lab)
    finally:
        errors = cleanup.close()
        assert not errors, errors
        assert not scan_processes([str(lab.tmp)]), "processes left behind"
        names = {ns.name for ns in lab.namespaces}
        assert not names & set(os.listdir("/var/run/netns")), "namespaces left behind"


@pytest.mark.parametrize("scenario", contract.SCENARIOS, ids=lambda s: s.__name__)
def test_contract(
    scenario: Callable[[contract.ExchangeHarness], None], harness: GobgpHarness
) -> None:
    scenario(harness)
