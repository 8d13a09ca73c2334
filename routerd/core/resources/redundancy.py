"""The ``RedundancyGroup`` kind: this router's membership in a VRRP router pair.

A site may have two routers. Both run VRRPv3 (keepalived, supervised by routerd) with
unicast adverts to each other; the VRRP master is the site's *active* router, the only one
that captures addresses and originates them in BGP. Single-field rules live here (each
error names its exact path, list items included); rules relating fields or resources live
in ``routerd.core.redundancy``.
"""

from __future__ import annotations

import ipaddress
from typing import Annotated, ClassVar

from pydantic import AfterValidator, Field, field_validator

from routerd.core.duration import parse_duration
from routerd.core.resources.base import HYBRID_API, ResourceModel, Spec, check_ipv4, one_of

ROLES = ("onprem", "cloud")
MIN_ADVERT = 0.01
MAX_ADVERT = 40.95  # VRRPv3 carries the interval in 12 bits of centiseconds
MAX_HOLD_DOWN = 1000.0  # keepalived's preempt_delay range
MAX_PRIORITY = 253  # 254 is the planned-takeover priority, 255 means "address owner"


def _unicast_ipv4(v: str) -> str:
    addr = ipaddress.IPv4Address(check_ipv4(v))
    if addr.is_multicast or addr.is_loopback or addr.is_unspecified or v == "255.255.255.255":
        raise ValueError(
            f"{v} is not a unicast address: name the partner router's own address on the "
            "VRRP interface (for example 10.40.8.3)"
        )
    return str(addr)


def _virtual_address(v: str) -> str:
    if "/" not in v:
        raise ValueError(
            f"{v!r} has no prefix length: write it as the LAN prefix the address belongs to "
            f"(for example {v}/24), so it is added like the router's own address"
        )
    try:
        iface = ipaddress.IPv4Interface(v)
    except ValueError:
        raise ValueError(
            f"{v!r} is not an IPv4 address with prefix length (for example 10.40.8.254/24)"
        ) from None
    ip = iface.ip
    if ip.is_multicast or ip.is_loopback or ip.is_unspecified:
        raise ValueError(f"{v} is not a unicast address; a virtual address is a host address")
    if iface.network.prefixlen < 31 and ip in (
        iface.network.network_address,
        iface.network.broadcast_address,
    ):
        raise ValueError(
            f"{v} is the network or broadcast address of {iface.network}; pick a host address"
        )
    return str(iface)


def _not_blank(v: str) -> str:
    if not v:
        raise ValueError("must not be empty: name an interface (for example ens19)")
    return v


PeerAddress = Annotated[str, AfterValidator(_unicast_ipv4)]
VirtualAddress = Annotated[str, AfterValidator(_virtual_address)]
InterfaceName = Annotated[str, AfterValidator(_not_blank)]


def advert_seconds(v: str) -> float:
    """Validate an advert interval (10 ms steps, 10 ms to 40.95 s) and return seconds."""
    seconds = parse_duration(v)
    if not MIN_ADVERT <= seconds <= MAX_ADVERT:
        raise ValueError(
            f"advertInterval {v!r} is outside 10ms..40.95s (VRRPv3 limits); 100ms detects a "
            "failed partner in about 0.3 s"
        )
    centis = seconds * 100
    if abs(centis - round(centis)) > 1e-6:
        raise ValueError(
            f"advertInterval {v!r} is not a multiple of 10ms (VRRPv3 counts centiseconds); "
            f"use {round(centis) * 10}ms"
        )
    return round(centis) / 100


def hold_down_seconds(v: str) -> float:
    """Validate a failback hold-down (1 s to 1000 s) and return seconds."""
    seconds = parse_duration(v)
    if not 1 <= seconds <= MAX_HOLD_DOWN:
        raise ValueError(
            f"failbackHoldDown {v!r} is outside 1s..1000s (keepalived's preempt_delay range); "
            "leave it empty to fail back only on `routerctl failback`"
        )
    return seconds


class RedundancyGroupSpec(Spec):
    """One VRRP instance shared by the routers of a site.

    Attributes:
        role: ``onprem`` (the master holds ``virtualAddresses`` and captures by proxy-ARP)
            or ``cloud`` (VRRP only decides which router holds the provider's secondary
            IPs; a cloud fabric delivers no floating address, so there are none).
        interface: the interface VRRP adverts use (the capture LAN on-prem, the NIC both
            routers share a subnet on in a cloud); an Interface name or an OS name.
        virtual_router_id: the VRID, 1-255, the same on every router of the group.
        priority: 1-253; the higher wins an election. 254 is used by a planned takeover.
        peers: the partner routers' addresses on ``interface`` (unicast adverts: clouds
            have no multicast, and unicast is explicit on-prem too).
        source_address: the source of our adverts (default: the interface's primary
            address).
        advert_interval: VRRPv3 advert interval; failure is detected after about three.
        virtual_addresses: addresses the master holds on ``interface`` (for example the
            LAN's gateway); keep the list identical on every router of the group.
        preempt: take over from a lower-priority master at once. Off by default: a
            recovered router stays standby (no second outage) until failback.
        failback_hold_down: with ``preempt`` off, take over from a lower-priority master
            after being a healthy backup this long; empty = only on ``routerctl failback``.
        track_interfaces: more interfaces whose loss puts this router in fault (it stops
            being active), for example the uplink.
    """

    role: str
    interface: InterfaceName
    virtual_router_id: int = Field(alias="virtualRouterID", ge=1, le=255)
    priority: int = Field(100, ge=1, le=MAX_PRIORITY)
    peers: tuple[PeerAddress, ...] = Field(min_length=1)
    source_address: str = ""
    advert_interval: str = "100ms"
    virtual_addresses: tuple[VirtualAddress, ...] = ()
    preempt: bool = False
    failback_hold_down: str = ""
    track_interfaces: tuple[InterfaceName, ...] = ()

    _role = field_validator("role")(one_of("role", ROLES))

    @field_validator("source_address")
    @classmethod
    def _source(cls, v: str) -> str:
        return _unicast_ipv4(v) if v else v

    @field_validator("advert_interval")
    @classmethod
    def _advert(cls, v: str) -> str:
        advert_seconds(v)
        return v

    @field_validator("failback_hold_down")
    @classmethod
    def _hold_down(cls, v: str) -> str:
        if v:
            hold_down_seconds(v)
        return v


class RedundancyGroup(ResourceModel):
    KIND: ClassVar[str] = "RedundancyGroup"
    API_VERSION: ClassVar[str] = HYBRID_API
    spec: RedundancyGroupSpec
