"""Reconcile engine: state walking, drift, agent-added addresses (D15, docs/decisions.md),
release, isolation, backoff, journal."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from routerd.core.config import RouterConfig
from routerd.core.desired import Garp, Observed, ObserveScope
from routerd.core.engine import Engine, EngineSettings
from routerd.core.port import Change, ChangeResult, PathCheck, PathEvidence
from routerd.keys import KeyFiles
from routerd.state.store import Store
from tests.support import configs
from tests.unit.core.fakehost import FakeHost

ONPREM_ROUTE = ("route", "254", "10.40.8.21/32")
CLOUD_ROUTE = ("route", "254", "10.40.8.31/32")


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def engine_for(
    cfg: RouterConfig, host: FakeHost, tmp_path: Path, clock: Clock, store: Store | None = None
) -> Engine:
    settings = EngineSettings(key_dir=str(tmp_path / "keys"))
    return Engine(host, cfg, store=store, keys=KeyFiles(), settings=settings, clock=clock)


def transitions(engine: Engine) -> list[tuple[str, str, str, str]]:
    return (
        [(e.claim, e.from_state, e.to_state, e.reason) for e in engine.store.journal()]
        if engine.store
        else []
    )


def test_onprem_claim_walks_to_verified_and_journals(tmp_path, clock):
    store = Store.open(tmp_path / "state")
    host = FakeHost()
    eng = engine_for(configs.single("azure", "onprem", tmp_path), host, tmp_path, clock, store)
    eng.run_pass()
    view = eng.snapshot.claims["cloud-vm-21"]
    assert view.state == "verified", (view.reason, view.message)
    states = [(f, t) for _, f, t, _ in transitions(eng)]
    assert states == [
        ("pending", "captured"),
        ("captured", "delivering"),
        ("delivering", "verified"),
    ]
    assert host.garps == [("10.40.8.21", "ens19")]
    assert host.sysctls["net.ipv4.conf.ens19.proxy_arp"] == "1"


def test_second_pass_changes_nothing(tmp_path, clock):
    host = FakeHost()
    eng = engine_for(configs.single("azure", "onprem", tmp_path), host, tmp_path, clock)
    eng.run_pass()
    applied = len(host.applied)
    result = eng.run_pass()
    assert result.changes == 0 and len(host.applied) == applied
    assert host.garps == [("10.40.8.21", "ens19")]  # sent once, on capture only


class OrderedHost(FakeHost):
    """FakeHost that records, in order, applies, observations, gratuitous ARPs and path
    checks."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[str] = []

    def observe(self, scope: ObserveScope) -> Observed:
        self.events.append("observe")
        return super().observe(scope)

    def apply(self, changes: Sequence[Change]) -> list[ChangeResult]:
        garps = [f"garp {c.new.address}" for c in changes if isinstance(c.new, Garp)]
        self.events += garps or ["apply"]
        return super().apply(changes)

    def verify(self, checks: Sequence[PathCheck]) -> dict[str, PathEvidence]:
        self.events += [f"verify {c.address}" for c in checks]
        return super().verify(checks)


def test_a_new_capture_is_announced_right_after_the_apply_that_made_it(tmp_path, clock):
    """The gratuitous ARP repoints hosts that cached the address's old MAC: it leaves with
    the apply that made the capture, not after the observation and path checks after it."""
    host = OrderedHost()
    eng = engine_for(configs.single("azure", "onprem", tmp_path), host, tmp_path, clock)
    eng.run_pass()
    assert eng.snapshot.claims["cloud-vm-21"].state == "verified"
    assert host.events == ["observe", "apply", "garp 10.40.8.21", "observe", "verify 10.40.8.21"]
    assert host.garps == [("10.40.8.21", "ens19")]  # once: not again at the end of the pass
    eng.run_pass()
    assert host.garps == [("10.40.8.21", "ens19")]


def test_a_capture_the_apply_alone_does_not_make_is_announced_once_observed(tmp_path, clock):
    """Proxy ARP stays off until a sysctl outside the claim's own objects is on: not captured
    by what the apply did, so announced when the observation shows the capture, still
    before the path checks."""
    host = OrderedHost()
    eng = engine_for(configs.single("azure", "onprem", tmp_path), host, tmp_path, clock)
    host.fail[("sysctl", "net.ipv4.conf.ens19.proxy_arp")] = "refused"
    eng.run_pass()
    assert host.garps == []
    assert eng.snapshot.claims["cloud-vm-21"].state in ("pending", "degraded")
    del host.fail[("sysctl", "net.ipv4.conf.ens19.proxy_arp")]
    host.events.clear()
    clock.now += 60  # past the backoff
    eng.run_pass()
    assert host.garps == [("10.40.8.21", "ens19")]
    assert host.events.index("garp 10.40.8.21") < host.events.index("verify 10.40.8.21")


