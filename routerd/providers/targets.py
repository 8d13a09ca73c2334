"""Desired provider state: which address routerd wants on which NIC, per executing profile.

The engine publishes, after every pass, the effective config and the lowered claims. Every
claim captured with ``provider-secondary-ip`` through a ``CloudProviderProfile`` that has
``execution: execute`` wants its address on its ``nicRef``. This module turns that into one
``ProfileTargets`` per executing profile, with the policy applied: an address outside the
policy's ``allowedPrefixes`` is *blocked* (reported, never acted on), not silently dropped.

Static claims come from the config; claims derived by address mobility arrive the same way
(as lowered claims), so they need no second path. A claim's profile is its ``providerRef``
when the claim is a config resource; a claim that is not (a derived one) names only its
provider, and maps to the one executing profile of that provider.

Pure: no I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from routerd.core.assignment import PROVIDER_CAPTURE
from routerd.core.config import RouterConfig
from routerd.core.lowering import ClaimIntent
from routerd.core.resources import (
    CloudProviderProfile,
    ProviderActionPolicy,
    RemoteAddressClaim,
    bare_name,
)
from routerd.providers.policy_check import policies_by_profile


@dataclass(frozen=True, slots=True)
class Target:
    """One address routerd wants on a NIC.

    Attributes:
        address: the bare IPv4 address.
        nic: the NIC (the claim's ``nicRef`` as written).
        claim: the claim that wants it.
    """

    address: str
    nic: str
    claim: str


@dataclass(frozen=True)
class ProfileTargets:
    """What one executing profile should hold, and what its policy keeps routerd from doing.

    Attributes:
        profile: the CloudProviderProfile (``execution: execute``).
        policy: its ProviderActionPolicy (None only in a config validation refused).
        targets: address -> target, for addresses the policy allows.
        blocked: address -> why routerd does not act on it (outside the prefixes, two
            claims wanting it on different NICs, no policy).
    """

    profile: CloudProviderProfile
    policy: ProviderActionPolicy | None
    targets: Mapping[str, Target] = field(default_factory=dict)
    blocked: Mapping[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.profile.name

    @property
    def active(self) -> bool:
        """A policy exists and is enabled: routerd may act for this profile."""
        return self.policy is not None and self.policy.spec.enabled


def executing_profiles(config: RouterConfig) -> list[CloudProviderProfile]:
    """Profiles with ``execution: execute``, in config order."""
    return [p for p in config.of(CloudProviderProfile) if p.spec.execution == "execute"]


def profile_of(
    config: RouterConfig, intent: ClaimIntent, executing: list[CloudProviderProfile]
) -> CloudProviderProfile | None:
    """The profile a provider-captured claim goes through, or None.

    Args:
        config: the effective config.
        intent: the lowered claim.
        executing: ``executing_profiles(config)`` (computed once per call site).
    """
    claim = config.get(RemoteAddressClaim, intent.name)
    if claim is not None and claim.spec.capture.provider_ref:
        ref = bare_name(claim.spec.capture.provider_ref, CloudProviderProfile.KIND)
        return config.get(CloudProviderProfile, ref)
    same = [p for p in executing if p.spec.provider == intent.provider]
    return same[0] if len(same) == 1 else None


def desired_targets(
    config: RouterConfig, claims: Mapping[str, ClaimIntent]
) -> dict[str, ProfileTargets]:
    """One ``ProfileTargets`` per executing profile (profile name -> targets).

    Args:
        config: the effective config (profiles, policies, claims).
        claims: the lowered claims (name -> intent), static and derived alike.

    Returns:
        Every executing profile, even one no claim uses (so its holdings are released).
    """
    executing = executing_profiles(config)
    if not executing:
        return {}
    policies = policies_by_profile(config)
    wanted: dict[str, dict[str, Target]] = {p.name: {} for p in executing}
    blocked: dict[str, dict[str, str]] = {p.name: {} for p in executing}
    for intent in claims.values():
        if intent.capture_type != PROVIDER_CAPTURE or not intent.nic_ref:
            continue
        profile = profile_of(config, intent, executing)
        if profile is None or profile.name not in wanted:
            continue
        _want(
            wanted[profile.name],
            blocked[profile.name],
            policies.get(profile.name),
            Target(intent.ip, intent.nic_ref, intent.name),
        )
    return {
        p.name: ProfileTargets(p, policies.get(p.name), wanted[p.name], blocked[p.name])
        for p in executing
    }


def _want(
    wanted: dict[str, Target],
    blocked: dict[str, str],
    policy: ProviderActionPolicy | None,
    target: Target,
) -> None:
    ip = target.address
    if policy is None:
        blocked[ip] = "no ProviderActionPolicy names this profile"
        return
    if not policy.spec.allows_address(ip):
        blocked[ip] = (
            f"outside {policy.ref} allowedPrefixes ({', '.join(policy.spec.allowed_prefixes)})"
        )
        return
    other = wanted.get(ip)
    if other is not None and other.nic != target.nic:
        del wanted[ip]
        blocked[ip] = (
            f"RemoteAddressClaim/{other.claim} wants it on {other.nic} and "
            f"RemoteAddressClaim/{target.claim} on {target.nic}: one address, one NIC"
        )
        return
    if ip not in blocked:
        wanted.setdefault(ip, target)
