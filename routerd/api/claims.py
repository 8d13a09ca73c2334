"""ClaimService: claims from the engine snapshot, transitions from the journal and the bus.

Watch is where the API meets the engine's hot path, so it is shaped by one rule: a slow
watcher never stalls the engine. The bus gives each subscription a bounded buffer and marks
it *lagged* instead of blocking the publisher; this servicer then ends the stream with
RESOURCE_EXHAUSTED naming the last sequence it sent, and the client resumes from the
journal with ``since_seq`` — no gaps, no duplicates, whatever the client's speed.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import grpc

from routerd.api import convert
from routerd.api.errors import RESUME_SEQ_KEY, ApiError, not_found, stream, unary
from routerd.api.view import DaemonView
from routerd.core.events import Subscription
from routerd.core.lifecycle import ClaimState
from routerd.v1 import claims_pb2, claims_pb2_grpc

POLL = 0.25
"""Seconds a watch waits for entries before re-checking the client and shutdown."""
MAX_WATCHERS = 64
"""Each watch holds a server thread; beyond this, new watches are refused. The performance
goal is 50 concurrent watchers losing no event (bench ``api.watch_lost_events.50``), so the
cap leaves headroom above it (48 refused the 49th and 50th)."""
HISTORY_LIMIT = 1000


class ClaimServicer(claims_pb2_grpc.ClaimServiceServicer):
    def __init__(self, daemon: DaemonView) -> None:
        self.daemon = daemon
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._subs: set[Subscription] = set()

    def shutdown(self) -> None:
        """End every watch promptly (each gets UNAVAILABLE with its resume point)."""
        self._stopping.set()
        with self._lock:
            subs = list(self._subs)
        for sub in subs:
            sub.close()

    @unary
    def ListClaims(
        self, request: claims_pb2.ListClaimsRequest, context: grpc.ServicerContext
    ) -> claims_pb2.ListClaimsResponse:
        states = {s.value for s in ClaimState}
        if request.state and request.state not in states:
            raise ApiError(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"state: {request.state!r} is not a claim state; use one of "
                + ", ".join(s.value for s in ClaimState),
            )
        snap = self.daemon.engine.snapshot
        views = sorted(snap.claims.values(), key=lambda v: v.name)
        return claims_pb2.ListClaimsResponse(
            claims=[
                convert.claim(v, snap.generation)
                for v in views
                if not request.state or v.state == request.state
            ],
            config_generation=snap.generation,
        )

    @unary
    def GetClaim(
        self, request: claims_pb2.GetClaimRequest, context: grpc.ServicerContext
    ) -> claims_pb2.Claim:
        snap = self.daemon.engine.snapshot
        view = snap.claims.get(request.name)
        if view is None:
            raise not_found("claim", request.name, list(snap.claims))
        return convert.claim(view, snap.generation)

    @unary
    def ListClaimHistory(
        self, request: claims_pb2.ListClaimHistoryRequest, context: grpc.ServicerContext
    ) -> claims_pb2.ListClaimHistoryResponse:
        limit = request.limit if request.limit > 0 else HISTORY_LIMIT
        entries = self.daemon.store.journal(
            after_seq=request.after_seq, claim=request.name, limit=limit
        )
        snap = self.daemon.engine.snapshot
        if not entries and request.name not in snap.claims and request.after_seq == 0:
            raise not_found("claim (current or in the journal)", request.name, list(snap.claims))
        return claims_pb2.ListClaimHistoryResponse(events=[convert.claim_event(e) for e in entries])

    @stream
    def WatchClaims(
        self, request: claims_pb2.WatchClaimsRequest, context: grpc.ServicerContext
    ) -> Iterator[claims_pb2.ClaimEvent]:
        bus = self.daemon.engine.bus
        if request.HasField("since_seq") and request.since_seq < 0:
            raise ApiError(grpc.StatusCode.INVALID_ARGUMENT, "since_seq: must be 0 or more")
        # "Only new" is "after the head as of now": the bus replays anything published
        # between reading the head and subscribing, so nothing falls in between.
        last = request.since_seq if request.HasField("since_seq") else bus.seq
        sub = self._register(bus.subscribe(last))
        context.add_callback(sub.close)
        try:
            yield from self._pump(sub, last, request.claim, context)
        finally:
            self._unregister(sub)

    def _register(self, sub: Subscription) -> Subscription:
        with self._lock:
            if len(self._subs) >= MAX_WATCHERS:
                sub.close()
                raise ApiError(
                    grpc.StatusCode.RESOURCE_EXHAUSTED,
                    f"too many watchers ({MAX_WATCHERS}); close one and retry",
                )
            self._subs.add(sub)
        return sub

    def _unregister(self, sub: Subscription) -> None:
        sub.close()
        with self._lock:
            self._subs.discard(sub)

    def _pump(
        self, sub: Subscription, last: int, claim: str, context: grpc.ServicerContext
    ) -> Iterator[claims_pb2.ClaimEvent]:
        while True:
            entries = sub.get(timeout=POLL)
            for e in entries:
                if not claim or e.claim == claim:
                    yield convert.claim_event(e)
                last = e.seq
            if entries:
                continue
            if self._stopping.is_set():
                raise _resume_error(grpc.StatusCode.UNAVAILABLE, "routerd is shutting down", last)
            if sub.lagged:
                raise _resume_error(
                    grpc.StatusCode.RESOURCE_EXHAUSTED,
                    "this watcher fell behind the claim transitions and was disconnected "
                    "so the engine is never slowed",
                    last,
                )
            if not context.is_active():
                return
            if sub.closed:  # the bus shut down under us
                raise _resume_error(grpc.StatusCode.UNAVAILABLE, "routerd is shutting down", last)


def _resume_error(code: grpc.StatusCode, why: str, last: int) -> ApiError:
    return ApiError(
        code,
        f"{why}; resume with since_seq={last} (routerctl watch claims --since {last})",
        metadata=((RESUME_SEQ_KEY, str(last)),),
    )
