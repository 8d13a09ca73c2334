"""Address-mobility kinds: the ``BGPSpeaker`` and an ``AddressMobilityDomain``'s ``mobility``.

A mobility domain spans sites; each router serves one of them (``localSite``), captures the
domain's addresses homed elsewhere (``capture``, the same block a ``RemoteAddressClaim``
has) and learns and announces homes over BGP through the router's ``BGPSpeaker``. A domain
without ``mobility`` behaves as before: addresses move only with static claims.

Single-field rules live here; rules that relate fields or resources (a site's peerRef
exists, the gateway is inside the prefix, domains sharing a speaker agree) live in
``routerd.core.validation_mobility`` where they can name the exact path.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import ClassVar

from pydantic import Field, field_validator

from routerd.core.duration import parse_duration
from routerd.core.resources.base import (
    HYBRID_API,
    ResourceModel,
    Spec,
    check_duration,
    check_ipv4,
    check_ipv4_cidr,
    one_of,
)
from routerd.core.resources.capture import Capture

U32 = 2**32 - 1
SITE_KINDS = ("onprem", "cloud")
MIN_INVENTORY_INTERVAL = 1.0
"""Seconds: a cloud site reads its provider's inventory at most this often."""
SPEAKER_IMPLEMENTATIONS = ("gobgp",)
RESERVED_SPEAKERS = {
    name: (
        f"implementation {name!r} is not supported yet: routerd drives gobgpd (installed by "
        "tools/bootstrap); use implementation: gobgp. Route reflectors may run any BGP "
        "implementation"
    )
    for name in ("frr", "bird", "bird2", "exabgp")
}
_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")


def check_mac(v: str) -> str:
    """A unicast Ethernet address written ``02:00:00:28:08:fe`` (lower-cased)."""
    mac = v.strip().lower().replace("-", ":")
    if not _MAC.match(mac):
        raise ValueError(f"{v!r} is not a MAC address (six hex pairs, like 02:00:00:28:08:fe)")
    if int(mac[:2], 16) & 1:
        raise ValueError(
            f"{v!r} is a multicast MAC address (lowest bit of the first octet set); use a "
            "unicast, locally administered one such as 02:00:00:28:08:fe"
        )
    return mac


def _whole_seconds(field: str, low: int, high: int) -> Callable[[str], str]:
    def check(v: str) -> str:
        check_duration(v)
        seconds = parse_duration(v)
        if seconds != int(seconds) or not low <= seconds <= high:
            raise ValueError(
                f"{field} {v!r} must be whole seconds between {low}s and {high}s (BGP "
                "carries timers in seconds)"
            )
        return v

    return check


class BGPNeighbor(Spec):
    """One session of the speaker: a route reflector, or a site peered directly."""

    address: str
    description: str = ""
    hold_time: str = "9s"
    keepalive_time: str = "3s"

    _address = field_validator("address")(check_ipv4)
    _hold = field_validator("hold_time")(_whole_seconds("holdTime", 3, 65535))
    _keepalive = field_validator("keepalive_time")(_whole_seconds("keepaliveTime", 1, 21845))


class BGPSpeakerSpec(Spec):
    """The BGP speaker routerd drives on this router (one per router)."""

    implementation: str = "gobgp"
    asn: int = Field(ge=1, le=U32)
    router_id: str = Field(alias="routerID")
    listen_address: str = ""
    listen_port: int = Field(179, ge=1, le=65535)
    neighbors: tuple[BGPNeighbor, ...] = ()

    _impl = field_validator("implementation")(
        one_of("implementation", SPEAKER_IMPLEMENTATIONS, reserved=RESERVED_SPEAKERS)
    )
    _router_id = field_validator("router_id")(check_ipv4)

    @field_validator("listen_address")
    @classmethod
    def _listen(cls, v: str) -> str:
        return check_ipv4(v) if v else v


class BGPSpeaker(ResourceModel):
    KIND: ClassVar[str] = "BGPSpeaker"
    API_VERSION: ClassVar[str] = HYBRID_API
    spec: BGPSpeakerSpec


class MobilitySite(Spec):
    """One site of the domain: its identity on the wire and how to reach its router."""

    name: str
    site_id: int = Field(alias="siteID", ge=1, le=65535)
    router_ids: tuple[str, ...] = Field(alias="routerIDs", min_length=1)
    peer_ref: str = ""
    kind: str = "onprem"

    _kind = field_validator("kind")(one_of("kind", SITE_KINDS))

    @field_validator("router_ids")
    @classmethod
    def _routers(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(check_ipv4(r) for r in v)

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not re.match(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", v):
            raise ValueError(
                f"site name {v!r}: use lower-case letters, digits and '-' (like site-a)"
            )
        return v


class AnycastGateway(Spec):
    """The default gateway every on-prem site answers for, with the same IP and MAC."""

    address: str
    mac: str

    _address = field_validator("address")(check_ipv4)
    _mac = field_validator("mac")(check_mac)


class PresenceTuning(Spec):
    """How a router decides that a host holding an address is still there.

    On-prem: ARP probes every ``probeInterval``. In a cloud site: a read of the provider's
    inventory every ``inventoryInterval`` (each read is a probe round; ``absentAfter`` reads
    in a row without the address on a VM's NIC make it absent).
    """

    probe_interval: str = "1s"
    absent_after: int = Field(3, ge=1, le=100)
    ignore_macs: tuple[str, ...] = Field((), alias="ignoreMACs")
    inventory_interval: str = "2s"

    _interval = field_validator("probe_interval")(check_duration)

    @field_validator("inventory_interval")
    @classmethod
    def _inventory(cls, v: str) -> str:
        check_duration(v)
        if parse_duration(v) < MIN_INVENTORY_INTERVAL:
            raise ValueError(
                f"inventoryInterval {v!r} is below {MIN_INVENTORY_INTERVAL:g}s: every read is a "
                "provider API call (rate limits); use 1s or more"
            )
        return v

    @field_validator("ignore_macs")
    @classmethod
    def _macs(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(check_mac(m) for m in v)


class MobilitySpec(Spec):
    """``AddressMobilityDomain.spec.mobility``: this router's part in a mobile domain."""

    local_site: str
    speaker_ref: str
    capture: Capture
    gateway: AnycastGateway | None = None
    exclude: tuple[str, ...] = ()
    presence: PresenceTuning = PresenceTuning()
    stale_time: str = "120s"
    sites: tuple[MobilitySite, ...] = Field(min_length=2)

    _stale = field_validator("stale_time")(check_duration)

    @field_validator("exclude")
    @classmethod
    def _exclude(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        out = []
        for entry in v:
            text = entry if "/" in entry else f"{entry}/32"
            if check_ipv4_cidr(text) == "default":
                raise ValueError("exclude: 'default' is not a prefix; list addresses or prefixes")
            out.append(check_ipv4_cidr(text))
        return tuple(out)
