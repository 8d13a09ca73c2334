import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from routerd.v1 import redundancy_pb2 as _redundancy_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Evidence(_message.Message):
    __slots__ = ("kind", "mac", "interface", "at", "detail", "peer")
    KIND_FIELD_NUMBER: _ClassVar[int]
    MAC_FIELD_NUMBER: _ClassVar[int]
    INTERFACE_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    PEER_FIELD_NUMBER: _ClassVar[int]
    kind: str
    mac: str
    interface: str
    at: _timestamp_pb2.Timestamp
    detail: str
    peer: str
    def __init__(self, kind: _Optional[str] = ..., mac: _Optional[str] = ..., interface: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., detail: _Optional[str] = ..., peer: _Optional[str] = ...) -> None: ...

class AddressPin(_message.Message):
    __slots__ = ("address", "domain", "site", "since", "cause", "claim")
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    SITE_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    CAUSE_FIELD_NUMBER: _ClassVar[int]
    CLAIM_FIELD_NUMBER: _ClassVar[int]
    address: str
    domain: str
    site: str
    since: _timestamp_pb2.Timestamp
    cause: str
    claim: str
    def __init__(self, address: _Optional[str] = ..., domain: _Optional[str] = ..., site: _Optional[str] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., cause: _Optional[str] = ..., claim: _Optional[str] = ...) -> None: ...

class Conflict(_message.Message):
    __slots__ = ("code", "detail", "remedy")
    CODE_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    REMEDY_FIELD_NUMBER: _ClassVar[int]
    code: str
    detail: str
    remedy: str
    def __init__(self, code: _Optional[str] = ..., detail: _Optional[str] = ..., remedy: _Optional[str] = ...) -> None: ...

class Home(_message.Message):
    __slots__ = ("address", "domain", "home", "state", "sequence", "since", "origin", "evidence", "local_site", "originating", "stale_until", "pin", "conflicts")
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    HOME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    LOCAL_SITE_FIELD_NUMBER: _ClassVar[int]
    ORIGINATING_FIELD_NUMBER: _ClassVar[int]
    STALE_UNTIL_FIELD_NUMBER: _ClassVar[int]
    PIN_FIELD_NUMBER: _ClassVar[int]
    CONFLICTS_FIELD_NUMBER: _ClassVar[int]
    address: str
    domain: str
    home: str
    state: str
    sequence: int
    since: _timestamp_pb2.Timestamp
    origin: str
    evidence: Evidence
    local_site: str
    originating: bool
    stale_until: _timestamp_pb2.Timestamp
    pin: AddressPin
    conflicts: _containers.RepeatedCompositeFieldContainer[Conflict]
    def __init__(self, address: _Optional[str] = ..., domain: _Optional[str] = ..., home: _Optional[str] = ..., state: _Optional[str] = ..., sequence: _Optional[int] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., origin: _Optional[str] = ..., evidence: _Optional[_Union[Evidence, _Mapping]] = ..., local_site: _Optional[str] = ..., originating: _Optional[bool] = ..., stale_until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., pin: _Optional[_Union[AddressPin, _Mapping]] = ..., conflicts: _Optional[_Iterable[_Union[Conflict, _Mapping]]] = ...) -> None: ...

