"""WireGuard in the sim: allowed IPs both ways, handshakes, endpoints, encapsulation."""

from __future__ import annotations

from dataclasses import dataclass

from routerd.backends.sim import Drop, ManualClock, SimBackend, World
from routerd.backends.sim.nft import image_default_firewall
from routerd.core import wgkey
from routerd.core.desired import Address, ObserveScope, Route, WgPeer, WireGuardDevice
from routerd.core.port import Change
from routerd.keys import generate_private_key


@dataclass
class Tunnel:
    world: World
    clock: ManualClock
    a: SimBackend
    b: SimBackend
    key_a: str
    key_b: str

    def handshakes(self, backend: SimBackend) -> dict[tuple[str, str], float]:
        return backend.observe(ObserveScope(wireguard={"wg0"})).handshakes

    def configure(self, backend: SimBackend, key: str, peer: WgPeer) -> None:
        dev = WireGuardDevice("wg0", public_key=key, listen_port=51820, peers=(peer,))
        results = backend.apply([Change("add", dev.key, new=dev)])
        assert all(r.ok for r in results), results


def tunnel(
    *,
    b_peer_key: str | None = None,
    keepalive: int = 0,
    underlay_mtu: int = 0,
) -> Tunnel:
    """Hosts a (192.0.2.1, overlay 10.1.0.1) and b (192.0.2.2, overlay 10.2.0.1).

    a dials b (endpoint configured); b waits (no endpoint). Each routes the other's /24
    into wg0; a's peer allows 10.2.0.0/24, b's peer allows 10.1.0.0/24.
    """
    clock = ManualClock()
    w = World(clock=clock)
    w.add_segment("underlay", mtu=underlay_mtu, icmp_blackhole=bool(underlay_mtu))
    for name, ip in (("a", "192.0.2.1/24"), ("b", "192.0.2.2/24")):
        w.add_host(name)
        w.connect(name, "eth0", "underlay", address=ip)
    key_a = wgkey.public_key(generate_private_key())
    key_b = wgkey.public_key(generate_private_key())
    t = Tunnel(w, clock, SimBackend(w, "a"), SimBackend(w, "b"), key_a, key_b)
    t.configure(
        t.a,
        key_a,
        WgPeer(key_b, frozenset({"10.2.0.0/24"}), "192.0.2.2:51820", keepalive),
    )
    t.configure(t.b, key_b, WgPeer(b_peer_key or key_a, frozenset({"10.1.0.0/24"})))
    for backend, own, other in (
        (t.a, "10.1.0.1/32", "10.2.0.0/24"),
        (t.b, "10.2.0.1/32", "10.1.0.0/24"),
    ):
        addr, route = Address("wg0", own), Route(other, "wg0")
        backend.apply([Change("add", addr.key, new=addr), Change("add", route.key, new=route)])
    return t


def test_packets_cross_the_tunnel_with_their_inner_source() -> None:
    t = tunnel()
    trace = t.world.trace("a", "10.2.0.1")
    assert trace.delivered and trace.dst_host == "b"
    assert trace.source_seen == "10.1.0.1"
    assert [h.event for h in trace.hops if h.event in ("encap", "decap")] == ["encap", "decap"]


def test_egress_without_a_peer_for_the_destination_is_dropped() -> None:
    t = tunnel()
    t.world.add_route("a", "10.3.0.0/24", dev="wg0")
    trace = t.world.trace("a", "10.3.0.1")
    assert trace.drop_reason == Drop.NO_WG_PEER
    assert trace.drop_reason == "no WireGuard peer for dst"


def test_ingress_drops_an_inner_source_outside_the_peers_allowed_ips() -> None:
    t = tunnel()
    trace = t.world.trace("a", "10.2.0.1", src_ip="10.5.0.1")
    assert trace.drop_reason == Drop.WG_SOURCE
    assert trace.drop_host == "b"


def test_handshake_needs_mutually_matching_keys() -> None:
    stranger = wgkey.public_key(generate_private_key())
    t = tunnel(b_peer_key=stranger)
    trace = t.world.trace("a", "10.2.0.1")
    assert trace.drop_reason == Drop.WG_HANDSHAKE
    assert t.handshakes(t.a) == {} and t.handshakes(t.b) == {}


def test_handshake_needs_the_underlay_to_let_udp_through() -> None:
    t = tunnel()
    t.world.host("b").firewall = image_default_firewall()
    trace = t.world.trace("a", "10.2.0.1")
    assert trace.drop_reason == Drop.WG_HANDSHAKE
    assert "firewall INPUT reject" in trace.drop_detail
    assert t.handshakes(t.a) == {}


def test_the_waiting_side_learns_the_endpoint_from_the_initiator() -> None:
    t = tunnel()
    before = t.b.observe(ObserveScope(wireguard={"wg0"})).objects[("wg", "wg0")]
    assert isinstance(before, WireGuardDevice) and before.peers[0].endpoint == ""
    assert t.world.trace("b", "10.1.0.1").drop_reason == Drop.WG_NO_ENDPOINT
    assert t.world.trace("a", "10.2.0.1").delivered
    after = t.b.observe(ObserveScope(wireguard={"wg0"})).objects[("wg", "wg0")]
    assert isinstance(after, WireGuardDevice)
    assert after.peers[0].endpoint == "192.0.2.1:51820"
    assert t.world.trace("b", "10.1.0.1").delivered


def test_handshake_age_follows_the_clock_without_keepalive() -> None:
    t = tunnel()
    assert t.world.trace("a", "10.2.0.1").delivered
    t.clock.advance(100)
    assert t.handshakes(t.a) == {("wg0", t.key_b): 100.0}
    assert t.handshakes(t.b) == {("wg0", t.key_a): 100.0}


def test_keepalive_keeps_the_handshake_fresh_only_while_reachable() -> None:
    t = tunnel(keepalive=25)
    assert t.handshakes(t.b) == {("wg0", t.key_a): 0.0}  # a's keepalive dialled in
    t.clock.advance(100)
    assert t.handshakes(t.b) == {("wg0", t.key_a): 0.0}
    t.world.host("b").firewall = image_default_firewall()
    t.clock.advance(200)
    assert t.handshakes(t.b) == {("wg0", t.key_a): 200.0}


def test_encapsulation_adds_sixty_bytes_to_the_outer_packet() -> None:
    t = tunnel(underlay_mtu=1100)
    assert t.world.trace("a", "10.2.0.1", size=1040).delivered
    trace = t.world.trace("a", "10.2.0.1", size=1041)
    assert trace.drop_reason == Drop.PMTU_BLACK_HOLE
    assert "1101 > mtu 1100" in trace.drop_detail
