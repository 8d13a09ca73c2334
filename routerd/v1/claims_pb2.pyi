import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Claim(_message.Message):
    __slots__ = ("name", "address", "state", "reason", "message", "since", "origin", "capture_type", "capture_interface", "tunnel", "peer", "mss", "domain", "gratuitous_arp", "config_generation")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    CAPTURE_TYPE_FIELD_NUMBER: _ClassVar[int]
    CAPTURE_INTERFACE_FIELD_NUMBER: _ClassVar[int]
    TUNNEL_FIELD_NUMBER: _ClassVar[int]
    PEER_FIELD_NUMBER: _ClassVar[int]
    MSS_FIELD_NUMBER: _ClassVar[int]
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    GRATUITOUS_ARP_FIELD_NUMBER: _ClassVar[int]
    CONFIG_GENERATION_FIELD_NUMBER: _ClassVar[int]
    name: str
    address: str
    state: str
    reason: str
    message: str
    since: _timestamp_pb2.Timestamp
    origin: str
    capture_type: str
    capture_interface: str
    tunnel: str
    peer: str
    mss: int
    domain: str
    gratuitous_arp: bool
    config_generation: int
    def __init__(self, name: _Optional[str] = ..., address: _Optional[str] = ..., state: _Optional[str] = ..., reason: _Optional[str] = ..., message: _Optional[str] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., origin: _Optional[str] = ..., capture_type: _Optional[str] = ..., capture_interface: _Optional[str] = ..., tunnel: _Optional[str] = ..., peer: _Optional[str] = ..., mss: _Optional[int] = ..., domain: _Optional[str] = ..., gratuitous_arp: _Optional[bool] = ..., config_generation: _Optional[int] = ...) -> None: ...

class ListClaimsRequest(_message.Message):
    __slots__ = ("state",)
    STATE_FIELD_NUMBER: _ClassVar[int]
    state: str
    def __init__(self, state: _Optional[str] = ...) -> None: ...

class ListClaimsResponse(_message.Message):
    __slots__ = ("claims", "config_generation")
    CLAIMS_FIELD_NUMBER: _ClassVar[int]
    CONFIG_GENERATION_FIELD_NUMBER: _ClassVar[int]
    claims: _containers.RepeatedCompositeFieldContainer[Claim]
    config_generation: int
    def __init__(self, claims: _Optional[_Iterable[_Union[Claim, _Mapping]]] = ..., config_generation: _Optional[int] = ...) -> None: ...

class GetClaimRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ClaimEvent(_message.Message):
    __slots__ = ("seq", "claim", "address", "from_state", "to_state", "trigger", "reason", "message", "at", "config_generation")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    CLAIM_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    FROM_STATE_FIELD_NUMBER: _ClassVar[int]
    TO_STATE_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    CONFIG_GENERATION_FIELD_NUMBER: _ClassVar[int]
    seq: int
    claim: str
    address: str
    from_state: str
    to_state: str
    trigger: str
    reason: str
    message: str
    at: _timestamp_pb2.Timestamp
    config_generation: int
    def __init__(self, seq: _Optional[int] = ..., claim: _Optional[str] = ..., address: _Optional[str] = ..., from_state: _Optional[str] = ..., to_state: _Optional[str] = ..., trigger: _Optional[str] = ..., reason: _Optional[str] = ..., message: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., config_generation: _Optional[int] = ...) -> None: ...

class WatchClaimsRequest(_message.Message):
    __slots__ = ("since_seq", "claim")
    SINCE_SEQ_FIELD_NUMBER: _ClassVar[int]
    CLAIM_FIELD_NUMBER: _ClassVar[int]
    since_seq: int
    claim: str
    def __init__(self, since_seq: _Optional[int] = ..., claim: _Optional[str] = ...) -> None: ...

class ListClaimHistoryRequest(_message.Message):
    __slots__ = ("name", "after_seq", "limit")
    NAME_FIELD_NUMBER: _ClassVar[int]
    AFTER_SEQ_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    name: str
    after_seq: int
    limit: int
    def __init__(self, name: _Optional[str] = ..., after_seq: _Optional[int] = ..., limit: _Optional[int] = ...) -> None: ...

class ListClaimHistoryResponse(_message.Message):
    __slots__ = ("events",)
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[ClaimEvent]
    def __init__(self, events: _Optional[_Iterable[_Union[ClaimEvent, _Mapping]]] = ...) -> None: ...
