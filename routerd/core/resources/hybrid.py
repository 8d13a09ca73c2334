"""Hybrid / SAM kinds (``hybrid.routerd.net/v1alpha1``).

Field names, enums and defaults follow the Go implementation routerd succeeds, so its YAML
loads unchanged. Single-field rules live here; rules that relate fields or resources live in
``routerd.core.validation`` where they can name the exact path.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, field_validator

from routerd.core.resources.base import (
    HYBRID_API,
    ResourceModel,
    Spec,
    check_host32,
    check_ipv4,
    check_ipv4_cidr,
    one_of,
)
from routerd.core.resources.capture import CAPTURE_TYPES, RESERVED_CAPTURE, Capture
from routerd.core.resources.mobility import MobilitySpec
from routerd.core.resources.provider_policy import EXECUTION_MODES

UNDERLAY_TYPES = ("wireguard", "tailscale", "ipsec", "route")
__all__ = [
    "CAPTURE_TYPES",
    "PROVIDERS",
    "RESERVED_CAPTURE",
    "AddressMobilityDomain",
    "Capture",
    "CloudProviderProfile",
    "Delivery",
    "HybridRoute",
    "OverlayPeer",
    "RemoteAddressClaimDocument",
    "RemoteAddressClaimSpec",
]
PROVIDERS = ("azure", "aws", "oci", "gcp")


class Underlay(Spec):
    type: str
    interface: str = ""
    address: str = ""

    _type = field_validator("type")(one_of("underlay.type", UNDERLAY_TYPES))

    @field_validator("address")
    @classmethod
    def _address(cls, v: str) -> str:
        return check_ipv4(v) if v else v


class RemoteEnd(Spec):
    node_id: str = Field("", alias="nodeID")
    address: str = ""

    @field_validator("address")
    @classmethod
    def _address(cls, v: str) -> str:
        return check_ipv4(v) if v else v


class OverlayPeerSpec(Spec):
    """The remote router as seen from this one.

    Convention (docs/concepts.md, "OverlayPeer: which address is whose"):
    ``underlay.address`` is this router's overlay address, ``remote.address`` the peer's.
    """

    role: str
    node_id: str = Field(alias="nodeID")
    underlay: Underlay
    remote: RemoteEnd = RemoteEnd()
    path_mtu: int = Field(0, ge=0, le=65535, alias="pathMTU")

    _role = field_validator("role")(one_of("role", ("onprem", "cloud")))

    @field_validator("node_id")
    @classmethod
    def _node(cls, v: str) -> str:
        if not v:
            raise ValueError("nodeID is required: name the peer router (for example cloud-rt-a)")
        return v


class OverlayPeer(ResourceModel):
    KIND: ClassVar[str] = "OverlayPeer"
    API_VERSION: ClassVar[str] = HYBRID_API
    spec: OverlayPeerSpec


class RouteInstall(Spec):
    table: str = "main"
    metric: int = Field(0, ge=0)

    _table = field_validator("table")(one_of("install.table", ("main",), allow_empty=True))


class HybridRouteSpec(Spec):
    destination_cidrs: tuple[str, ...] = Field(alias="destinationCIDRs", min_length=1)
    peer_ref: str
    install: RouteInstall = RouteInstall()
    health_check_ref: str = ""

    @field_validator("destination_cidrs")
    @classmethod
    def _dests(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        out = []
        for d in v:
            if d.strip() == "default" or d.strip().endswith("/0"):
                raise ValueError(
                    f"destination {d!r} is a default route; HybridRoute never touches the "
                    "default route: list the specific prefixes to send over the overlay"
                )
            out.append(check_ipv4_cidr(d))
        return tuple(out)


class HybridRoute(ResourceModel):
    KIND: ClassVar[str] = "HybridRoute"
    API_VERSION: ClassVar[str] = HYBRID_API
    spec: HybridRouteSpec


class AddressMobilityDomainSpec(Spec):
    prefix: str
    mode: str = "selective-address"
    peer_ref: str = ""
    mobility: MobilitySpec | None = None

    _prefix = field_validator("prefix")(check_ipv4_cidr)
    _mode = field_validator("mode")(
        one_of(
            "mode",
            ("selective-address",),
            reserved={
                "full-l2": (
                    "full L2 extension is not supported; routerd implements Selective "
                    "Address Mobility: use mode: selective-address"
                )
            },
        )
    )


class AddressMobilityDomain(ResourceModel):
    KIND: ClassVar[str] = "AddressMobilityDomain"
    API_VERSION: ClassVar[str] = HYBRID_API
    spec: AddressMobilityDomainSpec


class ProviderAuth(Spec):
    mode: str = "external-command"
    command: str = ""

    _mode = field_validator("mode")(one_of("auth.mode", ("external-command",)))


class CloudProviderProfileSpec(Spec):
    provider: str
    subscription_id: str = Field("", alias="subscriptionID")
    resource_group: str = ""
    project: str = ""
    region: str = ""
    capabilities: tuple[str, ...] = Field(min_length=1)
    auth: ProviderAuth | None = None
    execution: str = "plan"
    """``plan``: print the provider commands only; ``execute``: routerd runs them itself,
    within the profile's ProviderActionPolicy."""
    subnet: str = ""
    """The provider's ID of the router NIC's subnet: the inventory reads it, and OCI looks
    addresses up per subnet."""

    _provider = field_validator("provider")(one_of("provider", PROVIDERS))
    _execution = field_validator("execution")(one_of("execution", EXECUTION_MODES))

    @field_validator("capabilities")
    @classmethod
    def _caps(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if any(not c.strip() for c in v):
            raise ValueError("capabilities must not contain blank entries")
        return v


class CloudProviderProfile(ResourceModel):
    KIND: ClassVar[str] = "CloudProviderProfile"
    API_VERSION: ClassVar[str] = HYBRID_API
    spec: CloudProviderProfileSpec


class Delivery(Spec):
    peer_ref: str
    mode: str = "route"
    tunnel_interface: str = ""

    _mode = field_validator("mode")(one_of("delivery.mode", ("route",)))


class RemoteAddressClaimSpec(Spec):
    domain_ref: str
    address: str
    owner_side: str
    capture: Capture
    delivery: Delivery

    _address = field_validator("address")(check_host32)
    _owner = field_validator("owner_side")(one_of("ownerSide", ("cloud", "onprem")))


class RemoteAddressClaimDocument(ResourceModel):
    """A ``RemoteAddressClaim`` document as validated: configs keep the compact record of
    it (``routerd.core.resources.claim.RemoteAddressClaim``)."""

    KIND: ClassVar[str] = "RemoteAddressClaim"
    API_VERSION: ClassVar[str] = HYBRID_API
    spec: RemoteAddressClaimSpec
