"""DoctorService: run one doctor area against the daemon's live view.

The checks themselves live in ``routerd.doctor`` (``run_doctor(area, ctx)``); this servicer
only builds the ``DoctorContext`` from what the daemon knows right now — the startup config,
the effective config and lowering from the engine snapshot (so dynamic claims are checked,
D7 in docs/decisions.md), each claim's state, the store and the backend, and the mobility
port, route exchange and role source when the daemon holds them (absent attributes read as
None) — and turns the report into data. A failing check is a normal answer
(``overall = fail``); only a bad request is an RPC error.
"""

from __future__ import annotations

import grpc

from routerd.api import convert
from routerd.api.errors import ApiError, unary
from routerd.api.view import DaemonView
from routerd.core.doctor import AREAS, DoctorContext
from routerd.v1 import doctor_pb2, doctor_pb2_grpc


def daemon_context(daemon: DaemonView, *, host: bool, probe: bool) -> DoctorContext:
    """The doctor's inputs as the running daemon sees them."""
    snap = daemon.engine.snapshot
    return DoctorContext(
        startup=daemon.engine.startup,
        effective=snap.effective,
        lowered=snap.lowered,
        claim_states={name: (c.state, c.reason) for name, c in snap.claims.items()},
        store=daemon.store,
        host=host,
        probe=probe,
        backend=daemon.opts.backend,
        mobility=getattr(daemon, "mobility", None),
        exchange=getattr(daemon, "exchange", None),
        role_source=getattr(daemon, "role_source", None),
    )


class DoctorServicer(doctor_pb2_grpc.DoctorServiceServicer):
    def __init__(self, daemon: DaemonView) -> None:
        self.daemon = daemon

    @unary
    def RunDoctor(
        self, request: doctor_pb2.RunDoctorRequest, context: grpc.ServicerContext
    ) -> doctor_pb2.DoctorReport:
        if request.area not in AREAS:
            raise ApiError(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"area: {request.area!r} is not a doctor area; use one of {', '.join(AREAS)}",
            )
        from routerd.doctor import run_doctor  # the checks package, loaded on first use

        ctx = daemon_context(self.daemon, host=not request.no_host, probe=request.probe)
        return convert.doctor_report(request.area, run_doctor(request.area, ctx))
