"""Common shape of every routerd resource: the envelope, metadata and typed spec base.

Every resource is ``{apiVersion, kind, metadata: {name, ...}, spec, status?}`` exactly as the
Go implementation routerd succeeds writes it, so existing ``Router`` YAML loads unchanged. Specs
are frozen and reject unknown fields: a typo must be an error a person sees, never a silently
ignored key.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from routerd.core.duration import parse_duration

ROUTER_API_VERSION = "routerd.net/v1alpha1"
NET_API = "net.routerd.net/v1alpha1"
SYSTEM_API = "system.routerd.net/v1alpha1"
HYBRID_API = "hybrid.routerd.net/v1alpha1"
CONFIG_API = "config.routerd.net/v1alpha1"
PLUGIN_API = "plugin.routerd.net/v1alpha1"

_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]{0,251}[A-Za-z0-9])?$")


class Spec(BaseModel):
    """Base of every spec: frozen, camelCase keys, unknown keys rejected."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        populate_by_name=True,
        alias_generator=to_camel,
        str_strip_whitespace=True,
    )


class OwnerRef(Spec):
    """Reference to the resource that produced this one (lowering, dynamic parts)."""

    api_version: str = ""
    kind: str
    name: str


class Metadata(Spec):
    """Resource metadata; ``name`` is the identity together with apiVersion and kind."""

    name: str
    owner_refs: tuple[OwnerRef, ...] = ()
    annotations: dict[str, str] = Field(default_factory=dict)
    labels: dict[str, str] = Field(default_factory=dict)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError(
                f"invalid name {v!r}: use letters, digits, '.', '_' or '-' "
                "(start and end with a letter or digit, at most 253 characters)"
            )
        return v


class Resource:
    """What every resource offers, however it is stored.

    Most kinds are pydantic models (``ResourceModel``). ``RemoteAddressClaim`` is a compact
    slotted record instead: a config may hold 100,000 of them, and a pydantic model tree
    costs ~3 KB per claim where the record costs a few hundred bytes. Code that handles
    "any resource" reads it through this interface only.
    """

    __slots__ = ()

    KIND: ClassVar[str] = ""
    API_VERSION: ClassVar[str] = ""

    if TYPE_CHECKING:  # fields of the subclasses (pydantic fields must not be shadowed)

        @property
        def api_version(self) -> str: ...
        @property
        def kind(self) -> str: ...
        @property
        def metadata(self) -> Metadata: ...
        @property
        def spec(self) -> Any: ...
        @property
        def status(self) -> dict[str, Any] | None: ...
        @property
        def name(self) -> str: ...

    @property
    def ref(self) -> str:
        """``Kind/name``, the form every message uses."""
        return f"{self.kind}/{self.name}"

    @property
    def identity(self) -> tuple[str, str, str]:
        return (self.api_version, self.kind, self.name)

    def to_doc(self) -> dict[str, Any]:
        """The YAML/JSON document form (camelCase keys, defaults omitted where unset)."""
        doc: dict[str, Any] = {
            "apiVersion": self.api_version,
            "kind": self.kind,
            "metadata": self.metadata.model_dump(by_alias=True, exclude_defaults=True),
            "spec": self.spec.model_dump(by_alias=True, exclude_defaults=True),
        }
        return doc


class ResourceModel(BaseModel, Resource):
    """A resource kind validated and stored as a pydantic model. Subclasses fix ``KIND``,
    ``API_VERSION`` and the spec type."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    api_version: str = Field(alias="apiVersion")
    kind: str
    metadata: Metadata
    spec: Any
    status: dict[str, Any] | None = None

    @property
    def name(self) -> str:
        return self.metadata.name


# ---------------------------------------------------------------------------------------
# Field helpers shared by the kinds


def one_of(
    field: str,
    allowed: Iterable[str],
    *,
    reserved: dict[str, str] | None = None,
    allow_empty: bool = False,
) -> Callable[[str], str]:
    """Build a validator for a string enum with a message that lists the choices."""
    choices = tuple(allowed)
    reserved = reserved or {}

    def check(v: str) -> str:
        if v == "" and allow_empty:
            return v
        if v in reserved:
            raise ValueError(reserved[v])
        if v not in choices:
            raise ValueError(f"{field} {v!r} is not supported; use one of: {', '.join(choices)}")
        return v

    return check


def check_duration(v: str, *, positive: bool = True) -> str:
    seconds = parse_duration(v)
    if positive and seconds <= 0:
        raise ValueError(f"duration {v!r} must be greater than zero (for example 30s)")
    return v


def check_ipv4(v: str) -> str:
    try:
        return str(ipaddress.IPv4Address(v))
    except ValueError:
        raise ValueError(f"{v!r} is not an IPv4 address (for example 10.40.8.1)") from None


def check_ipv4_cidr(v: str) -> str:
    """An IPv4 network in CIDR form; host bits must be zero."""
    if v.strip() == "default":
        return "default"  # callers that forbid default routes say so themselves
    try:
        return str(ipaddress.IPv4Network(v, strict=True))
    except ValueError as e:
        raise ValueError(
            f"{v!r} is not an IPv4 prefix in CIDR form (for example 10.40.8.0/24): {e}"
        ) from None


def check_ipv4_interface(v: str) -> str:
    """An address with prefix length (``10.255.40.1/32``, ``192.0.2.5/24``)."""
    try:
        return str(ipaddress.IPv4Interface(v))
    except ValueError:
        raise ValueError(
            f"{v!r} is not an IPv4 address with prefix length (for example 10.255.40.1/32)"
        ) from None


def check_host32(v: str) -> str:
    """A single IPv4 address written as ``a.b.c.d/32`` (as configs of the Go implementation do)."""
    if "/" not in v:
        try:
            ipaddress.IPv4Address(v)
        except ValueError:
            raise ValueError(f"{v!r} is not an IPv4 /32 (for example 10.40.8.31/32)") from None
        raise ValueError(f"address {v!r} must be written as a /32: use {v}/32")
    try:
        net = ipaddress.IPv4Network(v, strict=True)
    except ValueError:
        raise ValueError(f"{v!r} is not an IPv4 /32 (for example 10.40.8.31/32)") from None
    if net.prefixlen != 32:
        raise ValueError(
            f"address {v!r} is a /{net.prefixlen}; a claim moves exactly one address: "
            f"use a /32 such as {net.network_address}/32"
        )
    return str(net)


def bare_name(ref: str, kind: str) -> str:
    """Accept both ``name`` and ``Kind/name`` references; return the bare name."""
    prefix = kind + "/"
    return ref[len(prefix) :] if ref.startswith(prefix) else ref
