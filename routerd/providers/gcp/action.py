"""Display-only ``gcloud`` plans for one claim: the exact commands a person runs, and undo.

routerd never runs them. Two GCP specifics shape the plans:

* an alias IP is a *range*, so the address is written ``10.40.8.31/32`` (the bare-IP rule,
  D19 in docs/decisions.md, is about AWS/OCI address parameters), and ``--aliases``
  *replaces* the NIC's whole alias list, which the notes say loudly;
* ``canIpForward`` has no single-flag update on an existing instance: the documented path
  is export, edit, ``update-from-file``; the notes carry the export step.
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

ALIASES_NOTE = (
    "--aliases replaces the NIC's whole alias list: if it already carries alias ranges, "
    "list them too, separated by ';' (see gcloud compute instances describe)"
)


def plan_actions(target: PlanTarget, *, reassign: bool = False) -> list[ActionPlan]:
    """The assign-secondary-ip and ensure-forwarding-enabled plans for ``target``.

    Args:
        target: the claim's bare address and parsed NIC path.
        reassign: the range may sit on another instance (failover): GCP moves nothing by
            itself, so the plan says to remove it there first (two operations).
    """
    n = target.nic
    where = ["--project", n["project"], "--zone", n["zone"]]
    nic_update = ["gcloud", "compute", "instances", "network-interfaces", "update"]
    nic_update += [n["instance"], *where, "--network-interface", n["nic"]]
    alias = f"{target.address}/32"
    tgt = {"nicRef": target.nic_ref, "address": target.address, **_parts(target)}
    notes = [ALIASES_NOTE, UNDO_ADDRESS_NOTE]
    if reassign:
        notes.insert(0, f"first remove {alias} from the other instance's alias list")
    return [
        ActionPlan(
            name=f"{target.claim}/{ASSIGN}",
            provider="gcp",
            action=ASSIGN,
            target=tgt,
            command=(*nic_update, "--aliases", alias),
            undo_command=(*nic_update, "--aliases", ""),
            undo_action=UNASSIGN,
            notes=tuple(notes),
        ),
        ActionPlan(
            name=f"{target.claim}/{FORWARDING_ON}",
            provider="gcp",
            action=FORWARDING_ON,
            target=tgt,
            command=_from_file(target, "true"),
            undo_command=_from_file(target, "false"),
            undo_action=FORWARDING_OFF,
            notes=(_export_note(target), UNDO_FORWARDING_NOTE),
        ),
    ]


def _parts(target: PlanTarget) -> dict[str, str]:
    return {k: target.nic[k] for k in ("project", "zone", "instance", "nic")}


def _file(target: PlanTarget, value: str) -> str:
    return f"{target.nic['instance']}-can-ip-forward-{value}.yaml"


def _from_file(target: PlanTarget, value: str) -> tuple[str, ...]:
    n = target.nic
    return (
        *("gcloud", "compute", "instances", "update-from-file", n["instance"]),
        *("--project", n["project"], "--zone", n["zone"], "--source", _file(target, value)),
        *("--most-disruptive-allowed-action", "REFRESH"),
    )


def _export_note(target: PlanTarget) -> str:
    n = target.nic
    return (
        f"prepare each file first: gcloud compute instances export {n['instance']} "
        f"--project {n['project']} --zone {n['zone']} --destination <file>, then set "
        f"canIpForward: true in {_file(target, 'true')} (false in {_file(target, 'false')}); "
        "a new instance takes --can-ip-forward at creation"
    )
