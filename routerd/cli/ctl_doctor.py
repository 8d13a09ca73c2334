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

Asking the daemon needs only the report's message; the checks, the config loader and the
state store are imported for ``--local`` alone (``routerd.cli.ctl_doctor_local``).
"""

from __future__ import annotations

import argparse

from routerd.cli.common import EXIT_DOCTOR_FAIL, EXIT_OK, EXIT_USAGE, table
from routerd.cli.ctl_client import Client, CtlError
from routerd.cli.ctl_output import clip, emit
from routerd.v1 import doctor_pb2, doctor_pb2_grpc

DETAIL_WIDTH = 48
SUMMARY_WIDTH = 96
SUMMARY_SUFFIX = " (all claims)"
"""``routerd.doctor.summary.SUMMARY_SUFFIX``, which imports the doctor (a test keeps them equal)."""


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
        from routerd.cli.ctl_doctor_local import run_local  # the checks run in this process

        return run_local(args)
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
