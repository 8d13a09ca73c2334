"""The faults a simulated world can suffer, one ``FaultKind`` each.

Each ``FaultKind`` is one thing that happens to a network behind routerd's back — a route
deleted, a link down, an agent re-adding an address — with its parameters, what routerd is
expected to show for it (``Effect``: claim state and reason, the doctor's finding, what a
packet trace shows) and how it is undone. ``SimService`` injects and clears faults through
``FaultBook``; docs/testing-automation.md's fault table is generated from ``CATALOG``; the
tests inject every kind into the example world and check the declared effect is what
routerd actually shows, so the table cannot drift from the behaviour.
"""

from __future__ import annotations

import ipaddress

from .fabric import ProviderFabric
from .faultkind import Effect, FaultInputError, FaultKind, Param, Params, Undo
from .segment import Segment
from .world import World


def _host(world: World, params: Params, key: str = "router") -> str:
    name = params[key]
    if name not in world.hosts:
        known = ", ".join(sorted(world.hosts))
        raise FaultInputError(key, f"no host {name!r} in this world (hosts: {known})")
    return name


def _ip(params: Params) -> str:
    raw = params["address"]
    try:
        return str(ipaddress.IPv4Interface(raw).ip)
    except ValueError:
        raise FaultInputError("address", f"{raw!r} is not an IPv4 address") from None


def _nothing() -> None:
    """A repaired one-shot fault has nothing to undo."""


def _route_deleted(world: World, p: Params) -> Undo:
    host = _host(world, p)
    if not world.delete_route(host, f"{_ip(p)}/32"):
        raise FaultInputError("address", f"{host} has no route for {_ip(p)}/32")
    return _nothing


def _capture_route_shadowed(world: World, p: Params) -> Undo:
    """A foreign /32 for the address through the capture interface, preferred to routerd's."""
    host, ip = _host(world, p), _ip(p)
    dev = p.get("interface") or (_subnet_of(world, host, ip) or ("", 0))[0]
    if dev not in world.hosts[host].interfaces:
        raise FaultInputError("interface", f"{host} has no interface {dev or 'on that subnet'}")
    world.add_route(host, f"{ip}/32", dev=dev, metric=SHADOW_METRIC, proto="static")

    def undo() -> None:
        world.delete_foreign_route(host, f"{ip}/32", proto="static")

    return undo


def _clamp_flushed(world: World, p: Params) -> Undo:
    host = _host(world, p)
    if not world.flush_nft_table(host):
        raise FaultInputError("router", f"{host} has no MSS clamp table to flush")
    return _nothing


def _subnet_of(world: World, host: str, ip: str) -> tuple[str, int] | None:
    """The interface of ``host`` whose subnet holds ``ip``, and that subnet's length."""
    addr = ipaddress.IPv4Address(ip)
    for iface in world.hosts[host].interfaces.values():
        for cidr in iface.addresses:
            net = ipaddress.IPv4Interface(cidr).network
            if addr in net and net.prefixlen < 32:
                return iface.name, net.prefixlen
    return None


def _agent_readds(world: World, p: Params) -> Undo:
    host, ip = _host(world, p), _ip(p)
    h = world.hosts[host]
    if ip in h.local_ips:
        raise FaultInputError("address", f"{ip} is already on an interface of {host}")
    found = _subnet_of(world, host, ip)
    dev = p.get("interface") or (found[0] if found else "")
    if dev not in h.interfaces:
        what = repr(dev) if dev else f"on the subnet of {ip}; name one"
        raise FaultInputError("interface", f"{host} has no interface {what}")
    prefix = found[1] if found and found[0] == dev else 32
    world.agent_add_address(host, dev, f"{ip}/{prefix}")
    return _nothing


def _sysctl_changed(world: World, p: Params) -> Undo:
    host = _host(world, p)
    if world.hosts[host].get_sysctl(p["name"]) is None:
        raise FaultInputError("name", f"{host} has no sysctl {p['name']!r}")
    world.set_sysctl(host, p["name"], p["value"])
    return _nothing


def _link_down(world: World, p: Params) -> Undo:
    host = _host(world, p, "host")
    ifname = p["interface"]
    iface = world.hosts[host].interfaces.get(ifname)
    if iface is None:
        known = ", ".join(sorted(world.hosts[host].interfaces))
        raise FaultInputError("interface", f"{host} has no interface {ifname!r} ({known})")
    was = iface.up
    world.set_link_up(host, ifname, False)
    return lambda: world.set_link_up(host, ifname, was)


def _handshake_lost(world: World, p: Params) -> Undo:
    host = _host(world, p)
    devs = [d for d in world.hosts[host].wireguard if d == p.get("interface", d)]
    if not devs:
        raise FaultInputError(
            "interface", f"{host} has no WireGuard device {p.get('interface', '')}".rstrip()
        )
    with world.lock:
        for name in devs:
            dev = world.hosts[host].wireguard[name]
            world.handshake_blocked.add((host, name))
            for peer in dev.peers.values():
                peer.last_handshake = None
                remote = world.wireguard_by_key(peer.public_key)
                rpeer = remote[1].peers.get(dev.public_key) if remote else None
                if rpeer is not None:
                    rpeer.last_handshake = None

    def undo() -> None:
        with world.lock:
            world.handshake_blocked.difference_update((host, n) for n in devs)

    return undo


