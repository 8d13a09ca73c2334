"""Fuzz every gRPC request message against one serving daemon.

Requests are generated from the message descriptors themselves (every field, any value its
type allows; text fields also get the hostile documents), so a new RPC or field is fuzzed
without touching this file. Whatever arrives, the daemon answers with a status a client can
act on, never INTERNAL or UNKNOWN (an unhandled exception), and keeps serving.

DoctorService is left out: its checks run commands on the host. Runs are derandomized.
"""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from google.protobuf import message_factory
from google.protobuf.descriptor import Descriptor, FieldDescriptor, MethodDescriptor
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routerd.v1 import claims_pb2, config_pb2, plugins_pb2, status_pb2, topology_pb2
from tests.support import hostile

pytestmark = pytest.mark.integration

MODULES = (claims_pb2, config_pb2, plugins_pb2, status_pb2, topology_pb2)
METHODS: list[MethodDescriptor] = [
    m for mod in MODULES for svc in mod.DESCRIPTOR.services_by_name.values() for m in svc.methods
]
BAD_CODES = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN}
DOCUMENTS = [
    hostile.alias_bomb(),
    hostile.merge_bomb(),
    hostile.recursive_alias(),
    hostile.deep_nesting(),
    "a: 2026-02-30\n",
    "apiVersion: routerd.net/v1alpha1\nkind: Router\nmetadata: {name: x}\n",
]
F = FieldDescriptor
INT_RANGES = {
    F.TYPE_INT32: (-(2**31), 2**31 - 1),
    F.TYPE_SINT32: (-(2**31), 2**31 - 1),
    F.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    F.TYPE_INT64: (-(2**63), 2**63 - 1),
    F.TYPE_SINT64: (-(2**63), 2**63 - 1),
    F.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    F.TYPE_UINT32: (0, 2**32 - 1),
    F.TYPE_FIXED32: (0, 2**32 - 1),
    F.TYPE_UINT64: (0, 2**64 - 1),
    F.TYPE_FIXED64: (0, 2**64 - 1),
}


def scalar(field: FieldDescriptor, depth: int) -> st.SearchStrategy[Any]:
    t = field.type
    if t == F.TYPE_STRING:
        return st.one_of(st.text(max_size=40), st.sampled_from(DOCUMENTS), st.just(""))
    if t == F.TYPE_BYTES:
        return st.binary(max_size=40)
    if t == F.TYPE_BOOL:
        return st.booleans()
    if t in INT_RANGES:
        lo, hi = INT_RANGES[t]
        return st.one_of(st.integers(lo, hi), st.sampled_from([0, 1, -1 if lo else 0, hi]))
    if t in (F.TYPE_DOUBLE, F.TYPE_FLOAT):
        return st.floats(width=32 if t == F.TYPE_FLOAT else 64)
    if t == F.TYPE_ENUM:
        return st.sampled_from([v.number for v in field.enum_type.values])
    return message(field.message_type, depth + 1)


def message(desc: Descriptor, depth: int = 0) -> st.SearchStrategy[Any]:
    """A strategy for instances of ``desc`` with any subset of fields set."""
    cls = message_factory.GetMessageClass(desc)
    if depth > 3:
        return st.builds(cls)
    optional: dict[str, st.SearchStrategy[Any]] = {}
    for field in desc.fields:
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            key, value = (
                field.message_type.fields_by_name["key"],
                field.message_type.fields_by_name["value"],
            )
            optional[field.name] = st.dictionaries(
                scalar(key, depth), scalar(value, depth), max_size=3
            )
        elif field.is_repeated:
            optional[field.name] = st.lists(scalar(field, depth), max_size=3)
        else:
            optional[field.name] = scalar(field, depth)
    return st.fixed_dictionaries({}, optional=optional).map(lambda values: build(cls, values))


def build(cls: Any, values: dict[str, Any]) -> Any:
    msg = cls()
    for name, value in values.items():
        field = msg.DESCRIPTOR.fields_by_name[name]
        target = getattr(msg, name)
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            for k, v in value.items():
                if field.message_type.fields_by_name["value"].message_type is not None:
                    target[k].CopyFrom(v)
                else:
                    target[k] = v
        elif field.is_repeated:
            target.extend(value)
        elif field.message_type is not None:
            target.CopyFrom(value)
        else:
            setattr(msg, name, value)
    return msg


def calls() -> st.SearchStrategy[tuple[MethodDescriptor, Any]]:
    return st.sampled_from(METHODS).flatmap(
        lambda m: message(m.input_type).map(lambda req: (m, req))
    )


def invoke(channel: grpc.Channel, method: MethodDescriptor, request: Any) -> None:
    path = f"/{method.containing_service.full_name}/{method.name}"
    reply = message_factory.GetMessageClass(method.output_type)
    kwargs = {
        "request_serializer": type(request).SerializeToString,
        "response_deserializer": reply.FromString,
    }
    if method.server_streaming:
        stream = channel.unary_stream(path, **kwargs)(request, timeout=0.5)
        for _ in stream:
            pass
    else:
        channel.unary_unary(path, **kwargs)(request, timeout=30)


@settings(
    max_examples=200,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(call=calls())
def test_no_request_makes_the_daemon_fail_internally(served, call):
    method, request = call
    channel = served.channel()
    try:
        invoke(channel, method, request)
    except grpc.RpcError as e:
        assert e.code() not in BAD_CODES, (method.full_name, request, e.details())
        if e.code() == grpc.StatusCode.DEADLINE_EXCEEDED:
            assert method.server_streaming or method.name in ("PlanChanges", "RunPlugin"), (
                method.full_name,
                request,
            )
    finally:
        channel.close()
        served.channels.remove(channel)
    assert served.ctl("status").code == 0
