from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RunDoctorRequest(_message.Message):
    __slots__ = ("area", "probe", "no_host")
    AREA_FIELD_NUMBER: _ClassVar[int]
    PROBE_FIELD_NUMBER: _ClassVar[int]
    NO_HOST_FIELD_NUMBER: _ClassVar[int]
    area: str
    probe: bool
    no_host: bool
    def __init__(self, area: _Optional[str] = ..., probe: _Optional[bool] = ..., no_host: _Optional[bool] = ...) -> None: ...

class Finding(_message.Message):
    __slots__ = ("area", "name", "status", "detail", "remedy", "claim")
    AREA_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    REMEDY_FIELD_NUMBER: _ClassVar[int]
    CLAIM_FIELD_NUMBER: _ClassVar[int]
    area: str
    name: str
    status: str
    detail: str
    remedy: str
    claim: str
    def __init__(self, area: _Optional[str] = ..., name: _Optional[str] = ..., status: _Optional[str] = ..., detail: _Optional[str] = ..., remedy: _Optional[str] = ..., claim: _Optional[str] = ...) -> None: ...

class DoctorReport(_message.Message):
    __slots__ = ("area", "overall", "counts", "findings")
    class CountsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    AREA_FIELD_NUMBER: _ClassVar[int]
    OVERALL_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    FINDINGS_FIELD_NUMBER: _ClassVar[int]
    area: str
    overall: str
    counts: _containers.ScalarMap[str, int]
    findings: _containers.RepeatedCompositeFieldContainer[Finding]
    def __init__(self, area: _Optional[str] = ..., overall: _Optional[str] = ..., counts: _Optional[_Mapping[str, int]] = ..., findings: _Optional[_Iterable[_Union[Finding, _Mapping]]] = ...) -> None: ...