def _icmp_dropped(world: World, p: Params) -> Undo:
    name = p["medium"]
    medium = world.media.get(name)
    if not isinstance(medium, Segment | ProviderFabric):
        known = ", ".join(sorted(world.media))
        raise FaultInputError("medium", f"no segment {name!r} in this world ({known})")
    mtu = p.get("mtu", "")
    if mtu and not (mtu.isdigit() and 576 <= int(mtu) <= 9216):
        raise FaultInputError("mtu", f"{mtu!r} is not an MTU between 576 and 9216")
    was = (medium.mtu, medium.icmp_blackhole)
    with world.lock:
        medium.mtu = int(mtu) if mtu else medium.mtu
        medium.icmp_blackhole = True

    def undo() -> None:
        with world.lock:
            medium.mtu, medium.icmp_blackhole = was

    return undo


def _provider_unassigned(world: World, p: Params) -> Undo:
    host, ip = _host(world, p), _ip(p)
    for medium in world.media.values():
        if isinstance(medium, ProviderFabric) and medium.owner_of(ip) is not None:
            port = medium.owner_of(ip)
            if port is None or port[0] != host:
                raise FaultInputError(
                    "address", f"the provider assigned {ip} to {port}, not {host}"
                )
            fabric, owner = medium, port
            with world.lock:
                fabric.unassign(ip)
            return lambda: fabric.assign(owner, ip)
    raise FaultInputError("address", f"no provider fabric assigns {ip} to a NIC")


SHADOW_METRIC = 50
"""Below routerd's delivery metric (120): the kernel prefers the foreign route."""
ROUTER = Param("router", "the router (host) to change")
ADDRESS = Param("address", "a claimed address (10.40.8.31 or 10.40.8.31/32)")

CATALOG: tuple[FaultKind, ...] = (
    FaultKind(
        "route-deleted",
        "someone deletes the claim's /32 delivery route",
        (ROUTER, ADDRESS),
        Effect("route-not-installed", heals=True),
        {"router": "cloud-router", "address": "10.40.8.31/32"},
        _route_deleted,
    ),
    FaultKind(
        "capture-route-shadowed",
        "someone routes a proxy-ARP claim's address out of the capture interface with a "
        "lower metric (held until cleared): the kernel stops answering ARP for it",
        (
            ROUTER,
            ADDRESS,
            Param("interface", "the capture interface (default: the one on its subnet)", False),
        ),
        Effect("capture-route-missing", heals=False, drop="arp unresolved", after=60.0),
        {"router": "onprem-router", "address": "10.40.8.21"},
        _capture_route_shadowed,
    ),
    FaultKind(
        "clamp-table-flushed",
        "someone flushes routerd's MSS clamp table (nft flush table inet routerd_mss)",
        (ROUTER,),
        Effect("mss-clamp-missing", heals=True),
        {"router": "onprem-router"},
        _clamp_flushed,
    ),
    FaultKind(
        "address-readded-by-agent",
        "a guest agent puts the captured address back on the router's NIC",
        (
            ROUTER,
            ADDRESS,
            Param("interface", "the NIC (default: the one on its subnet)", required=False),
        ),
        Effect("os-address-present", heals=True),
        {"router": "cloud-router", "address": "10.40.8.31"},
        _agent_readds,
    ),
    FaultKind(
        "sysctl-changed",
        "someone writes a kernel parameter routerd relies on",
        (
            ROUTER,
            Param("name", "the sysctl (net.ipv4.ip_forward)"),
            Param("value", "its new value"),
        ),
        Effect("ip-forward-disabled", heals=True),
        {"router": "onprem-router", "name": "net.ipv4.ip_forward", "value": "0"},
        _sysctl_changed,
    ),
    FaultKind(
        "link-down",
        "an interface goes down (held until cleared)",
        (Param("host", "the host (router or VM)"), Param("interface", "its interface")),
        Effect("tunnel-down", heals=False, drop="interface down"),
        {"host": "onprem-router", "interface": "wg-sam"},
        _link_down,
    ),
    FaultKind(
        "handshake-lost",
        "every WireGuard handshake of the router's device is lost (held until cleared)",
        (ROUTER, Param("interface", "only this WireGuard device", required=False)),
        Effect("handshake-stale", heals=False, drop="WireGuard handshake failed"),
        {"router": "cloud-router"},
        _handshake_lost,
    ),
    FaultKind(
        "icmp-dropped",
        "a hop on a link drops ICMP 'fragmentation needed' (optionally narrowing it to mtu)",
        (Param("medium", "the segment or fabric"), Param("mtu", "its new hop MTU", required=False)),
        Effect("", heals=False, drop="path mtu black hole", probe_size=1400),
        {"medium": "onprem-uplink", "mtu": "1400"},
        _icmp_dropped,
    ),
    FaultKind(
        "provider-address-unassigned",
        "the provider takes the secondary IP off the router's NIC (held until cleared)",
        (ROUTER, ADDRESS),
        Effect("provider-ip-not-assigned", heals=False, drop="fabric: no NIC holds dst"),
        {"router": "cloud-router", "address": "10.40.8.31"},
        _provider_unassigned,
    ),
)
KINDS: dict[str, FaultKind] = {k.name: k for k in CATALOG}
