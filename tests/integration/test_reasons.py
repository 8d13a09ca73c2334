"""Every degraded reason, provoked in the simulated lab and healed without a restart.

Both routers run real engines (the demo's lab) on a manual clock, so handshake ages are
deterministic. Each test breaks one thing the way the world would, runs passes, and checks
the journal: the claim went ``degraded`` with the right reason, then (where routerd can fix
it) back to ``verified``.
"""

from __future__ import annotations

import pytest

from routerd.backends.sim import ManualClock
from routerd.backends.sim import lab as L
from routerd.cli.demo_lab import DemoLab, build

ONPREM_CLAIM = "cloud-vm-21"
CLOUD_CLAIM = "onprem-vm-31"


@pytest.fixture
def clock():
    return ManualClock(start=1_800_000_000.0)


@pytest.fixture
def lab(clock):
    demo = build("azure", clock=clock)
    assert demo.settle(), demo.claims()
    demo.journal.clear()
    yield demo
    demo.close()


def degraded_reasons(demo: DemoLab) -> list[tuple[str, str]]:
    return [(r.claim, r.reason) for _, r in demo.journal if r.to_state == "degraded"]


def state(demo: DemoLab, claim: str) -> tuple[str, str]:
    for c in demo.claims():
        if c["name"] == claim:
            return c["state"], c["reason"]
    raise KeyError(claim)


@pytest.mark.parametrize(
    ("breakage", "claim", "reason"),
    [
        (
            lambda w: w.set_sysctl(L.ONPREM_ROUTER, "net.ipv4.ip_forward", "0"),
            ONPREM_CLAIM,
            "ip-forward-disabled",
        ),
        (
            lambda w: w.set_sysctl(L.ONPREM_ROUTER, "net.ipv4.conf.ens19.proxy_arp", "0"),
            ONPREM_CLAIM,
            "proxy-arp-disabled",
        ),
        (
            lambda w: w.set_sysctl(L.ONPREM_ROUTER, "net.ipv4.conf.ens19.forwarding", "0"),
            ONPREM_CLAIM,
            "capture-forwarding-disabled",
        ),
        (
            lambda w: w.delete_route(L.ONPREM_ROUTER, f"{L.CLOUD_VM_IP}/32"),
            ONPREM_CLAIM,
            "capture-route-missing",
        ),
        (
            lambda w: w.agent_add_address(L.CLOUD_ROUTER, "eth0", f"{L.ONPREM_VM_IP}/24"),
            CLOUD_CLAIM,
            "os-address-present",
        ),
        (
            lambda w: w.delete_route(L.CLOUD_ROUTER, f"{L.ONPREM_VM_IP}/32"),
            CLOUD_CLAIM,
            "route-not-installed",
        ),
        (lambda w: w.flush_nft_table(L.ONPREM_ROUTER), ONPREM_CLAIM, "mss-clamp-missing"),
    ],
)
def test_drift_degrades_with_reason_then_heals(lab, breakage, claim, reason):
    breakage(lab.lab.world)
    lab.pass_all()
    assert (claim, reason) in degraded_reasons(lab)
    assert lab.settle()
    assert state(lab, claim) == ("verified", "")


def test_tunnel_down_then_up(lab):
    lab.lab.world.set_link_up(L.ONPREM_ROUTER, L.TUNNEL, False)
    lab.pass_all()
    assert state(lab, ONPREM_CLAIM) == ("degraded", "tunnel-down")
    lab.lab.world.set_link_up(L.ONPREM_ROUTER, L.TUNNEL, True)
    assert lab.settle()


def test_handshake_goes_stale_when_the_underlay_breaks(lab, clock):
    lab.lab.world.set_link_up(L.CLOUD_ROUTER, L.PUBLIC_IF, False)
    clock.advance(200)
    lab.pass_all()
    assert state(lab, ONPREM_CLAIM) == ("degraded", "handshake-stale")
    assert state(lab, CLOUD_CLAIM) == ("degraded", "handshake-stale")
    lab.lab.world.set_link_up(L.CLOUD_ROUTER, L.PUBLIC_IF, True)
    assert lab.settle()


