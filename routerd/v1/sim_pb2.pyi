import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetWorldRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SimWorld(_message.Message):
    __slots__ = ("name", "routers", "vms", "segments", "now")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ROUTERS_FIELD_NUMBER: _ClassVar[int]
    VMS_FIELD_NUMBER: _ClassVar[int]
    SEGMENTS_FIELD_NUMBER: _ClassVar[int]
    NOW_FIELD_NUMBER: _ClassVar[int]
    name: str
    routers: _containers.RepeatedCompositeFieldContainer[SimRouter]
    vms: _containers.RepeatedCompositeFieldContainer[SimVm]
    segments: _containers.RepeatedCompositeFieldContainer[SimSegment]
    now: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., routers: _Optional[_Iterable[_Union[SimRouter, _Mapping]]] = ..., vms: _Optional[_Iterable[_Union[SimVm, _Mapping]]] = ..., segments: _Optional[_Iterable[_Union[SimSegment, _Mapping]]] = ..., now: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SimRouter(_message.Message):
    __slots__ = ("name", "site", "hosted", "socket")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SITE_FIELD_NUMBER: _ClassVar[int]
    HOSTED_FIELD_NUMBER: _ClassVar[int]
    SOCKET_FIELD_NUMBER: _ClassVar[int]
    name: str
    site: str
    hosted: bool
    socket: str
    def __init__(self, name: _Optional[str] = ..., site: _Optional[str] = ..., hosted: _Optional[bool] = ..., socket: _Optional[str] = ...) -> None: ...

class SimVm(_message.Message):
    __slots__ = ("name", "address", "segment", "site", "mac")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    SITE_FIELD_NUMBER: _ClassVar[int]
    MAC_FIELD_NUMBER: _ClassVar[int]
    name: str
    address: str
    segment: str
    site: str
    mac: str
    def __init__(self, name: _Optional[str] = ..., address: _Optional[str] = ..., segment: _Optional[str] = ..., site: _Optional[str] = ..., mac: _Optional[str] = ...) -> None: ...

class SimSegment(_message.Message):
    __slots__ = ("name", "site", "provider", "subnet", "uplink_of")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SITE_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    SUBNET_FIELD_NUMBER: _ClassVar[int]
    UPLINK_OF_FIELD_NUMBER: _ClassVar[int]
    name: str
    site: str
    provider: str
    subnet: str
    uplink_of: str
    def __init__(self, name: _Optional[str] = ..., site: _Optional[str] = ..., provider: _Optional[str] = ..., subnet: _Optional[str] = ..., uplink_of: _Optional[str] = ...) -> None: ...

class ListFaultKindsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListFaultKindsResponse(_message.Message):
    __slots__ = ("kinds",)
    KINDS_FIELD_NUMBER: _ClassVar[int]
    kinds: _containers.RepeatedCompositeFieldContainer[SimFaultKind]
    def __init__(self, kinds: _Optional[_Iterable[_Union[SimFaultKind, _Mapping]]] = ...) -> None: ...

class SimFaultKind(_message.Message):
    __slots__ = ("name", "summary", "params", "reason", "heals", "trace", "doctor", "after", "example")
    class ExampleEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    HEALS_FIELD_NUMBER: _ClassVar[int]
    TRACE_FIELD_NUMBER: _ClassVar[int]
    DOCTOR_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    EXAMPLE_FIELD_NUMBER: _ClassVar[int]
    name: str
    summary: str
    params: _containers.RepeatedCompositeFieldContainer[SimFaultParam]
    reason: str
    heals: bool
    trace: str
    doctor: str
    after: _duration_pb2.Duration
    example: _containers.ScalarMap[str, str]
    def __init__(self, name: _Optional[str] = ..., summary: _Optional[str] = ..., params: _Optional[_Iterable[_Union[SimFaultParam, _Mapping]]] = ..., reason: _Optional[str] = ..., heals: _Optional[bool] = ..., trace: _Optional[str] = ..., doctor: _Optional[str] = ..., after: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., example: _Optional[_Mapping[str, str]] = ...) -> None: ...

class SimFaultParam(_message.Message):
    __slots__ = ("name", "help", "required")
    NAME_FIELD_NUMBER: _ClassVar[int]
    HELP_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_FIELD_NUMBER: _ClassVar[int]
    name: str
    help: str
    required: bool
    def __init__(self, name: _Optional[str] = ..., help: _Optional[str] = ..., required: _Optional[bool] = ...) -> None: ...

class InjectFaultRequest(_message.Message):
    __slots__ = ("kind", "params")
    class ParamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    KIND_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    kind: str
    params: _containers.ScalarMap[str, str]
    def __init__(self, kind: _Optional[str] = ..., params: _Optional[_Mapping[str, str]] = ...) -> None: ...

class SimFault(_message.Message):
    __slots__ = ("id", "kind", "params", "active", "injected_at", "cleared_at")
    class ParamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    INJECTED_AT_FIELD_NUMBER: _ClassVar[int]
    CLEARED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    kind: str
    params: _containers.ScalarMap[str, str]
    active: bool
    injected_at: _timestamp_pb2.Timestamp
    cleared_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., kind: _Optional[str] = ..., params: _Optional[_Mapping[str, str]] = ..., active: _Optional[bool] = ..., injected_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cleared_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ClearFaultRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListFaultsRequest(_message.Message):
    __slots__ = ("active_only",)
    ACTIVE_ONLY_FIELD_NUMBER: _ClassVar[int]
    active_only: bool
    def __init__(self, active_only: _Optional[bool] = ...) -> None: ...

