"""Supporting network and system kinds the SAM dataplane relies on.

``net.routerd.net/v1alpha1``: Interface, WireGuardInterface, WireGuardPeer, IPv4Route,
IPv4StaticAddress; ``system.routerd.net/v1alpha1``: Sysctl. Field names follow the Go
routerd so existing configs load. Inline secrets (``privateKey``, ``presharedKey``) are
refused: keys live only in their key files (D11, docs/decisions.md).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import ClassVar

from pydantic import AliasChoices, Field, field_validator

from routerd.core.resources.base import (
    NET_API,
    SYSTEM_API,
    ResourceModel,
    Spec,
    check_ipv4,
    check_ipv4_cidr,
    check_ipv4_interface,
    one_of,
)

_IFNAME = re.compile(r"^[A-Za-z0-9_.@:-]{1,15}$")
_INLINE_SECRET = (
    "inline {what} is not accepted: a key in the config file ends up in backups, logs and "
    "diffs; write it to a file readable only by root and set {file_field} instead "
    "(routerd generates a missing private key file itself)"
)


def no_inline_secret(what: str, file_field: str) -> Callable[[str], str]:
    """A validator refusing an inline key (D11): keys live only in their key files."""

    def check(v: str) -> str:
        if v:
            raise ValueError(_INLINE_SECRET.format(what=what, file_field=file_field))
        return v

    return check


def check_ifname(v: str) -> str:
    if v and not _IFNAME.match(v):
        raise ValueError(f"{v!r} is not a Linux interface name (1-15 characters, no spaces or '/')")
    return v


def check_wg_key(v: str) -> str:
    try:
        raw = base64.b64decode(v, validate=True)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise ValueError(
            f"{v!r} is not a WireGuard public key (44 base64 characters, as printed by wg pubkey)"
        )
    return v


class InterfaceSpec(Spec):
    ifname: str = Field("", validation_alias=AliasChoices("ifname", "ifName"))
    admin_up: bool = False
    mtu: int = Field(0, ge=0, le=9216)
    managed: bool = False
    owner: str = ""

    _ifname = field_validator("ifname")(check_ifname)
    _owner = field_validator("owner")(one_of("owner", ("routerd", "external"), allow_empty=True))


class Interface(ResourceModel):
    KIND: ClassVar[str] = "Interface"
    API_VERSION: ClassVar[str] = NET_API
    spec: InterfaceSpec

    @property
    def os_name(self) -> str:
        return self.spec.ifname or self.metadata.name


class WireGuardInterfaceSpec(Spec):
    private_key: str = ""
    private_key_file: str = ""
    listen_port: int = Field(0, ge=0, le=65535)
    mtu: int = Field(0, ge=0, le=9216)
    fwmark: int = Field(0, ge=0, le=4294967295)

    _no_inline = field_validator("private_key")(no_inline_secret("privateKey", "privateKeyFile"))

    @field_validator("private_key_file")
    @classmethod
    def _abs(cls, v: str) -> str:
        if v and not v.startswith("/"):
            raise ValueError(f"privateKeyFile {v!r} must be an absolute path")
        return v

    @field_validator("mtu")
    @classmethod
    def _mtu(cls, v: int) -> int:
        if v and v < 576:
            raise ValueError(f"mtu {v} is below 576; use at least 1280 for a tunnel")
        return v


class WireGuardInterface(ResourceModel):
    KIND: ClassVar[str] = "WireGuardInterface"
    API_VERSION: ClassVar[str] = NET_API
    spec: WireGuardInterfaceSpec


class WireGuardPeerSpec(Spec):
    interface: str
    public_key: str
    allowed_ips: tuple[str, ...] = Field((), alias="allowedIPs")
    endpoint: str = ""
    persistent_keepalive: int = Field(0, ge=0, le=65535)
    preshared_key: str = ""
    preshared_key_file: str = ""

    _key = field_validator("public_key")(check_wg_key)

    @field_validator("allowed_ips")
    @classmethod
    def _allowed(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(check_ipv4_cidr(x) for x in v)

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, v: str) -> str:
        if not v:
            return v
        host, sep, port = v.rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"endpoint {v!r} must be HOST:PORT (for example 203.0.113.10:51820)")
        return v

    _no_inline = field_validator("preshared_key")(
        no_inline_secret("presharedKey", "presharedKeyFile")
    )


class WireGuardPeer(ResourceModel):
    KIND: ClassVar[str] = "WireGuardPeer"
    API_VERSION: ClassVar[str] = NET_API
    spec: WireGuardPeerSpec


class IPv4RouteSpec(Spec):
    destination: str
    type: str = "unicast"
    device: str = ""
    gateway: str = ""
    metric: int = Field(0, ge=0)

    _dest = field_validator("destination")(check_ipv4_cidr)
    _type = field_validator("type")(one_of("type", ("unicast", "blackhole")))

    @field_validator("gateway")
    @classmethod
    def _gw(cls, v: str) -> str:
        return check_ipv4(v) if v else v


class IPv4Route(ResourceModel):
    KIND: ClassVar[str] = "IPv4Route"
    API_VERSION: ClassVar[str] = NET_API
    spec: IPv4RouteSpec


class IPv4StaticAddressSpec(Spec):
    interface: str
    address: str
    exclusive: bool = False
    allow_overlap: bool = False
    allow_overlap_reason: str = ""

    _addr = field_validator("address")(check_ipv4_interface)


class IPv4StaticAddress(ResourceModel):
    KIND: ClassVar[str] = "IPv4StaticAddress"
    API_VERSION: ClassVar[str] = NET_API
    spec: IPv4StaticAddressSpec


class SysctlSpec(Spec):
    key: str
    value: str
    runtime: bool = True
    persistent: bool = False

    @field_validator("value", mode="before")
    @classmethod
    def _value(cls, v: object) -> object:
        # YAML reads `value: 1` as an int; the kernel interface is text.
        return str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v

    @field_validator("key")
    @classmethod
    def _key(cls, v: str) -> str:
        if not re.match(r"^[a-z0-9_]+(\.[A-Za-z0-9_@:-]+)+$", v):
            raise ValueError(f"{v!r} is not a sysctl key (for example net.ipv4.ip_forward)")
        return v


class Sysctl(ResourceModel):
    KIND: ClassVar[str] = "Sysctl"
    API_VERSION: ClassVar[str] = SYSTEM_API
    spec: SysctlSpec
