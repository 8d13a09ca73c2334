"""MobilityService: explicit moves, pins, where each address lives, and the move journal.

The service is always registered and looks up the daemon's ``mobility`` attribute (a
``MobilityPort``) on every call. A router without mobility answers FAILED_PRECONDITION
naming what to configure, rather than leaving the service out (UNIMPLEMENTED): a client
cannot tell UNIMPLEMENTED from talking to an older routerd, reflection lists the service
either way, and a config reload that adds or removes mobility takes effect without
restarting the API server.

This servicer checks the request's syntax (``mobility_input``), lets the port judge what
depends on the config, and converts results (``mobility_convert``); refusals become status
codes in ``routerd.api.errors``. Moves are all or none, and by default the call answers once
the moves are in the journal (``mobility_watch.await_moves``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

import grpc

from routerd.api import mobility_convert as convert
from routerd.api import mobility_input as check
from routerd.api.errors import REASON_KEY, REFUSAL_CODES, ApiError, stream, unary
from routerd.api.mobility_port import (
    HOME_STATES,
    REFUSED,
    MobilityPort,
    MoveRecord,
    MoveResult,
    home_state,
)
from routerd.api.mobility_watch import MAX_WATCHERS, MOVE_WAIT, WatchSlots, await_moves, follow
from routerd.api.redundancy import pair_role, role_source
from routerd.api.view import DaemonView, wait_seconds
from routerd.v1 import mobility_pb2, mobility_pb2_grpc

NOT_CONFIGURED = (
    "mobility is not configured on this router: add AddressMobilityDomain.spec.mobility "
    "(localSite, sites, speakerRef, capture) and a BGPSpeaker to the config, then reload"
)
HISTORY_LIMIT = 1000
MAX_HISTORY = 10_000
SHOWN_REFUSALS = 20
"""Refused addresses listed in a move's error message; the rest are counted."""


def mobility_port(daemon: DaemonView) -> MobilityPort | None:
    """The daemon's mobility port, None when the router has no mobility."""
    port: MobilityPort | None = getattr(daemon, "mobility", None)
    return port


def refused_error(refused: Sequence[MoveResult], index: dict[str, int], total: int) -> ApiError:
    """The all-or-none error for a move with refused addresses: each one with its reason."""
    reasons = sorted({r.reason for r in refused})
    codes = {REFUSAL_CODES.get(r, grpc.StatusCode.FAILED_PRECONDITION) for r in reasons}
    code = codes.pop() if len(codes) == 1 else grpc.StatusCode.FAILED_PRECONDITION
    lines = [
        f"  - addresses[{index[r.address]}] {r.address} [{r.reason}]: {r.message}"
        for r in refused[:SHOWN_REFUSALS]
    ]
    if len(refused) > SHOWN_REFUSALS:
        lines.append(f"  - … and {len(refused) - SHOWN_REFUSALS} more")
    head = (
        f"nothing was moved (a move is all or none): {len(refused)} of {total} "
        f"address{'es' if total != 1 else ''} refused"
    )
    return ApiError(
        code, head + ":\n" + "\n".join(lines), metadata=((REASON_KEY, ",".join(reasons)),)
    )


