"""Display-only provider action plans for a claim, whatever its cloud.

The CLI and doctor hold a ``RemoteAddressClaim`` and its ``CloudProviderProfile``; this is
the one place that turns them into a ``PlanTarget`` (bare address, parsed nicRef, region)
and asks the claim's provider for its plans. Nothing here executes anything: a plan is
text for a person, with its undo; executing an action is the separate, credentialed
``routerd.providers.executor``.
"""

from __future__ import annotations

from routerd.core.errors import ProviderError
from routerd.core.resources import CloudProviderProfile, RemoteAddressClaim
from routerd.providers.base import ActionPlan, NicRefError, PlanTarget
from routerd.providers.registry import get_provider


def plan_target(claim: RemoteAddressClaim, profile: CloudProviderProfile) -> PlanTarget:
    """The claim's address and parsed nicRef, ready for a provider's ``plan_actions``.

    Raises:
        ProviderError: the nicRef does not have the provider's shape (not retryable).
    """
    provider = get_provider(profile.spec.provider)
    cap = claim.spec.capture
    try:
        nic = provider.parse_nic_ref(cap.nic_ref)
    except NicRefError as e:
        raise ProviderError(
            f"{claim.ref} spec.capture.nicRef: {e.reason}",
            supporting_data={"claim": claim.ref, "nicRef": cap.nic_ref, "provider": provider.name},
        ) from None
    return PlanTarget(
        claim=claim.name,
        address=claim.ip,
        nic_ref=cap.nic_ref,
        nic=nic,
        region=profile.spec.region,
        capture_interface=cap.interface,
        tunnel_interface=claim.spec.delivery.tunnel_interface,
    )


def action_plans(
    claim: RemoteAddressClaim, profile: CloudProviderProfile, *, reassign: bool = False
) -> list[ActionPlan]:
    """What a person runs at the provider so ``claim`` can be captured, each with its undo.

    Args:
        claim: the claim; only ``provider-secondary-ip`` captures need provider actions.
        profile: the CloudProviderProfile its ``capture.providerRef`` names.
        reassign: the address may currently be held by another router (failover): use the
            provider's move semantics (AWS ``--allow-reassignment``, OCI
            ``--unassign-if-already-assigned``, two operations on Azure and GCP).

    Returns:
        ``assign-secondary-ip`` then ``ensure-forwarding-enabled``; empty for proxy-arp.

    Raises:
        ProviderError: the nicRef is malformed.
    """
    if claim.spec.capture.type != "provider-secondary-ip":
        return []
    target = plan_target(claim, profile)
    return get_provider(profile.spec.provider).plan_actions(target, reassign=reassign)