def test_missing_capture_interface_keeps_claim_pending_with_reason(tmp_path, clock):
    host = FakeHost(links=("eth0",))
    eng = engine_for(configs.single("azure", "onprem", tmp_path), host, tmp_path, clock)
    eng.run_pass()
    view = eng.snapshot.claims["cloud-vm-21"]
    assert (view.state, view.reason) == ("pending", "capture-interface-missing")


def test_route_drift_is_seen_as_degraded_then_healed(tmp_path, clock):
    store = Store.open(tmp_path / "state")
    host = FakeHost()
    eng = engine_for(configs.single("azure", "onprem", tmp_path), host, tmp_path, clock, store)
    eng.run_pass()
    host.delete(ONPREM_ROUTE)
    eng.run_pass()
    log = transitions(eng)[3:]
    # a proxy-ARP claim's route is its capture: without it the kernel answers no ARP
    assert log[0] == ("cloud-vm-21", "verified", "degraded", "capture-route-missing")
    assert log[-1][2] == "verified"
    assert ONPREM_ROUTE in host.objects


def test_agent_readded_address_is_removed_and_never_readded(tmp_path, clock):
    store = Store.open(tmp_path / "state")
    host = FakeHost(links=("eth0",))
    host.agent_adds("10.40.8.31", "eth0", "10.40.8.31/24")  # present before start (D15)
    eng = engine_for(configs.single("azure", "cloud", tmp_path), host, tmp_path, clock, store)
    eng.run_pass()
    assert "10.40.8.31" not in host.local_addresses
    assert eng.snapshot.claims["onprem-vm-31"].state == "verified"
    host.agent_adds("10.40.8.31", "eth0", "10.40.8.31/24")  # the agent comes back
    eng.run_pass()
    assert ("onprem-vm-31", "verified", "degraded", "os-address-present") in transitions(eng)
    assert "10.40.8.31" not in host.local_addresses
    # release: the claim goes away; the address is not put back
    cfg = eng.startup
    eng.set_startup(cfg.replace(r for r in cfg if r.kind != "RemoteAddressClaim"))
    eng.run_pass()
    assert "10.40.8.31" not in host.local_addresses
    assert CLOUD_ROUTE not in host.objects


def test_peer_not_covered_degrades_with_reason(tmp_path, clock):
    host = FakeHost()
    eng = engine_for(
        configs.single("azure", "onprem", tmp_path),
        host,
        tmp_path,
        clock,
        Store.open(tmp_path / "s"),
    )
    eng.run_pass()
    host.fail[("wg", "wg-sam")] = "EPERM: operation not permitted"
    host.strip_peer("wg-sam", "10.40.8.21/32")
    eng.run_pass()
    view = eng.snapshot.claims["cloud-vm-21"]
    assert (view.state, view.reason) == ("degraded", "peer-not-covered")
    assert "EPERM" in view.message


def _two_claims(tmp_path: Path) -> RouterConfig:
    text = configs.with_keys(configs.example_text("azure", "onprem"), tmp_path / "k")
    extra = """
    - apiVersion: hybrid.routerd.net/v1alpha1
      kind: RemoteAddressClaim
      metadata:
        name: cloud-vm-22
      spec:
        domainRef: edge-lan
        address: 10.40.8.22/32
        ownerSide: cloud
        capture: {type: proxy-arp, interface: ens19}
        delivery: {peerRef: cloud-a, mode: route, tunnelInterface: wg-sam}
"""
    return configs.load(text + extra)


