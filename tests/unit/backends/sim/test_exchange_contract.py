"""The route-exchange contract (``tests.support.exchange_contract``) on ``SimExchange``.

The same scenarios run on ``GobgpExchange`` with gobgpd and BIRD2 in namespaces
(``tests/netns/test_exchange_contract.py``); here they run in a simulated world, in virtual
time: ``wait`` moves the clock from one due event to the next until the check passes, so a
scenario takes milliseconds of real time and gives the same answer every run.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest

from routerd.backends.sim import ManualClock, World
from routerd.backends.sim.bgp.exchange import SimExchange
from routerd.backends.sim.timers import advance, run_until
from routerd.core.exchange import ImportPolicy, Neighbor, Origination, SpeakerSettings
from tests.support import exchange_contract as contract


class SimHarness:
    """``ExchangeHarness`` on a world's BGP fabric with a manual clock."""

    def __init__(self) -> None:
        self.clock = ManualClock(1_000_000.0)
        self.world = World(clock=self.clock)
        self.sites: dict[str, int] = {}
        self.direct: dict[str, tuple[Neighbor, ...]] = {}
        self.exchanges: dict[str, SimExchange] = {}
        self.changes: dict[str, int] = {}

    def build(self, sites: Mapping[str, int], direct: Sequence[tuple[str, str]] = ()) -> None:
        self.sites = dict(sites)
        for x, y in direct:
            for me, other in ((x, y), (y, x)):
                extra = Neighbor(self.address(other), description=f"{other} direct")
                self.direct[me] = (*self.direct.get(me, ()), extra)

    def address(self, name: str) -> str:
        return f"10.99.0.{11 + list(self.sites).index(name)}"

    def policy(self) -> ImportPolicy:
        sites: dict[int, frozenset[str]] = {}
        for name, site in self.sites.items():
            sites[site] = sites.get(site, frozenset()) | {self.address(name)}
        return ImportPolicy(contract.ASN, contract.DOMAINS, sites)

    def settings(self, name: str) -> SpeakerSettings:
        rr = Neighbor(contract.RR, description="route reflector")
        address = self.address(name)
        neighbors = (rr, *self.direct.get(name, ()))
        site = self.sites[name]
        return SpeakerSettings(contract.ASN, site, address, address, neighbors=neighbors)

    def open(self, name: str) -> None:
        ex = SimExchange(self.world.bgp, name, self.settings(name), self.policy())
        self.changes.setdefault(name, 0)

        def changed() -> None:
            self.changes[name] += 1

        ex.start(changed)
        self.exchanges[name] = ex

    def close(self, name: str, *, cleanup: bool) -> None:
        self.exchanges.pop(name).close(cleanup=cleanup)

    def sync(self, name: str, originations: dict[str, Origination]) -> list[str]:
        return self.exchanges[name].sync(originations)

    def inject(self, name: str, originations: list[Origination]) -> None:
        self.exchanges[name].inject(originations)

    def snapshot(self, name: str) -> dict[str, Any]:
        v = self.exchanges[name].view()
        return {
            "paths": {a: list(p) for a, p in v.paths.items()},
            "sessions": dict(v.sessions),
            "originated": dict(v.originated),
            "refused": list(v.refused),
            "refused_counts": dict(v.refused_counts),
            "connected": v.connected,
            "error": v.error,
            "changes": self.changes[name],
        }

    def wait(self, check: Callable[[], str | None], what: str, *, timeout: float) -> None:
        deadline = self.clock.now + timeout
        while True:
            last = check()
            if last is None:
                return
            due = self.world.timers.next_due()
            if due is None or due > deadline:
                when = "nothing more is due" if due is None else f"next event at +{timeout}s"
                raise AssertionError(f"{what}: {last} ({when})")
            run_until(self.world.timers, self.clock, due)

    def sleep(self, seconds: float) -> None:
        advance(self.world.timers, self.clock, seconds)

    def cut(self, name: str) -> None:
        self.world.bgp.cut([frozenset((name, "reflector"))])

    def heal(self, name: str) -> None:
        self.world.bgp.heal([frozenset((name, "reflector"))])


@pytest.mark.parametrize("scenario", contract.SCENARIOS, ids=lambda s: s.__name__)
def test_contract(scenario: Callable[[contract.ExchangeHarness], None]) -> None:
    scenario(SimHarness())
