"""The tail of the desired state: what depends on all claims together, or on no claim.

The WireGuard devices (each peer's allowed IPs: its explicit ones, the claims delivered
through it, the overlay's own addresses and HybridRoute destinations: D10 in
docs/decisions.md), the MSS clamp table (the smallest clamp any claim needs per path, D8),
the supporting resources: static addresses, user routes, HybridRoute routes and user
sysctls (which win over the ones claims derive), the mobile domains' anycast-gateway
devices with their settings (``routerd.core.mobility.gateway``), and ``proxy_arp=0`` on the
capture interfaces in standby (which wins over everything: capture there is switched off
while its routes stay, ``routerd.core.capture``). It is a pure function of the context and
the claims' contributions (``TailInputs``); the composition computes it again only when
those change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from routerd.core import capture
from routerd.core.config import RouterConfig
from routerd.core.desired import (
    Address,
    DataplaneObject,
    Key,
    MssClampTable,
    MssRule,
    Route,
    Sysctl,
    WgPeer,
    WireGuardDevice,
)
from routerd.core.lowering import key_file
from routerd.core.mobility.gateway import gateway_objects
from routerd.core.overlay import os_ifname, wireguard_peer_for
from routerd.core.persistent import Map
from routerd.core.resources import (
    HybridRoute,
    IPv4Route,
    IPv4StaticAddress,
    OverlayPeer,
    WireGuardInterface,
    WireGuardPeer,
)
from routerd.core.resources import (
    Sysctl as SysctlResource,
)
from routerd.core.validation import route_slug


@dataclass(frozen=True, slots=True)
class TailInputs:
    """What the tail reads besides the context: the claims' contributions and key files.

    Attributes:
        allowed: ``(wg interface, peer public key) -> CIDRs`` the claims add.
        mss: ``(iif, oif) -> clamp`` (the smallest any claim needs).
        generation: the config generation (recorded in the clamp table's comment).
        key_dir: where WireGuard keys live when ``privateKeyFile`` is not set.
        public_keys: WireGuard interface -> public key of its private key file.
        standby: proxy-ARP capture interfaces whose capture is switched off.
        gateway_standby: mobile domains whose anycast gateway this router holds in standby
            (``routerd.core.mobility.gateway``; a redundant pair's standby router).
    """

    allowed: Mapping[tuple[str, str], frozenset[str]]
    mss: Mapping[tuple[str, str], int]
    generation: int = 0
    key_dir: str = "/var/lib/routerd/keys"
    public_keys: Mapping[str, str] = Map()
    standby: frozenset[str] = frozenset()
    gateway_standby: frozenset[str] = frozenset()


def lower_tail(context: RouterConfig, inputs: TailInputs) -> dict[Key, tuple[DataplaneObject, str]]:
    """The objects that depend on all claims together or on no claim at all.

    Args:
        context: the non-claim resources of the effective config.
        inputs: the claims' contributions and the key files (see ``TailInputs``).

    Returns:
        key -> (object, owner label of the resource it comes from). Claims that need one of
        these objects are added to its owners by the composition.
    """
    out: dict[Key, tuple[DataplaneObject, str]] = {}
    allowed = {k: set(v) for k, v in inputs.allowed.items()}
    for (tunnel, public_key), cidrs in _overlay_coverage(context):
        allowed.setdefault((tunnel, public_key), set()).update(cidrs)
    for wgi in context.of(WireGuardInterface):
        device = _device(context, wgi, allowed, inputs)
        out[device.key] = (device, wgi.ref)
    for a in context.of(IPv4StaticAddress):
        obj: DataplaneObject = Address(os_ifname(context, a.spec.interface), a.spec.address)
        out[obj.key] = (obj, a.ref)
    for r in context.of(IPv4Route):
        s = r.spec
        dev = os_ifname(context, s.device) if s.device else ""
        obj = Route(s.destination, dev, s.metric, s.gateway, type=s.type)
        out[obj.key] = (obj, r.ref)
    for hr in context.of(HybridRoute):
        peer = context.get(OverlayPeer, hr.spec.peer_ref)
        if peer is None:
            continue
        u = peer.spec.underlay
        gw = peer.spec.remote.address if u.type == "ipsec" else ""
        for dest in hr.spec.destination_cidrs:
            obj = Route(dest, u.interface, hr.spec.install.metric, gw)
            out[obj.key] = (obj, f"{hr.ref}-{route_slug(dest)}")
    out.update(gateway_objects(context, inputs.gateway_standby))
    for sc in context.of(SysctlResource):
        if sc.spec.runtime:
            obj = Sysctl(sc.spec.key, sc.spec.value)
            out[obj.key] = (obj, sc.ref)
    if inputs.mss:
        rules = frozenset(MssRule(i, o, m) for (i, o), m in inputs.mss.items())
        table = MssClampTable(rules, generation=inputs.generation)
        out[table.key] = (table, "routerd/mss-clamp")
    for ifname in sorted(inputs.standby):
        off = capture.standby_sysctl(ifname)
        out[off.key] = (off, capture.STANDBY_OWNER)
    return out


def _overlay_coverage(context: RouterConfig) -> Iterable[tuple[tuple[str, str], set[str]]]:
    """Allowed IPs the overlay itself needs: peers' overlay addresses, HybridRoute CIDRs."""
    for peer in context.of(OverlayPeer):
        tunnel = peer.spec.underlay.interface
        if not peer.spec.remote.address or context.get(WireGuardInterface, tunnel) is None:
            continue
        wgp = wireguard_peer_for(context, peer, tunnel)
        if wgp is not None:
            yield (tunnel, wgp.spec.public_key), {f"{peer.spec.remote.address}/32"}
    for hr in context.of(HybridRoute):
        hpeer = context.get(OverlayPeer, hr.spec.peer_ref)
        if hpeer is None:
            continue
        tunnel = hpeer.spec.underlay.interface
        wgp = wireguard_peer_for(context, hpeer, tunnel)
        if wgp is not None and context.get(WireGuardInterface, tunnel) is not None:
            yield (tunnel, wgp.spec.public_key), set(hr.spec.destination_cidrs)


def _device(
    context: RouterConfig,
    wgi: WireGuardInterface,
    allowed: Mapping[tuple[str, str], set[str]],
    inputs: TailInputs,
) -> WireGuardDevice:
    ifname = wgi.name
    peers = []
    for p in context.of(WireGuardPeer):
        if p.spec.interface != ifname:
            continue
        ips = set(p.spec.allowed_ips) | allowed.get((ifname, p.spec.public_key), set())
        peers.append(
            WgPeer(
                public_key=p.spec.public_key,
                allowed_ips=frozenset(ips),
                endpoint=p.spec.endpoint,
                persistent_keepalive=p.spec.persistent_keepalive,
                preshared_key_file=p.spec.preshared_key_file,
            )
        )
    return WireGuardDevice(
        ifname=ifname,
        private_key_file=key_file(wgi, inputs.key_dir),
        public_key=inputs.public_keys.get(ifname, ""),
        listen_port=wgi.spec.listen_port,
        mtu=wgi.spec.mtu,
        fwmark=wgi.spec.fwmark,
        peers=tuple(sorted(peers, key=lambda x: x.public_key)),
    )
