"""How a claim or HybridRoute reaches its peer: tunnel device and WireGuard peer resolution.

Validation, lowering and doctor all need the same answers ("which device delivers this
claim?", "which WireGuardPeer carries traffic to this OverlayPeer?"), so they live here once.
"""

from __future__ import annotations

import ipaddress

from routerd.core.config import RouterConfig
from routerd.core.resources import (
    Interface,
    OverlayPeer,
    RemoteAddressClaim,
    WireGuardInterface,
    WireGuardPeer,
)

RESERVED_OVERLAY_NETS = (
    ipaddress.IPv4Network("169.254.0.0/16"),
    ipaddress.IPv4Network("100.64.0.0/10"),
)


def reserved_overlay_net(address: str) -> ipaddress.IPv4Network | None:
    """The reserved range containing ``address`` (D13 in docs/decisions.md), if any."""
    ip = ipaddress.IPv4Address(address.split("/", 1)[0])
    for net in RESERVED_OVERLAY_NETS:
        if ip in net:
            return net
    return None


def claim_tunnel(config: RouterConfig, claim: RemoteAddressClaim) -> str:
    """The device a claim is delivered through: ``tunnelInterface`` or the peer's underlay."""
    delivery = claim.spec.delivery
    return delivery_tunnel(config, delivery.peer_ref, delivery.tunnel_interface)


def delivery_tunnel(config: RouterConfig, peer_ref: str, tunnel_interface: str) -> str:
    """``claim_tunnel`` from a claim's delivery fields."""
    if tunnel_interface:
        return tunnel_interface
    peer = config.get(OverlayPeer, peer_ref)
    return peer.spec.underlay.interface if peer else ""


def wireguard_peer_for(
    config: RouterConfig, peer: OverlayPeer, tunnel: str
) -> WireGuardPeer | None:
    """The WireGuardPeer on ``tunnel`` that carries traffic to ``peer``.

    Resolution order: a WireGuardPeer with the OverlayPeer's name on that interface; the
    only peer on that interface; the peer whose allowedIPs contain the peer's overlay
    address (``remote.address``).
    """
    on_if = [p for p in config.of(WireGuardPeer) if p.spec.interface == tunnel]
    for p in on_if:
        if p.name == peer.name:
            return p
    if len(on_if) == 1:
        return on_if[0]
    if peer.spec.remote.address:
        target = ipaddress.IPv4Address(peer.spec.remote.address)
        for p in on_if:
            if any(target in ipaddress.IPv4Network(a) for a in p.spec.allowed_ips):
                return p
    return None


def interface_names(config: RouterConfig) -> set[str]:
    """OS names of every declared Interface (``ifname``, else the resource name)."""
    return {i.os_name for i in config.of(Interface)} | {i.name for i in config.of(Interface)}


def os_ifname(config: RouterConfig, name: str) -> str:
    """Resolve an interface alias: an Interface resource name maps to its ``ifname``."""
    iface = config.get(Interface, name)
    return iface.os_name if iface else name


def declared_mtu(config: RouterConfig, ifname: str) -> int:
    """MTU declared for an OS interface, 0 when unknown."""
    wg = config.get(WireGuardInterface, ifname)
    if wg is not None:
        return wg.spec.mtu
    for i in config.of(Interface):
        if i.os_name == ifname or i.name == ifname:
            return i.spec.mtu
    return 0
