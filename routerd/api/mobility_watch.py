"""Following the move journal: ``WatchHomes`` streams and ``MoveAddress`` waiting for its moves.

Both read the durable journal after the last sequence they have seen, woken by the port's
``wait_for_moves``. Reading instead of being pushed to is what makes a watch lossless
whatever its speed: nothing is buffered per watcher, so there is nothing to overflow, a slow
watcher costs only its own thread, and resuming after a disconnect or a daemon restart is
the same read from a sequence the client already has. Watches are capped (each holds a
server thread) and end, when routerd stops or mobility goes away, with the sequence to
resume after.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

import grpc

from routerd.api.errors import RESUME_SEQ_KEY, ApiError
from routerd.api.mobility_port import MOVED, QUEUED, MobilityPort, MoveRecord, MoveResult
from routerd.core.events import journal_gone

POLL = 0.25
"""Seconds a follower waits for new records before re-checking the client and shutdown."""
MAX_WATCHERS = 32
"""Concurrent ``WatchHomes`` streams; beyond this a new one is refused (each holds a server
thread, and the claim watches need theirs)."""
BATCH = 1000
"""Journal records read at once."""
MOVE_WAIT = 10.0
"""Longest ``MoveAddress`` waits for its moves to be originated before answering ``queued``."""

PortGetter = Callable[[], MobilityPort]


class WatchSlots:
    """A counted cap on concurrent watches."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._lock = threading.Lock()
        self._used = 0

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold one slot for the block.

        Raises:
            ApiError: RESOURCE_EXHAUSTED when every slot is taken.
        """
        with self._lock:
            if self._used >= self.limit:
                raise ApiError(
                    grpc.StatusCode.RESOURCE_EXHAUSTED,
                    f"too many home watchers ({self.limit}); close one and retry",
                )
            self._used += 1
        try:
            yield
        finally:
            with self._lock:
                self._used -= 1

    @property
    def used(self) -> int:
        with self._lock:
            return self._used


def read_after(port: MobilityPort, last: int) -> list[MoveRecord]:
    """Records after ``last``, in order; anything at or before ``last`` is dropped, so a
    port that repeats a record can never make a watcher see it twice."""
    out = []
    for r in port.history(after=last, limit=BATCH):
        if r.seq > last:
            out.append(r)
            last = r.seq
    return out


def resume_error(code: grpc.StatusCode, why: str, last: int) -> ApiError:
    return ApiError(
        code,
        f"{why}; resume with since_seq={last} (routerctl watch homes --since {last})",
        metadata=((RESUME_SEQ_KEY, str(last)),),
    )


def _gone(last: int, oldest: int) -> ApiError:
    """The move journal no longer holds the records right after ``last`` (pruned)."""
    exc = journal_gone(last, oldest, journal="move journal", items="moves", kind="homes")
    return ApiError(grpc.StatusCode.OUT_OF_RANGE, f"since_seq: {exc}; {exc.remedy}")


def follow(
    port: PortGetter,
    last: int,
    wanted: Callable[[MoveRecord], bool],
    context: grpc.ServicerContext,
    stopping: threading.Event,
) -> Iterator[MoveRecord]:
    """Every wanted record after ``last``, then live ones, until the client goes away.

    Args:
        port: the port now (called each round: mobility may be reconfigured or removed).
        last: the sequence to continue after.
        wanted: the stream's filter (filtered records still advance the position).
        context: the call, to notice a client that left.
        stopping: set when routerd shuts down.

    Raises:
        ApiError: UNAVAILABLE at shutdown, or whatever ``port`` raises when mobility went
            away, with the resume point in the trailing metadata; OUT_OF_RANGE when the
            journal no longer holds the records right after ``last``.
    """
    while True:
        try:
            current = port()
        except ApiError as e:
            raise resume_error(e.code, e.message, last) from None
        records = read_after(current, last)
        if last and records and records[0].seq > last + 1:  # 0 is "all the journal keeps"
            raise _gone(last, records[0].seq)
        for r in records:
            last = r.seq
            if wanted(r):
                yield r
        if records:
            continue
        if stopping.is_set():
            raise resume_error(grpc.StatusCode.UNAVAILABLE, "routerd is shutting down", last)
        if not context.is_active():
            return
        current.wait_for_moves(last, POLL)


def await_moves(
    port: MobilityPort,
    results: Sequence[MoveResult],
    to_site: str,
    after: int,
    budget: float,
    stopping: threading.Event,
) -> list[MoveResult]:
    """``results`` with each ``queued`` address turned ``moved`` once the journal shows it
    homed at ``to_site`` (after sequence ``after``), waiting at most ``budget`` seconds.

    Addresses still queued when the budget runs out stay ``queued``, with a message saying
    where to look: the move was accepted and still happens.
    """
    pending = {r.address: i for i, r in enumerate(results) if r.status == QUEUED}
    out = list(results)
    deadline = time.monotonic() + budget
    last = after
    while pending:
        for rec in read_after(port, last):
            last = rec.seq
            i = pending.get(rec.address)
            if i is not None and rec.to_site == to_site:
                del pending[rec.address]
                out[i] = MoveResult(rec.address, MOVED, rec.sequence, message="originated here")
        left = deadline - time.monotonic()
        if not pending or left <= 0 or stopping.is_set():
            break
        port.wait_for_moves(last, min(POLL, left))
    for address, i in pending.items():
        out[i] = MoveResult(
            address,
            QUEUED,
            message=f"accepted, not originated within {budget:.1f}s; the move still happens: "
            f"routerctl where {address}",
        )
    return out