class MoveAddressRequest(_message.Message):
    __slots__ = ("addresses", "to_site", "cause", "no_wait", "dry_run")
    ADDRESSES_FIELD_NUMBER: _ClassVar[int]
    TO_SITE_FIELD_NUMBER: _ClassVar[int]
    CAUSE_FIELD_NUMBER: _ClassVar[int]
    NO_WAIT_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    addresses: _containers.RepeatedScalarFieldContainer[str]
    to_site: str
    cause: str
    no_wait: bool
    dry_run: bool
    def __init__(self, addresses: _Optional[_Iterable[str]] = ..., to_site: _Optional[str] = ..., cause: _Optional[str] = ..., no_wait: _Optional[bool] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class MoveResult(_message.Message):
    __slots__ = ("address", "accepted", "status", "sequence", "reason", "message")
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    address: str
    accepted: bool
    status: str
    sequence: int
    reason: str
    message: str
    def __init__(self, address: _Optional[str] = ..., accepted: _Optional[bool] = ..., status: _Optional[str] = ..., sequence: _Optional[int] = ..., reason: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class MoveAddressResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[MoveResult]
    def __init__(self, results: _Optional[_Iterable[_Union[MoveResult, _Mapping]]] = ...) -> None: ...

class WhereIsRequest(_message.Message):
    __slots__ = ("address",)
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    address: str
    def __init__(self, address: _Optional[str] = ...) -> None: ...

class ListHomesRequest(_message.Message):
    __slots__ = ("domain", "state")
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    domain: str
    state: str
    def __init__(self, domain: _Optional[str] = ..., state: _Optional[str] = ...) -> None: ...

class ListHomesResponse(_message.Message):
    __slots__ = ("homes", "local_pair")
    HOMES_FIELD_NUMBER: _ClassVar[int]
    LOCAL_PAIR_FIELD_NUMBER: _ClassVar[int]
    homes: _containers.RepeatedCompositeFieldContainer[Home]
    local_pair: _redundancy_pb2.PairRole
    def __init__(self, homes: _Optional[_Iterable[_Union[Home, _Mapping]]] = ..., local_pair: _Optional[_Union[_redundancy_pb2.PairRole, _Mapping]] = ...) -> None: ...

class MoveRecord(_message.Message):
    __slots__ = ("seq", "address", "domain", "from_site", "to_site", "sequence", "cause", "evidence", "at")
    SEQ_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    FROM_SITE_FIELD_NUMBER: _ClassVar[int]
    TO_SITE_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    CAUSE_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    seq: int
    address: str
    domain: str
    from_site: str
    to_site: str
    sequence: int
    cause: str
    evidence: str
    at: _timestamp_pb2.Timestamp
    def __init__(self, seq: _Optional[int] = ..., address: _Optional[str] = ..., domain: _Optional[str] = ..., from_site: _Optional[str] = ..., to_site: _Optional[str] = ..., sequence: _Optional[int] = ..., cause: _Optional[str] = ..., evidence: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class WatchHomesRequest(_message.Message):
    __slots__ = ("since_seq", "address", "domain")
    SINCE_SEQ_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    since_seq: int
    address: str
    domain: str
    def __init__(self, since_seq: _Optional[int] = ..., address: _Optional[str] = ..., domain: _Optional[str] = ...) -> None: ...

class PinRequest(_message.Message):
    __slots__ = ("address", "site", "cause")
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    SITE_FIELD_NUMBER: _ClassVar[int]
    CAUSE_FIELD_NUMBER: _ClassVar[int]
    address: str
    site: str
    cause: str
    def __init__(self, address: _Optional[str] = ..., site: _Optional[str] = ..., cause: _Optional[str] = ...) -> None: ...

class PinResponse(_message.Message):
    __slots__ = ("pin", "changed")
    PIN_FIELD_NUMBER: _ClassVar[int]
    CHANGED_FIELD_NUMBER: _ClassVar[int]
    pin: AddressPin
    changed: bool
    def __init__(self, pin: _Optional[_Union[AddressPin, _Mapping]] = ..., changed: _Optional[bool] = ...) -> None: ...

class UnpinRequest(_message.Message):
    __slots__ = ("address",)
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    address: str
    def __init__(self, address: _Optional[str] = ...) -> None: ...

class UnpinResponse(_message.Message):
    __slots__ = ("address", "removed")
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    REMOVED_FIELD_NUMBER: _ClassVar[int]
    address: str
    removed: bool
    def __init__(self, address: _Optional[str] = ..., removed: _Optional[bool] = ...) -> None: ...

class MoveHistoryRequest(_message.Message):
    __slots__ = ("address", "domain", "after_seq", "limit")
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    AFTER_SEQ_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    address: str
    domain: str
    after_seq: int
    limit: int
    def __init__(self, address: _Optional[str] = ..., domain: _Optional[str] = ..., after_seq: _Optional[int] = ..., limit: _Optional[int] = ...) -> None: ...

class MoveHistoryResponse(_message.Message):
    __slots__ = ("moves",)
    MOVES_FIELD_NUMBER: _ClassVar[int]
    moves: _containers.RepeatedCompositeFieldContainer[MoveRecord]
    def __init__(self, moves: _Optional[_Iterable[_Union[MoveRecord, _Mapping]]] = ...) -> None: ...
