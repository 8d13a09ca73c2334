"""SimService: faults, VM moves, partitions, route exchange, packet traces and virtual time.

Registered by ``routerd.api.server`` only for a router hosted by ``routerd serve --backend
sim --world`` (``routerd.daemon.world``): every router's socket serves it, and every call
acts on the one world they share. Calls that change the world return once the scheduler has
settled, so what a client reads next through ClaimService is final. Bad parameters are
INVALID_ARGUMENT naming the parameter (``FaultInputError``); an unsettled world is
DEADLINE_EXCEEDED with what is still busy.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import grpc

from routerd.api import convert, sim_exchange
from routerd.api.errors import ApiError, unary
from routerd.backends.sim import ManualClock, World
from routerd.backends.sim.bgp import report
from routerd.backends.sim.control import WorldControl
from routerd.backends.sim.faultbook import Fault
from routerd.backends.sim.faultcatalog import CATALOG
from routerd.backends.sim.faultkind import FaultInputError, FaultKind
from routerd.backends.sim.packet import Trace
from routerd.backends.sim.worldfile.build import uplink_segment
from routerd.backends.sim.worldfile.spec import WorldSpec
from routerd.v1 import sim_pb2, sim_pb2_grpc

SETTLE_TIMEOUT = 30.0
"""Real seconds a world-changing call waits for the routers to react."""
MAX_ADVANCE = 86_400.0
"""Virtual seconds one AdvanceClock may cover (each due time on the way runs its passes)."""


class SchedulerMember(Protocol):
    """One router as the world's pass scheduler reports it."""

    @property
    def name(self) -> str: ...

    @property
    def poked(self) -> bool: ...

    @property
    def passes(self) -> int: ...


class WorldScheduler(Protocol):
    """What the servicer needs of the world's pass scheduler
    (``routerd.daemon.scheduler.PassScheduler``, which sits above the API and is not imported).
    """

    @property
    def members(self) -> Mapping[str, SchedulerMember]: ...

    @property
    def errors(self) -> list[str]: ...

    def settle(self, timeout: float = 30.0) -> bool: ...

    def advance(self, seconds: float, timeout: float = 120.0) -> bool: ...


class SimWorld(Protocol):
    """What the servicer needs of the world host (``routerd.daemon.world.WorldHost``)."""

    name: str
    spec: WorldSpec
    world: World
    control: WorldControl
    clock: ManualClock
    hosted: list[str]
    started_clock: float

    @property
    def scheduler(self) -> WorldScheduler: ...

    def socket(self, router: str) -> str: ...


def _bad(e: FaultInputError) -> ApiError:
    return ApiError(grpc.StatusCode.INVALID_ARGUMENT, str(e))


def fault_kind(k: FaultKind) -> sim_pb2.SimFaultKind:
    return sim_pb2.SimFaultKind(
        name=k.name,
        summary=k.summary,
        params=[
            sim_pb2.SimFaultParam(name=p.name, help=p.help, required=p.required) for p in k.params
        ],
        reason=k.effect.reason,
        heals=k.effect.heals,
        trace=k.effect.trace,
        doctor=k.effect.doctor,
        after=convert.duration(k.effect.after),
        example=k.example,
    )


def fault(f: Fault) -> sim_pb2.SimFault:
    return sim_pb2.SimFault(
        id=f.id,
        kind=f.kind,
        params=f.params,
        active=f.active,
        injected_at=convert.timestamp(f.injected_at),
        cleared_at=convert.timestamp(f.cleared_at),
    )


def packet_trace(t: Trace) -> sim_pb2.PacketTrace:
    hops = [
        sim_pb2.TraceHop(
            host=h.host,
            interface=h.ifname,
            event=h.event,
            detail=h.detail,
            verdict=h.verdict,
            source=h.src,
            destination=h.dst,
            inner_source=h.inner_src,
            inner_destination=h.inner_dst,
        )
        for h in t.hops
    ]
    return sim_pb2.PacketTrace(
        hops=hops,
        delivered=t.delivered,
        delivered_to=t.dst_host or "",
        source=t.src_ip,
        source_seen=t.source_seen or "",
        drop_reason=t.drop_reason,
        drop_host=t.drop_host,
        drop_detail=t.drop_detail,
        summary=t.summary(),
    )


