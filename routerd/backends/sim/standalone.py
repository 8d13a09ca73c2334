"""A one-host world for ``routerd serve --backend sim -c FILE``.

Without a lab there is no peer, so nothing can be *verified*; but a single router can still
capture and install delivery for every claim, which is what the daemon, the API and the
benchmark need to exercise. The host gets exactly the interfaces the config names:

* every declared ``Interface`` (its OS name and MTU);
* every claim's capture interface, with an address inside the claim's domain prefix that no
  claim uses (a router has an address on the LAN it captures for);
* a ``public`` uplink with a default route, standing in for the way to the peer.

WireGuard devices are left to routerd, as on a fresh machine. Each interface sits alone on
its own link, so traces fail with "arp unresolved" rather than crashing on a missing peer.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator

from routerd.core.config import RouterConfig
from routerd.core.overlay import os_ifname
from routerd.core.resources import (
    AddressMobilityDomain,
    Interface,
    RemoteAddressClaim,
    WireGuardInterface,
)

from .world import World

DEFAULT_HOST = "router"
PUBLIC_IF = "public"
PUBLIC_ADDRESS = "192.0.2.10/24"  # TEST-NET-1
PUBLIC_GATEWAY = "192.0.2.1"


def single_host_world(
    config: RouterConfig,
    *,
    host_name: str = DEFAULT_HOST,
    clock: Callable[[], float] | None = None,
) -> World:
    """A world holding one router shaped after ``config``.

    Args:
        config: the (validated) router config.
        host_name: the host's name (pass the same to ``SimBackend``).
        clock: the world's clock.

    Returns:
        The world; the router is ``world.hosts[host_name]``.
    """
    world = World(clock=clock)
    world.add_host(host_name)
    wg_names = {w.name for w in config.of(WireGuardInterface)}
    mtus = {i.os_name: i.spec.mtu or 1500 for i in config.of(Interface)}
    for claim in config.of(RemoteAddressClaim):
        if claim.spec.capture.interface:
            mtus.setdefault(os_ifname(config, claim.spec.capture.interface), 1500)
    for ifname, mtu in sorted(mtus.items()):
        if ifname not in wg_names:
            world.add_segment(f"link-{ifname}")
            world.connect(host_name, ifname, f"link-{ifname}", mtu=mtu)
    for ifname, cidr in _capture_addresses(config):
        if ifname in world.hosts[host_name].interfaces:
            world.hosts[host_name].add_address(ifname, cidr)
    world.add_segment(f"link-{PUBLIC_IF}")
    world.connect(host_name, PUBLIC_IF, f"link-{PUBLIC_IF}", address=PUBLIC_ADDRESS)
    world.add_route(host_name, "0.0.0.0/0", gateway=PUBLIC_GATEWAY, dev=PUBLIC_IF, proto="dhcp")
    return world


def _capture_addresses(config: RouterConfig) -> Iterator[tuple[str, str]]:
    """One unclaimed address of each domain prefix per capture interface."""
    claimed = {c.ip for c in config.of(RemoteAddressClaim)}
    seen: set[tuple[str, str]] = set()
    for claim in config.of(RemoteAddressClaim):
        domain = config.get(AddressMobilityDomain, claim.spec.domain_ref)
        if domain is None or not claim.spec.capture.interface:
            continue
        ifname = os_ifname(config, claim.spec.capture.interface)
        if (ifname, domain.spec.prefix) in seen:
            continue
        seen.add((ifname, domain.spec.prefix))
        net = ipaddress.IPv4Network(domain.spec.prefix, strict=False)
        free = next((str(ip) for ip in net.hosts() if str(ip) not in claimed), None)
        if free is not None:
            yield ifname, f"{free}/{net.prefixlen}"
