"""``routerctl action list|describe|approve|undo``: the provider-action journal.

routerd runs provider actions (assign, unassign, reassign a secondary IP) only for a
CloudProviderProfile with ``execution: execute``, within its ProviderActionPolicy. Every
action is journaled: ``list`` shows them newest first, ``describe`` one with its request,
result and undo; ``approve`` lets actions waiting for a person run (``approval:
required``); ``undo`` runs a succeeded action's undo once. Refusals (an action in another
state, a claim that still wants the address) exit 2 with what to do instead.
"""

from __future__ import annotations

import argparse
import json

from routerd.cli.common import EXIT_OK, table
from routerd.cli.ctl_client import Client
from routerd.cli.ctl_output import ago, clip, emit, fields, to_data
from routerd.v1 import action_pb2, action_pb2_grpc

ERROR_WIDTH = 60


def _stub(client: Client) -> action_pb2_grpc.ActionServiceStub:
    return client.stub(action_pb2_grpc.ActionServiceStub)


def _nic(a: action_pb2.Action) -> str:
    return f"{a.from_nic} -> {a.nic}" if a.from_nic else a.nic


def render_list(resp: action_pb2.ListActionsResponse) -> str:
    rows = [
        [
            str(a.id),
            a.status,
            a.operation,
            a.address,
            _nic(a),
            a.claim or ("undo of " + str(a.undo_of) if a.origin == "undo" else "-"),
            ago(a.updated_at),
            clip(a.error, ERROR_WIDTH) if a.error else "",
        ]
        for a in resp.actions
    ]
    headers = ["ID", "STATUS", "OPERATION", "ADDRESS", "NIC", "CLAIM", "UPDATED", "ERROR"]
    return table(rows, headers) if rows else "no provider actions journaled"


def _doc(msg: object) -> str:
    data = to_data(msg)
    return json.dumps(data, sort_keys=True) if data else "-"


def render_action(a: action_pb2.Action) -> str:
    pairs = [
        ("ID", str(a.id)),
        ("Key", a.key),
        ("Status", a.status + (" (approved)" if a.approved else "")),
        ("Operation", f"{a.operation} {a.address} on {_nic(a)}"),
        ("Profile", f"CloudProviderProfile/{a.profile} ({a.provider})"),
        ("Claim", a.claim or "-"),
        ("Origin", a.origin + (f" of action {a.undo_of}" if a.undo_of else "")),
        ("Intent", str(a.intent)),
        ("Attempts", str(a.attempts)),
        ("Created", ago(a.created_at)),
        ("Updated", ago(a.updated_at)),
        ("Finished", ago(a.finished_at) if a.HasField("finished_at") else "-"),
        ("Request", _doc(a.request)),
        ("Result", _doc(a.result) if a.HasField("result") else "-"),
        ("Undo", _doc(a.undo) if a.HasField("undo") else "-"),
    ]
    if a.error:
        pairs.append(("Error", a.error))
    hint = _hint(a)
    if hint:
        pairs.append(("Next", hint))
    return fields(pairs)


def _hint(a: action_pb2.Action) -> str:
    if a.status == "awaiting-approval":
        return f"routerctl action approve {a.id}"
    if a.status == "failed":
        return "retried with the same key while it is still wanted; see Error"
    if a.status == "succeeded" and a.HasField("undo") and a.origin == "reconcile":
        return f"routerctl action undo {a.id} (once no claim wants {a.address} here)"
    return ""


def cmd_list(args: argparse.Namespace, client: Client) -> int:
    req = action_pb2.ListActionsRequest(
        statuses=args.status or [], address=args.address or "", limit=args.limit
    )
    resp = client.call(_stub(client).ListActions, req)
    if args.output == "table":
        print(render_list(resp))
    else:
        emit(resp, args.output)
    return EXIT_OK


def _show(action: action_pb2.Action, fmt: str) -> None:
    if fmt == "table":
        print(render_action(action))
    else:
        emit(action, fmt)


def cmd_describe(args: argparse.Namespace, client: Client) -> int:
    action = client.call(_stub(client).GetAction, action_pb2.GetActionRequest(id=args.id))
    _show(action, args.output)
    return EXIT_OK


def cmd_approve(args: argparse.Namespace, client: Client) -> int:
    req = action_pb2.ApproveActionRequest(ids=args.ids)
    resp = client.call(_stub(client).ApproveAction, req)
    if args.output == "table":
        for a in resp.actions:
            print(f"approved action {a.id}: {a.operation} {a.address} on {_nic(a)}")
    else:
        emit(resp, args.output)
    return EXIT_OK


def cmd_undo(args: argparse.Namespace, client: Client) -> int:
    action = client.call(_stub(client).UndoAction, action_pb2.UndoActionRequest(id=args.id))
    if args.output == "table":
        print(
            f"action {action.id} will undo action {args.id}: {action.operation} "
            f"{action.address} on {_nic(action)} (routerctl action describe {action.id})"
        )
    else:
        emit(action, args.output)
    return EXIT_OK
