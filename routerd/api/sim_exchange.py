"""Converters for SimService's address-mobility calls: partitions and route exchange.

The shapes of ``SimPartition`` and ``SimRouteExchange`` are decided here once, from the
simulator's own values (``routerd.backends.sim.partitions``, ``routerd.backends.sim.bgp
.report``), so ``GetExchange`` shows a router's speaker exactly as the world holds it.
"""

from __future__ import annotations

from routerd.api import convert
from routerd.backends.sim.bgp.report import ReflectorReport, SpeakerReport
from routerd.backends.sim.partitions import Partition
from routerd.core.exchange import (
    SEQUENCE_FUNCTION,
    SITE_FUNCTION,
    Origination,
    ReceivedPath,
    Refusal,
)
from routerd.v1 import sim_pb2


def partition(p: Partition) -> sim_pb2.SimPartition:
    return sim_pb2.SimPartition(
        id=p.id,
        a=p.a,
        b=p.b,
        side_a=list(p.side_a),
        side_b=list(p.side_b),
        active=p.active,
        at=convert.timestamp(p.at),
        healed_at=convert.timestamp(p.healed_at),
    )


def origination(o: Origination) -> sim_pb2.SimRoute:
    return sim_pb2.SimRoute(
        prefix=f"{o.address}/32", site_id=o.site_id, sequence=o.sequence, next_hop=o.next_hop
    )


def _community(path: ReceivedPath, function: int) -> int:
    """The first large community's value for ``function`` (0 when there is none)."""
    return next((c[2] for c in path.large_communities if c[1] == function), 0)


def received(path: ReceivedPath, refused: str = "") -> sim_pb2.SimRoute:
    return sim_pb2.SimRoute(
        prefix=path.prefix,
        site_id=_community(path, SITE_FUNCTION),
        sequence=_community(path, SEQUENCE_FUNCTION),
        next_hop=path.next_hop,
        neighbor=path.neighbor,
        originator_id=path.sender,
        refused=refused,
    )


def speaker(r: SpeakerReport) -> sim_pb2.SimSpeaker:
    return sim_pb2.SimSpeaker(
        router=r.router,
        running=r.running,
        attached=r.attached,
        site_id=r.site_id,
        router_id=r.router_id,
        asn=r.asn,
        originated=[origination(o) for o in r.originated],
        received=[
            received(x.path, x.verdict.reason if isinstance(x.verdict, Refusal) else "")
            for x in r.received
        ],
        sessions=[
            sim_pb2.SimSession(
                neighbor=s.state.neighbor,
                description=s.state.description,
                state=s.state.state,
                since=convert.timestamp(s.state.since),
                last_error=s.state.last_error,
                peer=s.peer,
            )
            for s in r.sessions
        ],
    )


def reflector(r: ReflectorReport) -> sim_pb2.SimReflector:
    return sim_pb2.SimReflector(
        address=r.address,
        router_id=r.router_id,
        delay=convert.duration(r.delay),
        reconnect=convert.duration(r.reconnect),
        clients=list(r.clients),
        accepted=[sim_pb2.SimReflectorRoute(client=c, route=received(p)) for c, p in r.accepted],
        filtered=[
            sim_pb2.SimReflectorRoute(client=c, route=received(p, reason))
            for c, p, reason in r.filtered
        ],
    )
