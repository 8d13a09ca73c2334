"""``routerctl plan`` and ``routerctl reload``: what the daemon would change, and a reload.

``plan`` asks the running daemon to observe the host and diff it against its effective
config (read-only); with ``-c FILE`` it plans that file instead, which answers "what would
this reload change?" before reloading. ``reload`` makes the daemon re-read its startup
config; an invalid file is refused with every error and the running config is kept (exit 2).
"""

from __future__ import annotations

import argparse

from routerd.cli.common import EXIT_OK
from routerd.cli.ctl_client import Client, read_document
from routerd.cli.ctl_output import emit
from routerd.v1 import config_pb2, config_pb2_grpc

SIGN = {"add": "+", "replace": "~", "remove": "-"}


def render_plan(plan: config_pb2.Plan) -> str:
    lines = [f"Plan for router {plan.router} (backend {plan.backend}, read-only):"]
    for c in plan.changes:
        was = f" (was: {c.was})" if c.was else ""
        owners = f"  [{', '.join(c.owners)}]" if c.owners else ""
        lines.append(f"  {SIGN.get(c.op, '?')} {c.object}{was}{owners}")
    if not plan.changes:
        lines.append("  no changes: the host matches the config")
    lines.append(f"{plan.add} to add, {plan.replace} to change, {plan.remove} to remove.")
    return "\n".join(lines)


def cmd_plan(args: argparse.Namespace, client: Client) -> int:
    req = config_pb2.PlanChangesRequest()
    if args.config:
        req.config_yaml = read_document(args.config)
    stub = client.stub(config_pb2_grpc.ConfigServiceStub)
    plan = client.call(stub.PlanChanges, req)
    if args.output == "text":
        print(render_plan(plan))
    else:
        emit(plan, args.output)
    return EXIT_OK


def cmd_reload(args: argparse.Namespace, client: Client) -> int:
    stub = client.stub(config_pb2_grpc.ConfigServiceStub)
    resp = client.call(stub.ReloadConfig, config_pb2.ReloadConfigRequest())
    for w in resp.warnings:
        print(f"warning: {w.resource} {w.path}: {w.message}".replace("  ", " "))
    print(f"reloaded {resp.config_path} ({resp.resources} resources)")
    return EXIT_OK
