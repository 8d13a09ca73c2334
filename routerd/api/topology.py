"""TopologyService: peers, domains, routes and WireGuard interfaces as routerd derives them.

Read from the snapshot's effective config *and* its lowering, because the interesting part
is what routerd adds: the tunnel resolved from each claim's peer, the routes it installs,
and each WireGuard peer's derived allowed IPs (D10 in docs/decisions.md). A WireGuard interface
is shown with its public key (D11); the private key never leaves its file, only the file's path
is named.
"""

from __future__ import annotations

import grpc

from routerd.api.errors import not_found, unary
from routerd.api.view import DaemonView, ready
from routerd.core.config import RouterConfig
from routerd.core.desired import Route, WireGuardDevice
from routerd.core.effective import EffectiveResult, resource_origin
from routerd.core.lowering import Lowered, key_file
from routerd.core.overlay import wireguard_peer_for
from routerd.core.resources import (
    AddressMobilityDomain,
    OverlayPeer,
    RemoteAddressClaim,
    WireGuardInterface,
    WireGuardPeer,
    bare_name,
)
from routerd.v1 import topology_pb2, topology_pb2_grpc


def peer(
    cfg: RouterConfig, eff: EffectiveResult, lowered: Lowered, p: OverlayPeer
) -> topology_pb2.Peer:
    s = p.spec
    wgp = wireguard_peer_for(cfg, p, s.underlay.interface)
    claims = sorted(c.name for c in lowered.claims.values() if c.peer == p.name)
    return topology_pb2.Peer(
        name=p.name,
        role=s.role,
        node_id=s.node_id,
        underlay_type=s.underlay.type,
        interface=s.underlay.interface,
        local_address=s.underlay.address,
        remote_node_id=s.remote.node_id,
        remote_address=s.remote.address,
        path_mtu=s.path_mtu,
        origin=resource_origin(eff, p),
        claims=claims,
        wireguard_public_key=wgp.spec.public_key if wgp else "",
    )


def domain(
    cfg: RouterConfig, eff: EffectiveResult, d: AddressMobilityDomain
) -> topology_pb2.Domain:
    kind = AddressMobilityDomain.KIND
    claims = sorted(
        c.name for c in cfg.of(RemoteAddressClaim) if bare_name(c.spec.domain_ref, kind) == d.name
    )
    return topology_pb2.Domain(
        name=d.name,
        prefix=d.spec.prefix,
        mode=d.spec.mode,
        peer_ref=d.spec.peer_ref,
        origin=resource_origin(eff, d),
        claims=claims,
    )


def routes(lowered: Lowered) -> list[topology_pb2.Route]:
    desired = lowered.desired
    found = [(k, o) for k, o in desired.objects.items() if isinstance(o, Route)]
    found.sort(key=lambda ko: (ko[1].table, ko[1].dst))
    return [
        topology_pb2.Route(
            destination=r.dst,
            device=r.dev,
            gateway=r.gateway,
            metric=r.metric,
            table=r.table,
            type=r.type,
            owners=sorted(desired.owners.get(k, ())),
        )
        for k, r in found
    ]


def wireguard_interface(
    cfg: RouterConfig,
    eff: EffectiveResult,
    lowered: Lowered,
    wgi: WireGuardInterface,
    *,
    key_path: str,
) -> topology_pb2.WireGuardInterface:
    """One WireGuard interface as the API shows it.

    Args:
        cfg: the effective config.
        eff: the effective result (for the interface's origin).
        lowered: the snapshot's lowering (device, peers, derived allowed IPs).
        wgi: the interface resource.
        key_path: where the engine keeps this interface's private key. Named by the caller
            from the engine's own rule (the sim backend keeps keys in the state directory
            whatever ``privateKeyFile`` says), so the path shown is the file that exists.

    Returns:
        The interface message.
    """
    dev = lowered.desired.objects.get(("wg", wgi.name))
    device = dev if isinstance(dev, WireGuardDevice) else WireGuardDevice(wgi.name)
    declared = [p for p in cfg.of(WireGuardPeer) if p.spec.interface == wgi.name]
    peers = []
    for wp in device.peers:
        mine = [p for p in declared if p.spec.public_key == wp.public_key]
        explicit = sorted({a for p in mine for a in p.spec.allowed_ips})
        peers.append(
            topology_pb2.WireGuardPeer(
                name=", ".join(p.name for p in mine),
                public_key=wp.public_key,
                endpoint=wp.endpoint,
                persistent_keepalive=wp.persistent_keepalive,
                allowed_ips=sorted(wp.allowed_ips),
                explicit_allowed_ips=explicit,
                derived_allowed_ips=sorted(set(wp.allowed_ips) - set(explicit)),
            )
        )
    return topology_pb2.WireGuardInterface(
        name=wgi.name,
        public_key=device.public_key,
        private_key_file=key_path,
        listen_port=wgi.spec.listen_port,
        mtu=wgi.spec.mtu,
        peers=peers,
        origin=resource_origin(eff, wgi),
    )


class TopologyServicer(topology_pb2_grpc.TopologyServiceServicer):
    def __init__(self, daemon: DaemonView) -> None:
        self.daemon = daemon

    @unary
    def ListPeers(
        self, request: topology_pb2.ListPeersRequest, context: grpc.ServicerContext
    ) -> topology_pb2.ListPeersResponse:
        eff, lowered = ready(self.daemon.engine.snapshot)
        cfg = eff.config
        items = sorted(cfg.of(OverlayPeer), key=lambda p: p.name)
        return topology_pb2.ListPeersResponse(peers=[peer(cfg, eff, lowered, p) for p in items])

    @unary
    def GetPeer(
        self, request: topology_pb2.GetPeerRequest, context: grpc.ServicerContext
    ) -> topology_pb2.Peer:
        eff, lowered = ready(self.daemon.engine.snapshot)
        cfg = eff.config
        found = cfg.get(OverlayPeer, request.name)
        if found is None:
            raise not_found("OverlayPeer", request.name, [p.name for p in cfg.of(OverlayPeer)])
        return peer(cfg, eff, lowered, found)

    @unary
    def ListDomains(
        self, request: topology_pb2.ListDomainsRequest, context: grpc.ServicerContext
    ) -> topology_pb2.ListDomainsResponse:
        eff, _ = ready(self.daemon.engine.snapshot)
        items = sorted(eff.config.of(AddressMobilityDomain), key=lambda d: d.name)
        return topology_pb2.ListDomainsResponse(domains=[domain(eff.config, eff, d) for d in items])

    @unary
    def ListRoutes(
        self, request: topology_pb2.ListRoutesRequest, context: grpc.ServicerContext
    ) -> topology_pb2.ListRoutesResponse:
        _, lowered = ready(self.daemon.engine.snapshot)
        return topology_pb2.ListRoutesResponse(routes=routes(lowered))

    @unary
    def GetWireGuardInterface(
        self, request: topology_pb2.GetWireGuardInterfaceRequest, context: grpc.ServicerContext
    ) -> topology_pb2.WireGuardInterface:
        eff, lowered = ready(self.daemon.engine.snapshot)
        cfg = eff.config
        wgi = cfg.get(WireGuardInterface, request.name)
        if wgi is None:
            names = [w.name for w in cfg.of(WireGuardInterface)]
            raise not_found("WireGuardInterface", request.name, names)
        settings = self.daemon.engine.settings
        path = key_file(wgi, settings.key_dir, in_key_dir=settings.keys_in_key_dir)
        return wireguard_interface(cfg, eff, lowered, wgi, key_path=path)
