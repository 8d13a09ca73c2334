import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ListPluginsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class PluginTrigger(_message.Message):
    __slots__ = ("type", "every", "topic", "origin")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    EVERY_FIELD_NUMBER: _ClassVar[int]
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    type: str
    every: str
    topic: str
    origin: str
    def __init__(self, type: _Optional[str] = ..., every: _Optional[str] = ..., topic: _Optional[str] = ..., origin: _Optional[str] = ...) -> None: ...

class PluginRun(_message.Message):
    __slots__ = ("id", "trigger_type", "started_at", "completed_at", "status", "exit_code", "error", "generation")
    ID_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_TYPE_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    id: int
    trigger_type: str
    started_at: _timestamp_pb2.Timestamp
    completed_at: _timestamp_pb2.Timestamp
    status: str
    exit_code: int
    error: str
    generation: int
    def __init__(self, id: _Optional[int] = ..., trigger_type: _Optional[str] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., completed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., status: _Optional[str] = ..., exit_code: _Optional[int] = ..., error: _Optional[str] = ..., generation: _Optional[int] = ...) -> None: ...

class PluginInfo(_message.Message):
    __slots__ = ("name", "source", "executable", "timeout", "triggers", "ttl", "ttl_origin", "last_run", "latest_generation", "part_state", "part_expires_at")
    NAME_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    EXECUTABLE_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    TRIGGERS_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    TTL_ORIGIN_FIELD_NUMBER: _ClassVar[int]
    LAST_RUN_FIELD_NUMBER: _ClassVar[int]
    LATEST_GENERATION_FIELD_NUMBER: _ClassVar[int]
    PART_STATE_FIELD_NUMBER: _ClassVar[int]
    PART_EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    name: str
    source: str
    executable: str
    timeout: str
    triggers: _containers.RepeatedCompositeFieldContainer[PluginTrigger]
    ttl: str
    ttl_origin: str
    last_run: PluginRun
    latest_generation: int
    part_state: str
    part_expires_at: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., source: _Optional[str] = ..., executable: _Optional[str] = ..., timeout: _Optional[str] = ..., triggers: _Optional[_Iterable[_Union[PluginTrigger, _Mapping]]] = ..., ttl: _Optional[str] = ..., ttl_origin: _Optional[str] = ..., last_run: _Optional[_Union[PluginRun, _Mapping]] = ..., latest_generation: _Optional[int] = ..., part_state: _Optional[str] = ..., part_expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListPluginsResponse(_message.Message):
    __slots__ = ("plugins",)
    PLUGINS_FIELD_NUMBER: _ClassVar[int]
    plugins: _containers.RepeatedCompositeFieldContainer[PluginInfo]
    def __init__(self, plugins: _Optional[_Iterable[_Union[PluginInfo, _Mapping]]] = ...) -> None: ...

class RunPluginRequest(_message.Message):
    __slots__ = ("name", "dry_run")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    name: str
    dry_run: bool
    def __init__(self, name: _Optional[str] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class PluginRunReport(_message.Message):
    __slots__ = ("plugin", "source", "dry_run", "ok", "error", "exit_code", "duration_ms", "stdout_digest", "stderr", "stderr_truncated", "run_id", "ttl_origin", "observed_at", "part", "action_plans", "events", "part_accepted", "part_rejected_reasons")
    PLUGIN_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    STDOUT_DIGEST_FIELD_NUMBER: _ClassVar[int]
    STDERR_FIELD_NUMBER: _ClassVar[int]
    STDERR_TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    TTL_ORIGIN_FIELD_NUMBER: _ClassVar[int]
    OBSERVED_AT_FIELD_NUMBER: _ClassVar[int]
    PART_FIELD_NUMBER: _ClassVar[int]
    ACTION_PLANS_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    PART_ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    PART_REJECTED_REASONS_FIELD_NUMBER: _ClassVar[int]
    plugin: str
    source: str
    dry_run: bool
    ok: bool
    error: str
    exit_code: int
    duration_ms: int
    stdout_digest: str
    stderr: str
    stderr_truncated: bool
    run_id: int
    ttl_origin: str
    observed_at: str
    part: _struct_pb2.Struct
    action_plans: _containers.RepeatedCompositeFieldContainer[_struct_pb2.Struct]
    events: int
    part_accepted: bool
    part_rejected_reasons: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, plugin: _Optional[str] = ..., source: _Optional[str] = ..., dry_run: _Optional[bool] = ..., ok: _Optional[bool] = ..., error: _Optional[str] = ..., exit_code: _Optional[int] = ..., duration_ms: _Optional[int] = ..., stdout_digest: _Optional[str] = ..., stderr: _Optional[str] = ..., stderr_truncated: _Optional[bool] = ..., run_id: _Optional[int] = ..., ttl_origin: _Optional[str] = ..., observed_at: _Optional[str] = ..., part: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., action_plans: _Optional[_Iterable[_Union[_struct_pb2.Struct, _Mapping]]] = ..., events: _Optional[int] = ..., part_accepted: _Optional[bool] = ..., part_rejected_reasons: _Optional[_Iterable[str]] = ...) -> None: ...
