"""Typed resource models and the kind registry.

``KINDS`` maps each kind name to its class; the loader uses it to decode resources, and an
unknown kind is an error that names the kind (never a silent skip).
"""

from __future__ import annotations

from routerd.core.resources.base import (
    CONFIG_API,
    HYBRID_API,
    NET_API,
    PLUGIN_API,
    ROUTER_API_VERSION,
    SYSTEM_API,
    Metadata,
    OwnerRef,
    Resource,
    ResourceModel,
    Spec,
    bare_name,
)
from routerd.core.resources.claim import ClaimSpec, RemoteAddressClaim
from routerd.core.resources.dynamic import (
    Directive,
    DynamicConfigPart,
    DynamicConfigSource,
    DynamicOverridePolicy,
    Plugin,
    TargetRef,
)
from routerd.core.resources.hybrid import (
    AddressMobilityDomain,
    CloudProviderProfile,
    HybridRoute,
    OverlayPeer,
)
from routerd.core.resources.mobility import (
    AnycastGateway,
    BGPNeighbor,
    BGPSpeaker,
    MobilitySite,
    MobilitySpec,
    PresenceTuning,
)
from routerd.core.resources.net import (
    Interface,
    IPv4Route,
    IPv4StaticAddress,
    Sysctl,
    WireGuardInterface,
    WireGuardPeer,
)
from routerd.core.resources.provider_policy import ProviderActionPolicy
from routerd.core.resources.redundancy import RedundancyGroup

KINDS: dict[str, type[ResourceModel] | type[RemoteAddressClaim]] = {
    cls.KIND: cls
    for cls in (
        OverlayPeer,
        HybridRoute,
        AddressMobilityDomain,
        BGPSpeaker,
        CloudProviderProfile,
        ProviderActionPolicy,
        RemoteAddressClaim,
        RedundancyGroup,
        DynamicOverridePolicy,
        DynamicConfigPart,
        Plugin,
        DynamicConfigSource,
        WireGuardInterface,
        WireGuardPeer,
        Interface,
        IPv4Route,
        IPv4StaticAddress,
        Sysctl,
    )
}

__all__ = [
    "CONFIG_API",
    "HYBRID_API",
    "KINDS",
    "NET_API",
    "PLUGIN_API",
    "ROUTER_API_VERSION",
    "SYSTEM_API",
    "AddressMobilityDomain",
    "AnycastGateway",
    "BGPNeighbor",
    "BGPSpeaker",
    "ClaimSpec",
    "CloudProviderProfile",
    "Directive",
    "DynamicConfigPart",
    "DynamicConfigSource",
    "DynamicOverridePolicy",
    "HybridRoute",
    "IPv4Route",
    "IPv4StaticAddress",
    "Interface",
    "Metadata",
    "MobilitySite",
    "MobilitySpec",
    "OverlayPeer",
    "OwnerRef",
    "Plugin",
    "PresenceTuning",
    "ProviderActionPolicy",
    "RedundancyGroup",
    "RemoteAddressClaim",
    "Resource",
    "ResourceModel",
    "Spec",
    "Sysctl",
    "TargetRef",
    "WireGuardInterface",
    "WireGuardPeer",
    "bare_name",
]
