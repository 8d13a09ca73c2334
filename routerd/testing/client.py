"""A small Python client for ``SimService`` (and the claim reads a test makes next to it).

``SimClient`` wraps the generated stub so a test reads like what it does::

    fault = sim.faults.inject("route-deleted", router="cloud-router", address="10.40.8.31")
    assert sim.claim("cloud-router", "onprem-vm-31").state == "verified"
    trace = sim.trace("cloud-vm", "10.40.8.31")
    with sim.partitions.cut_off("site-a"):     # site-a loses the reflector and the others
        sim.advance(10)                           # past the BGP hold time
        assert sim.exchange("r-b").speakers[0].sessions[0].state != "established"

It works on any channel to a router of ``routerd serve --backend sim --world`` — the one
``routerd.testing`` starts in-process, or a server started another way. Every method that
changes the world returns once every router has reacted (the service guarantees it).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import cast

import grpc
from google.protobuf import duration_pb2

from routerd.v1 import (
    claims_pb2,
    claims_pb2_grpc,
    mobility_pb2,
    mobility_pb2_grpc,
    sim_pb2,
    sim_pb2_grpc,
)


class Faults:
    """Inject and clear faults (``SimService.InjectFault`` / ``ClearFault``)."""

    def __init__(self, stub: sim_pb2_grpc.SimServiceStub) -> None:
        self._stub = stub

    def kinds(self) -> list[sim_pb2.SimFaultKind]:
        """Every fault kind, with its parameters and expected effect."""
        return list(self._stub.ListFaultKinds(sim_pb2.ListFaultKindsRequest()).kinds)

    def inject(self, kind: str, **params: str) -> sim_pb2.SimFault:
        """Apply fault ``kind`` (parameters as keywords); returns once routers reacted.

        Raises:
            grpc.RpcError: INVALID_ARGUMENT naming a missing or wrong parameter.
        """
        values = {k: str(v) for k, v in params.items()}
        request = sim_pb2.InjectFaultRequest(kind=kind, params=values)
        return cast(sim_pb2.SimFault, self._stub.InjectFault(request))

    def clear(self, fault: sim_pb2.SimFault | str) -> sim_pb2.SimFault:
        """Undo a held fault (by the fault or its id)."""
        fid = fault if isinstance(fault, str) else fault.id
        return cast(sim_pb2.SimFault, self._stub.ClearFault(sim_pb2.ClearFaultRequest(id=fid)))

    def active(self) -> list[sim_pb2.SimFault]:
        return list(self._stub.ListFaults(sim_pb2.ListFaultsRequest(active_only=True)).faults)

    def clear_all(self) -> None:
        for fault in self.active():
            self.clear(fault)

    @contextmanager
    def injected(self, kind: str, **params: str) -> Iterator[sim_pb2.SimFault]:
        """The fault holds inside the ``with`` block and is cleared when it ends."""
        fault = self.inject(kind, **params)
        try:
            yield fault
        finally:
            if fault.active:
                self.clear(fault)


class Partitions:
    """Cut parts of the world apart and heal them (``SimService.Partition`` / ``Heal``)."""

    def __init__(self, stub: sim_pb2_grpc.SimServiceStub) -> None:
        self._stub = stub

    def cut(self, a: str, b: str = "") -> sim_pb2.SimPartition:
        """Cut ``a`` from ``b`` (each a site, a router or ``"reflector"``; ``b`` empty:
        from everything else); returns once routers reacted.

        Raises:
            grpc.RpcError: INVALID_ARGUMENT naming a side that names nothing.
        """
        return cast(sim_pb2.SimPartition, self._stub.Partition(sim_pb2.PartitionRequest(a=a, b=b)))

    def heal(self, partition: sim_pb2.SimPartition | str) -> sim_pb2.SimPartition:
        """End a partition (by the partition or its id)."""
        pid = partition if isinstance(partition, str) else partition.id
        return cast(sim_pb2.SimPartition, self._stub.Heal(sim_pb2.HealRequest(id=pid)))

    def active(self) -> list[sim_pb2.SimPartition]:
        request = sim_pb2.ListPartitionsRequest(active_only=True)
        return list(self._stub.ListPartitions(request).partitions)

    def heal_all(self) -> None:
        for partition in self.active():
            self.heal(partition)

    @contextmanager
    def cut_off(self, a: str, b: str = "") -> Iterator[sim_pb2.SimPartition]:
        """The partition holds inside the ``with`` block and is healed when it ends."""
        partition = self.cut(a, b)
        try:
            yield partition
        finally:
            self.heal(partition)


class Mobility:
    """Address mobility on each router (``MobilityService``): moves, homes, pins, journal.

    Every call names the router it asks: a router speaks for its own site only (a move goes
    to the router of the site the address moves *to*), and each router has its own view.
    """

    def __init__(self, channels: dict[str, grpc.Channel]) -> None:
        self._channels = channels

    def _stub(self, router: str) -> mobility_pb2_grpc.MobilityServiceStub:
        if router not in self._channels:
            known = ", ".join(self._channels)
            raise KeyError(f"no channel to router {router!r} (routers: {known})")
        return mobility_pb2_grpc.MobilityServiceStub(self._channels[router])

    def move(
        self, router: str, addresses: list[str], to_site: str, *, cause: str = ""
    ) -> list[mobility_pb2.MoveResult]:
        """Move ``addresses`` to ``to_site`` (``router``'s site); returns once the router
        originates them (``moved``) or says why not (``grpc.RpcError``)."""
        request = mobility_pb2.MoveAddressRequest(addresses=addresses, to_site=to_site, cause=cause)
        return list(self._stub(router).MoveAddress(request).results)

    def where(self, router: str, address: str) -> mobility_pb2.Home:
        """Where ``router`` sees ``address`` living."""
        home: mobility_pb2.Home = self._stub(router).WhereIs(
            mobility_pb2.WhereIsRequest(address=address)
        )
        return home

    def homes(self, router: str, domain: str = "") -> dict[str, mobility_pb2.Home]:
        """Every home ``router`` knows, by address."""
        request = mobility_pb2.ListHomesRequest(domain=domain)
        return {h.address: h for h in self._stub(router).ListHomes(request).homes}

    def pin(self, router: str, address: str, site: str, cause: str = "") -> mobility_pb2.AddressPin:
        request = mobility_pb2.PinRequest(address=address, site=site, cause=cause)
        pin: mobility_pb2.AddressPin = self._stub(router).Pin(request).pin
        return pin

    def unpin(self, router: str, address: str) -> bool:
        request = mobility_pb2.UnpinRequest(address=address)
        return bool(self._stub(router).Unpin(request).removed)

    def history(self, router: str, address: str = "") -> list[mobility_pb2.MoveRecord]:
        """``router``'s move journal (of one address), oldest first."""
        request = mobility_pb2.MoveHistoryRequest(address=address)
        return list(self._stub(router).History(request).moves)


class SimClient:
    """``SimService`` plus claim reads, over channels to the world's routers.

    Args:
        channels: router name -> a channel to its socket (at least one).
    """

    def __init__(self, channels: dict[str, grpc.Channel]) -> None:
        if not channels:
            raise ValueError("SimClient needs a channel to at least one router")
        self.channels = channels
        self.mobility = Mobility(channels)
        self._bind()

    def _bind(self) -> None:
        """Stubs on the first router's channel (again after that channel was replaced)."""
        self.sim = sim_pb2_grpc.SimServiceStub(next(iter(self.channels.values())))
        self.faults = Faults(self.sim)
        self.partitions = Partitions(self.sim)

    def world(self) -> sim_pb2.SimWorld:
        return cast(sim_pb2.SimWorld, self.sim.GetWorld(sim_pb2.GetWorldRequest()))

    def move_vm(self, vm: str, segment: str, *, announce: str = "") -> sim_pb2.MoveVmResponse:
        """Move ``vm`` to ``segment`` (another site's, too), where it announces itself
        (``announce``: garp, the default; rarp; none); returns once routers reacted."""
        return cast(
            sim_pb2.MoveVmResponse,
            self.sim.MoveVm(sim_pb2.MoveVmRequest(vm=vm, segment=segment, announce=announce)),
        )

    def announce_vm(self, vm: str, announce: str = "") -> list[str]:
        """Let ``vm`` announce its address where it is; returns the routers that heard it."""
        request = sim_pb2.AnnounceVmRequest(vm=vm, announce=announce)
        return list(self.sim.AnnounceVm(request).heard_by)

    def exchange(self, router: str = "") -> sim_pb2.SimRouteExchange:
        """Route exchange from outside routerd: what each router's speaker (or ``router``'s)
        originates and receives, its sessions, and the route reflector's paths."""
        return cast(
            sim_pb2.SimRouteExchange,
            self.sim.GetExchange(sim_pb2.GetExchangeRequest(router=router)),
        )

    def trace(
        self,
        source_host: str,
        destination: str,
        *,
        source: str = "",
        size: int = 0,
        df: bool = True,
        protocol: str = "",
        port: int = 0,
    ) -> sim_pb2.PacketTrace:
        """One packet from ``source_host`` to ``destination``, hop by hop."""
        return cast(
            sim_pb2.PacketTrace,
            self.sim.TracePacket(
                sim_pb2.TracePacketRequest(
                    source_host=source_host,
                    destination=destination,
                    source=source,
                    size=size,
                    no_df=not df,
                    protocol=protocol,
                    destination_port=port,
                )
            ),
        )

    def advance(self, seconds: float) -> sim_pb2.SimClock:
        """Move virtual time forward; timers fire in order; returns once routers reacted."""
        by = duration_pb2.Duration()
        by.FromNanoseconds(round(seconds * 1e9))
        return cast(sim_pb2.SimClock, self.sim.AdvanceClock(sim_pb2.AdvanceClockRequest(by=by)))

    def settle(self) -> sim_pb2.SettleResponse:
        """Wait until every router has reacted (after calls to the other services)."""
        return cast(sim_pb2.SettleResponse, self.sim.Settle(sim_pb2.SettleRequest()))

    def _claims(self, router: str) -> claims_pb2_grpc.ClaimServiceStub:
        if router not in self.channels:
            raise KeyError(f"no channel to router {router!r} (routers: {', '.join(self.channels)})")
        return claims_pb2_grpc.ClaimServiceStub(self.channels[router])

    def claims(self, router: str) -> list[claims_pb2.Claim]:
        """``router``'s claims as its engine judged them last."""
        return list(self._claims(router).ListClaims(claims_pb2.ListClaimsRequest()).claims)

    def claim(self, router: str, name: str) -> claims_pb2.Claim:
        return cast(
            claims_pb2.Claim, self._claims(router).GetClaim(claims_pb2.GetClaimRequest(name=name))
        )

    def history(self, router: str, claim: str) -> list[claims_pb2.ClaimEvent]:
        """Every journaled transition of ``claim`` on ``router``, oldest first."""
        request = claims_pb2.ListClaimHistoryRequest(name=claim)
        return list(self._claims(router).ListClaimHistory(request).events)

    def states(self) -> dict[str, tuple[str, str]]:
        """``"router/claim" -> (state, reason)`` over every router: one assert for a world."""
        return {
            f"{router}/{c.name}": (c.state, c.reason)
            for router in self.channels
            for c in self.claims(router)
        }
