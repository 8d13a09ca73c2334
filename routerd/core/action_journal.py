"""The provider-action journal's records: actions, their statuses, and held addresses.

The provider reconciler plans and runs actions at a cloud and journals each one before and
after the call; ``routerctl action``, the API and the doctor read them back. The records are
plain data shared by all of them; the SQLite store (``routerd.state``) keeps them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

STATUSES = ("planned", "awaiting-approval", "running", "succeeded", "failed", "superseded")
"""``planned``: will run on the next reconciler run. ``awaiting-approval``: waits for
``routerctl action approve``. ``running``: the provider call is (or was, when routerd died)
in flight. ``succeeded`` / ``failed``: finished (a failed action is retried with the same key
while it is still wanted). ``superseded``: what it would do is no longer wanted."""
OPEN_STATUSES = ("planned", "awaiting-approval", "running", "failed")
"""Statuses of actions that may still run."""


@dataclass(frozen=True, slots=True)
class ActionRecord:
    """One journaled provider action.

    Attributes:
        id: the row id (``routerctl action describe ID``); 0 before it is stored.
        key: the idempotency key (address, operation, NIC, intent counter).
        profile / provider: the CloudProviderProfile and its cloud.
        operation: ``assign`` | ``unassign`` | ``reassign``.
        address: the bare IPv4 address.
        nic: the NIC the action acts on (nicRef form).
        from_nic: for ``reassign``, the NIC that held the address before.
        claim: the claim that wanted it ("" for a release or an undo).
        intent: the address's intent counter when the action was planned.
        origin: ``reconcile`` or ``undo``.
        undo_of: for an undo, the id of the action it reverts.
        status: one of ``STATUSES``.
        approved: a person approved it (``approval: required``).
        request / result / undo: what was asked, what came back, how to revert it.
        error: for a failure, what happened and what to do.
        attempts: provider write attempts over every run of this key.
        created_at / updated_at / finished_at: wall-clock times, for people only.
    """

    id: int
    key: str
    profile: str
    provider: str
    operation: str
    address: str
    nic: str
    from_nic: str = ""
    claim: str = ""
    intent: int = 0
    origin: str = "reconcile"
    undo_of: int | None = None
    status: str = "planned"
    approved: bool = False
    request: Mapping[str, Any] = field(default_factory=dict)
    result: Mapping[str, Any] = field(default_factory=dict)
    undo: Mapping[str, Any] | None = None
    error: str = ""
    attempts: int = 0
    created_at: float = 0.0
    updated_at: float = 0.0
    finished_at: float | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (camelCase keys)."""
        return {
            "id": self.id,
            "key": self.key,
            "profile": self.profile,
            "provider": self.provider,
            "operation": self.operation,
            "address": self.address,
            "nic": self.nic,
            "fromNic": self.from_nic,
            "claim": self.claim,
            "intent": self.intent,
            "origin": self.origin,
            "undoOf": self.undo_of,
            "status": self.status,
            "approved": self.approved,
            "request": dict(self.request),
            "result": dict(self.result),
            "undo": None if self.undo is None else dict(self.undo),
            "error": self.error,
            "attempts": self.attempts,
            "createdAt": self.created_at,
            "updatedAt": self.updated_at,
            "finishedAt": self.finished_at,
        }


@dataclass(frozen=True, slots=True)
class HeldAddress:
    """An address routerd put on a NIC (and may therefore release)."""

    address: str
    profile: str
    nic: str
    action_key: str
    since: float
