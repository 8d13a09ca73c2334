"""The one place where routerd errors become gRPC status codes (style rule 12).

Servicers raise; they never call ``context.abort`` themselves. The ``unary`` and ``stream``
decorators catch what a handler raised and abort the call once, with a code a client can act
on and a message a person can act on:

* ``ApiError`` carries its own code (and optional trailing metadata, e.g. the resume
  sequence of a lagging watcher);
* ``PartDecodeError`` / ``ConfigError`` -> INVALID_ARGUMENT, listing every field path;
* ``NotFoundError`` -> NOT_FOUND; ``ResumeError`` -> OUT_OF_RANGE;
* ``MobilityRefused`` -> the code of its reason (``REFUSAL_CODES``), prefixed by the field;
* ``TemporaryError``, a retryable dataplane/provider error or an unreadable store ->
  UNAVAILABLE; other routerd errors -> FAILED_PRECONDITION;
* anything else is a bug: INTERNAL, logged with its traceback.
"""

from __future__ import annotations

import functools
import logging
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

import grpc

from routerd.api.metadata_keys import REASON_KEY as REASON_KEY
from routerd.api.metadata_keys import RESUME_SEQ_KEY as RESUME_SEQ_KEY
from routerd.api.mobility_port import MobilityRefused
from routerd.core.dynamic import PartDecodeError
from routerd.core.errors import (
    ConfigError,
    DataplaneError,
    NotFoundError,
    ProviderError,
    RouterdError,
    TemporaryError,
)
from routerd.core.events import ResumeError
from routerd.core.state_port import StoreError

LOG = logging.getLogger(__name__)


Metadata = Sequence[tuple[str, str]]

REFUSAL_CODES: dict[str, grpc.StatusCode] = {
    "not-mobile": grpc.StatusCode.FAILED_PRECONDITION,
    "remote-site": grpc.StatusCode.FAILED_PRECONDITION,
    "unknown-site": grpc.StatusCode.INVALID_ARGUMENT,
    "unknown-domain": grpc.StatusCode.NOT_FOUND,
    "pinned": grpc.StatusCode.FAILED_PRECONDITION,
    "pinned-by-config": grpc.StatusCode.FAILED_PRECONDITION,
    "not-ready": grpc.StatusCode.UNAVAILABLE,
}
"""The status code of each mobility refusal (``routerd.api.mobility_port.REFUSALS``); a
reason missing here is FAILED_PRECONDITION."""

T = TypeVar("T")


class ApiError(Exception):
    """An RPC outcome that is not OK, with the code to send.

    Args:
        code: the gRPC status code.
        message: what happened and what to do about it.
        metadata: trailing metadata (machine-readable details such as a resume point).
    """

    def __init__(self, code: grpc.StatusCode, message: str, *, metadata: Metadata = ()) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.metadata = tuple(metadata)


def _issue_lines(problems: Sequence[tuple[str, str]]) -> str:
    return "\n".join(f"  - {path}: {msg}" if path else f"  - {msg}" for path, msg in problems)


def status_for(exc: BaseException) -> ApiError:
    """The ``ApiError`` a raised exception maps to."""
    code = grpc.StatusCode
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, PartDecodeError):
        return ApiError(
            code.INVALID_ARGUMENT,
            "invalid DynamicConfigPart; nothing was stored:\n" + _issue_lines(exc.problems),
        )
    if isinstance(exc, ConfigError):
        lines = "\n".join(f"  - {i.render()}" for i in exc.issues)
        return ApiError(code.INVALID_ARGUMENT, f"invalid configuration:\n{lines}")
    if isinstance(exc, NotFoundError):
        return ApiError(code.NOT_FOUND, str(exc))
    if isinstance(exc, MobilityRefused):
        text = f"{exc.field}: {exc.message}" if exc.field else exc.message
        status = REFUSAL_CODES.get(exc.reason, code.FAILED_PRECONDITION)
        return ApiError(status, text, metadata=((REASON_KEY, exc.reason),))
    if isinstance(exc, ResumeError):
        return ApiError(code.OUT_OF_RANGE, f"{exc}; {exc.remedy}")
    if isinstance(exc, StoreError | sqlite3.OperationalError):
        return ApiError(code.UNAVAILABLE, f"state store unavailable: {exc}; retry shortly")
    if isinstance(exc, TemporaryError):
        return ApiError(code.UNAVAILABLE, f"{exc}; retry shortly")
    if isinstance(exc, DataplaneError | ProviderError) and exc.retryable:
        return ApiError(code.UNAVAILABLE, f"{exc}; retry shortly")
    if isinstance(exc, RouterdError):
        return ApiError(code.FAILED_PRECONDITION, str(exc))
    LOG.exception("internal error in an API call")
    return ApiError(
        code.INTERNAL,
        f"internal error: {type(exc).__name__}: {exc} (see the routerd log; please report it)",
    )


def _abort(context: grpc.ServicerContext, exc: BaseException) -> None:
    err = status_for(exc)
    if err.metadata:
        context.set_trailing_metadata(err.metadata)
    context.abort(err.code, err.message)


def unary(fn: Callable[..., T]) -> Callable[..., T]:
    """Decorate a unary handler ``(self, request, context)`` with the error mapping."""

    @functools.wraps(fn)
    def wrapper(self: Any, request: Any, context: grpc.ServicerContext) -> T:
        try:
            return fn(self, request, context)
        except Exception as e:
            _abort(context, e)
            raise  # unreachable: abort raises

    return wrapper


def stream(fn: Callable[..., Iterator[T]]) -> Callable[..., Iterator[T]]:
    """Decorate a server-streaming handler (a generator) with the error mapping."""

    @functools.wraps(fn)
    def wrapper(self: Any, request: Any, context: grpc.ServicerContext) -> Iterator[T]:
        try:
            yield from fn(self, request, context)
        except Exception as e:
            _abort(context, e)

    return wrapper


def not_found(what: str, name: str, known: Sequence[str], *, limit: int = 10) -> ApiError:
    """NOT_FOUND naming what exists (the first ``limit`` names) so the next try succeeds."""
    names = sorted(known)
    shown = ", ".join(names[:limit]) if names else "none"
    if len(names) > limit:
        shown += f", … ({len(names)} in all)"
    return ApiError(grpc.StatusCode.NOT_FOUND, f"no {what} {name!r} (known: {shown})")


def unavailable_until_first_pass() -> ApiError:
    return ApiError(
        grpc.StatusCode.UNAVAILABLE,
        "routerd has not finished its first reconcile pass yet; retry in a moment",
    )
