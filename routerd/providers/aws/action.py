"""Display-only AWS CLI plans for one claim: the exact commands a person runs, and undo.

routerd never runs them (there is no subprocess anywhere in ``routerd.providers``); they
are printed by ``routerd plan`` and the doctor so the provider side can be provisioned by
hand or by the user's own automation. The address is always the bare IP: AWS rejects
``10.40.8.31/32`` with "Not a valid IP address" (D19, docs/decisions.md).
"""

from __future__ import annotations

from routerd.providers.base import (
    ASSIGN,
    FORWARDING_OFF,
    FORWARDING_ON,
    UNASSIGN,
    UNDO_ADDRESS_NOTE,
    UNDO_FORWARDING_NOTE,
    ActionPlan,
    PlanTarget,
)


def _region(target: PlanTarget) -> list[str]:
    return ["--region", target.region] if target.region else []


def plan_actions(target: PlanTarget, *, reassign: bool = False) -> list[ActionPlan]:
    """The assign-secondary-ip and ensure-forwarding-enabled plans for ``target``.

    Args:
        target: the claim's bare address and parsed ENI.
        reassign: the address may currently sit on another ENI (failover): add
            ``--allow-reassignment`` so AWS moves it (asynchronously) instead of failing.
    """
    eni = target.nic["eni"]
    ip = target.address
    base = ["aws", "ec2"]
    assign = [*base, "assign-private-ip-addresses", "--network-interface-id", eni]
    assign += ["--private-ip-addresses", ip, *(["--allow-reassignment"] if reassign else [])]
    notes = [UNDO_ADDRESS_NOTE]
    if reassign:
        notes.append(
            "--allow-reassignment moves the address asynchronously; wait until "
            "describe-network-interfaces shows it on this ENI"
        )
    tgt = {"nicRef": target.nic_ref, "address": ip, "eni": eni}
    return [
        ActionPlan(
            name=f"{target.claim}/{ASSIGN}",
            provider="aws",
            action=ASSIGN,
            target=tgt,
            command=(*assign, *_region(target)),
            undo_command=(
                *base,
                "unassign-private-ip-addresses",
                "--network-interface-id",
                eni,
                "--private-ip-addresses",
                ip,
                *_region(target),
            ),
            undo_action=UNASSIGN,
            notes=tuple(notes),
        ),
        ActionPlan(
            name=f"{target.claim}/{FORWARDING_ON}",
            provider="aws",
            action=FORWARDING_ON,
            target=tgt,
            command=(
                *base,
                "modify-network-interface-attribute",
                "--network-interface-id",
                eni,
                "--no-source-dest-check",
                *_region(target),
            ),
            undo_command=(
                *base,
                "modify-network-interface-attribute",
                "--network-interface-id",
                eni,
                "--source-dest-check",
                *_region(target),
            ),
            undo_action=FORWARDING_OFF,
            notes=(UNDO_FORWARDING_NOTE,),
        ),
    ]
