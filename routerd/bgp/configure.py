"""Set a running gobgpd to the wanted ``SpeakerSettings`` over its API, only where it differs.

gobgpd runs without a config file: the global section (``StartBgp``) and every neighbor
(``AddPeer``) are set over gRPC. On adoption after a routerd restart nothing may be reset
that is already right (resetting a peer drops its session and every route learned over it),
so the wanted state is compared with what gobgpd reports, normalised for the defaults it
fills in (``GetBgp`` lists ``0.0.0.0`` and ``::`` when no listen address was given;
``ListPeer`` fills in the local AS, ``0.0.0.0`` as the local address and an idle-hold
timer). Only fields routerd sets are compared, so a value gobgpd adds never causes a reset.

* global differs (AS, router id, listen address or port): ``StopBgp`` + ``StartBgp``;
  every session and origination is gone afterwards (``Applied.fresh``);
* a neighbor differs: ``DeletePeer`` + ``AddPeer`` (that session only);
* a neighbor no longer wanted: ``DeletePeer``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from routerd.bgp.codec import FAMILY
from routerd.bgp.gobgpapi import gobgp_pb2 as api
from routerd.bgp.gobgpapi import gobgp_pb2_grpc as rpc
from routerd.core.exchange import Neighbor, SpeakerSettings

LOG = logging.getLogger(__name__)

_ALL = ("0.0.0.0", "::")


@dataclass(frozen=True)
class Applied:
    """What ``apply`` changed.

    Attributes:
        fresh: BGP was (re)started: the speaker holds no session and no origination.
        added: neighbors added or re-added.
        removed: neighbors deleted.
    """

    fresh: bool
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


def _global(s: SpeakerSettings) -> api.Global:
    listen = [s.listen_address] if s.listen_address else []
    return api.Global(
        asn=s.asn, router_id=s.router_id, listen_port=s.listen_port, listen_addresses=listen
    )


def _global_key(g: api.Global) -> tuple[int, str, int, tuple[str, ...]]:
    addresses = tuple(sorted(a for a in g.listen_addresses if a not in _ALL))
    return g.asn, g.router_id, g.listen_port, addresses if g.listen_port > 0 else ()


def peer_message(n: Neighbor, local_asn: int) -> api.Peer:
    """The ``AddPeer`` message for one neighbor (add-path receive on IPv4 unicast)."""
    return api.Peer(
        conf=api.PeerConf(
            neighbor_address=n.address,
            peer_asn=n.asn or local_asn,
            description=n.description,
        ),
        timers=api.Timers(
            config=api.TimersConfig(
                connect_retry=n.connect_retry,
                hold_time=n.hold_time,
                keepalive_interval=n.keepalive,
            )
        ),
        transport=api.Transport(passive_mode=n.passive),
        afi_safis=[
            api.AfiSafi(
                config=api.AfiSafiConfig(family=FAMILY, enabled=True),
                add_paths=api.AddPaths(config=api.AddPathsConfig(receive=True)),
            )
        ],
    )


def peer_key(p: api.Peer) -> tuple[object, ...]:
    """The fields of a peer that routerd sets, as gobgpd reports them back."""
    receive = any(
        a.add_paths.config.receive
        for a in p.afi_safis
        if a.config.family.afi == FAMILY.afi and a.config.family.safi == FAMILY.safi
    )
    t = p.timers.config
    return (
        p.conf.neighbor_address,
        p.conf.peer_asn,
        p.conf.description,
        t.connect_retry,
        t.hold_time,
        t.keepalive_interval,
        p.transport.passive_mode,
        receive,
    )


def apply(stub: rpc.GobgpApiStub, settings: SpeakerSettings, timeout: float = 10.0) -> Applied:
    """Make the speaker's global settings and neighbors equal to ``settings``.

    Raises:
        grpc.RpcError: gobgpd refused a change or could not be reached.
    """
    fresh = False
    current = stub.GetBgp(api.GetBgpRequest(), timeout=timeout)
    have = getattr(current, "global")
    want = _global(settings)
    if have.asn == 0 or _global_key(have) != _global_key(want):
        if have.asn != 0:
            LOG.warning("gobgpd global settings changed; restarting BGP (sessions reset)")
            stub.StopBgp(api.StopBgpRequest(), timeout=timeout)
        stub.StartBgp(api.StartBgpRequest(**{"global": want}), timeout=timeout)
        fresh = True
    peers = {
        r.peer.conf.neighbor_address: r.peer
        for r in stub.ListPeer(api.ListPeerRequest(), timeout=timeout)
    }
    wanted = {n.address: peer_message(n, settings.asn) for n in settings.neighbors}
    removed = []
    for address in sorted(peers):
        if address not in wanted or peer_key(peers[address]) != peer_key(wanted[address]):
            stub.DeletePeer(api.DeletePeerRequest(address=address), timeout=timeout)
            removed.append(address)
    added = []
    for address, peer in wanted.items():
        if address not in peers or address in removed:
            stub.AddPeer(api.AddPeerRequest(peer=peer), timeout=timeout)
            added.append(address)
    if removed or added:
        LOG.info("gobgpd neighbors: added %s, removed %s", added or "none", removed or "none")
    return Applied(fresh, tuple(added), tuple(removed))
