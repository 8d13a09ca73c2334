import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from routerd.v1 import config_pb2 as _config_pb2
from routerd.v1 import redundancy_pb2 as _redundancy_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Status(_message.Message):
    __slots__ = ("version", "router", "backend", "config_path", "config_generation", "started_at", "uptime", "claim_counts", "claims_total", "pass_count", "last_pass_at", "last_pass_duration", "last_pass_changes", "dynamic_parts_active", "dynamic_parts_rejected", "journal_seq", "health", "config_file", "state_store_fault", "pair", "last_pass_phases")
    class ClaimCountsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ROUTER_FIELD_NUMBER: _ClassVar[int]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    CONFIG_PATH_FIELD_NUMBER: _ClassVar[int]
    CONFIG_GENERATION_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    UPTIME_FIELD_NUMBER: _ClassVar[int]
    CLAIM_COUNTS_FIELD_NUMBER: _ClassVar[int]
    CLAIMS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    PASS_COUNT_FIELD_NUMBER: _ClassVar[int]
    LAST_PASS_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_PASS_DURATION_FIELD_NUMBER: _ClassVar[int]
    LAST_PASS_CHANGES_FIELD_NUMBER: _ClassVar[int]
    DYNAMIC_PARTS_ACTIVE_FIELD_NUMBER: _ClassVar[int]
    DYNAMIC_PARTS_REJECTED_FIELD_NUMBER: _ClassVar[int]
    JOURNAL_SEQ_FIELD_NUMBER: _ClassVar[int]
    HEALTH_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FILE_FIELD_NUMBER: _ClassVar[int]
    STATE_STORE_FAULT_FIELD_NUMBER: _ClassVar[int]
    PAIR_FIELD_NUMBER: _ClassVar[int]
    LAST_PASS_PHASES_FIELD_NUMBER: _ClassVar[int]
    version: str
    router: str
    backend: str
    config_path: str
    config_generation: int
    started_at: _timestamp_pb2.Timestamp
    uptime: _duration_pb2.Duration
    claim_counts: _containers.ScalarMap[str, int]
    claims_total: int
    pass_count: int
    last_pass_at: _timestamp_pb2.Timestamp
    last_pass_duration: _duration_pb2.Duration
    last_pass_changes: int
    dynamic_parts_active: int
    dynamic_parts_rejected: int
    journal_seq: int
    health: _containers.RepeatedCompositeFieldContainer[HealthWarning]
    config_file: ConfigFileStatus
    state_store_fault: str
    pair: _redundancy_pb2.PairRole
    last_pass_phases: _containers.RepeatedCompositeFieldContainer[PassPhase]
    def __init__(self, version: _Optional[str] = ..., router: _Optional[str] = ..., backend: _Optional[str] = ..., config_path: _Optional[str] = ..., config_generation: _Optional[int] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., uptime: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., claim_counts: _Optional[_Mapping[str, int]] = ..., claims_total: _Optional[int] = ..., pass_count: _Optional[int] = ..., last_pass_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_pass_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., last_pass_changes: _Optional[int] = ..., dynamic_parts_active: _Optional[int] = ..., dynamic_parts_rejected: _Optional[int] = ..., journal_seq: _Optional[int] = ..., health: _Optional[_Iterable[_Union[HealthWarning, _Mapping]]] = ..., config_file: _Optional[_Union[ConfigFileStatus, _Mapping]] = ..., state_store_fault: _Optional[str] = ..., pair: _Optional[_Union[_redundancy_pb2.PairRole, _Mapping]] = ..., last_pass_phases: _Optional[_Iterable[_Union[PassPhase, _Mapping]]] = ...) -> None: ...

class PassPhase(_message.Message):
    __slots__ = ("phase", "duration")
    PHASE_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    phase: str
    duration: _duration_pb2.Duration
    def __init__(self, phase: _Optional[str] = ..., duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class ConfigFileStatus(_message.Message):
    __slots__ = ("differs", "reason", "last_reload", "last_reload_at", "last_reload_errors", "last_success_at")
    DIFFERS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    LAST_RELOAD_FIELD_NUMBER: _ClassVar[int]
    LAST_RELOAD_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_RELOAD_ERRORS_FIELD_NUMBER: _ClassVar[int]
    LAST_SUCCESS_AT_FIELD_NUMBER: _ClassVar[int]
    differs: bool
    reason: str
    last_reload: str
    last_reload_at: _timestamp_pb2.Timestamp
    last_reload_errors: _containers.RepeatedCompositeFieldContainer[_config_pb2.ConfigIssue]
    last_success_at: _timestamp_pb2.Timestamp
    def __init__(self, differs: _Optional[bool] = ..., reason: _Optional[str] = ..., last_reload: _Optional[str] = ..., last_reload_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_reload_errors: _Optional[_Iterable[_Union[_config_pb2.ConfigIssue, _Mapping]]] = ..., last_success_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class HealthWarning(_message.Message):
    __slots__ = ("code", "severity", "subject", "message")
    CODE_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    code: str
    severity: str
    subject: str
    message: str
    def __init__(self, code: _Optional[str] = ..., severity: _Optional[str] = ..., subject: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...