class ListFaultsResponse(_message.Message):
    __slots__ = ("faults",)
    FAULTS_FIELD_NUMBER: _ClassVar[int]
    faults: _containers.RepeatedCompositeFieldContainer[SimFault]
    def __init__(self, faults: _Optional[_Iterable[_Union[SimFault, _Mapping]]] = ...) -> None: ...

class MoveVmRequest(_message.Message):
    __slots__ = ("vm", "segment")
    VM_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    vm: str
    segment: str
    def __init__(self, vm: _Optional[str] = ..., segment: _Optional[str] = ...) -> None: ...

class MoveVmResponse(_message.Message):
    __slots__ = ("vm", "from_segment", "to_segment", "from_site", "to_site", "at")
    VM_FIELD_NUMBER: _ClassVar[int]
    FROM_SEGMENT_FIELD_NUMBER: _ClassVar[int]
    TO_SEGMENT_FIELD_NUMBER: _ClassVar[int]
    FROM_SITE_FIELD_NUMBER: _ClassVar[int]
    TO_SITE_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    vm: str
    from_segment: str
    to_segment: str
    from_site: str
    to_site: str
    at: _timestamp_pb2.Timestamp
    def __init__(self, vm: _Optional[str] = ..., from_segment: _Optional[str] = ..., to_segment: _Optional[str] = ..., from_site: _Optional[str] = ..., to_site: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class TracePacketRequest(_message.Message):
    __slots__ = ("source_host", "destination", "source", "size", "no_df", "protocol", "destination_port")
    SOURCE_HOST_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    NO_DF_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_PORT_FIELD_NUMBER: _ClassVar[int]
    source_host: str
    destination: str
    source: str
    size: int
    no_df: bool
    protocol: str
    destination_port: int
    def __init__(self, source_host: _Optional[str] = ..., destination: _Optional[str] = ..., source: _Optional[str] = ..., size: _Optional[int] = ..., no_df: _Optional[bool] = ..., protocol: _Optional[str] = ..., destination_port: _Optional[int] = ...) -> None: ...

class PacketTrace(_message.Message):
    __slots__ = ("hops", "delivered", "delivered_to", "source", "source_seen", "drop_reason", "drop_host", "drop_detail", "summary")
    HOPS_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_FIELD_NUMBER: _ClassVar[int]
    DELIVERED_TO_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_SEEN_FIELD_NUMBER: _ClassVar[int]
    DROP_REASON_FIELD_NUMBER: _ClassVar[int]
    DROP_HOST_FIELD_NUMBER: _ClassVar[int]
    DROP_DETAIL_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    hops: _containers.RepeatedCompositeFieldContainer[TraceHop]
    delivered: bool
    delivered_to: str
    source: str
    source_seen: str
    drop_reason: str
    drop_host: str
    drop_detail: str
    summary: str
    def __init__(self, hops: _Optional[_Iterable[_Union[TraceHop, _Mapping]]] = ..., delivered: _Optional[bool] = ..., delivered_to: _Optional[str] = ..., source: _Optional[str] = ..., source_seen: _Optional[str] = ..., drop_reason: _Optional[str] = ..., drop_host: _Optional[str] = ..., drop_detail: _Optional[str] = ..., summary: _Optional[str] = ...) -> None: ...

class TraceHop(_message.Message):
    __slots__ = ("host", "interface", "event", "detail", "verdict", "source", "destination", "inner_source", "inner_destination")
    HOST_FIELD_NUMBER: _ClassVar[int]
    INTERFACE_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    INNER_SOURCE_FIELD_NUMBER: _ClassVar[int]
    INNER_DESTINATION_FIELD_NUMBER: _ClassVar[int]
    host: str
    interface: str
    event: str
    detail: str
    verdict: str
    source: str
    destination: str
    inner_source: str
    inner_destination: str
    def __init__(self, host: _Optional[str] = ..., interface: _Optional[str] = ..., event: _Optional[str] = ..., detail: _Optional[str] = ..., verdict: _Optional[str] = ..., source: _Optional[str] = ..., destination: _Optional[str] = ..., inner_source: _Optional[str] = ..., inner_destination: _Optional[str] = ...) -> None: ...

class AdvanceClockRequest(_message.Message):
    __slots__ = ("by",)
    BY_FIELD_NUMBER: _ClassVar[int]
    by: _duration_pb2.Duration
    def __init__(self, by: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class SimClock(_message.Message):
    __slots__ = ("now", "elapsed")
    NOW_FIELD_NUMBER: _ClassVar[int]
    ELAPSED_FIELD_NUMBER: _ClassVar[int]
    now: _timestamp_pb2.Timestamp
    elapsed: _duration_pb2.Duration
    def __init__(self, now: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., elapsed: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class GetClockRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SettleRequest(_message.Message):
    __slots__ = ("timeout",)
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    timeout: _duration_pb2.Duration
    def __init__(self, timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class SettleResponse(_message.Message):
    __slots__ = ("settled", "errors", "passes")
    class PassesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    SETTLED_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    PASSES_FIELD_NUMBER: _ClassVar[int]
    settled: bool
    errors: _containers.RepeatedScalarFieldContainer[str]
    passes: _containers.ScalarMap[str, int]
    def __init__(self, settled: _Optional[bool] = ..., errors: _Optional[_Iterable[str]] = ..., passes: _Optional[_Mapping[str, int]] = ...) -> None: ...
