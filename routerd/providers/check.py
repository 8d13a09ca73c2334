"""Provider rules for ``routerd validate``: an ``ExtraCheck`` for ``routerd.core.validation``.

Core validation knows the shape of every kind but nothing about clouds (it must not import
providers). This module adds what only the providers know, for every RemoteAddressClaim
captured with ``provider-secondary-ip``:

* error: the nicRef does not have the referenced profile's provider format (with the
  expected shape, an example, and a hint when it is another cloud's format);
* warning: the nicRef contradicts the profile (another subscription or project);
* warning: ``providerMode`` is not this provider's capture mode;
* warning: the profile does not declare a capability the capture needs (for example an AWS
  profile without ``source-dest-check-disabled``), once per profile and capability.

Capability spellings are normalised first, so free-form strings written for the Go
implementation routerd succeeds keep working.
The rules about executing provider actions (``execution: execute`` and its
``ProviderActionPolicy``) are in ``routerd.providers.policy_check`` and run from here too.
"""

from __future__ import annotations

import shlex

from routerd.core.config import RouterConfig
from routerd.core.errors import ConfigIssue, ProviderError
from routerd.core.resources import CloudProviderProfile, RemoteAddressClaim, Resource
from routerd.providers.action import action_plans
from routerd.providers.base import (
    ASSIGN,
    FORWARDING_ON,
    ROLE_ADDRESS,
    Capability,
    NicRefError,
    Provider,
)
from routerd.providers.policy_check import policy_checks
from routerd.providers.registry import NAME_TO_PROVIDER


class _Findings:
    def __init__(self, config: RouterConfig) -> None:
        self.config = config
        self.errors: list[ConfigIssue] = []
        self.warnings: list[ConfigIssue] = []
        self._pos = {id(r): i for i, r in enumerate(config.resources)}

    def issue(self, res: Resource, path: str, msg: str) -> ConfigIssue:
        idx = self._pos.get(id(res))
        line = self.config.line_of(idx, path) if idx is not None else None
        return ConfigIssue(res.ref, path, msg, line, self.config.file)


def config_checks(config: RouterConfig) -> tuple[list[ConfigIssue], list[ConfigIssue]]:
    """Validate every provider-secondary-ip claim against its profile's provider.

    Args:
        config: a decoded Router config (startup or effective).

    Returns:
        ``(errors, warnings)`` as ``ConfigIssue`` lists; dangling references are left to
        core validation, which already reports them.
    """
    f = _Findings(config)
    users: dict[str, list[RemoteAddressClaim]] = {}
    for claim in config.of(RemoteAddressClaim):
        cap = claim.spec.capture
        if cap.type != "provider-secondary-ip":
            continue
        profile = config.get(CloudProviderProfile, cap.provider_ref) if cap.provider_ref else None
        provider = NAME_TO_PROVIDER.get(profile.spec.provider) if profile else None
        if profile is None or provider is None:
            continue
        users.setdefault(profile.name, []).append(claim)
        _nic_ref(f, claim, profile, provider)
        _provider_mode(f, claim, provider)
    for name, claims in users.items():
        profile = config.get(CloudProviderProfile, name)
        if profile is not None:
            _capabilities(f, profile, NAME_TO_PROVIDER[profile.spec.provider], claims)
    errors, warnings = policy_checks(config, f.issue)
    return f.errors + errors, f.warnings + warnings


def _nic_ref(
    f: _Findings, claim: RemoteAddressClaim, profile: CloudProviderProfile, provider: Provider
) -> None:
    ref = claim.spec.capture.nic_ref
    if not ref:
        return
    path = "spec.capture.nicRef"
    try:
        parts = provider.parse_nic_ref(ref)
    except NicRefError as e:
        msg = f"{e.reason} (CloudProviderProfile/{profile.name} is provider {provider.name})"
        other = _recognised_by(ref, provider)
        if other is not None:
            msg += (
                f"; the value has the {other.title} {other.nic_ref.noun} format: point "
                f"providerRef at a CloudProviderProfile with provider: {other.name}, or name "
                f"this router's {provider.title} NIC"
            )
        f.errors.append(f.issue(claim, path, msg))
        return
    for part, attr in provider.profile_fields:
        declared = getattr(profile.spec, attr)
        if declared and parts[part].lower() != declared.lower():
            f.warnings.append(
                f.issue(
                    claim,
                    path,
                    f"nicRef {part} {parts[part]!r} differs from CloudProviderProfile/"
                    f"{profile.name} ({declared!r}); the NIC must belong to the profile's "
                    f"{part}: fix the nicRef or the profile",
                )
            )


def _recognised_by(ref: str, provider: Provider) -> Provider | None:
    for other in NAME_TO_PROVIDER.values():
        if other is provider:
            continue
        try:
            other.parse_nic_ref(ref)
        except NicRefError:
            continue
        return other
    return None


def _provider_mode(f: _Findings, claim: RemoteAddressClaim, provider: Provider) -> None:
    mode = claim.spec.capture.provider_mode
    want = provider.capability(ROLE_ADDRESS)
    if not mode or provider.normalize_capability(mode) == want.name:
        return
    f.warnings.append(
        f.issue(
            claim,
            "spec.capture.providerMode",
            f"{mode!r} is not a capture mode on {provider.title}: provider-secondary-ip on "
            f"{provider.title} means {want.prerequisite}; set providerMode: {want.name}",
        )
    )


def _capabilities(
    f: _Findings,
    profile: CloudProviderProfile,
    provider: Provider,
    claims: list[RemoteAddressClaim],
) -> None:
    who = ", ".join(c.ref for c in claims[:3]) + (" and others" if len(claims) > 3 else "")
    for cap in provider.missing_capabilities(profile.spec.capabilities):
        f.warnings.append(
            f.issue(
                profile,
                "spec.capabilities",
                f"lacks {cap.name!r}, which provider-secondary-ip capture needs ({who}): "
                f"{cap.prerequisite}. Provision it{_how(cap, profile, claims[0])} and add "
                f"{cap.name} to capabilities (accepted: {', '.join(cap.spellings())})",
            )
        )


def _how(cap: Capability, profile: CloudProviderProfile, claim: RemoteAddressClaim) -> str:
    verb = ASSIGN if cap.role == ROLE_ADDRESS else FORWARDING_ON
    try:
        plans = action_plans(claim, profile)
    except ProviderError:
        return ""
    cmd = next((p.command for p in plans if p.action == verb), None)
    return f" (for {claim.ref}: {shlex.join(cmd)})" if cmd else ""
