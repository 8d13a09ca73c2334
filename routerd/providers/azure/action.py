"""Display-only ``az`` plans for one claim: the exact commands a person runs, and undo.

routerd never runs them. The secondary address becomes its own ipConfig on the NIC, named
``routerd-<address with dashes>`` so a person (and the undo) can find exactly the one
routerd asked for. Azure tolerates ``/32`` addresses, but every provider gets the bare IP
here so one rule holds everywhere (D19, docs/decisions.md).
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


def ip_config_name(address: str) -> str:
    """``10.40.8.31`` -> ``routerd-10-40-8-31`` (valid ipConfig name, unique per address)."""
    return "routerd-" + address.replace(".", "-")


def plan_actions(target: PlanTarget, *, reassign: bool = False) -> list[ActionPlan]:
    """The assign-secondary-ip and ensure-forwarding-enabled plans for ``target``.

    Args:
        target: the claim's bare address and parsed NIC ID.
        reassign: the address may sit on another NIC (failover). Azure has no atomic
            reassign: the plan says to delete it there first (two operations).
    """
    nic = target.nic
    scope = ["--subscription", nic["subscription"], "--resource-group", nic["resourceGroup"]]
    cfg = ["--nic-name", nic["nic"], "--name", ip_config_name(target.address)]
    tgt = {
        "nicRef": target.nic_ref,
        "address": target.address,
        "subscription": nic["subscription"],
        "resourceGroup": nic["resourceGroup"],
        "nic": nic["nic"],
        "ipConfig": ip_config_name(target.address),
    }
    notes = [UNDO_ADDRESS_NOTE]
    if reassign:
        notes.insert(
            0,
            "Azure has no atomic reassign: first delete the ipConfig holding "
            f"{target.address} on the other NIC (az network nic ip-config delete ...), "
            "then run this command",
        )
    nic_update = ["az", "network", "nic", "update", *scope, "--name", nic["nic"]]
    return [
        ActionPlan(
            name=f"{target.claim}/{ASSIGN}",
            provider="azure",
            action=ASSIGN,
            target=tgt,
            command=(
                *("az", "network", "nic", "ip-config", "create", *scope, *cfg),
                *("--private-ip-address", target.address),
            ),
            undo_command=("az", "network", "nic", "ip-config", "delete", *scope, *cfg),
            undo_action=UNASSIGN,
            notes=tuple(notes),
        ),
        ActionPlan(
            name=f"{target.claim}/{FORWARDING_ON}",
            provider="azure",
            action=FORWARDING_ON,
            target=tgt,
            command=(*nic_update, "--ip-forwarding", "true"),
            undo_command=(*nic_update, "--ip-forwarding", "false"),
            undo_action=FORWARDING_OFF,
            notes=(UNDO_FORWARDING_NOTE,),
        ),
    ]