def test_release_removes_exactly_that_claims_objects(tmp_path, clock):
    host = FakeHost()
    cfg = _two_claims(tmp_path)
    eng = engine_for(cfg, host, tmp_path, clock, Store.open(tmp_path / "s"))
    eng.run_pass()
    before = dict(host.objects)
    host.applied.clear()
    eng.set_startup(cfg.replace(r for r in cfg if r.name != "cloud-vm-22"))
    eng.run_pass()
    removed = {c.key for c in host.applied if c.op == "remove"}
    assert removed == {("route", "254", "10.40.8.22/32")}  # the route was the capture
    changed = {c.key for c in host.applied if c.op != "remove"}
    assert changed == {("wg", "wg-sam")}  # the peer's allowed IPs lose 10.40.8.22/32
    assert host.objects[ONPREM_ROUTE] == before[ONPREM_ROUTE]
    assert "cloud-vm-22" not in eng.snapshot.claims
    released = [e for e in eng.store.journal() if e.to_state == "released"]
    assert [(e.claim, e.from_state) for e in released] == [("cloud-vm-22", "verified")]


def test_one_failing_claim_does_not_block_the_other(tmp_path, clock):
    host = FakeHost()
    host.fail[("route", "254", "10.40.8.22/32")] = "ENETUNREACH"
    eng = engine_for(_two_claims(tmp_path), host, tmp_path, clock)
    eng.run_pass()
    good, bad = eng.snapshot.claims["cloud-vm-21"], eng.snapshot.claims["cloud-vm-22"]
    assert good.state == "verified"
    # the route is the capture: a claim that never captured stays pending, saying why
    assert (bad.state, bad.reason) == ("pending", "capture-route-missing")
    assert "ENETUNREACH" in bad.message


def test_failed_object_backs_off_then_retries(tmp_path, clock):
    host = FakeHost()
    host.fail[ONPREM_ROUTE] = "EBUSY"
    cfg = configs.single("azure", "onprem", tmp_path)
    eng = engine_for(cfg, host, tmp_path, clock, Store.open(tmp_path / "s"))
    eng.run_pass()
    tries = sum(1 for c in host.applied if c.key == ONPREM_ROUTE)
    n = len(eng.store.journal()) if eng.store else 0
    eng.run_pass()  # same instant: in backoff, not retried, no flapping
    assert sum(1 for c in host.applied if c.key == ONPREM_ROUTE) == tries
    view = eng.snapshot.claims["cloud-vm-21"]
    assert (view.state, view.reason) == ("pending", "capture-route-missing")
    assert "apply failed: EBUSY" in view.message
    assert (len(eng.store.journal()) if eng.store else 0) == n
    del host.fail[ONPREM_ROUTE]
    clock.now += 2.0  # first delay is 1s ±20%
    eng.run_pass()
    assert eng.snapshot.claims["cloud-vm-21"].state == "verified"


def test_stale_handshake_degrades_and_recovers(tmp_path, clock):
    store = Store.open(tmp_path / "state")
    host = FakeHost()
    eng = engine_for(configs.single("azure", "onprem", tmp_path), host, tmp_path, clock, store)
    eng.run_pass()
    host.handshake_age = 400.0
    eng.run_pass()
    view = eng.snapshot.claims["cloud-vm-21"]
    assert (view.state, view.reason) == ("degraded", "handshake-stale")
    eng.run_pass()  # still stale: stays degraded, no flapping through pending
    assert eng.snapshot.claims["cloud-vm-21"].state == "degraded"
    host.handshake_age = 3.0
    eng.run_pass()
    assert eng.snapshot.claims["cloud-vm-21"].state == "verified"
    tail = [(f, t) for _, f, t, _ in transitions(eng)][-4:]
    assert tail == [
        ("degraded", "pending"),
        ("pending", "captured"),
        ("captured", "delivering"),
        ("delivering", "verified"),
    ]


def test_journal_replays_what_subscribers_saw(tmp_path, clock):
    store = Store.open(tmp_path / "state")
    host = FakeHost()
    eng = engine_for(configs.single("azure", "onprem", tmp_path), host, tmp_path, clock, store)
    sub = eng.bus.subscribe()
    eng.run_pass()
    host.delete(ONPREM_ROUTE)
    eng.run_pass()
    seen = sub.get(timeout=0)
    assert seen and seen == store.journal()
    assert [e.seq for e in seen] == list(range(1, len(seen) + 1))


def test_cleanup_flag_reaches_backend(tmp_path, clock):
    host = FakeHost()
    eng = engine_for(configs.single("azure", "onprem", tmp_path), host, tmp_path, clock)
    eng.run_pass()
    eng.close(cleanup=False)
    assert host.closed_with is False
