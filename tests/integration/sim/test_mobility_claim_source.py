"""A mobility controller feeds its derived claims to the engine through a ``ClaimSource``.

Router ``ra`` of the three-site world (site A, on-prem, proxy-ARP on ``ens19``) runs the
real engine over ``SimBackend`` with the example site-A config, without its anycast gateway
(derived claims then capture on ``ens19`` itself). The mobility controller is
wired the way the daemon wires it: a ``ClaimSource("mobility", on_pass=...)`` runs the
controller's step on the engine thread at the start of every pass, hands the step's claim
delta to the source (``put`` / ``remove``) and its next wake to ``wake_at``. The route
exchange and presence are plain stand-ins the test sets, so what is checked is the seam:

* a path saying 10.77.0.22 lives at site B becomes a derived claim the same pass, lowered
  and applied like any claim (captured on ``ens19`` by its ``/32`` route into ``wg-mob``, the
  address in site B's WireGuard allowed IPs), shown with origin ``mobility``, in a pass that
  stays scoped;
* the controller's timers reach the engine's next wake-up through ``wake_at``;
* when the VM turns up here instead, the claim is removed through the source and released:
  its objects leave the simulated host.
"""

from __future__ import annotations

from pathlib import Path
from types import MappingProxyType

import pytest

from routerd.backends.sim import SimBackend
from routerd.backends.sim.segment import arp_answer
from routerd.core.claim_source import ClaimSource
from routerd.core.engine import Engine, EngineSettings
from routerd.core.exchange import ExchangeView, LearnedPath, SessionState
from routerd.core.mobility.controller import MobilityController
from routerd.core.mobility.port import MemoryMobilityStore
from routerd.core.mobility.records import PRESENT, PresenceFact
from routerd.core.mobility.step import MobilityStep
from routerd.keys import KeyFiles
from tests.support import configs
from tests.support import mobility_world as mw

pytestmark = pytest.mark.integration

VM2 = "10.77.0.22"
RR = "10.255.0.1"
CLAIM = "mobility.lab.10-77-0-22"


class Presence:
    """The presence tracker as the controller reads it."""

    def __init__(self) -> None:
        self.facts: dict[str, PresenceFact] = {}

    def fact(self, address: str) -> PresenceFact | None:
        return self.facts.get(address)

    def present(self) -> list[str]:
        return [a for a, f in self.facts.items() if f.state == PRESENT]


class Mobility:
    """The controller behind a claim source, stepping at the start of every pass."""

    def __init__(self, controller: MobilityController) -> None:
        self.controller = controller
        self.paths: dict[str, tuple[LearnedPath, ...]] = {}
        self.presence = Presence()
        self.source = ClaimSource("mobility", on_pass=self.on_pass)
        self.steps: list[MobilityStep] = []

    def on_pass(self, now: float) -> None:
        view = ExchangeView(
            paths=MappingProxyType(dict(self.paths)),
            sessions=MappingProxyType({RR: SessionState(RR, "established", 0.0)}),
            originated={},
        )
        step = self.controller.step(now, view, self.presence)
        assert step.error == "", step.error
        self.steps.append(step)
        if step.claims.put:
            self.source.put(*step.claims.put)
        if step.claims.removed:
            self.source.remove(*step.claims.removed)
        if step.next_wake is not None:
            self.source.wake_at(step.next_wake)


@pytest.fixture
def rig(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Name: rig / Scope: function / Depends: tmp_path. (world, clock, engine, mobility)."""
    world, _control, clock = mw.build()
    text = configs.without_gateway((configs.EXAMPLES / "mobility" / "site-a.yaml").read_text())
    config = configs.load(configs.with_keys(text, tmp_path / "keys"))
    settings = EngineSettings(key_dir=str(tmp_path / "keys"), keys_in_key_dir=True)
    engine = Engine(
        SimBackend(world, "ra"), config, keys=KeyFiles(), settings=settings, clock=clock
    )
    mobility = Mobility(MobilityController(config, MemoryMobilityStore(), clock=clock))
    engine.add_claim_source(mobility.source)
    engine.run_pass()
    yield world, clock, engine, mobility
    engine.close()


def test_a_remote_home_becomes_a_claim_the_engine_applies_and_releases(rig) -> None:
    world, clock, engine, mobility = rig
    host = world.hosts["ra"]
    assert CLAIM not in engine.snapshot.claims
    assert arp_answer(host, "ens19", VM2) is None

    mobility.paths[VM2] = (LearnedPath(VM2, 2, 1, "10.255.0.21", RR, "10.255.0.21"),)
    clock.advance(1.0)
    result = engine.run_pass()

    assert [c.name for s in mobility.steps for c in s.claims.put] == [CLAIM]
    assert not result.full  # a derived claim is a delta, like a reloaded one
    view = engine.snapshot.claims[CLAIM]
    assert view.origin == "mobility"
    assert arp_answer(host, "ens19", VM2) == "proxy"  # captured by its route
    assert [r.dev for r in host.fib.routes_for(f"{VM2}/32")] == ["wg-mob"]
    peer = next(
        p for p in host.wireguard["wg-mob"].peers.values() if "10.255.0.21/32" in p.allowed_ips
    )
    assert f"{VM2}/32" in peer.allowed_ips

    clock.advance(1.0)  # the VM announces itself here, after the path arrived
    mobility.presence.facts[VM2] = PresenceFact(PRESENT, clock(), clock(), "garp", mw.VM1_MAC)
    engine.run_pass()

    assert [n for s in mobility.steps for n in s.claims.removed] == [CLAIM]
    assert CLAIM not in engine.snapshot.claims
    assert arp_answer(host, "ens19", VM2) is None
    assert host.fib.routes_for(f"{VM2}/32") == []


def test_the_controllers_timers_wake_the_engine_through_the_source(rig) -> None:
    _world, clock, engine, mobility = rig
    mobility.source.wake_at(clock() + 0.5)
    assert engine.next_wake() == pytest.approx(clock() + 0.5)
    clock.advance(1.0)
    engine.run_pass()
    assert engine.next_wake() > clock() + 0.5  # a request that fell due is consumed