class SimServicer(sim_pb2_grpc.SimServiceServicer):
    def __init__(self, world: SimWorld) -> None:
        self.w = world

    def _settled(self) -> None:
        if not self.w.scheduler.settle(SETTLE_TIMEOUT):
            busy = [m.name for m in self.w.scheduler.members.values() if m.poked]
            raise ApiError(
                grpc.StatusCode.DEADLINE_EXCEEDED,
                f"the routers did not settle within {SETTLE_TIMEOUT:.0f}s (still busy: "
                f"{', '.join(busy) or 'a pass in progress'}); call Settle to wait longer",
            )

    def _clock(self) -> sim_pb2.SimClock:
        now = self.w.clock.now
        return sim_pb2.SimClock(
            now=convert.timestamp(now), elapsed=convert.duration(now - self.w.started_clock)
        )

    @unary
    def GetWorld(
        self, request: sim_pb2.GetWorldRequest, context: grpc.ServicerContext
    ) -> sim_pb2.SimWorld:
        spec, control = self.w.spec, self.w.control
        routers = [
            sim_pb2.SimRouter(
                name=r.name,
                site=r.site,
                hosted=r.name in self.w.hosted,
                socket=self.w.socket(r.name) if r.name in self.w.hosted else "",
            )
            for r in spec.spec.routers
        ]
        vms = []
        for vm in spec.spec.vms:
            segment = control.location[vm.name]
            mac = self.w.world.hosts[vm.name].interfaces[vm.interface].mac
            vms.append(
                sim_pb2.SimVm(
                    name=vm.name,
                    address=vm.address,
                    segment=segment,
                    site=control.site_of(segment),
                    mac=mac,
                )
            )
        segments = [
            sim_pb2.SimSegment(name=g.name, site=s.name, provider=s.provider or "", subnet=g.subnet)
            for s in spec.spec.sites
            for g in s.segments
        ]
        segments += [
            sim_pb2.SimSegment(name=uplink_segment(r), site=r.site, uplink_of=r.name)
            for r in spec.spec.routers
            if r.uplink is not None
        ]
        return sim_pb2.SimWorld(
            name=self.w.name,
            routers=routers,
            vms=vms,
            segments=segments,
            now=convert.timestamp(self.w.clock.now),
        )

    @unary
    def ListFaultKinds(
        self, request: sim_pb2.ListFaultKindsRequest, context: grpc.ServicerContext
    ) -> sim_pb2.ListFaultKindsResponse:
        return sim_pb2.ListFaultKindsResponse(kinds=[fault_kind(k) for k in CATALOG])

    @unary
    def InjectFault(
        self, request: sim_pb2.InjectFaultRequest, context: grpc.ServicerContext
    ) -> sim_pb2.SimFault:
        try:
            injected = self.w.control.faults.inject(request.kind, dict(request.params))
        except FaultInputError as e:
            raise _bad(e) from None
        self._settled()
        return fault(injected)

    @unary
    def ClearFault(
        self, request: sim_pb2.ClearFaultRequest, context: grpc.ServicerContext
    ) -> sim_pb2.SimFault:
        try:
            cleared = self.w.control.faults.clear(request.id)
        except FaultInputError as e:
            raise _bad(e) from None
        self._settled()
        return fault(cleared)

    @unary
    def ListFaults(
        self, request: sim_pb2.ListFaultsRequest, context: grpc.ServicerContext
    ) -> sim_pb2.ListFaultsResponse:
        faults = self.w.control.faults.faults.values()
        return sim_pb2.ListFaultsResponse(
            faults=[fault(f) for f in faults if f.active or not request.active_only]
        )

    @unary
    def MoveVm(
        self, request: sim_pb2.MoveVmRequest, context: grpc.ServicerContext
    ) -> sim_pb2.MoveVmResponse:
        try:
            move = self.w.control.move_vm(
                request.vm, request.segment, announce=request.announce or "garp"
            )
        except FaultInputError as e:
            raise _bad(e) from None
        self._settled()
        return sim_pb2.MoveVmResponse(
            vm=move.vm,
            from_segment=move.from_segment,
            to_segment=move.to_segment,
            from_site=move.from_site,
            to_site=move.to_site,
            at=convert.timestamp(move.at),
            announce=move.announce,
            heard_by=list(move.heard_by),
        )

    @unary
    def AnnounceVm(
        self, request: sim_pb2.AnnounceVmRequest, context: grpc.ServicerContext
    ) -> sim_pb2.AnnounceVmResponse:
        try:
            heard = self.w.control.announce_vm(request.vm, request.announce or "garp")
        except FaultInputError as e:
            raise _bad(e) from None
        self._settled()
        return sim_pb2.AnnounceVmResponse(heard_by=list(heard))

    @unary
    def Partition(
        self, request: sim_pb2.PartitionRequest, context: grpc.ServicerContext
    ) -> sim_pb2.SimPartition:
        try:
            cut = self.w.control.partitions.cut(request.a, request.b)
        except FaultInputError as e:
            raise _bad(e) from None
        self._settled()
        return sim_exchange.partition(cut)

    @unary
    def Heal(
        self, request: sim_pb2.HealRequest, context: grpc.ServicerContext
    ) -> sim_pb2.SimPartition:
        try:
            healed = self.w.control.partitions.heal(request.id)
        except FaultInputError as e:
            raise _bad(e) from None
        self._settled()
        return sim_exchange.partition(healed)

    @unary
    def ListPartitions(
        self, request: sim_pb2.ListPartitionsRequest, context: grpc.ServicerContext
    ) -> sim_pb2.ListPartitionsResponse:
        partitions = self.w.control.partitions.partitions.values()
        return sim_pb2.ListPartitionsResponse(
            partitions=[
                sim_exchange.partition(p) for p in partitions if p.active or not request.active_only
            ]
        )

    @unary
    def GetExchange(
        self, request: sim_pb2.GetExchangeRequest, context: grpc.ServicerContext
    ) -> sim_pb2.SimRouteExchange:
        routers = [r.name for r in self.w.spec.spec.routers]
        if request.router and request.router not in routers:
            raise ApiError(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"router: no router {request.router!r} (routers: {', '.join(routers)})",
            )
        fabric = self.w.world.bgp
        return sim_pb2.SimRouteExchange(
            speakers=[sim_exchange.speaker(r) for r in report.speakers(fabric, request.router)],
            reflector=sim_exchange.reflector(report.reflector(fabric)),
        )

    @unary
    def TracePacket(
        self, request: sim_pb2.TracePacketRequest, context: grpc.ServicerContext
    ) -> sim_pb2.PacketTrace:
        try:
            trace = self.w.control.trace(
                request.source_host,
                request.destination,
                size=request.size or 84,
                df=not request.no_df,
                proto=request.protocol or "icmp",  # type: ignore[arg-type]
                src_ip=request.source,
                dport=request.destination_port,
            )
        except FaultInputError as e:
            raise _bad(e) from None
        return packet_trace(trace)

    @unary
    def AdvanceClock(
        self, request: sim_pb2.AdvanceClockRequest, context: grpc.ServicerContext
    ) -> sim_pb2.SimClock:
        seconds = request.by.ToNanoseconds() / 1e9
        if seconds > MAX_ADVANCE:
            raise ApiError(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"by: at most {MAX_ADVANCE:.0f}s (one day) per call: every timer on the way "
                "runs; call again to go further",
            )
        if seconds < 0:
            raise ApiError(
                grpc.StatusCode.INVALID_ARGUMENT,
                "by: virtual time only moves forward; give a positive duration such as 61s",
            )
        if not self.w.scheduler.advance(seconds, timeout=SETTLE_TIMEOUT * 4):
            raise ApiError(
                grpc.StatusCode.DEADLINE_EXCEEDED,
                "the routers did not finish the advance in time; call Settle to wait longer",
            )
        return self._clock()

    @unary
    def GetClock(
        self, request: sim_pb2.GetClockRequest, context: grpc.ServicerContext
    ) -> sim_pb2.SimClock:
        return self._clock()

    @unary
    def Settle(
        self, request: sim_pb2.SettleRequest, context: grpc.ServicerContext
    ) -> sim_pb2.SettleResponse:
        timeout = request.timeout.ToNanoseconds() / 1e9 or SETTLE_TIMEOUT
        settled = self.w.scheduler.settle(timeout)
        passes = {m.name: m.passes for m in self.w.scheduler.members.values()}
        errors = [*self.w.scheduler.errors, *self.w.world.timers.errors]
        return sim_pb2.SettleResponse(settled=settled, errors=errors, passes=passes)
