"""The provider actions a claim needs, as ``routerd plan`` and ``routerctl describe claim`` show.

A ``provider-secondary-ip`` capture works only once the address is assigned to the router's
NIC and the NIC may forward. Unless its CloudProviderProfile says ``execution: execute``,
routerd calls no cloud API and a person (or their own automation) does that; these are the
exact provider commands, each with the command that undoes it and the caveats to read before
either, so the step a person must take and the way back are printed where they look: the
plan before applying, and the claim while it is not capturing. For an executing profile the
commands are shown for reference, with a line saying routerd assigns the address itself.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any

from routerd.core.config import RouterConfig
from routerd.core.errors import ProviderError
from routerd.core.loader import decode_resource
from routerd.core.resources import CloudProviderProfile, RemoteAddressClaim
from routerd.providers import action_plans
from routerd.providers.base import ActionPlan

HEADING = "Provider actions (display-only: routerd never runs them; run them at the provider):"


@dataclass(frozen=True)
class ClaimActions:
    """One claim's provider actions, or why they cannot be shown.

    Attributes:
        claim: ``RemoteAddressClaim/<name>``.
        plans: the actions in the order to run them (assign, then forwarding).
        problem: why there are no plans (a malformed nicRef, a missing profile), else "".
        executed_by: for a profile with ``execution: execute``, the profile (routerd assigns
            and releases the address itself); "" when a person runs the commands.
    """

    claim: str
    plans: tuple[ActionPlan, ...] = ()
    problem: str = ""
    executed_by: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form for ``-o json``."""
        return {
            "claim": self.claim,
            "plans": [p.as_dict() for p in self.plans],
            "problem": self.problem,
            "executedBy": self.executed_by,
        }


def for_claim(
    claim: RemoteAddressClaim, profile: CloudProviderProfile | None
) -> ClaimActions | None:
    """The provider actions of one claim; None when its capture needs none (proxy-arp).

    Args:
        claim: the claim.
        profile: the CloudProviderProfile its ``capture.providerRef`` names, or None when
            the config has none by that name.

    Returns:
        The claim's actions, or None for a capture without provider prerequisites.
    """
    if claim.spec.capture.type != "provider-secondary-ip":
        return None
    if profile is None:
        ref = claim.spec.capture.provider_ref
        return ClaimActions(claim.ref, problem=f"no CloudProviderProfile {ref!r} in the config")
    executes = profile.ref if profile.spec.execution == "execute" else ""
    try:
        return ClaimActions(claim.ref, tuple(action_plans(claim, profile)), "", executes)
    except ProviderError as e:
        return ClaimActions(claim.ref, problem=str(e), executed_by=executes)


def for_config(config: RouterConfig) -> list[ClaimActions]:
    """The provider actions of every claim in ``config`` that needs any, by claim name.

    Args:
        config: the (effective) config.

    Returns:
        One entry per provider-secondary-ip claim.
    """
    out = []
    for claim in sorted(config.of(RemoteAddressClaim), key=lambda c: c.name):
        profile = config.get(CloudProviderProfile, claim.spec.capture.provider_ref or "-")
        entry = for_claim(claim, profile)
        if entry is not None:
            out.append(entry)
    return out


def for_document(document: dict[str, Any], name: str) -> ClaimActions | None:
    """The provider actions of claim ``name`` in an effective Router document.

    ``routerctl`` has the daemon's effective config only as a document (GetEffectiveConfig);
    only the claim and its profile are decoded, not the whole config.

    Args:
        document: the effective Router document (``spec.resources``).
        name: the claim's name.

    Returns:
        The claim's actions, or None when it needs none or is not in the document.
    """
    resources = document.get("spec", {}).get("resources", [])
    claim_doc = _find(resources, RemoteAddressClaim.KIND, name)
    claim, _ = decode_resource(claim_doc) if claim_doc else (None, [])
    if not isinstance(claim, RemoteAddressClaim):
        return None
    ref = claim.spec.capture.provider_ref
    profile_doc = _find(resources, CloudProviderProfile.KIND, ref.split("/")[-1]) if ref else None
    profile, _ = decode_resource(profile_doc) if profile_doc else (None, [])
    return for_claim(claim, profile if isinstance(profile, CloudProviderProfile) else None)


def _find(resources: list[Any], kind: str, name: str) -> dict[str, Any] | None:
    for doc in resources:
        meta = doc.get("metadata") if isinstance(doc, dict) else None
        if isinstance(meta, dict) and doc.get("kind") == kind and meta.get("name") == name:
            found: dict[str, Any] = doc
            return found
    return None


def render(entries: list[ClaimActions], *, indent: str = "  ") -> list[str]:
    """Text lines: each action's command, its undo and its notes, per claim.

    Args:
        entries: what ``for_config`` / ``for_claim`` returned.
        indent: the prefix of every line below the heading.

    Returns:
        The heading and the lines; empty when there is nothing to show.
    """
    if not entries:
        return []
    lines = [HEADING]
    for entry in entries:
        if entry.problem:
            lines.append(f"{indent}{entry.claim}: none shown: {entry.problem}")
        if entry.executed_by:
            lines.append(
                f"{indent}{entry.claim}: routerd assigns and releases the address itself "
                f"({entry.executed_by} has execution: execute; routerctl action list shows "
                "what it did); the commands below are for reference"
            )
        for plan in entry.plans:
            lines.append(f"{indent}{entry.claim} {plan.action}:")
            lines.append(f"{indent}  run:  {shlex.join(plan.command)}")
            if plan.undo_command is not None:
                lines.append(f"{indent}  undo: {shlex.join(plan.undo_command)}")
            else:
                lines.append(f"{indent}  undo: none")
            lines.extend(f"{indent}  note: {note}" for note in plan.notes)
    return lines
