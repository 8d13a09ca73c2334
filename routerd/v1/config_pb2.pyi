import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ConfigIssue(_message.Message):
    __slots__ = ("resource", "path", "message", "line")
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    LINE_FIELD_NUMBER: _ClassVar[int]
    resource: str
    path: str
    message: str
    line: int
    def __init__(self, resource: _Optional[str] = ..., path: _Optional[str] = ..., message: _Optional[str] = ..., line: _Optional[int] = ...) -> None: ...

class ValidateConfigRequest(_message.Message):
    __slots__ = ("config_yaml", "file_name")
    CONFIG_YAML_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    config_yaml: str
    file_name: str
    def __init__(self, config_yaml: _Optional[str] = ..., file_name: _Optional[str] = ...) -> None: ...

class ValidateConfigResponse(_message.Message):
    __slots__ = ("valid", "errors", "warnings")
    VALID_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    valid: bool
    errors: _containers.RepeatedCompositeFieldContainer[ConfigIssue]
    warnings: _containers.RepeatedCompositeFieldContainer[ConfigIssue]
    def __init__(self, valid: _Optional[bool] = ..., errors: _Optional[_Iterable[_Union[ConfigIssue, _Mapping]]] = ..., warnings: _Optional[_Iterable[_Union[ConfigIssue, _Mapping]]] = ...) -> None: ...

class PlanChangesRequest(_message.Message):
    __slots__ = ("config_yaml",)
    CONFIG_YAML_FIELD_NUMBER: _ClassVar[int]
    config_yaml: str
    def __init__(self, config_yaml: _Optional[str] = ...) -> None: ...

class Change(_message.Message):
    __slots__ = ("op", "key", "object", "was", "owners")
    OP_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    OBJECT_FIELD_NUMBER: _ClassVar[int]
    WAS_FIELD_NUMBER: _ClassVar[int]
    OWNERS_FIELD_NUMBER: _ClassVar[int]
    op: str
    key: str
    object: str
    was: str
    owners: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, op: _Optional[str] = ..., key: _Optional[str] = ..., object: _Optional[str] = ..., was: _Optional[str] = ..., owners: _Optional[_Iterable[str]] = ...) -> None: ...

class Plan(_message.Message):
    __slots__ = ("router", "backend", "config_generation", "changes", "add", "replace", "remove")
    ROUTER_FIELD_NUMBER: _ClassVar[int]
    BACKEND_FIELD_NUMBER: _ClassVar[int]
    CONFIG_GENERATION_FIELD_NUMBER: _ClassVar[int]
    CHANGES_FIELD_NUMBER: _ClassVar[int]
    ADD_FIELD_NUMBER: _ClassVar[int]
    REPLACE_FIELD_NUMBER: _ClassVar[int]
    REMOVE_FIELD_NUMBER: _ClassVar[int]
    router: str
    backend: str
    config_generation: int
    changes: _containers.RepeatedCompositeFieldContainer[Change]
    add: int
    replace: int
    remove: int
    def __init__(self, router: _Optional[str] = ..., backend: _Optional[str] = ..., config_generation: _Optional[int] = ..., changes: _Optional[_Iterable[_Union[Change, _Mapping]]] = ..., add: _Optional[int] = ..., replace: _Optional[int] = ..., remove: _Optional[int] = ...) -> None: ...

class GetEffectiveConfigRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class AddedResource(_message.Message):
    __slots__ = ("source", "generation", "api_version", "kind", "name")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    source: str
    generation: int
    api_version: str
    kind: str
    name: str
    def __init__(self, source: _Optional[str] = ..., generation: _Optional[int] = ..., api_version: _Optional[str] = ..., kind: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class SuppressedResource(_message.Message):
    __slots__ = ("api_version", "kind", "name", "masked_by", "masked_until", "reason")
    API_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    MASKED_BY_FIELD_NUMBER: _ClassVar[int]
    MASKED_UNTIL_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    api_version: str
    kind: str
    name: str
    masked_by: _containers.RepeatedScalarFieldContainer[str]
    masked_until: _timestamp_pb2.Timestamp
    reason: str
    def __init__(self, api_version: _Optional[str] = ..., kind: _Optional[str] = ..., name: _Optional[str] = ..., masked_by: _Optional[_Iterable[str]] = ..., masked_until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class RejectedPart(_message.Message):
    __slots__ = ("source", "generation", "reasons")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    source: str
    generation: int
    reasons: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, source: _Optional[str] = ..., generation: _Optional[int] = ..., reasons: _Optional[_Iterable[str]] = ...) -> None: ...

class EffectiveConfig(_message.Message):
    __slots__ = ("config_generation", "config", "active", "expired", "superseded", "added", "suppressed", "rejected", "next_change_at")
    CONFIG_GENERATION_FIELD_NUMBER: _ClassVar[int]
    CONFIG_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    EXPIRED_FIELD_NUMBER: _ClassVar[int]
    SUPERSEDED_FIELD_NUMBER: _ClassVar[int]
    ADDED_FIELD_NUMBER: _ClassVar[int]
    SUPPRESSED_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    NEXT_CHANGE_AT_FIELD_NUMBER: _ClassVar[int]
    config_generation: int
    config: _struct_pb2.Struct
    active: _containers.RepeatedScalarFieldContainer[str]
    expired: _containers.RepeatedScalarFieldContainer[str]
    superseded: _containers.RepeatedScalarFieldContainer[str]
    added: _containers.RepeatedCompositeFieldContainer[AddedResource]
    suppressed: _containers.RepeatedCompositeFieldContainer[SuppressedResource]
    rejected: _containers.RepeatedCompositeFieldContainer[RejectedPart]
    next_change_at: _timestamp_pb2.Timestamp
    def __init__(self, config_generation: _Optional[int] = ..., config: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., active: _Optional[_Iterable[str]] = ..., expired: _Optional[_Iterable[str]] = ..., superseded: _Optional[_Iterable[str]] = ..., added: _Optional[_Iterable[_Union[AddedResource, _Mapping]]] = ..., suppressed: _Optional[_Iterable[_Union[SuppressedResource, _Mapping]]] = ..., rejected: _Optional[_Iterable[_Union[RejectedPart, _Mapping]]] = ..., next_change_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ReloadConfigRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ReloadConfigResponse(_message.Message):
    __slots__ = ("config_path", "resources", "warnings")
    CONFIG_PATH_FIELD_NUMBER: _ClassVar[int]
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    config_path: str
    resources: int
    warnings: _containers.RepeatedCompositeFieldContainer[ConfigIssue]
    def __init__(self, config_path: _Optional[str] = ..., resources: _Optional[int] = ..., warnings: _Optional[_Iterable[_Union[ConfigIssue, _Mapping]]] = ...) -> None: ...

class DynamicPart(_message.Message):
    __slots__ = ("source", "generation", "status", "reasons", "received_at", "expires_at", "ttl", "observed_at", "digest", "resources", "directives", "document")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    GENERATION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASONS_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    TTL_FIELD_NUMBER: _ClassVar[int]
    OBSERVED_AT_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    RESOURCES_FIELD_NUMBER: _ClassVar[int]
    DIRECTIVES_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    source: str
    generation: int
    status: str
    reasons: _containers.RepeatedScalarFieldContainer[str]
    received_at: _timestamp_pb2.Timestamp
    expires_at: _timestamp_pb2.Timestamp
    ttl: _duration_pb2.Duration
    observed_at: str
    digest: str
    resources: int
    directives: int
    document: _struct_pb2.Struct
    def __init__(self, source: _Optional[str] = ..., generation: _Optional[int] = ..., status: _Optional[str] = ..., reasons: _Optional[_Iterable[str]] = ..., received_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ttl: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., observed_at: _Optional[str] = ..., digest: _Optional[str] = ..., resources: _Optional[int] = ..., directives: _Optional[int] = ..., document: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class PutDynamicPartRequest(_message.Message):
    __slots__ = ("document",)
    DOCUMENT_FIELD_NUMBER: _ClassVar[int]
    document: str
    def __init__(self, document: _Optional[str] = ...) -> None: ...

class PutDynamicPartResponse(_message.Message):
    __slots__ = ("part",)
    PART_FIELD_NUMBER: _ClassVar[int]
    part: DynamicPart
    def __init__(self, part: _Optional[_Union[DynamicPart, _Mapping]] = ...) -> None: ...

class ListDynamicPartsRequest(_message.Message):
    __slots__ = ("source",)
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    source: str
    def __init__(self, source: _Optional[str] = ...) -> None: ...

class ListDynamicPartsResponse(_message.Message):
    __slots__ = ("parts",)
    PARTS_FIELD_NUMBER: _ClassVar[int]
    parts: _containers.RepeatedCompositeFieldContainer[DynamicPart]
    def __init__(self, parts: _Optional[_Iterable[_Union[DynamicPart, _Mapping]]] = ...) -> None: ...

class DeleteDynamicSourceRequest(_message.Message):
    __slots__ = ("source",)
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    source: str
    def __init__(self, source: _Optional[str] = ...) -> None: ...

class DeleteDynamicSourceResponse(_message.Message):
    __slots__ = ("deleted",)
    DELETED_FIELD_NUMBER: _ClassVar[int]
    deleted: int
    def __init__(self, deleted: _Optional[int] = ...) -> None: ...
