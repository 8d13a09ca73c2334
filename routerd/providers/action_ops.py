"""What a person may do with journaled provider actions: look, approve, undo.

``routerctl action`` and the gRPC ActionService call these; the reconciler thread then
does the provider work on its next run. Each refusal says why and what to do instead:

* **approve** works on ``awaiting-approval`` actions only, all or none of the ids given;
  a superseded action names the action that replaced it;
* **undo** runs a succeeded action's recorded undo once, as a new action (origin
  ``undo``). It is refused while a claim still wants the address on this router's NIC:
  the reconciler is level-triggered and would only put the address back. Change or remove
  the claim instead, and routerd releases what it assigned by itself; undo is for what the
  reconciler does not revert on its own (an address it moved here from another NIC goes
  back to that NIC; an address it released comes back, left in the operator's hands).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from routerd.core.action_journal import ActionRecord
from routerd.core.errors import NotFoundError, RouterdError
from routerd.core.resources.provider_policy import (
    ACTION_ASSIGN,
    ACTION_REASSIGN,
    ACTION_UNASSIGN,
)
from routerd.providers.base import UNASSIGN
from routerd.providers.targets import ProfileTargets
from routerd.state.store import Store


class ActionRefused(RouterdError):
    """The request does not fit the action's state; the message says what to do."""


def find_action(store: Store, ref: str) -> ActionRecord:
    """The action with id ``ref`` (digits) or idempotency key ``ref``.

    Raises:
        NotFoundError: the journal has no such action.
    """
    rec = store.action_by_id(int(ref)) if ref.isdigit() else store.action_by_key(ref)
    if rec is None:
        raise NotFoundError(
            f"no provider action {ref!r} in the journal; list them with routerctl action list"
        )
    return rec


def approve(store: Store, ids: Iterable[int]) -> list[ActionRecord]:
    """Approve every action in ``ids`` (all must be awaiting approval, or none is changed).

    Raises:
        NotFoundError: an id is not journaled.
        ActionRefused: an action is not awaiting approval (says what it is, and for a
            superseded one which action replaced it).
    """
    found = [find_action(store, str(i)) for i in ids]
    if not found:
        raise ActionRefused("name at least one action id to approve")
    for rec in found:
        if rec.status == "awaiting-approval":
            continue
        if rec.status == "superseded":
            current = [
                r
                for r in store.list_actions(address=rec.address, statuses=("awaiting-approval",))
                if r.id != rec.id
            ]
            hint = f"; approve action {current[0].id} instead" if current else "; nothing waits now"
            raise ActionRefused(
                f"action {rec.id} is superseded: what it would do ({rec.operation} "
                f"{rec.address} on {rec.nic}) is no longer wanted{hint}"
            )
        raise ActionRefused(
            f"action {rec.id} is {rec.status}: only actions awaiting approval can be approved"
        )
    return [store.update_action(r.key, status="planned", approved=True) or r for r in found]


def undo_operation(undo: Mapping[str, object]) -> str:
    """The policy operation an executor undo record stands for."""
    if undo.get("action") == UNASSIGN:
        return ACTION_UNASSIGN
    return ACTION_REASSIGN if undo.get("reassign") else ACTION_ASSIGN


def request_undo(
    store: Store, action_id: int, wanted: Mapping[str, ProfileTargets]
) -> ActionRecord:
    """Journal the undo of action ``action_id``; the reconciler runs it on its next run.

    Args:
        store: the state store.
        action_id: the action to revert.
        wanted: the desired provider state now (``targets.desired_targets``).

    Raises:
        NotFoundError: no such action.
        ActionRefused: not succeeded, nothing to undo, already undone, a claim still wants
            the address here, or the profile's policy would not run the undo.
    """
    rec = find_action(store, str(action_id))
    if rec.status != "succeeded":
        raise ActionRefused(
            f"action {rec.id} is {rec.status}: only a succeeded action can be undone"
        )
    if rec.undo is None:
        raise ActionRefused(
            f"action {rec.id} changed nothing at the provider (the address already was "
            "so): there is nothing to undo"
        )
    if rec.origin == "undo":
        raise ActionRefused(f"action {rec.id} is itself an undo (of action {rec.undo_of})")
    earlier = [
        r
        for r in store.list_actions(address=rec.address)
        if r.undo_of == rec.id and r.status != "superseded"
    ]
    if earlier:
        raise ActionRefused(f"action {rec.id} is already undone by action {earlier[0].id}")
    pt = wanted.get(rec.profile)
    target = pt.targets.get(rec.address) if pt is not None else None
    if target is not None:
        raise ActionRefused(
            f"RemoteAddressClaim/{target.claim} still wants {rec.address} on {target.nic}: "
            "routerd would put it back at once; change or remove the claim (routerd then "
            "releases what it assigned by itself)"
        )
    operation = undo_operation(rec.undo)
    _check_policy(pt, rec, operation)
    nic = str(rec.undo.get("nic", rec.nic))
    return store.put_action(
        ActionRecord(
            id=0,
            key=f"rd-undo:{rec.id}:{rec.address}:{operation}",
            profile=rec.profile,
            provider=rec.provider,
            operation=operation,
            address=rec.address,
            nic=nic,
            from_nic=rec.nic if operation == ACTION_REASSIGN else "",
            intent=rec.intent,
            origin="undo",
            undo_of=rec.id,
            status="planned",
            approved=True,
            request={
                "provider": rec.provider,
                "nic": nic,
                "address": rec.address,
                "operation": operation,
                "undoOf": rec.id,
            },
        )
    )


def _check_policy(pt: ProfileTargets | None, rec: ActionRecord, operation: str) -> None:
    if pt is None or not pt.active or pt.policy is None:
        raise ActionRefused(
            f"CloudProviderProfile/{rec.profile} does not execute now (execution: plan, no "
            "policy or a disabled one): the undo would never run; run its provider command "
            "by hand (routerd plan prints it)"
        )
    if operation not in pt.policy.spec.actions:
        raise ActionRefused(
            f"the undo is a {operation}, which {pt.policy.ref} does not allow; allow it, or "
            "undo by hand"
        )