def test_foreign_better_route_out_of_the_capture_interface_ends_the_capture(lab, clock):
    # The kernel's input lookup from the capture segment now leaves by the capture
    # interface itself: it answers no ARP for the address there.
    lab.lab.world.add_route(
        L.ONPREM_ROUTER, f"{L.CLOUD_VM_IP}/32", dev="ens19", metric=50, proto="static"
    )
    clock.advance(120)  # past the verify interval: the path is looked up again
    lab.pass_all()
    assert state(lab, ONPREM_CLAIM)[1] == "capture-route-missing"
    assert (ONPREM_CLAIM, "capture-route-missing") in degraded_reasons(lab)
    assert "iif ens19" in message(lab, ONPREM_CLAIM)


def test_foreign_better_route_elsewhere_is_a_lookup_mismatch(lab, clock):
    world = lab.lab.world
    world.add_route(L.ONPREM_ROUTER, f"{L.CLOUD_VM_IP}/32", dev="lo", metric=50, proto="static")
    clock.advance(120)
    lab.pass_all()
    assert state(lab, ONPREM_CLAIM)[1] == "route-lookup-mismatch"
    assert (ONPREM_CLAIM, "route-lookup-mismatch") in degraded_reasons(lab)


def test_peer_not_covered_when_allowed_ips_cannot_be_set(lab):
    world = lab.lab.world
    world.fail_next_apply(
        L.ONPREM_ROUTER, lambda k: k[0] == "wg", "EPERM: uapi refused", retryable=False
    )
    engine = lab.engines[L.ONPREM_ROUTER]
    cfg = engine.startup
    extra = cfg.find("RemoteAddressClaim", ONPREM_CLAIM)
    assert extra is not None
    second = extra.model_copy(
        update={
            "metadata": extra.metadata.model_copy(update={"name": "cloud-vm-22"}),
            "spec": extra.spec.model_copy(update={"address": "10.40.8.22/32"}),
        }
    )
    engine.set_startup(cfg.replace([*cfg.resources, second]))
    engine.run_pass()
    view = engine.snapshot.claims["cloud-vm-22"]
    assert (view.state, view.reason) == ("degraded", "peer-not-covered")
    assert "EPERM" in view.message


def message(demo: DemoLab, claim: str) -> str:
    return next(c["message"] for c in demo.claims() if c["name"] == claim)


def test_unprovisioned_cloud_nic_keeps_the_claim_pending_naming_provider_and_nic(clock):
    demo = build("aws", clock=clock, provision=False)
    try:
        demo.settle(rounds=8)
        assert state(demo, CLOUD_CLAIM) == ("pending", "provider-ip-not-assigned")
        detail = message(demo, CLOUD_CLAIM)
        assert "aws" in detail and "ens5" in detail and "eni-0a1b2c3d4e5f60789" in detail
        demo.lab.provision()
        assert demo.settle()
        assert message(demo, CLOUD_CLAIM) == ""  # the fabric confirmed it: nothing unproven
    finally:
        demo.close()


def test_unassigned_later_goes_degraded_and_heals(lab):
    """The provider drops the secondary IP under a verified claim (a person undid it)."""
    with lab.lab.world.lock:
        lab.lab.fabric.unassign(L.ONPREM_VM_IP)
    lab.pass_all()
    assert state(lab, CLOUD_CLAIM) == ("degraded", "provider-ip-not-assigned")
    lab.lab.provision()
    assert lab.settle()


def test_without_provider_evidence_the_path_probe_still_catches_the_fabric(clock):
    """No metadata to ask: the capture is declared, the sim's traced packet finds the drop."""
    demo = build("aws", clock=clock, provision=False, provider_evidence=False)
    try:
        demo.settle(rounds=8)
        assert state(demo, CLOUD_CLAIM) == ("delivering", "overlay-probe-failed")
        demo.lab.provision()
        assert demo.settle()
        assert message(demo, CLOUD_CLAIM).startswith("capture declared, provider side unproven")
    finally:
        demo.close()


def test_missing_capture_interface_keeps_claim_pending(clock):
    demo = build("azure", clock=clock)
    try:
        demo.lab.world.hosts[L.ONPREM_ROUTER].interfaces.pop("ens19")
        demo.pass_all()
        assert state(demo, ONPREM_CLAIM) == ("pending", "capture-interface-missing")
    finally:
        demo.close()
