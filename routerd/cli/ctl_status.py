"""``routerctl status``: is routerd alive, what is it running, and is anything wrong?

Modelled on ``tailscale status``: a few aligned lines, then health problems as a trailing
``# Health:`` block (absent when healthy), so a person sees trouble without a second command
and ``-o json`` gives scripts the same warnings with stable codes.
"""

from __future__ import annotations

import argparse

from routerd.cli.common import EXIT_OK
from routerd.cli.ctl_client import Client
from routerd.cli.ctl_output import ago, emit, fields, seconds, span, stamp
from routerd.v1 import status_pb2, status_pb2_grpc

SLOW_PASS = 1.0
"""Seconds from which the ``Reconcile`` line names where the last pass spent its time (its
largest phases; ``-o json`` always has every phase)."""


def health_block(warnings: list[status_pb2.HealthWarning]) -> str:
    """Tailscale-style trailing block; empty when there is nothing to say."""
    if not warnings:
        return ""
    lines = ["# Health:"]
    lines += [f"#     - {w.subject}: {w.message} [{w.code}]" for w in warnings]
    return "\n".join(lines)


def claim_summary(st: status_pb2.Status) -> str:
    from routerd.core.lifecycle import ClaimState  # the state machine library: only for -o table

    order = [s.value for s in ClaimState]
    parts = [f"{st.claim_counts[s]} {s}" for s in order if st.claim_counts.get(s)]
    return f"{st.claims_total} total" + (f": {', '.join(parts)}" if parts else "")


def _file_line(st: status_pb2.Status, now: float | None) -> list[tuple[str, str]]:
    """A ``Config file`` line only when the file on disk is not what runs."""
    f = st.config_file
    if not f.differs:
        return []
    if f.last_reload == "rejected":
        n = len(f.last_reload_errors)
        return [
            (
                "Config file",
                f"NOT RUNNING: reload rejected {ago(f.last_reload_at, now)} with {n} error(s); "
                "the previous config is kept (routerd validate -c FILE)",
            )
        ]
    return [("Config file", "changed on disk, not reloaded yet (routerctl reload)")]


def _pair_line(st: status_pb2.Status, now: float | None) -> list[tuple[str, str]]:
    """A ``Pair`` line on a router of a redundant pair (absent on a site's only router)."""
    p = st.pair
    if not p.group:
        return []
    since = f" since {ago(p.since, now)}" if p.HasField("since") else ""
    return [("Pair", f"{p.role.upper()}{since} in {p.group}: {p.why}")]


def _most_in(st: status_pb2.Status) -> str:
    """``; most in inputs 2s, apply 531ms, judge 525ms`` for a slow last pass, else ""."""
    if seconds(st.last_pass_duration) < SLOW_PASS or not st.last_pass_phases:
        return ""
    top = sorted(st.last_pass_phases, key=lambda p: seconds(p.duration), reverse=True)[:3]
    return "; most in " + ", ".join(f"{p.phase} {span(p.duration)}" for p in top)


def render(st: status_pb2.Status, now: float | None = None) -> str:
    last = (
        f"{st.pass_count} passes, last {ago(st.last_pass_at, now)} "
        f"(took {span(st.last_pass_duration)}, {st.last_pass_changes} changes{_most_in(st)})"
        if st.pass_count
        else "no pass finished yet"
    )
    text = fields(
        [
            ("Router", f"{st.router} (routerd {st.version}, backend {st.backend})"),
            ("Config", f"generation {st.config_generation} from {st.config_path}"),
            *_file_line(st, now),
            ("Uptime", f"{span(st.uptime)} (since {stamp(st.started_at)})"),
            *_pair_line(st, now),
            ("Reconcile", last),
            ("Claims", claim_summary(st)),
            (
                "Dynamic",
                f"{st.dynamic_parts_active} active parts, {st.dynamic_parts_rejected} rejected",
            ),
            ("Journal", f"seq {st.journal_seq} (routerctl watch claims --since N)"),
        ]
    )
    block = health_block(list(st.health))
    return f"{text}\n\n{block}" if block else text


def cmd_status(args: argparse.Namespace, client: Client) -> int:
    stub = client.stub(status_pb2_grpc.StatusServiceStub)
    st = client.call(stub.GetStatus, status_pb2.GetStatusRequest())
    if args.output == "table":
        print(render(st))
    else:
        emit(st, args.output)
    return EXIT_OK
