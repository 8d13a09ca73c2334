"""Build a simulated ``World`` from a validated ``WorldSpec``.

The order is the order of a real deployment: the route reflector when the file declares
one (``routerd.backends.sim.bgp``), links (bridges, provider fabrics, the
internet's uplinks), then VMs with their addresses and default routes, then routers with
their NICs, the provider's secondary-IP assignments and forwarding flags, their uplink and
default route, and the firewall their image boots with. Routers start as a fresh machine
does — ``ip_forward=0``, no WireGuard device — so routerd has everything to do.

``opened`` firewalls get the host rule the OCI how-to documents for each WireGuard port
and each (capture interface, tunnel) pair the router's config uses, which is why the
builder takes the configs along with the spec.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import TYPE_CHECKING

from routerd.core.config import RouterConfig
from routerd.core.duration import parse_duration
from routerd.core.lowering import lower
from routerd.core.resources import WireGuardInterface

from ..nft import FilterRule, documented_host_rules, image_default_firewall
from ..world import World
from .spec import INTERNET_HOST, ReflectorSpec, RouterSpec, VmSpec, WorldSpec

if TYPE_CHECKING:
    from ..bgp.reflector import ReflectorSettings

IP_FORWARD = "net.ipv4.ip_forward"


def uplink_segment(router: RouterSpec) -> str:
    assert router.uplink is not None
    return router.uplink.segment or f"{router.name}-uplink"


def build_world(
    spec: WorldSpec,
    configs: dict[str, RouterConfig] | None = None,
    *,
    clock: Callable[[], float] | None = None,
) -> World:
    """The world ``spec`` describes.

    Args:
        spec: a valid World spec (``WorldFile.raise_for_errors()``).
        configs: router name -> its config (for ``opened`` firewalls); optional.
        clock: the world's clock (handshake times).

    Returns:
        The world; its hosts are the spec's VMs and routers plus ``internet`` when any
        router has an uplink.
    """
    world = World(clock=clock)
    if spec.spec.reflector is not None:
        world.bgp.configure_reflector(reflector_settings(spec.spec.reflector))
    for site in spec.spec.sites:
        for seg in site.segments:
            if site.provider:
                world.add_fabric(seg.name, seg.subnet, seg.gateway)
            else:
                world.add_segment(seg.name, mtu=seg.mtu, icmp_blackhole=seg.icmp_blackhole)
    for vm in spec.spec.vms:
        _vm(world, vm)
    for router in spec.spec.routers:
        _router(world, spec, router, (configs or {}).get(router.name))
    return world


def reflector_settings(r: ReflectorSpec) -> ReflectorSettings:
    """The BGP fabric's reflector as the World file declares it."""
    from ..bgp.reflector import ReflectorSettings

    return ReflectorSettings(
        address=r.address,
        router_id=r.router_id,
        asn=r.asn,
        domains=r.domains,
        delay=parse_duration(r.delay),
        reconnect=parse_duration(r.reconnect),
    )


def _vm(world: World, vm: VmSpec) -> None:
    host = world.add_host(vm.name)
    iface = world.connect(vm.name, vm.interface, vm.segment, address=vm.address, mtu=vm.mtu)
    if vm.mac:
        iface.mac = vm.mac
    if vm.gateway:
        world.add_route(vm.name, "0.0.0.0/0", gateway=vm.gateway, dev=vm.interface, proto="dhcp")
    if vm.forwarding:
        host.set_sysctl(IP_FORWARD, "1")


def _router(world: World, spec: WorldSpec, router: RouterSpec, config: RouterConfig | None) -> None:
    host = world.add_host(router.name)
    host.clamp_supported = router.clamp_supported
    fabrics = {n for s in spec.spec.sites if s.provider for n in (g.name for g in s.segments)}
    for nic in router.interfaces:
        on_fabric = nic.segment in fabrics
        world.connect(
            router.name,
            nic.name,
            nic.segment,
            address=nic.address,
            mtu=nic.mtu,
            forwarding=nic.forwarding and on_fabric,
        )
        fabric = world.media[nic.segment]
        for ip in nic.secondary_addresses if on_fabric else ():
            fabric.assign((router.name, nic.name), ip)  # type: ignore[union-attr]
    if router.uplink is not None:
        _uplink(world, spec, router)
    profile = spec.firewall_of(router)
    if profile != "none":
        host.firewall = image_default_firewall()
    if profile == "opened":
        host.firewall.rules.extend(opened_rules(config) if config else _open_all())


def _uplink(world: World, spec: WorldSpec, router: RouterSpec) -> None:
    up = router.uplink
    assert up is not None
    site = spec.site(router.site)
    quirks = site.quirks if site is not None else None
    seg = uplink_segment(router)
    world.add_segment(
        seg,
        mtu=quirks.path_mtu if quirks else 0,
        icmp_blackhole=bool(quirks and quirks.path_mtu and quirks.icmp_blackhole),
    )
    world.connect(router.name, up.interface, seg, address=up.address, mtu=up.mtu)
    if INTERNET_HOST not in world.hosts:
        world.add_host(INTERNET_HOST).set_sysctl(IP_FORWARD, "1")
    prefix = ipaddress.IPv4Interface(up.address).network.prefixlen
    core_if = up.internet_interface or f"to-{router.name}"
    world.connect(INTERNET_HOST, core_if, seg, address=f"{up.gateway}/{prefix}")
    world.add_route(router.name, "0.0.0.0/0", gateway=up.gateway, dev=up.interface, proto="dhcp")


def opened_rules(config: RouterConfig) -> list[FilterRule]:
    """The documented host rule for every WireGuard port and capture -> tunnel pair."""
    ports = {w.spec.listen_port for w in config.of(WireGuardInterface)}
    pairs = {(c.capture_interface, c.tunnel) for c in lower(config).claims.values() if c.tunnel}
    rules: list[FilterRule] = []
    for port in sorted(p for p in ports if p):
        rules.append(FilterRule("INPUT", proto="udp", dport=port))
    for capture, tunnel in sorted(pairs):
        rules += documented_host_rules(0, capture, tunnel)[1:]
    return rules


def _open_all() -> list[FilterRule]:
    """Without a config to read, "opened" opens WireGuard's default port and all forwarding."""
    return [FilterRule("INPUT", proto="udp", dport=51820), FilterRule("FORWARD")]
