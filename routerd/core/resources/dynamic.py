"""Dynamic-config and plugin kinds.

``config.routerd.net/v1alpha1``: DynamicOverridePolicy (startup-authored: who may mask
what) and DynamicConfigPart (stored runtime fragments; never in startup YAML).
``plugin.routerd.net/v1alpha1``: Plugin and DynamicConfigSource.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, field_validator, model_validator

from routerd.core.duration import parse_duration
from routerd.core.resources.base import (
    CONFIG_API,
    PLUGIN_API,
    ResourceModel,
    Spec,
    check_duration,
    one_of,
)

PLUGIN_CAPABILITIES = ("observe.cloud", "propose.dynamicConfig")


def check_source(v: str) -> str:
    """A dynamic source identity is required (``Plugin/<name>`` for plugins)."""
    if not v:
        raise ValueError("source is required (for example Plugin/cloud-inventory)")
    return v


class TargetRef(Spec):
    api_version: str
    kind: str
    name: str

    @field_validator("api_version", "kind", "name")
    @classmethod
    def _required(cls, v: str) -> str:
        if not v:
            raise ValueError("apiVersion, kind and name of a target are all required")
        return v

    @property
    def identity(self) -> tuple[str, str, str]:
        return (self.api_version, self.kind, self.name)

    def __str__(self) -> str:
        return f"{self.kind}/{self.name}"


class AllowRule(Spec):
    source: str
    operations: tuple[str, ...] = ("mask",)
    targets: tuple[TargetRef, ...] = ()

    _source = field_validator("source")(check_source)

    @field_validator("operations")
    @classmethod
    def _ops(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        for op in v:
            if op != "mask":
                raise ValueError(
                    f"operation {op!r} is not supported; the only dynamic override "
                    "operation is mask (suppress a startup resource while a part is active)"
                )
        return v


class DynamicOverridePolicySpec(Spec):
    allow: tuple[AllowRule, ...]

    def allows(self, source: str, op: str, target: tuple[str, str, str]) -> bool:
        return any(
            r.source == source
            and op in r.operations
            and any(t.identity == target for t in r.targets)
            for r in self.allow
        )


class DynamicOverridePolicy(ResourceModel):
    KIND: ClassVar[str] = "DynamicOverridePolicy"
    API_VERSION: ClassVar[str] = CONFIG_API
    spec: DynamicOverridePolicySpec


class Directive(Spec):
    op: str
    target: TargetRef
    reason: str = ""

    _op = field_validator("op")(one_of("op", ("mask",)))


class DynamicConfigPartSpec(Spec):
    """Stored form of a dynamic fragment (``routerctl dynamic put FILE`` accepts it)."""

    source: str
    generation: int = Field(0, ge=0)
    observed_at: str = ""
    expires_at: str = ""
    received_at: str = ""
    ttl: str = ""
    digest: str = ""
    resources: tuple[dict[str, Any], ...] = ()
    directives: tuple[Directive, ...] = ()

    _source = field_validator("source")(check_source)

    @field_validator("ttl")
    @classmethod
    def _ttl(cls, v: str) -> str:
        return check_duration(v) if v else v


class DynamicConfigPart(ResourceModel):
    KIND: ClassVar[str] = "DynamicConfigPart"
    API_VERSION: ClassVar[str] = CONFIG_API
    spec: DynamicConfigPartSpec


class Trigger(Spec):
    type: str
    every: str = ""
    topic: str = ""

    _type = field_validator("type")(one_of("trigger type", ("interval", "event")))

    @field_validator("every")
    @classmethod
    def _every(cls, v: str) -> str:
        return check_duration(v) if v else v

    @model_validator(mode="after")
    def _interval_needs_every(self) -> Trigger:
        if self.type == "interval" and not self.every:
            raise ValueError("an interval trigger needs every: (for example every: 240s)")
        return self


class PluginSpec(Spec):
    executable: str
    timeout: str = "10s"
    env: dict[str, str] = Field(default_factory=dict)
    capabilities: tuple[str, ...] = ()
    triggers: tuple[Trigger, ...] = ()

    @field_validator("executable")
    @classmethod
    def _exe(cls, v: str) -> str:
        if not v.startswith("/"):
            raise ValueError(
                f"executable {v!r} must be an absolute path (plugins run without a shell "
                "or PATH lookup), for example /usr/local/libexec/routerd/plugins/x/bin/x"
            )
        return v

    _timeout = field_validator("timeout")(check_duration)

    @field_validator("capabilities")
    @classmethod
    def _caps(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        check = one_of("capability", PLUGIN_CAPABILITIES)
        return tuple(check(c) for c in v)

    @property
    def timeout_seconds(self) -> float:
        return parse_duration(self.timeout)


class Plugin(ResourceModel):
    KIND: ClassVar[str] = "Plugin"
    API_VERSION: ClassVar[str] = PLUGIN_API
    spec: PluginSpec


class MergePolicy(Spec):
    conflict: str = "reject"

    _conflict = field_validator("conflict")(
        one_of("mergePolicy.conflict", ("reject",), allow_empty=True)
    )


class DynamicConfigSourceSpec(Spec):
    plugin_ref: str
    ttl: str
    merge_policy: MergePolicy = MergePolicy()
    triggers: tuple[Trigger, ...] = ()

    _ttl = field_validator("ttl")(check_duration)

    @field_validator("plugin_ref")
    @classmethod
    def _ref(cls, v: str) -> str:
        if not v:
            raise ValueError("pluginRef is required: name the Plugin this source runs")
        return v

    @property
    def ttl_seconds(self) -> float:
        return parse_duration(self.ttl)


class DynamicConfigSource(ResourceModel):
    KIND: ClassVar[str] = "DynamicConfigSource"
    API_VERSION: ClassVar[str] = PLUGIN_API
    spec: DynamicConfigSourceSpec
