"""StatusService: one cheap answer to "is routerd alive and is it well?".

Everything comes from the engine snapshot and the daemon's own records (no store query, no
host call; one ``stat`` of the config file), so ``routerctl status`` answers instantly even
during a long reconcile pass. Health problems are declared
data (style rule 14): a stable code, a severity, the subject and a message, so scripts can
match on the code and the CLI can print the tailscale-style ``# Health:`` block.
"""

from __future__ import annotations

import time

import grpc

from routerd import __version__
from routerd.api import convert
from routerd.api.errors import unary
from routerd.api.redundancy import pair_role, role_source
from routerd.api.view import DaemonView
from routerd.configfile import FileState
from routerd.core.snapshot import Snapshot
from routerd.v1 import status_pb2, status_pb2_grpc

EXPECTED = frozenset({"capture-standby"})
"""Reasons a claim is held back on purpose (a pair's standby router): no health problem;
the Pair line says why."""
MAX_CLAIM_WARNINGS = 20
"""Beyond this many degraded claims, one summary line stands for the rest."""


def health_warnings(snap: Snapshot) -> list[status_pb2.HealthWarning]:
    """Every health problem visible in ``snap``, most important first."""
    out: list[status_pb2.HealthWarning] = []
    if snap.pass_count == 0:
        out.append(
            status_pb2.HealthWarning(
                code="not-reconciled-yet",
                severity="warning",
                subject="engine",
                message="the first reconcile pass has not finished yet",
            )
        )
    degraded = sorted(
        (c for c in snap.claims.values() if c.state == "degraded" and c.reason not in EXPECTED),
        key=_name,
    )
    for c in degraded[:MAX_CLAIM_WARNINGS]:
        detail = f": {c.message}" if c.message else ""
        out.append(
            status_pb2.HealthWarning(
                code="claim-degraded",
                severity="error",
                subject=f"RemoteAddressClaim/{c.name}",
                message=f"{c.address} is degraded ({c.reason or 'no reason'}){detail}",
            )
        )
    if len(degraded) > MAX_CLAIM_WARNINGS:
        out.append(
            status_pb2.HealthWarning(
                code="claim-degraded",
                severity="error",
                subject="RemoteAddressClaim/*",
                message=f"{len(degraded) - MAX_CLAIM_WARNINGS} more degraded claims "
                "(routerctl get claims)",
            )
        )
    rejected = snap.effective.rejected if snap.effective else []
    for r in rejected:
        out.append(
            status_pb2.HealthWarning(
                code="dynamic-part-rejected",
                severity="warning",
                subject=f"{r.source}@{r.generation}",
                message="rejected as a whole: " + "; ".join(r.reasons),
            )
        )
    for key, error in sorted(snap.apply_errors.items()):
        out.append(
            status_pb2.HealthWarning(
                code="apply-failed", severity="error", subject=key, message=error
            )
        )
    return out


def daemon_warnings(file: FileState, store_fault: str, path: str) -> list[status_pb2.HealthWarning]:
    """Warnings about the daemon's own inputs: the config file and the state database."""
    out: list[status_pb2.HealthWarning] = []
    if file.differs:
        rejected = file.last is not None and file.last.outcome == "rejected"
        out.append(
            status_pb2.HealthWarning(
                code="config-reload-rejected" if rejected else "config-file-changed",
                severity="error" if rejected else "warning",
                subject=path,
                message=f"the file on disk is not the running config: {file.reason}",
            )
        )
    if store_fault:
        out.append(
            status_pb2.HealthWarning(
                code="state-store-damaged",
                severity="error",
                subject="state database",
                message=store_fault,
            )
        )
    return out


def config_file_status(file: FileState) -> status_pb2.ConfigFileStatus:
    last = file.last
    return status_pb2.ConfigFileStatus(
        differs=file.differs,
        reason=file.reason,
        last_reload=last.outcome if last else "",
        last_reload_at=convert.timestamp(last.at) if last else None,
        last_reload_errors=[convert.issue(i) for i in last.errors] if last else [],
        last_success_at=convert.timestamp(file.last_success_at),
    )


def _name(c: object) -> str:
    return str(getattr(c, "name", ""))


class StatusServicer(status_pb2_grpc.StatusServiceServicer):
    def __init__(self, daemon: DaemonView) -> None:
        self.daemon = daemon

    @unary
    def GetStatus(
        self, request: status_pb2.GetStatusRequest, context: grpc.ServicerContext
    ) -> status_pb2.Status:
        d = self.daemon
        snap = d.engine.snapshot
        eff = snap.effective
        counts = snap.counts()
        file = d.config_file.state()
        health = health_warnings(snap) + daemon_warnings(file, d.store.fault, d.opts.config_path)
        return status_pb2.Status(
            version=__version__,
            router=snap.startup.name,
            backend=d.opts.backend,
            config_path=d.opts.config_path,
            config_generation=snap.generation,
            started_at=convert.timestamp(d.started_at),
            uptime=convert.duration(max(0.0, time.time() - d.started_at)),
            claim_counts=counts,
            claims_total=sum(counts.values()),
            pass_count=snap.pass_count,
            last_pass_at=convert.timestamp(snap.last_pass_at),
            last_pass_duration=convert.duration(snap.last_pass_seconds),
            last_pass_changes=snap.last_changes,
            last_pass_phases=[
                status_pb2.PassPhase(phase=phase, duration=convert.duration(seconds))
                for phase, seconds in snap.last_pass_phases
            ],
            dynamic_parts_active=len(eff.active) if eff else 0,
            dynamic_parts_rejected=len(eff.rejected) if eff else 0,
            journal_seq=d.engine.bus.seq,
            health=health,
            config_file=config_file_status(file),
            state_store_fault=d.store.fault,
            pair=pair_role(role_source(d)),
        )
