"""Proxy-ARP capture as the kernel decides it: the settings it needs and how it is judged.

Linux answers an ARP request for a target address A that arrives on device D
(``arp_process`` in net/ipv4/arp.c) when all of these hold:

* forwarding is on for D (``net.ipv4.conf.D.forwarding``, the device's own value);
* proxy ARP is on for D: ``net.ipv4.conf.all.proxy_arp`` *or* ``net.ipv4.conf.D.proxy_arp``;
* ``net.ipv4.conf.D.medium_id`` does not forbid it (-1 never proxies; a value shared with
  the outgoing device means "same medium", which is not proxied either; 0, the default,
  proxies);
* the input route for A, looked up as if the asker sent a packet to A in through D
  (``ip route get A from <asker> iif D``), is a unicast route leaving by another device.

routerd captures an address by route: ``proxy_arp=1`` and ``forwarding=1`` on the capture
interface, and the claim's ``/32`` delivery route to the tunnel, which is the route the
lookup finds. There is no per-address capture object: the kernel's proxy-neighbour table
costs quadratically past ~10,000 entries, an entry adds nothing while ``proxy_arp`` is on,
and an entry keeps answering with ``proxy_arp`` off. Releasing a claim removes its route,
which ends the capture; switching ``proxy_arp`` off on the interface ends every capture
there at once while the routes stay (warm standby: ``standby_sysctl``).

The same rule answers for any route that leaves by another device, not only routerd's
(``docs/concepts.md`` says what that means for a capture interface). The judgement here
reads routerd's own route (an observation); the path check proves it with the kernel's
input-route lookup from an address of the capture segment (``segment_source``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping

from routerd.core.desired import MAIN_TABLE, DesiredState, Key, Observed, Route, Sysctl

ALL_PROXY_ARP = "net.ipv4.conf.all.proxy_arp"
EVERY_INTERFACE = "*"
"""The ``capture_active`` name that switches every proxy-ARP capture interface at once (a
redundant pair's standby router: an interface that comes into use while it is standby must
not capture for one pass before anyone could switch it off)."""
STANDBY_OWNER = "routerd/capture-standby"
"""Owner label of the ``proxy_arp=0`` a capture interface in standby is given."""

Fail = tuple[str, str, Key | None]


def proxy_arp_key(ifname: str) -> str:
    return f"net.ipv4.conf.{ifname}.proxy_arp"


def forwarding_key(ifname: str) -> str:
    return f"net.ipv4.conf.{ifname}.forwarding"


def proxy_delay_key(ifname: str) -> str:
    return f"net.ipv4.neigh.{ifname}.proxy_delay"


def medium_id_key(ifname: str) -> str:
    return f"net.ipv4.conf.{ifname}.medium_id"


def capture_sysctls(ifname: str) -> list[Sysctl]:
    """What a proxy-ARP capture on ``ifname`` wants of the interface (shared by its claims)."""
    return [
        Sysctl(proxy_arp_key(ifname), "1"),
        Sysctl(forwarding_key(ifname), "1"),
        Sysctl(proxy_delay_key(ifname), "0"),  # else proxied answers wait up to 0.8 s
    ]


def needed_keys(ifname: str) -> list[Key]:
    """Keys a capture reads without wanting a value: ``conf.all.proxy_arp`` also answers."""
    del ifname
    return [("sysctl", ALL_PROXY_ARP)]


def standby_sysctl(ifname: str) -> Sysctl:
    """A capture interface in standby: proxy ARP off, everything else (routes) kept."""
    return Sysctl(proxy_arp_key(ifname), "0")


def route_key(address: str) -> Key:
    """The key of routerd's delivery route for ``address`` (bare IPv4)."""
    return ("route", str(MAIN_TABLE), f"{address}/32")


def route_answers(route_type: str | None, dev: str | None, address: str, capif: str) -> str:
    """Why a route does not make the kernel answer ARP for ``address`` on ``capif`` ("" if it does).

    Args:
        route_type: ``unicast``, ``blackhole`` ...; None when there is no route.
        dev: the device the route leaves by.
        address: the captured address.
        capif: the capture interface.

    Returns:
        The reason, phrased for the operator.
    """
    if route_type is None:
        return f"no route for {address}"
    if route_type != "unicast":
        return f"the route for {address} is {route_type}: the kernel proxies only unicast routes"
    if dev == capif:
        return f"the route for {address} leaves by {capif} itself"
    return ""


def interface_captures(capif: str, o: Observed, *, standby: bool = False) -> bool:
    """Whether ``capif`` meets every condition ``judge`` checks before the route (its
    settings, shared by every claim captured there); ``judge`` says which one fails.

    Args:
        capif: the capture interface (its OS name).
        o: the observation.
        standby: capture is switched off on ``capif`` on purpose (warm standby).

    Returns:
        True when only the route of an address decides whether it is captured there.
    """
    if standby or o.sysctl(forwarding_key(capif)) != "1":
        return False
    return o.sysctl(proxy_arp_key(capif)) == "1" or o.sysctl(ALL_PROXY_ARP) == "1"