class MobilityServicer(mobility_pb2_grpc.MobilityServiceServicer):
    def __init__(self, daemon: DaemonView) -> None:
        self.daemon = daemon
        self.slots = WatchSlots(MAX_WATCHERS)
        self._stopping = threading.Event()

    def shutdown(self) -> None:
        """End every watch within a poll interval (each gets UNAVAILABLE and its resume
        point) and stop waiting for moves."""
        self._stopping.set()

    def port(self) -> MobilityPort:
        """The daemon's port now.

        Raises:
            ApiError: FAILED_PRECONDITION naming what to configure when there is none.
        """
        port = mobility_port(self.daemon)
        if port is None:
            raise ApiError(grpc.StatusCode.FAILED_PRECONDITION, NOT_CONFIGURED)
        return port

    @unary
    def MoveAddress(
        self, request: mobility_pb2.MoveAddressRequest, context: grpc.ServicerContext
    ) -> mobility_pb2.MoveAddressResponse:
        port = self.port()
        index = check.addresses(request.addresses)
        addresses = list(index)
        to_site = check.name(request.to_site, "to_site", "the site to move to (this router's)")
        cause = check.cause(request.cause)
        head = port.journal_head()
        results = port.move(addresses, to_site, cause, dry_run=request.dry_run)
        refused = [r for r in results if r.status == REFUSED]
        if refused and not request.dry_run:
            raise refused_error(refused, index, len(addresses))
        if not request.dry_run and not request.no_wait:
            left = wait_seconds(context)  # answer before the caller's deadline, with room
            budget = min(MOVE_WAIT, max(0.0, left - max(0.5, left * 0.1)))
            results = await_moves(port, results, to_site, head, budget, self._stopping)
        return mobility_pb2.MoveAddressResponse(results=[convert.move_result(r) for r in results])

    @unary
    def WhereIs(
        self, request: mobility_pb2.WhereIsRequest, context: grpc.ServicerContext
    ) -> mobility_pb2.Home:
        port = self.port()
        return convert.home(port.where(check.address(request.address, "address")))

    @unary
    def ListHomes(
        self, request: mobility_pb2.ListHomesRequest, context: grpc.ServicerContext
    ) -> mobility_pb2.ListHomesResponse:
        port = self.port()
        if request.state and request.state not in HOME_STATES:
            raise check.invalid(
                "state",
                f"{request.state!r} is not a home state; use one of {', '.join(HOME_STATES)}",
            )
        homes = port.homes(request.domain.strip())
        return mobility_pb2.ListHomesResponse(
            homes=[
                convert.home(h)
                for h in homes
                if not request.state or home_state(h) == request.state
            ],
            local_pair=pair_role(role_source(self.daemon)),
        )

    @stream
    def WatchHomes(
        self, request: mobility_pb2.WatchHomesRequest, context: grpc.ServicerContext
    ) -> Iterator[mobility_pb2.MoveRecord]:
        port = self.port()
        address = check.optional_address(request.address, "address")
        domain = request.domain.strip()
        head = port.journal_head()
        if request.HasField("since_seq"):
            if request.since_seq < 0:
                raise check.invalid("since_seq", "must be 0 or more")
            if request.since_seq > head:
                raise ApiError(
                    grpc.StatusCode.OUT_OF_RANGE,
                    f"since_seq: {request.since_seq} is ahead of the move journal (newest "
                    f"{head}); resume from a sequence you have received",
                )
        last = request.since_seq if request.HasField("since_seq") else head

        def wanted(r: MoveRecord) -> bool:
            return (not address or r.address == address) and (not domain or r.domain == domain)

        with self.slots.slot():
            for r in follow(self.port, last, wanted, context, self._stopping):
                yield convert.move_record(r)

    @unary
    def Pin(
        self, request: mobility_pb2.PinRequest, context: grpc.ServicerContext
    ) -> mobility_pb2.PinResponse:
        port = self.port()
        address = check.address(request.address, "address")
        site = check.name(request.site, "site", "the site to pin the address to")
        cause = check.cause(request.cause)
        before = port.where(address).pin
        pin = port.pin(address, site, cause)
        changed = before is None or before.site != pin.site
        return mobility_pb2.PinResponse(pin=convert.pin(pin), changed=changed)

    @unary
    def Unpin(
        self, request: mobility_pb2.UnpinRequest, context: grpc.ServicerContext
    ) -> mobility_pb2.UnpinResponse:
        port = self.port()
        address = check.address(request.address, "address")
        return mobility_pb2.UnpinResponse(address=address, removed=port.unpin(address))

    @unary
    def History(
        self, request: mobility_pb2.MoveHistoryRequest, context: grpc.ServicerContext
    ) -> mobility_pb2.MoveHistoryResponse:
        port = self.port()
        address = check.optional_address(request.address, "address")
        if request.after_seq < 0:
            raise check.invalid("after_seq", "must be 0 or more")
        if request.limit < 0 or request.limit > MAX_HISTORY:
            raise check.invalid(
                "limit",
                f"between 0 (meaning {HISTORY_LIMIT}) and {MAX_HISTORY}; page with after_seq",
            )
        moves = port.history(
            address=address,
            domain=request.domain.strip(),
            after=request.after_seq,
            limit=request.limit or HISTORY_LIMIT,
        )
        return mobility_pb2.MoveHistoryResponse(moves=[convert.move_record(m) for m in moves])
