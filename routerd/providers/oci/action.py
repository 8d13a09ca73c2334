"""Display-only ``oci`` CLI plans for one claim: the exact commands a person runs, and undo.

routerd never runs them. The address is the bare IP (the OCI API, like AWS's, wants an
address, not a prefix: D19 in docs/decisions.md). The OCI Ubuntu guest-firewall prerequisite
(D17) is attached
to the assign plan as a note, with the claim's own interface names when they are known.
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


def _firewall_note(target: PlanTarget) -> str:
    nic = target.capture_interface or "the VNIC interface (ens3)"
    tun = target.tunnel_interface or "the tunnel"
    return (
        "OCI Ubuntu images reject forwarding in the guest iptables policy: allow UDP "
        f"to the WireGuard listen port in INPUT, and FORWARD {nic} <-> {tun} in both "
        "directions (docs/howto-oci.md)"
    )


def plan_actions(target: PlanTarget, *, reassign: bool = False) -> list[ActionPlan]:
    """The assign-secondary-ip and ensure-forwarding-enabled plans for ``target``.

    Args:
        target: the claim's bare address and parsed VNIC OCID.
        reassign: the address may sit on another VNIC (failover): add
            ``--unassign-if-already-assigned`` so OCI moves it.
    """
    vnic = target.nic["vnic"]
    region = ["--region", target.region] if target.region else []
    ip = ["--ip-address", target.address]
    move = ["--unassign-if-already-assigned"] if reassign else []
    tgt = {"nicRef": target.nic_ref, "address": target.address, "vnic": vnic}
    update = ["oci", "network", "vnic", "update", "--vnic-id", vnic]
    return [
        ActionPlan(
            name=f"{target.claim}/{ASSIGN}",
            provider="oci",
            action=ASSIGN,
            target=tgt,
            command=("oci", "network", "vnic", "assign-private-ip", "--vnic-id", vnic, *ip)
            + (*move, *region),
            undo_command=("oci", "network", "vnic", "unassign-private-ip", "--vnic-id", vnic)
            + (*ip, *region),
            undo_action=UNASSIGN,
            notes=(UNDO_ADDRESS_NOTE, _firewall_note(target)),
        ),
        ActionPlan(
            name=f"{target.claim}/{FORWARDING_ON}",
            provider="oci",
            action=FORWARDING_ON,
            target=tgt,
            command=(*update, "--skip-source-dest-check", "true", *region),
            undo_command=(*update, "--skip-source-dest-check", "false", *region),
            undo_action=FORWARDING_OFF,
            notes=(UNDO_FORWARDING_NOTE,),
        ),
    ]
