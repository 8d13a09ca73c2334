"""``routerctl plugin list`` and ``routerctl plugin run NAME [--dry-run]``.

Plugins observe and propose; they never change the host themselves. ``run`` executes one
through the daemon (the same runner the scheduler uses) and shows the candidate part, whether
the effective merge accepts it, and any action plans — display-only, never executed.
``--dry-run`` stores and records nothing. A failed run exits 1 with the plugin's error.
"""

from __future__ import annotations

import argparse

from routerd.cli.common import EXIT_FAIL, EXIT_OK, table
from routerd.cli.ctl_client import Client
from routerd.cli.ctl_output import ago, dump, emit, fields, to_data
from routerd.v1 import plugins_pb2, plugins_pb2_grpc


def _triggers(p: plugins_pb2.PluginInfo) -> str:
    out = [f"every {t.every}" if t.type == "interval" else f"on {t.topic}" for t in p.triggers]
    return ", ".join(out) or "manual"


def _last_run(p: plugins_pb2.PluginInfo) -> str:
    if not p.HasField("last_run"):
        return "never"
    r = p.last_run
    code = f" exit {r.exit_code}" if r.HasField("exit_code") else ""
    return f"{r.status}{code} {ago(r.started_at)}"


def render_list(resp: plugins_pb2.ListPluginsResponse) -> str:
    rows = [
        [
            p.name,
            _triggers(p),
            p.ttl or "(result)",
            _last_run(p),
            f"gen {p.latest_generation} {p.part_state}" if p.latest_generation else "none",
        ]
        for p in resp.plugins
    ]
    headers = ["NAME", "TRIGGERS", "TTL", "LAST RUN", "PART"]
    return table(rows, headers) if rows else "no plugins configured"


def render_run(r: plugins_pb2.PluginRunReport) -> str:
    merge = "accepted" if r.part_accepted else "would be rejected"
    pairs = [
        ("Plugin", f"{r.plugin} ({r.source}){' dry run: nothing stored' if r.dry_run else ''}"),
        ("Result", "ok" if r.ok else f"failed: {r.error}"),
        ("Exit code", str(r.exit_code) if r.HasField("exit_code") else "-"),
        ("Duration", f"{r.duration_ms}ms"),
        ("TTL from", r.ttl_origin or "-"),
        ("Merge", merge if r.HasField("part") else "-"),
        ("Action plans", f"{len(r.action_plans)} display-only; not executed"),
    ]
    if r.stderr:
        pairs.append(("Stderr", r.stderr.strip().splitlines()[-1]))
    out = [fields(pairs)]
    out += [f"  - {reason}" for reason in r.part_rejected_reasons]
    if r.HasField("part"):
        out.append("\nPart:\n" + dump(to_data(r.part), "yaml"))
    return "\n".join(out)


def _stub(client: Client) -> plugins_pb2_grpc.PluginServiceStub:
    return client.stub(plugins_pb2_grpc.PluginServiceStub)


def cmd_list(args: argparse.Namespace, client: Client) -> int:
    resp = client.call(_stub(client).ListPlugins, plugins_pb2.ListPluginsRequest())
    if args.output == "table":
        print(render_list(resp))
    else:
        emit(resp, args.output)
    return EXIT_OK


def cmd_run(args: argparse.Namespace, client: Client) -> int:
    req = plugins_pb2.RunPluginRequest(name=args.name, dry_run=args.dry_run)
    report = client.call(_stub(client).RunPlugin, req)
    if args.output == "table":
        print(render_run(report))
    else:
        emit(report, args.output)
    return EXIT_OK if report.ok else EXIT_FAIL
