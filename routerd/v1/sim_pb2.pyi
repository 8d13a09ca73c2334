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
    __slots__ = ("vm", "segment", "announce")
    VM_FIELD_NUMBER: _ClassVar[int]
    SEGMENT_FIELD_NUMBER: _ClassVar[int]
    ANNOUNCE_FIELD_NUMBER: _ClassVar[int]
    vm: str
    segment: str
    announce: str
    def __init__(self, vm: _Optional[str] = ..., segment: _Optional[str] = ..., announce: _Optional[str] = ...) -> None: ...

class MoveVmResponse(_message.Message):
    __slots__ = ("vm", "from_segment", "to_segment", "from_site", "to_site", "at", "announce", "heard_by")
    VM_FIELD_NUMBER: _ClassVar[int]
    FROM_SEGMENT_FIELD_NUMBER: _ClassVar[int]
    TO_SEGMENT_FIELD_NUMBER: _ClassVar[int]
    FROM_SITE_FIELD_NUMBER: _ClassVar[int]
    TO_SITE_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    ANNOUNCE_FIELD_NUMBER: _ClassVar[int]
    HEARD_BY_FIELD_NUMBER: _ClassVar[int]
    vm: str
    from_segment: str
    to_segment: str
    from_site: str
    to_site: str
    at: _timestamp_pb2.Timestamp
    announce: str
    heard_by: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, vm: _Optional[str] = ..., from_segment: _Optional[str] = ..., to_segment: _Optional[str] = ..., from_site: _Optional[str] = ..., to_site: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., announce: _Optional[str] = ..., heard_by: _Optional[_Iterable[str]] = ...) -> None: ...

class AnnounceVmRequest(_message.Message):
    __slots__ = ("vm", "announce")
    VM_FIELD_NUMBER: _ClassVar[int]
    ANNOUNCE_FIELD_NUMBER: _ClassVar[int]
    vm: str
    announce: str
    def __init__(self, vm: _Optional[str] = ..., announce: _Optional[str] = ...) -> None: ...

class AnnounceVmResponse(_message.Message):
    __slots__ = ("heard_by",)
    HEARD_BY_FIELD_NUMBER: _ClassVar[int]
    heard_by: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, heard_by: _Optional[_Iterable[str]] = ...) -> None: ...

class PartitionRequest(_message.Message):
    __slots__ = ("a", "b")
    A_FIELD_NUMBER: _ClassVar[int]
    B_FIELD_NUMBER: _ClassVar[int]
    a: str
    b: str
    def __init__(self, a: _Optional[str] = ..., b: _Optional[str] = ...) -> None: ...

