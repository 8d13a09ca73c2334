"""The packet walk: local delivery first (D15, docs/decisions.md), forwarding, filters, MTU/DF."""

from __future__ import annotations

from routerd.backends.sim import Drop, World
from routerd.backends.sim.nft import FilterRule, image_default_firewall

from .kit import lan_world


def routed_lan() -> World:
    """lan_world with the router forwarding and the client using it as default gateway."""
    w = lan_world()
    w.set_sysctl("router", "net.ipv4.ip_forward", "1")
    w.add_route("client", "0.0.0.0/0", gateway="10.0.0.1", dev="eth0")
    return w


def test_router_forwards_with_source_preserved() -> None:
    trace = routed_lan().trace("client", "10.9.0.2")
    assert trace.delivered and trace.dst_host == "far"
    assert trace.source_seen == "10.0.0.10"
    assert [h.host for h in trace.hops if h.event == "forward"] == ["router"]


def test_forwarding_disabled_drops_at_the_router() -> None:
    w = lan_world()
    w.add_route("client", "0.0.0.0/0", gateway="10.0.0.1", dev="eth0")
    trace = w.trace("client", "10.9.0.2")
    assert trace.drop_reason == Drop.FORWARDING_DISABLED
    assert trace.drop_host == "router"


def test_an_address_on_the_router_is_consumed_there_not_forwarded() -> None:
    """D15: the captured address back on the router's NIC swallows the traffic."""
    w = routed_lan()
    w.agent_add_address("far", "eth0", "10.9.0.31/32")
    w.add_route("router", "10.9.0.31/32", gateway="10.9.0.2", dev="up0")
    assert w.trace("client", "10.9.0.31").dst_host == "far"
    w.agent_add_address("router", "eth0", "10.9.0.31/24")
    trace = w.trace("client", "10.9.0.31")
    assert trace.delivered and trace.dst_host == "router"
    assert not any(h.event == "forward" for h in trace.hops)


def test_no_route_is_reported_where_it_happens() -> None:
    w = routed_lan()
    trace = w.trace("client", "172.16.0.1")
    assert trace.drop_reason == Drop.NO_ROUTE and trace.drop_host == "router"


def test_strict_rp_filter_drops_asymmetric_traffic_and_loose_accepts_it() -> None:
    w = routed_lan()
    # far's packets from 10.0.0.77 arrive on up0 but the router routes 10.0.0.77 via eth0
    w.agent_add_address("far", "eth0", "10.0.0.77/32")
    w.set_sysctl("router", "net.ipv4.conf.up0.rp_filter", "1")
    trace = w.trace("far", "10.0.0.10", src_ip="10.0.0.77")
    assert trace.drop_reason == Drop.RP_FILTER
    w.set_sysctl("router", "net.ipv4.conf.up0.rp_filter", "2")
    assert w.trace("far", "10.0.0.10", src_ip="10.0.0.77").delivered


def test_image_default_firewall_rejects_forwarding_and_input_but_ssh_and_icmp() -> None:
    w = routed_lan()
    w.host("router").firewall = image_default_firewall()
    assert w.trace("client", "10.9.0.2").drop_reason == Drop.FIREWALL_FORWARD
    assert w.trace("client", "10.0.0.1").delivered  # ICMP to the router
    assert w.trace("client", "10.0.0.1", proto="tcp", dport=22).delivered
    udp = w.trace("client", "10.0.0.1", proto="udp", dport=51820)
    assert udp.drop_reason == Drop.FIREWALL_INPUT
    w.host("router").firewall.rules.append(FilterRule("FORWARD", iif="eth0", oif="up0"))
    assert w.trace("client", "10.9.0.2").delivered


def test_df_packet_over_a_link_mtu_is_dropped_and_icmp_reaches_the_sender() -> None:
    w = routed_lan()
    w.host("router").iface("up0").mtu = 1400
    trace = w.trace("client", "10.9.0.2", size=1500)
    assert trace.drop_reason == Drop.FRAG_NEEDED
    assert trace.frag_needed_mtu == 1400


def test_without_df_the_packet_is_fragmented_and_arrives() -> None:
    w = routed_lan()
    w.host("router").iface("up0").mtu = 1400
    trace = w.trace("client", "10.9.0.2", size=1500, df=False)
    assert trace.delivered
    assert any(h.event == "fragment" for h in trace.hops)


def test_a_black_holed_hop_drops_silently() -> None:
    w = World()
    w.add_segment("narrow", mtu=1452, icmp_blackhole=True)
    w.add_host("a")
    w.connect("a", "eth0", "narrow", address="10.1.0.1/24")
    w.add_host("b")
    w.connect("b", "eth0", "narrow", address="10.1.0.2/24")
    assert w.trace("a", "10.1.0.2", size=1452).delivered
    trace = w.trace("a", "10.1.0.2", size=1453)
    assert trace.drop_reason == Drop.PMTU_BLACK_HOLE
    assert trace.frag_needed_mtu is None
    assert w.trace("a", "10.1.0.2", size=1453, df=False).delivered


def test_ping_needs_the_reply_path_too() -> None:
    w = routed_lan()
    assert w.ping("client", "10.9.0.2").ok
    w.delete_route("far", "0.0.0.0/0")
    result = w.ping("client", "10.9.0.2")
    assert result.request.delivered and not result.ok
    assert result.reply is not None and result.reply.drop_reason == Drop.NO_ROUTE


def test_a_secondary_address_comes_and_goes_without_taking_the_subnet_route() -> None:
    w = routed_lan()
    router = w.host("router")
    w.agent_add_address("router", "eth0", "10.0.0.31/24")
    router.remove_address("eth0", "10.0.0.31/24")
    assert w.trace("far", "10.0.0.10").delivered
    w.agent_add_address("router", "eth0", "10.0.0.31/24")
    router.remove_address("eth0", "10.0.0.1/24")  # the primary goes: the secondary is promoted
    route = router.fib.lookup("10.0.0.10")
    assert route is not None and route.dev == "eth0" and route.prefsrc == "10.0.0.31"
