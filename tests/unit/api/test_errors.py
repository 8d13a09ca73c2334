"""Errors become status codes in one place, with messages a person can act on."""

from __future__ import annotations

import grpc
import pytest

from routerd.api.errors import RESUME_SEQ_KEY, ApiError, status_for, stream, unary
from routerd.core.dynamic import PartDecodeError
from routerd.core.errors import (
    ConfigError,
    ConfigIssue,
    DataplaneError,
    NotFoundError,
    PermanentError,
    TemporaryError,
)
from routerd.core.events import ResumeError
from routerd.core.state_port import StoreError


class Aborted(Exception):
    pass


class FakeContext:
    def __init__(self) -> None:
        self.code: grpc.StatusCode | None = None
        self.details = ""
        self.trailing: tuple[tuple[str, str], ...] = ()

    def set_trailing_metadata(self, md):
        self.trailing = tuple(md)

    def abort(self, code, details):
        self.code, self.details = code, details
        raise Aborted()


@pytest.mark.parametrize(
    ("exc", "code", "fragment"),
    [
        pytest.param(
            PartDecodeError([("spec.ttl", "required"), ("spec.resources.0.kind", "unknown")]),
            grpc.StatusCode.INVALID_ARGUMENT,
            "spec.resources.0.kind: unknown",
            id="part-decode-paths",
        ),
        pytest.param(
            ConfigError([ConfigIssue("RemoteAddressClaim/a", "spec.address", "use a /32")]),
            grpc.StatusCode.INVALID_ARGUMENT,
            "RemoteAddressClaim/a spec.address: use a /32",
            id="config-error",
        ),
        pytest.param(
            NotFoundError("no Plugin 'x'"), grpc.StatusCode.NOT_FOUND, "no Plugin", id="nf"
        ),
        pytest.param(ResumeError("ahead"), grpc.StatusCode.OUT_OF_RANGE, "ahead", id="resume"),
        pytest.param(StoreError("locked"), grpc.StatusCode.UNAVAILABLE, "locked", id="store"),
        pytest.param(TemporaryError("busy"), grpc.StatusCode.UNAVAILABLE, "retry", id="temp"),
        pytest.param(
            DataplaneError("route add", "EPERM", retryable=False),
            grpc.StatusCode.FAILED_PRECONDITION,
            "route add",
            id="dataplane-permanent",
        ),
        pytest.param(
            DataplaneError("route add", "EBUSY", retryable=True),
            grpc.StatusCode.UNAVAILABLE,
            "route add",
            id="dataplane-retryable",
        ),
        pytest.param(PermanentError("no"), grpc.StatusCode.FAILED_PRECONDITION, "no", id="perm"),
        pytest.param(KeyError("bug"), grpc.StatusCode.INTERNAL, "KeyError", id="bug"),
    ],
)
def test_status_for_maps_each_error_class(exc, code, fragment):
    err = status_for(exc)
    assert err.code is code
    assert fragment in err.message


class Servicer:
    @unary
    def Fails(self, request, context):
        raise ApiError(
            grpc.StatusCode.RESOURCE_EXHAUSTED, "behind", metadata=((RESUME_SEQ_KEY, "7"),)
        )

    @unary
    def Works(self, request, context):
        return request * 2

    @stream
    def Streams(self, request, context):
        yield 1
        raise NotFoundError("gone")


def test_unary_aborts_once_with_code_message_and_metadata():
    ctx = FakeContext()
    with pytest.raises(Aborted):
        Servicer().Fails(None, ctx)
    assert ctx.code is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert ctx.details == "behind"
    assert ctx.trailing == ((RESUME_SEQ_KEY, "7"),)
    assert Servicer().Works(21, FakeContext()) == 42


def test_stream_delivers_items_then_maps_the_error():
    ctx = FakeContext()
    got = []
    with pytest.raises(Aborted):
        for item in Servicer().Streams(None, ctx):
            got.append(item)
    assert got == [1]
    assert ctx.code is grpc.StatusCode.NOT_FOUND
