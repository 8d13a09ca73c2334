"""The lab, driven by nothing but lowering and the sim backend: the address moves.

Both routers get their example config (fresh keys, each other's public key), and one
observe -> diff -> apply pass per router is all the "engine" there is. The assertions are
the lab smoke's: ping both ways with the source preserved, bulk TCP both ways, OCI's black
hole without the clamp, the image firewall, and the guest agent re-adding the captured
address (D15, docs/decisions.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from routerd.backends.sim import Drop, ManualClock, SimBackend, build_lab
from routerd.backends.sim import lab as L
from routerd.core.desired import Garp, ObserveScope
from routerd.core.lowering import Lowered
from routerd.core.port import Change, ChangeResult

from .kit import checks, example_pair, lowered, reconcile_once

PROVIDERS = ["azure", "aws", "oci", "gcp"]
MIB = 1024 * 1024


class LabRun:
    """A lab plus one backend and lowered config per router."""

    def __init__(self, provider: str, key_dir: Path, **lab_options: object) -> None:
        self.clock = ManualClock()
        self.lab = build_lab(provider, clock=self.clock, **lab_options)  # type: ignore[arg-type]
        self.world = self.lab.world
        pair = example_pair(provider, key_dir)
        self.cloud = SimBackend(self.world, L.CLOUD_ROUTER)
        self.onprem = SimBackend(self.world, L.ONPREM_ROUTER)
        self.cloud_low: Lowered = lowered(pair.cloud)
        self.onprem_low: Lowered = lowered(pair.onprem)

    def reconcile(self, passes: int = 2) -> list[ChangeResult]:
        """A few passes on both routers; returns the failures of the last pass."""
        failures: list[ChangeResult] = []
        for _ in range(passes):
            failures = []
            for backend, low in ((self.cloud, self.cloud_low), (self.onprem, self.onprem_low)):
                failures += [r for r in reconcile_once(backend, low) if not r.ok]
        return failures


@pytest.fixture(params=PROVIDERS)
def run(request: pytest.FixtureRequest, tmp_path: Path) -> LabRun:
    """Name: run / Scope: function / Depends: tmp_path; every provider, firewall opened."""
    r = LabRun(request.param, tmp_path, firewall="opened")
    assert r.reconcile() == []
    return r


def test_vms_ping_each_other_with_their_own_source(run: LabRun) -> None:
    there = run.world.ping(L.CLOUD_VM, L.ONPREM_VM_IP)
    back = run.world.ping(L.ONPREM_VM, L.CLOUD_VM_IP)
    assert there.ok, there.summary()
    assert back.ok, back.summary()
    assert there.request.dst_host == L.ONPREM_VM and there.source_seen == L.CLOUD_VM_IP
    assert back.request.dst_host == L.CLOUD_VM and back.source_seen == L.ONPREM_VM_IP


def test_bulk_tcp_both_ways_source_preserved(run: LabRun) -> None:
    there = run.world.tcp_transfer(L.CLOUD_VM, L.ONPREM_VM_IP, 100 * MIB)
    back = run.world.tcp_transfer(L.ONPREM_VM, L.CLOUD_VM_IP, 100 * MIB)
    assert there.completed and back.completed, (there.detail, back.detail)
    assert there.source_seen == L.CLOUD_VM_IP and back.source_seen == L.ONPREM_VM_IP
    assert there.mss == back.mss == 1300


def test_default_gateways_are_untouched(run: LabRun) -> None:
    vm_route = run.world.host(L.ONPREM_VM).fib.lookup("8.8.8.8")
    assert vm_route is not None and vm_route.gateway == L.ONPREM_GW_IP
    cloud_route = run.world.host(L.CLOUD_VM).fib.lookup("8.8.8.8")
    assert cloud_route is not None and cloud_route.gateway == L.FABRIC_GATEWAY


def test_verify_finds_route_probe_and_a_traced_packet(run: LabRun) -> None:
    for backend, low in ((run.cloud, run.cloud_low), (run.onprem, run.onprem_low)):
        (evidence,) = backend.verify(checks(low)).values()
        assert evidence.route_dev == L.TUNNEL
        assert evidence.probe_ok is True
        assert "preserved" in evidence.detail


def test_handshake_is_fresh_on_both_routers(run: LabRun) -> None:
    run.clock.advance(1000)  # the on-prem keepalive keeps re-handshaking
    for backend in (run.cloud, run.onprem):
        ages = backend.observe(ObserveScope(wireguard={L.TUNNEL})).handshakes
        assert len(ages) == 1 and list(ages.values()) == [0.0]


def test_handshake_goes_stale_when_the_underlay_breaks(run: LabRun) -> None:
    run.world.set_link_up(L.INTERNET, "to-cloud", False)
    run.clock.advance(200)
    ages = run.cloud.observe(ObserveScope(wireguard={L.TUNNEL})).handshakes
    assert list(ages.values()) == [200.0]
    assert not run.world.ping(L.ONPREM_VM, L.CLOUD_VM_IP).ok


def test_agent_readding_the_address_swallows_traffic_until_the_next_reconcile(
    run: LabRun,
) -> None:
    run.lab.agent_readds_address()
    trapped = run.world.trace(L.CLOUD_VM, L.ONPREM_VM_IP)
    assert trapped.delivered and trapped.dst_host == L.CLOUD_ROUTER
    (evidence,) = run.cloud.verify(checks(run.cloud_low)).values()
    assert evidence.route_dev == "lo" and evidence.probe_ok is False
    assert "consumed by cloud-router" in evidence.detail
    assert run.reconcile() == []
    assert run.world.trace(L.CLOUD_VM, L.ONPREM_VM_IP).dst_host == L.ONPREM_VM
    assert run.world.ping(L.ONPREM_VM, L.CLOUD_VM_IP).ok  # the NIC's subnet route survived


@pytest.mark.parametrize(
    "breakage",
    [
        lambda w: w.set_sysctl(L.ONPREM_ROUTER, "net.ipv4.conf.ens19.proxy_arp", "0"),
        lambda w: w.set_sysctl(L.ONPREM_ROUTER, "net.ipv4.conf.ens19.forwarding", "0"),
        lambda w: w.delete_route(L.ONPREM_ROUTER, f"{L.CLOUD_VM_IP}/32"),
    ],
    ids=["proxy_arp-off", "forwarding-off", "route-deleted"],
)
def test_capture_broken_behind_routerds_back_breaks_and_heals(run: LabRun, breakage) -> None:
    calls: list[int] = []
    run.onprem.start(lambda: calls.append(1))
    breakage(run.world)
    assert calls == [1]
    trace = run.world.trace(L.ONPREM_VM, L.CLOUD_VM_IP)
    assert trace.drop_reason == Drop.ARP_UNRESOLVED
    assert run.reconcile() == []
    assert run.world.ping(L.ONPREM_VM, L.CLOUD_VM_IP).ok


def test_gratuitous_arp_reaches_the_onprem_lan(run: LabRun) -> None:
    garp = Garp(L.CLOUD_VM_IP, L.ONPREM_LAN_IF)
    (result,) = run.onprem.apply([Change("announce", garp.key, new=garp)])
    assert result.ok, result.error
    mac = run.world.host(L.ONPREM_ROUTER).iface(L.ONPREM_LAN_IF).mac
    assert [(g.host, g.dev, g.address) for g in run.world.garps] == [
        (L.ONPREM_ROUTER, L.ONPREM_LAN_IF, L.CLOUD_VM_IP)
    ]
    for neighbour in (L.ONPREM_VM, L.ONPREM_GW):
        assert run.world.host(neighbour).neighbours[("eth0", L.CLOUD_VM_IP)] == mac


def test_before_provisioning_the_fabric_drops_and_after_it_passes(tmp_path: Path) -> None:
    r = LabRun("azure", tmp_path, provision=False)
    assert r.reconcile() == []
    assert r.world.trace(L.CLOUD_VM, L.ONPREM_VM_IP).drop_reason == Drop.FABRIC_NO_OWNER
    r.lab.provision()
    assert r.world.ping(L.CLOUD_VM, L.ONPREM_VM_IP).ok


def test_oci_image_firewall_blocks_until_the_documented_rule(tmp_path: Path) -> None:
    r = LabRun("oci", tmp_path)
    assert r.reconcile() == []
    trace = r.world.trace(L.CLOUD_VM, L.ONPREM_VM_IP)
    assert trace.drop_reason == Drop.FIREWALL_FORWARD
    assert r.world.ping(L.ONPREM_ROUTER, "10.255.40.0").request.drop_reason == Drop.WG_HANDSHAKE
    r.lab.open_firewall()
    assert r.world.ping(L.CLOUD_VM, L.ONPREM_VM_IP).ok
    assert r.world.ping(L.ONPREM_VM, L.CLOUD_VM_IP).ok


def test_oci_without_the_clamp_pings_but_bulk_tcp_stalls(tmp_path: Path) -> None:
    """D16: ping and the TCP handshake work; full-size segments vanish in the black hole."""
    r = LabRun("oci", tmp_path, firewall="opened", clamp_supported=False)
    failures = r.reconcile()
    assert {f.change.key[0] for f in failures} == {"nft"}
    assert r.world.ping(L.CLOUD_VM, L.ONPREM_VM_IP).ok
    for src, dst in ((L.CLOUD_VM, L.ONPREM_VM_IP), (L.ONPREM_VM, L.CLOUD_VM_IP)):
        result = r.world.tcp_transfer(src, dst, 100 * MIB)
        assert result.handshake_ok and not result.completed
        assert Drop.PMTU_BLACK_HOLE in result.detail


def test_oci_with_the_clamp_completes(tmp_path: Path) -> None:
    r = LabRun("oci", tmp_path, firewall="opened")
    assert r.reconcile() == []
    result = r.world.tcp_transfer(L.ONPREM_VM, L.CLOUD_VM_IP, 100 * MIB)
    assert result.completed and result.mss == 1300


@pytest.mark.parametrize("provider", ["azure", "aws", "gcp"])
def test_without_a_black_hole_pmtu_discovery_copes_without_the_clamp(
    provider: str, tmp_path: Path
) -> None:
    r = LabRun(provider, tmp_path, clamp_supported=False)
    r.reconcile()
    result = r.world.tcp_transfer(L.CLOUD_VM, L.ONPREM_VM_IP, 100 * MIB)
    assert result.completed and result.mss == 1380  # wg-sam MTU 1420 - 40
