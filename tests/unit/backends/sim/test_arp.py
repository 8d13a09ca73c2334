"""ARP and proxy-ARP on simulated segments follow Linux's rules (there are no proxy entries)."""

from __future__ import annotations

import pytest

from routerd.backends.sim import Drop, World
from routerd.backends.sim.fib import RouteEntry
from routerd.backends.sim.segment import arp_answer, input_route

from .kit import lan_world

TARGET = "10.0.0.50"


def proxy_bench(
    *,
    forwarding: bool = True,
    proxy_arp: str = "1",
    route: str = "off-link",
) -> World:
    """The router may proxy for TARGET, which really lives on ``far`` behind ``up0``."""
    w = lan_world()
    w.agent_add_address("far", "eth0", f"{TARGET}/32")
    r = w.host("router")
    r.set_sysctl("net.ipv4.ip_forward", "1" if forwarding else "0")
    r.set_sysctl("net.ipv4.conf.eth0.proxy_arp", proxy_arp)
    if route == "off-link":
        w.add_route("router", f"{TARGET}/32", gateway="10.9.0.2", dev="up0")
    elif route == "blackhole":
        r.fib.add(RouteEntry(f"{TARGET}/32", type="blackhole", proto="static"))
    return w


def test_proxy_arp_answers_and_forwards_to_the_real_owner() -> None:
    trace = proxy_bench().trace("client", TARGET)
    assert trace.delivered and trace.dst_host == "far"
    assert trace.source_preserved
    assert any("proxy router" in h.detail for h in trace.hops)


@pytest.mark.parametrize(
    ("bench", "why"),
    [
        (dict(forwarding=False), "forwarding off on the receiving device"),
        (dict(route="on-link"), "route to the target uses the receiving device"),
        (dict(route="blackhole"), "route to the target is not unicast"),
        (dict(proxy_arp="0"), "proxy_arp off for the device and for all"),
    ],
)
def test_proxy_arp_stays_silent_unless_every_rule_holds(bench: dict[str, object], why: str) -> None:
    trace = proxy_bench(**bench).trace("client", TARGET)  # type: ignore[arg-type]
    assert not trace.delivered, why
    assert trace.drop_reason == Drop.ARP_UNRESOLVED


def test_the_asker_is_checked_against_rp_filter_as_the_kernel_looks_the_target_up() -> None:
    w = proxy_bench()
    r = w.host("router")
    client = "10.0.0.10"
    r.set_sysctl("net.ipv4.conf.eth0.rp_filter", "1")
    assert arp_answer(r, "eth0", TARGET, client) == "proxy"  # the asker routes back via eth0
    assert arp_answer(r, "eth0", TARGET, TARGET) is None  # the VM's own announcement: strict
    r.set_sysctl("net.ipv4.conf.eth0.rp_filter", "2")
    assert arp_answer(r, "eth0", TARGET, TARGET) == "proxy"  # loose: any route back will do
    assert arp_answer(r, "eth0", TARGET, "0.0.0.0") is None  # a probe is never proxied


def test_the_input_route_lookup_says_why_it_found_nothing() -> None:
    w = proxy_bench()
    r = w.host("router")
    assert input_route(r, "eth0", TARGET, "10.0.0.10") == ("unicast", "up0", "")
    assert input_route(r, "eth0", "10.0.0.1", "10.0.0.10") == ("local", "lo", "")
    r.set_sysctl("net.ipv4.conf.eth0.forwarding", "0")
    kind, dev, error = input_route(r, "eth0", TARGET, "10.0.0.10")
    assert (kind, dev) == ("", "") and "forwarding is off" in error


def test_conf_all_proxy_arp_counts_for_every_device() -> None:
    w = proxy_bench(proxy_arp="0")
    w.set_sysctl("router", "net.ipv4.conf.all.proxy_arp", "1")
    assert w.trace("client", TARGET).dst_host == "far"


def test_per_device_forwarding_off_silences_proxy_arp() -> None:
    w = proxy_bench()
    w.set_sysctl("router", "net.ipv4.conf.eth0.forwarding", "0")
    assert w.trace("client", TARGET).drop_reason == Drop.ARP_UNRESOLVED


def test_the_owner_wins_over_a_proxy() -> None:
    w = proxy_bench()
    w.add_host("owner")
    w.connect("owner", "eth0", "lan", address=f"{TARGET}/24")
    trace = w.trace("client", TARGET)
    assert trace.dst_host == "owner"


def test_a_host_answers_for_addresses_on_any_of_its_interfaces() -> None:
    w = lan_world()
    w.add_route("client", "10.9.0.0/24", dev="eth0")  # on-link, so the client ARPs
    trace = w.trace("client", "10.9.0.1")
    assert trace.delivered and trace.dst_host == "router"


def test_nobody_answers_for_an_unknown_address() -> None:
    trace = lan_world().trace("client", "10.0.0.99")
    assert trace.drop_reason == Drop.ARP_UNRESOLVED
