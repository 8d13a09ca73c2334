"""MSS negotiation, clamping and PMTU discovery in the simulated TCP transfer."""

from __future__ import annotations

from routerd.backends.sim import SimBackend, World
from routerd.core.desired import MssClampTable, MssRule
from routerd.core.port import Change

from .kit import lan_world

MIB = 1024 * 1024


def routed(*, uplink_mtu: int = 0, black_hole: bool = False) -> World:
    """lan_world, router forwarding, client via the router; optional narrow hop on uplink."""
    w = lan_world()
    w.set_sysctl("router", "net.ipv4.ip_forward", "1")
    w.add_route("client", "0.0.0.0/0", gateway="10.0.0.1", dev="eth0")
    uplink = w.media["uplink"]
    uplink.mtu, uplink.icmp_blackhole = uplink_mtu, black_hole
    return w


def clamp(w: World, *rules: MssRule) -> None:
    table = MssClampTable(frozenset(rules), generation=1)
    results = SimBackend(w, "router").apply([Change("add", table.key, new=table)])
    assert all(r.ok for r in results)


def test_endpoints_announce_interface_mtu_minus_40() -> None:
    result = routed().tcp_transfer("client", "10.9.0.2", MIB)
    assert result.completed
    assert result.syn is not None and result.syn.mss_seen == 1460
    assert result.syn_ack is not None and result.syn_ack.mss_seen == 1460
    assert result.source_seen == "10.0.0.10"


def test_clamp_rewrites_syn_and_syn_ack_on_their_own_directions() -> None:
    w = routed()
    clamp(w, MssRule("eth0", "up0", 1300))
    one_way = w.tcp_transfer("client", "10.9.0.2", MIB)
    assert one_way.syn is not None and one_way.syn.mss_seen == 1300
    assert one_way.syn_ack is not None and one_way.syn_ack.mss_seen == 1460
    clamp(w, MssRule("eth0", "up0", 1300), MssRule("up0", "eth0", 1300))
    both = w.tcp_transfer("client", "10.9.0.2", MIB)
    assert both.syn is not None and both.syn.mss_seen == 1300
    assert both.syn_ack is not None and both.syn_ack.mss_seen == 1300
    assert both.mss == 1300 and both.segments == -(-MIB // 1300)


def test_clamp_never_raises_an_mss() -> None:
    w = routed()
    w.host("client").iface("eth0").mtu = 1200
    clamp(w, MssRule("eth0", "up0", 1300), MssRule("up0", "eth0", 1300))
    result = w.tcp_transfer("client", "10.9.0.2", MIB)
    assert result.syn is not None and result.syn.mss_seen == 1160
    assert result.mss == 1160


def test_pmtu_discovery_recovers_when_icmp_comes_back() -> None:
    w = routed()
    w.host("router").iface("up0").mtu = 1400
    result = w.tcp_transfer("client", "10.9.0.2", MIB)
    assert result.completed
    assert result.mss == 1360


def test_black_holed_hop_stalls_after_the_handshake() -> None:
    w = routed(uplink_mtu=1400, black_hole=True)
    assert w.ping("client", "10.9.0.2").ok
    result = w.tcp_transfer("client", "10.9.0.2", MIB)
    assert result.handshake_ok and not result.completed
    assert result.bytes == 0
    assert "bulk stalls" in result.detail and "path mtu black hole" in result.detail


def test_a_clamp_below_the_black_hole_lets_the_transfer_complete() -> None:
    w = routed(uplink_mtu=1400, black_hole=True)
    clamp(w, MssRule("eth0", "up0", 1300), MssRule("up0", "eth0", 1300))
    result = w.tcp_transfer("client", "10.9.0.2", MIB)
    assert result.completed and result.bytes == MIB


def test_a_lost_syn_means_no_handshake() -> None:
    result = lan_world().tcp_transfer("client", "10.9.0.2", MIB)
    assert not result.handshake_ok and not result.completed
    assert result.detail.startswith("SYN lost")
