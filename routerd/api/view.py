"""What the servicers may touch of the daemon, and how they reach the engine thread.

Servicers run on gRPC worker threads. They read the engine's immutable ``Snapshot`` (replaced
atomically after every pass) and the thread-safe store; they never touch engine internals.
Anything that must see the host as the engine sees it (a plan observes the dataplane) runs
*on* the engine thread through ``Engine.submit`` and is awaited with the caller's deadline.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from typing import Protocol, TypeVar

import grpc

from routerd.api.errors import ApiError, unavailable_until_first_pass
from routerd.configfile import ConfigFileTracker
from routerd.core.effective import EffectiveResult
from routerd.core.engine import Engine
from routerd.core.loader import LoadResult
from routerd.core.lowering import Lowered
from routerd.core.snapshot import Snapshot
from routerd.state.store import Store

T = TypeVar("T")

DEFAULT_WAIT = 30.0
"""Seconds to wait for the engine when the client set no deadline."""


class Options(Protocol):
    """The ``DaemonOptions`` fields the API reads."""

    config_path: str
    backend: str
    socket: str
    socket_group: str | None
    listen_tcp: str | None
    tls_cert: str | None
    tls_key: str | None
    tls_client_ca: str | None


class DaemonView(Protocol):
    """The part of ``routerd.daemon.service.Daemon`` the API uses."""

    @property
    def opts(self) -> Options: ...

    @property
    def engine(self) -> Engine: ...

    @property
    def store(self) -> Store: ...

    @property
    def started_at(self) -> float: ...

    @property
    def loader(self) -> Callable[[str], LoadResult]: ...

    @property
    def config_file(self) -> ConfigFileTracker: ...

    def reload(self) -> bool: ...

    def reload_result(self) -> LoadResult: ...


def ready(snap: Snapshot) -> tuple[EffectiveResult, Lowered]:
    """The effective config and lowering of a snapshot, or UNAVAILABLE before the first pass."""
    if snap.effective is None or snap.lowered is None:
        raise unavailable_until_first_pass()
    return snap.effective, snap.lowered


def wait_seconds(context: grpc.ServicerContext) -> float:
    """Seconds left before the caller's deadline (``DEFAULT_WAIT`` when it set none)."""
    remaining = context.time_remaining()
    # Without a deadline grpc reports a practically infinite remainder.
    if remaining is None or remaining > 10 * DEFAULT_WAIT:
        return DEFAULT_WAIT
    return max(0.0, float(remaining))


def on_engine_thread(engine: Engine, fn: Callable[[], T], context: grpc.ServicerContext) -> T:
    """Run ``fn`` on the engine thread before its next pass and return its result.

    Raises:
        ApiError: DEADLINE_EXCEEDED when the engine does not get to it in time (a pass that
            applies many changes can take a while); whatever ``fn`` raised otherwise.
    """
    future: concurrent.futures.Future[T] = concurrent.futures.Future()

    def job() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(fn())
        except Exception as e:  # delivered to the caller; the engine thread carries on
            future.set_exception(e)

    engine.submit(job)
    wait = wait_seconds(context)
    try:
        return future.result(timeout=wait)
    except concurrent.futures.TimeoutError:
        future.cancel()
        raise ApiError(
            grpc.StatusCode.DEADLINE_EXCEEDED,
            f"the reconcile engine did not get to this request within {wait:.0f}s "
            "(a long pass is running); retry, or allow a longer --timeout",
        ) from None
