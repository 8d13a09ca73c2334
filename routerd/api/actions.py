"""ActionService: the provider-action journal, approvals and undo.

Reads come from the store (thread-safe, WAL: the reconciler may be writing). Approve and
undo only change the journal (``routerd.providers.action_ops``) and wake the provider
reconciler (``daemon.provider_actions``), which does the provider work on its own thread:
no RPC ever waits on a cloud API. Refusals are FAILED_PRECONDITION with what to do.
"""

from __future__ import annotations

import grpc

from routerd.api import convert
from routerd.api.errors import ApiError, unary
from routerd.api.view import DaemonView, ready
from routerd.core.action_journal import STATUSES, ActionRecord
from routerd.providers import action_ops
from routerd.providers.targets import desired_targets
from routerd.v1 import action_pb2, action_pb2_grpc

DEFAULT_LIMIT = 1000


def action_message(rec: ActionRecord) -> action_pb2.Action:
    """A journaled action as its ``routerd.v1.Action`` message."""
    return action_pb2.Action(
        id=rec.id,
        key=rec.key,
        profile=rec.profile,
        provider=rec.provider,
        operation=rec.operation,
        address=rec.address,
        nic=rec.nic,
        from_nic=rec.from_nic,
        claim=rec.claim,
        intent=rec.intent,
        origin=rec.origin,
        undo_of=rec.undo_of or 0,
        status=rec.status,
        approved=rec.approved,
        request=convert.struct(dict(rec.request)),
        result=convert.struct(dict(rec.result)) if rec.result else None,
        undo=convert.struct(dict(rec.undo)) if rec.undo is not None else None,
        error=rec.error,
        attempts=rec.attempts,
        created_at=convert.timestamp(rec.created_at),
        updated_at=convert.timestamp(rec.updated_at),
        finished_at=convert.timestamp(rec.finished_at),
    )


class ActionServicer(action_pb2_grpc.ActionServiceServicer):
    def __init__(self, daemon: DaemonView) -> None:
        self.daemon = daemon

    def _wake(self) -> None:
        reconciler = getattr(self.daemon, "provider_actions", None)
        if reconciler is not None:
            reconciler.wake()

    @unary
    def ListActions(
        self, request: action_pb2.ListActionsRequest, context: grpc.ServicerContext
    ) -> action_pb2.ListActionsResponse:
        bad = [s for s in request.statuses if s not in STATUSES]
        if bad:
            raise ApiError(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"statuses: {', '.join(map(repr, bad))} not a status; use any of "
                f"{', '.join(STATUSES)}",
            )
        records = self.daemon.store.list_actions(
            statuses=request.statuses,
            address=request.address.split("/", 1)[0],
            limit=request.limit or DEFAULT_LIMIT,
        )
        return action_pb2.ListActionsResponse(actions=[action_message(r) for r in records])

    @unary
    def GetAction(
        self, request: action_pb2.GetActionRequest, context: grpc.ServicerContext
    ) -> action_pb2.Action:
        return action_message(action_ops.find_action(self.daemon.store, request.id.strip()))

    @unary
    def ApproveAction(
        self, request: action_pb2.ApproveActionRequest, context: grpc.ServicerContext
    ) -> action_pb2.ApproveActionResponse:
        approved = action_ops.approve(self.daemon.store, request.ids)
        self._wake()
        return action_pb2.ApproveActionResponse(actions=[action_message(r) for r in approved])

    @unary
    def UndoAction(
        self, request: action_pb2.UndoActionRequest, context: grpc.ServicerContext
    ) -> action_pb2.Action:
        eff, lowered = ready(self.daemon.engine.snapshot)
        wanted = desired_targets(eff.config, lowered.claims)
        rec = action_ops.request_undo(self.daemon.store, request.id, wanted)
        self._wake()
        return action_message(rec)
