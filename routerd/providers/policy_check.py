"""``routerd validate`` rules for provider execution: profiles, their policies, their claims.

routerd writes to a cloud only for a ``CloudProviderProfile`` with ``execution: execute``
and a ``ProviderActionPolicy`` naming it. These rules make a config that asks for execution
say everything the executor needs, all at once, each naming ``Kind/name``, the field and
what to do:

* error: an executing profile without a policy; a policy naming no profile, or a second
  policy for one profile; an executing OCI profile without ``subnet`` (OCI looks addresses
  up per subnet); an executing Azure profile without ``subscriptionID`` or GCP profile
  without ``project`` (the APIs are scoped by them);
* warning: a policy whose profile only plans (the policy does nothing yet); a disabled
  policy on an executing profile; a policy without ``assign`` (claims are never captured
  by routerd); a claim captured through an executing profile whose address is outside the
  policy's ``allowedPrefixes`` (routerd will not assign it).
"""

from __future__ import annotations

from collections.abc import Callable

from routerd.core.config import RouterConfig
from routerd.core.errors import ConfigIssue
from routerd.core.resources import (
    CloudProviderProfile,
    ProviderActionPolicy,
    RemoteAddressClaim,
    Resource,
    bare_name,
)
from routerd.core.resources.provider_policy import ACTION_ASSIGN

SCOPE_FIELDS = {
    "oci": ("subnet", "subnet", "the subnet OCID of the router's VNIC (ocid1.subnet...)"),
    "azure": ("subscription_id", "subscriptionID", "the subscription of the router's NIC"),
    "gcp": ("project", "project", "the project of the router's instance"),
}
"""What an executing profile must name per provider: (attribute, YAML field, what it is)."""

Issue = Callable[[Resource, str, str], ConfigIssue]


def policies_by_profile(config: RouterConfig) -> dict[str, ProviderActionPolicy]:
    """The (first) policy naming each profile, by profile name."""
    out: dict[str, ProviderActionPolicy] = {}
    for policy in config.of(ProviderActionPolicy):
        name = bare_name(policy.spec.provider_ref, CloudProviderProfile.KIND)
        out.setdefault(name, policy)
    return out


def policy_checks(
    config: RouterConfig, issue: Issue
) -> tuple[list[ConfigIssue], list[ConfigIssue]]:
    """Every rule of the module docstring over ``config``.

    Args:
        config: a decoded Router config.
        issue: builds a ``ConfigIssue`` for ``(resource, field path, message)``.

    Returns:
        ``(errors, warnings)``.
    """
    errors: list[ConfigIssue] = []
    warnings: list[ConfigIssue] = []
    seen: dict[str, ProviderActionPolicy] = {}
    for policy in config.of(ProviderActionPolicy):
        ref = bare_name(policy.spec.provider_ref, CloudProviderProfile.KIND)
        profile = config.get(CloudProviderProfile, ref)
        if profile is None:
            names = ", ".join(sorted(p.name for p in config.of(CloudProviderProfile)))
            errors.append(
                issue(
                    policy,
                    "spec.providerRef",
                    f"CloudProviderProfile {ref!r} does not exist (declared: "
                    f"{names or 'none'}); name the profile this policy governs",
                )
            )
            continue
        if ref in seen:
            errors.append(
                issue(
                    policy,
                    "spec.providerRef",
                    f"CloudProviderProfile/{ref} already has {seen[ref].ref}; one policy per "
                    "profile: merge the two",
                )
            )
            continue
        seen[ref] = policy
        warnings += _policy_warnings(policy, profile, issue)
    for profile in config.of(CloudProviderProfile):
        if profile.spec.execution == "execute":
            errors += _executing_profile(profile, seen.get(profile.name), issue)
    warnings += _claims_outside(config, seen, issue)
    return errors, warnings


def _policy_warnings(
    policy: ProviderActionPolicy, profile: CloudProviderProfile, issue: Issue
) -> list[ConfigIssue]:
    out = []
    if profile.spec.execution != "execute":
        out.append(
            issue(
                policy,
                "spec.providerRef",
                f"{profile.ref} has execution: {profile.spec.execution}, so routerd only "
                "prints provider commands and this policy has no effect; set execution: "
                "execute on the profile to let routerd act",
            )
        )
        return out
    if not policy.spec.enabled:
        out.append(
            issue(
                policy,
                "spec.enabled",
                f"false: routerd executes nothing for {profile.ref} although it has "
                "execution: execute; set enabled: true, or execution: plan on the profile",
            )
        )
    if ACTION_ASSIGN not in policy.spec.actions:
        out.append(
            issue(
                policy,
                "spec.actions",
                "assign is not allowed: routerd never puts a claimed address on the router's "
                "NIC, so its claims stay pending until someone assigns it by hand",
            )
        )
    return out


def _executing_profile(
    profile: CloudProviderProfile, policy: ProviderActionPolicy | None, issue: Issue
) -> list[ConfigIssue]:
    out = []
    if policy is None:
        out.append(
            issue(
                profile,
                "spec.execution",
                f"execute needs a ProviderActionPolicy with providerRef: {profile.name} "
                "(allowedPrefixes, actions, approval); add one, or set execution: plan to "
                "only print the provider commands",
            )
        )
    need = SCOPE_FIELDS.get(profile.spec.provider)
    if need is not None and not getattr(profile.spec, need[0]):
        out.append(
            issue(
                profile,
                f"spec.{need[1]}",
                f"required with execution: execute on {profile.spec.provider}: {need[2]}",
            )
        )
    return out


def _claims_outside(
    config: RouterConfig, policies: dict[str, ProviderActionPolicy], issue: Issue
) -> list[ConfigIssue]:
    out = []
    for claim in config.of(RemoteAddressClaim):
        cap = claim.spec.capture
        if cap.type != "provider-secondary-ip" or not cap.provider_ref:
            continue
        ref = bare_name(cap.provider_ref, CloudProviderProfile.KIND)
        profile = config.get(CloudProviderProfile, ref)
        policy = policies.get(ref)
        if profile is None or policy is None or profile.spec.execution != "execute":
            continue
        if not policy.spec.allows_address(claim.spec.address):
            prefixes = ", ".join(policy.spec.allowed_prefixes)
            out.append(
                issue(
                    claim,
                    "spec.address",
                    f"{claim.spec.address} is outside {policy.ref} allowedPrefixes "
                    f"({prefixes}): routerd will not assign it at the provider; add its "
                    "prefix to the policy, or assign it by hand",
                )
            )
    return out