class SimPartition(_message.Message):
    __slots__ = ("id", "a", "b", "side_a", "side_b", "active", "at", "healed_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    A_FIELD_NUMBER: _ClassVar[int]
    B_FIELD_NUMBER: _ClassVar[int]
    SIDE_A_FIELD_NUMBER: _ClassVar[int]
    SIDE_B_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    HEALED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    a: str
    b: str
    side_a: _containers.RepeatedScalarFieldContainer[str]
    side_b: _containers.RepeatedScalarFieldContainer[str]
    active: bool
    at: _timestamp_pb2.Timestamp
    healed_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., a: _Optional[str] = ..., b: _Optional[str] = ..., side_a: _Optional[_Iterable[str]] = ..., side_b: _Optional[_Iterable[str]] = ..., active: _Optional[bool] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., healed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class HealRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class ListPartitionsRequest(_message.Message):
    __slots__ = ("active_only",)
    ACTIVE_ONLY_FIELD_NUMBER: _ClassVar[int]
    active_only: bool
    def __init__(self, active_only: _Optional[bool] = ...) -> None: ...

class ListPartitionsResponse(_message.Message):
    __slots__ = ("partitions",)
    PARTITIONS_FIELD_NUMBER: _ClassVar[int]
    partitions: _containers.RepeatedCompositeFieldContainer[SimPartition]
    def __init__(self, partitions: _Optional[_Iterable[_Union[SimPartition, _Mapping]]] = ...) -> None: ...

class GetExchangeRequest(_message.Message):
    __slots__ = ("router",)
    ROUTER_FIELD_NUMBER: _ClassVar[int]
    router: str
    def __init__(self, router: _Optional[str] = ...) -> None: ...

class SimRouteExchange(_message.Message):
    __slots__ = ("speakers", "reflector")
    SPEAKERS_FIELD_NUMBER: _ClassVar[int]
    REFLECTOR_FIELD_NUMBER: _ClassVar[int]
    speakers: _containers.RepeatedCompositeFieldContainer[SimSpeaker]
    reflector: SimReflector
    def __init__(self, speakers: _Optional[_Iterable[_Union[SimSpeaker, _Mapping]]] = ..., reflector: _Optional[_Union[SimReflector, _Mapping]] = ...) -> None: ...

class SimSpeaker(_message.Message):
    __slots__ = ("router", "running", "attached", "site_id", "router_id", "asn", "originated", "received", "sessions")
    ROUTER_FIELD_NUMBER: _ClassVar[int]
    RUNNING_FIELD_NUMBER: _ClassVar[int]
    ATTACHED_FIELD_NUMBER: _ClassVar[int]
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    ROUTER_ID_FIELD_NUMBER: _ClassVar[int]
    ASN_FIELD_NUMBER: _ClassVar[int]
    ORIGINATED_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_FIELD_NUMBER: _ClassVar[int]
    SESSIONS_FIELD_NUMBER: _ClassVar[int]
    router: str
    running: bool
    attached: bool
    site_id: int
    router_id: str
    asn: int
    originated: _containers.RepeatedCompositeFieldContainer[SimRoute]
    received: _containers.RepeatedCompositeFieldContainer[SimRoute]
    sessions: _containers.RepeatedCompositeFieldContainer[SimSession]
    def __init__(self, router: _Optional[str] = ..., running: _Optional[bool] = ..., attached: _Optional[bool] = ..., site_id: _Optional[int] = ..., router_id: _Optional[str] = ..., asn: _Optional[int] = ..., originated: _Optional[_Iterable[_Union[SimRoute, _Mapping]]] = ..., received: _Optional[_Iterable[_Union[SimRoute, _Mapping]]] = ..., sessions: _Optional[_Iterable[_Union[SimSession, _Mapping]]] = ...) -> None: ...

class SimRoute(_message.Message):
    __slots__ = ("prefix", "site_id", "sequence", "next_hop", "neighbor", "originator_id", "refused")
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    SITE_ID_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    NEXT_HOP_FIELD_NUMBER: _ClassVar[int]
    NEIGHBOR_FIELD_NUMBER: _ClassVar[int]
    ORIGINATOR_ID_FIELD_NUMBER: _ClassVar[int]
    REFUSED_FIELD_NUMBER: _ClassVar[int]
    prefix: str
    site_id: int
    sequence: int
    next_hop: str
    neighbor: str
    originator_id: str
    refused: str
    def __init__(self, prefix: _Optional[str] = ..., site_id: _Optional[int] = ..., sequence: _Optional[int] = ..., next_hop: _Optional[str] = ..., neighbor: _Optional[str] = ..., originator_id: _Optional[str] = ..., refused: _Optional[str] = ...) -> None: ...

class SimSession(_message.Message):
    __slots__ = ("neighbor", "description", "state", "since", "last_error", "peer")
    NEIGHBOR_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    PEER_FIELD_NUMBER: _ClassVar[int]
    neighbor: str
    description: str
    state: str
    since: _timestamp_pb2.Timestamp
    last_error: str
    peer: str
    def __init__(self, neighbor: _Optional[str] = ..., description: _Optional[str] = ..., state: _Optional[str] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_error: _Optional[str] = ..., peer: _Optional[str] = ...) -> None: ...

class SimReflector(_message.Message):
    __slots__ = ("address", "router_id", "delay", "reconnect", "clients", "accepted", "filtered")
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ROUTER_ID_FIELD_NUMBER: _ClassVar[int]
    DELAY_FIELD_NUMBER: _ClassVar[int]
    RECONNECT_FIELD_NUMBER: _ClassVar[int]
    CLIENTS_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    FILTERED_FIELD_NUMBER: _ClassVar[int]
    address: str
    router_id: str
    delay: _duration_pb2.Duration
    reconnect: _duration_pb2.Duration
    clients: _containers.RepeatedScalarFieldContainer[str]
    accepted: _containers.RepeatedCompositeFieldContainer[SimReflectorRoute]
    filtered: _containers.RepeatedCompositeFieldContainer[SimReflectorRoute]
    def __init__(self, address: _Optional[str] = ..., router_id: _Optional[str] = ..., delay: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., reconnect: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., clients: _Optional[_Iterable[str]] = ..., accepted: _Optional[_Iterable[_Union[SimReflectorRoute, _Mapping]]] = ..., filtered: _Optional[_Iterable[_Union[SimReflectorRoute, _Mapping]]] = ...) -> None: ...

class SimReflectorRoute(_message.Message):
    __slots__ = ("client", "route")
    CLIENT_FIELD_NUMBER: _ClassVar[int]
    ROUTE_FIELD_NUMBER: _ClassVar[int]
    client: str
    route: SimRoute
    def __init__(self, client: _Optional[str] = ..., route: _Optional[_Union[SimRoute, _Mapping]] = ...) -> None: ...

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
