"""``routerctl doctor AREA``: run the checks of one area and report every result.

By default the daemon runs the checks against its live view (effective config, dynamic
claims and claim states included, D7 in docs/decisions.md). ``--local -c FILE`` runs the same
checks in this process without a daemon: the context is built from the file and, when it exists,
the state directory opened read-only (``routerctl`` never writes state). Both paths print the
same report; the exit code is 3 exactly when some check failed, so scripts can tell "broken"
from "needs a look" (docs/troubleshooting.md).

At thousands of claims the table leads with the per-check summaries (``<check> (all
claims)``), then lists per claim only what warns or fails; ``--all`` or ``-o json|yaml``
gives every finding, as scripts need.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from routerd.api.convert import doctor_report
from routerd.cli.common import (
    DEFAULT_STATE_DIR,
    EXIT_DOCTOR_FAIL,
    EXIT_OK,
    EXIT_USAGE,
    add_output,
    existing_public_keys,
    table,
)
from routerd.cli.ctl_client import Client, CtlError
from routerd.cli.ctl_output import DATA_FORMATS, clip, emit
from routerd.cli.validate_cmd import load_config, print_issues
from routerd.core.doctor import AREAS, DoctorContext
from routerd.core.effective import build_effective
from routerd.core.lowering import lower
from routerd.core.state_port import StoreError
from routerd.doctor.summary import SUMMARY_SUFFIX
from routerd.providers import config_checks
from routerd.state.store import DB_NAME, Store
from routerd.v1 import doctor_pb2, doctor_pb2_grpc

DETAIL_WIDTH = 48
SUMMARY_WIDTH = 96


def local_context(args: argparse.Namespace) -> DoctorContext:
    """The doctor's inputs from a config file and a read-only state directory."""
    result = load_config(args.config)
    print_issues(result)
    if not result.valid or result.config is None:
        raise CtlError(f"{args.config} is invalid; fix it before running doctor", EXIT_USAGE)
    startup = result.config
    state_dir = Path(args.state_dir)
    store = None
    if (state_dir / DB_NAME).exists():
        try:
            store = Store.open(state_dir, readonly=True)
        except StoreError as e:
            raise CtlError(str(e)) from None
    eff = build_effective(
        startup, store.list_parts() if store else [], time.time(), extra_checks=[config_checks]
    )
    key_dir = str(state_dir / "keys")
    keys = existing_public_keys(eff.config, key_dir, in_key_dir=args.backend == "sim")
    lowered = lower(eff.config, key_dir=key_dir, public_keys=keys)
    return DoctorContext(
        startup=startup,
        effective=eff,
        lowered=lowered,
        store=store,
        host=not args.no_host,
        probe=args.probe,
        backend=args.backend,
    )


def is_summary(f: doctor_pb2.Finding) -> bool:
    """A per-check summary over all claims (``routerd.doctor.summary``)."""
    return not f.claim and f.name.endswith(SUMMARY_SUFFIX)


def shown(
    report: doctor_pb2.DoctorReport, *, show_all: bool = False
) -> tuple[list[doctor_pb2.Finding], int]:
    """The table's findings and how many per-claim ones it leaves to the summaries.

    With summaries (``doctor hybrid`` with claims) and without ``--all``: the summaries
    first, then the findings about no single claim, then per-claim warnings and failures.
    Otherwise every finding in report order.
    """
    findings = list(report.findings)
    if show_all or not any(is_summary(f) for f in findings):
        return findings, 0
    per_claim = [f for f in findings if f.claim]
    listed = [f for f in per_claim if f.status in ("warn", "fail")]
    rest = [f for f in findings if not f.claim and not is_summary(f)]
    return [f for f in findings if is_summary(f)] + rest + listed, len(per_claim) - len(listed)


def render(report: doctor_pb2.DoctorReport, *, show_all: bool = False) -> str:
    findings, hidden = shown(report, show_all=show_all)
    rows = [
        [f.status, f.name, clip(f.detail, SUMMARY_WIDTH if is_summary(f) else DETAIL_WIDTH)]
        for f in findings
    ]
    out = [table(rows, ["STATUS", "CHECK", "DETAIL"]) if rows else "no checks ran"]
    for f in findings:
        if f.status in ("warn", "fail"):
            out.append(f"\n{f.status} {f.name}\n  detail: {f.detail or '-'}")
            if f.remedy:
                out.append(f"  remedy: {f.remedy}")
    if hidden:
        out.append(
            f"\n{hidden:,} per-claim pass/skip findings are counted in the summaries above "
            "(--all or -o json|yaml lists them)"
        )
    out.append(f"\n{report.area}: {report.overall} ({_counts(report)})")
    return "\n".join(out)


def _counts(report: doctor_pb2.DoctorReport) -> str:
    summaries = sum(1 for f in report.findings if is_summary(f))
    if not summaries:
        return ", ".join(f"{s} {report.counts.get(s, 0)}" for s in ("pass", "warn", "fail", "skip"))
    checks = [f.status for f in report.findings if not is_summary(f)]
    text = ", ".join(f"{s} {checks.count(s):,}" for s in ("pass", "warn", "fail", "skip"))
    return f"{text}; {summaries} summaries"


def _run(args: argparse.Namespace, client: Client) -> doctor_pb2.DoctorReport:
    if args.local:
        if not args.config:
            raise CtlError("--local needs -c FILE (the config to check)", EXIT_USAGE)
        from routerd.doctor import run_doctor  # the checks run in this process

        return doctor_report(args.area, run_doctor(args.area, local_context(args)))
    if args.config:
        raise CtlError(
            "-c FILE only applies with --local (the daemon checks its own config)", EXIT_USAGE
        )
    stub = client.stub(doctor_pb2_grpc.DoctorServiceStub)
    req = doctor_pb2.RunDoctorRequest(area=args.area, probe=args.probe, no_host=args.no_host)
    report: doctor_pb2.DoctorReport = client.call(stub.RunDoctor, req)
    return report


def cmd_doctor(args: argparse.Namespace, client: Client) -> int:
    report = _run(args, client)
    if args.output == "table":
        print(render(report, show_all=args.all))
    else:
        emit(report, args.output)
    return EXIT_DOCTOR_FAIL if report.overall == "fail" else EXIT_OK


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
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
    p.add_argument("area", choices=AREAS, help="which checks to run")
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
    p.set_defaults(func=cmd_doctor)