def judge(ip: str, capif: str, o: Observed, *, standby: bool = False) -> Fail | None:
    """The first capture condition ``o`` does not meet for ``ip`` on ``capif`` (None: all met).

    Args:
        ip: the captured address (bare IPv4).
        capif: the capture interface (its OS name).
        o: the observation (routerd's route for ``ip``, the interface's sysctls).
        standby: capture is switched off on ``capif`` on purpose (warm standby).

    Returns:
        ``(reason, message, key)`` of the first failing condition.
    """
    key = proxy_arp_key(capif)
    every = o.sysctl(ALL_PROXY_ARP)
    if standby:
        loud = [n for n in (key, ALL_PROXY_ARP) if o.sysctl(n) == "1"]
        if not loud:
            return ("capture-standby", f"capture is off on {capif} ({key}=0), routes kept", None)
        still = " and ".join(f"{n}=1" for n in loud)
        return (
            "capture-standby",
            f"capture is off on {capif}, routes kept; but {still} still answers ARP for it "
            + ("(routerd sets it to 0)" if key in loud else "(set it to 0 on a standby router)"),
            ("sysctl", key) if key in loud else None,
        )
    fwd = forwarding_key(capif)
    if o.sysctl(fwd) != "1":
        return (
            "capture-forwarding-disabled",
            f"{fwd}={o.sysctl(fwd)}: the kernel answers no proxy ARP on {capif}",
            ("sysctl", fwd),
        )
    if o.sysctl(key) != "1" and every != "1":
        return (
            "proxy-arp-disabled",
            f"{key}={o.sysctl(key)}, {ALL_PROXY_ARP}={every}",
            ("sysctl", key),
        )
    rkey = route_key(ip)
    route = o.objects.get(rkey)
    why = route_answers(
        route.type if isinstance(route, Route) else None,
        route.dev if isinstance(route, Route) else None,
        ip,
        capif,
    )
    if why:
        return (
            "capture-route-missing",
            f"{why}; the kernel answers ARP for {ip} on {capif} only through a unicast route "
            "leaving by another device",
            rkey,
        )
    return None


def segment_source(cidrs: Iterable[str], ip: str) -> str:
    """An address of the capture segment that is not local and not ``ip`` ("" when none).

    The kernel looks a proxied target up from the asker's address; a local address as the
    source would be refused as a martian, so the path check asks from the highest host
    address of the capture interface's first subnet that is neither local nor the claim's.

    Args:
        cidrs: the capture interface's addresses (``10.50.0.1/24``).
        ip: the claimed address.

    Returns:
        The source address, or "" when the interface has no subnet with room for one.
    """
    return next((a for a in segment_candidates(cidrs) if a != ip), "")


def segment_candidates(cidrs: Iterable[str]) -> tuple[str, ...]:
    """The addresses ``segment_source`` picks from, best first (the same for every claim
    captured on the interface): the top four host addresses of each subnet of ``cidrs``
    with room for them, local ones left out.

    Args:
        cidrs: the capture interface's addresses (``10.50.0.1/24``).

    Returns:
        The candidates; ``segment_source`` takes the first that is not the claim's address.
    """
    cidrs = tuple(cidrs)
    local = {c.split("/")[0] for c in cidrs}
    out: list[str] = []
    for cidr in cidrs:
        net = ipaddress.IPv4Interface(cidr).network
        if net.prefixlen > 30:
            continue
        top = int(net.broadcast_address) - 1
        for n in range(top, max(top - 4, int(net.network_address)), -1):
            candidate = str(ipaddress.IPv4Address(n))
            if candidate not in local:
                out.append(candidate)
    return tuple(out)


def captured_on(desired: DesiredState, ifname: str) -> list[str]:
    """Addresses routerd captures on ``ifname`` by proxy ARP (bare IPv4, sorted).

    A claim captures there when it needs ``ifname``'s ``proxy_arp`` and wants a ``/32`` in
    the main table; what the kernel then answers for is that route's address. Costs one
    pass over the claims: for rare events (a capture interface changing its MAC).
    """
    pkey: Key = ("sysctl", proxy_arp_key(ifname))
    prefix = ("route", str(MAIN_TABLE))
    out: set[str] = set()
    keys: Mapping[str, tuple[Key, ...]] = desired.claim_keys
    for claim_keys in keys.values():
        if pkey not in claim_keys:
            continue
        for k in claim_keys:
            if k[:2] == prefix and k[2].endswith("/32"):
                out.add(k[2][:-3])
    return sorted(out)
