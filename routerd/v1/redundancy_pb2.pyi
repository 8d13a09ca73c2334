import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetRoleRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class FailbackRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class FailbackResponse(_message.Message):
    __slots__ = ("message", "role")
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    message: str
    role: PairRole
    def __init__(self, message: _Optional[str] = ..., role: _Optional[_Union[PairRole, _Mapping]] = ...) -> None: ...

class PairRole(_message.Message):
    __slots__ = ("role", "since", "why", "partners", "group", "active")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    WHY_FIELD_NUMBER: _ClassVar[int]
    PARTNERS_FIELD_NUMBER: _ClassVar[int]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    role: str
    since: _timestamp_pb2.Timestamp
    why: str
    partners: _containers.RepeatedScalarFieldContainer[str]
    group: str
    active: bool
    def __init__(self, role: _Optional[str] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., why: _Optional[str] = ..., partners: _Optional[_Iterable[str]] = ..., group: _Optional[str] = ..., active: _Optional[bool] = ...) -> None: ...
