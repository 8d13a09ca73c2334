"""``routerctl doctor``, ``config``, ``dynamic``, ``plugin`` and ``action``: their arguments.

The administrative half of routerctl's command line (``routerd.cli.ctl_args`` explains the
split between parsing and running): each subcommand names its implementation with ``Run``,
imported only when it runs.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from routerd.cli.common import DATA_FORMATS, DEFAULT_STATE_DIR, add_output
from routerd.cli.ctl_args import DOCTOR_AREAS, Run
from routerd.core.action_journal import STATUSES

if TYPE_CHECKING:
    from routerd.cli.ctl_args import Subparsers


def register_doctor(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "doctor",
        parents=[common],
        help="run diagnostic checks (exit 3 when one fails)",
        description="Run every check of one area and report each as pass, warn, fail or "
        "skip with what to do. hybrid: peers, routes, claims, MTU/MSS and live SAM state; "
        "dynamic: stored parts and the effective merge; plugin: executables, last runs, "
        "freshness; firewall: host rules that would drop SAM traffic; mobility: BGP "
        "sessions and refused paths, conflicting, captured and stale homes, the anycast "
        "gateway, duplicate responders and the router pair's active routers; provider: "
        "executing provider actions (policy, credentials and permissions, the cloud's "
        "inventory and metadata against the action journal, actions pending or failed). "
        "Exit 0 unless a "
        "check fails (3).",
    )
    p.add_argument("area", choices=DOCTOR_AREAS, help="which checks to run")
    p.add_argument(
        "--probe",
        action="store_true",
        help="also measure the path MTU through the tunnel (DF pings) and the MSS it implies",
    )
    p.add_argument(
        "--no-host",
        action="store_true",
        help="skip host probes (commands, /proc, netlink): config-level checks only",
    )
    p.add_argument(
        "--local",
        action="store_true",
        help="run the checks here without a daemon (needs -c FILE; reads --state-dir)",
    )
    p.add_argument(
        "--all",
        action="store_true",
        help="table: list every per-claim finding (by default per-claim passes and skips are "
        "only counted in the per-check summaries)",
    )
    p.add_argument("-c", "--config", metavar="FILE", help="with --local: the Router config")
    p.add_argument(
        "--state-dir",
        default=DEFAULT_STATE_DIR,
        metavar="DIR",
        help=f"with --local: the state directory, opened read-only (default: {DEFAULT_STATE_DIR})",
    )
    p.add_argument(
        "--backend",
        choices=("linux", "sim"),
        default="linux",
        help="with --local: the dataplane the checks assume; sim skips host probes "
        "(default: linux)",
    )
    add_output(p, DATA_FORMATS, "table")
    p.set_defaults(func=Run("routerd.cli.ctl_doctor:cmd_doctor"))


def register_config(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "plan",
        parents=[common],
        help="changes the daemon would make to the host now (read-only)",
        description="Ask the daemon to observe the host and list the changes that would "
        "make it match the effective config. With -c FILE, plan that config instead "
        "(with the stored dynamic parts), e.g. before a reload. Changes nothing.",
    )
    p.add_argument("-c", "--config", metavar="FILE", help="plan this Router config instead")
    add_output(p, ("text", "json", "yaml"), "text")
    p.set_defaults(func=Run("routerd.cli.ctl_config:cmd_plan"))

    p = sub.add_parser(
        "reload",
        parents=[common],
        help="make the daemon re-read its startup config",
        description="Re-read the startup config file the daemon was started with (like "
        "SIGHUP). An invalid file is refused with every error and the running config is "
        "kept (exit 2).",
    )
    p.set_defaults(func=Run("routerd.cli.ctl_config:cmd_reload"))


def register_dynamic(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "dynamic",
        help="dynamic config parts: list, describe, render, diff, put, delete",
        description="Inspect and manage dynamic config parts (runtime fragments from plugins "
        "or operators). Only the latest active generation of each source participates; a "
        "part the merge rejects is rejected as a whole.",
    )
    dyn = p.add_subparsers(dest="action", metavar="ACTION", required=True)

    q = dyn.add_parser("list", parents=[common], help="stored parts with their merge status")
    add_output(q, DATA_FORMATS, "table")
    q.set_defaults(func=Run("routerd.cli.ctl_dynamic:cmd_list"))

    q = dyn.add_parser("describe", parents=[common], help="every stored generation of one source")
    q.add_argument("source", help="the exact source string, e.g. Plugin/cloud-inventory")
    add_output(q, DATA_FORMATS, "table")
    q.set_defaults(func=Run("routerd.cli.ctl_dynamic:cmd_describe"))

    q = dyn.add_parser("render", parents=[common], help="print the effective Router config")
    add_output(q, ("yaml", "json"), "yaml")
    q.set_defaults(func=Run("routerd.cli.ctl_dynamic:cmd_render"))

    q = dyn.add_parser(
        "diff",
        parents=[common],
        help="what dynamic parts add (+), mask (-) or had rejected (!)",
    )
    add_output(q, ("text", "json"), "text")
    q.set_defaults(func=Run("routerd.cli.ctl_dynamic:cmd_diff"))

    q = dyn.add_parser(
        "put",
        parents=[common],
        help="store a DynamicConfigPart (checked by a trial merge first)",
        description="Store one DynamicConfigPart document (YAML or JSON; '-' reads stdin). "
        "Omit spec.generation to get the source's next one; spec.ttl is required and "
        "counts from when routerd receives the part. A part the merge would reject is "
        "refused with every reason and nothing is stored (exit 2).",
    )
    q.add_argument("file", metavar="FILE", help="the part document, or - for stdin")
    add_output(q, DATA_FORMATS, "table")
    q.set_defaults(func=Run("routerd.cli.ctl_dynamic:cmd_put"))

    q = dyn.add_parser(
        "delete", parents=[common], help="delete every stored generation of one source"
    )
    q.add_argument("source", help="the exact source string")
    q.set_defaults(func=Run("routerd.cli.ctl_dynamic:cmd_delete"))


def register_plugin(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "plugin",
        help="list plugins or run one now",
        description="Plugins observe the world and propose dynamic config parts; their "
        "action plans are display-only and never executed.",
    )
    plug = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    q = plug.add_parser(
        "list", parents=[common], help="configured plugins, triggers, last run and part"
    )
    add_output(q, DATA_FORMATS, "table")
    q.set_defaults(func=Run("routerd.cli.ctl_plugin:cmd_list"))
    q = plug.add_parser(
        "run",
        parents=[common],
        help="run one plugin now (exit 1 when it fails)",
        description="Run one plugin now through the daemon and show its candidate part, "
        "whether the effective merge accepts it, and its display-only action plans. "
        "Without --dry-run the part is stored as the source's next generation.",
    )
    q.add_argument("name", help="the Plugin's name")
    q.add_argument("--dry-run", action="store_true", help="run it but store and record nothing")
    add_output(q, DATA_FORMATS, "table")
    q.set_defaults(func=Run("routerd.cli.ctl_plugin:cmd_run"))


def register_action(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "action",
        help="provider actions routerd planned or ran at a cloud (journal, approve, undo)",
        description="routerd runs provider actions only for a CloudProviderProfile with "
        "execution: execute, within its ProviderActionPolicy; every action is journaled "
        "with its request, result and undo.",
    )
    act = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    q = act.add_parser("list", parents=[common], help="journaled actions, newest first")
    q.add_argument(
        "--status",
        action="append",
        choices=STATUSES,
        help="only actions in this status (repeatable)",
    )
    q.add_argument("--address", help="only actions on this address")
    q.add_argument("--limit", type=int, default=200, help="at most this many (default: 200)")
    add_output(q, DATA_FORMATS, "table")
    q.set_defaults(func=Run("routerd.cli.ctl_action:cmd_list"))
    q = act.add_parser(
        "describe", parents=[common], help="one action: request, result, undo, error"
    )
    q.add_argument("id", help="the action's id (or its idempotency key)")
    add_output(q, DATA_FORMATS, "table")
    q.set_defaults(func=Run("routerd.cli.ctl_action:cmd_describe"))
    q = act.add_parser(
        "approve",
        parents=[common],
        help="let actions awaiting approval run (all named, or none)",
    )
    q.add_argument("ids", nargs="+", type=int, metavar="ID", help="action ids")
    add_output(q, DATA_FORMATS, "table")
    q.set_defaults(func=Run("routerd.cli.ctl_action:cmd_approve"))
    q = act.add_parser(
        "undo",
        parents=[common],
        help="run a succeeded action's undo once (refused while a claim wants the address)",
        description="Run the recorded undo of a succeeded action once, as a new action. "
        "Refused while a claim still wants the address on this router's NIC: change or "
        "remove the claim instead, and routerd releases what it assigned by itself.",
    )
    q.add_argument("id", type=int, help="the action to revert")
    add_output(q, DATA_FORMATS, "table")
    q.set_defaults(func=Run("routerd.cli.ctl_action:cmd_undo"))
