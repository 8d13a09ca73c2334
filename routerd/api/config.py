"""ConfigService: validate, plan, show the effective config, reload, dynamic parts.

Validation uses the same loader and provider rules as ``routerd validate``, so the daemon and
the CLI never disagree about a file. A plan observes the host *on the engine thread* (the
backend is not shared across threads) and diffs it against the running lowering, or against
the lowering of a candidate config to answer "what would this reload change?". A candidate
plan never creates key files: it uses the public keys the running engine already knows.
"""

from __future__ import annotations

from collections.abc import Callable

import grpc

from routerd.api import convert, dynamic
from routerd.api.errors import ApiError, unary
from routerd.api.view import DaemonView, on_engine_thread, ready
from routerd.core.desired import WireGuardDevice
from routerd.core.effective import build_effective
from routerd.core.loader import LoadResult, load_text
from routerd.core.lowering import Lowered, lower, observe_scope
from routerd.core.plan import diff
from routerd.core.port import Change
from routerd.providers import config_checks
from routerd.v1 import config_pb2, config_pb2_grpc


def _load(text: str, file: str) -> LoadResult:
    return load_text(text, file, extra_checks=[config_checks])


def _invalid(result: LoadResult, what: str) -> ApiError:
    lines = "\n".join(f"  - {e.render()}" for e in result.errors)
    return ApiError(grpc.StatusCode.INVALID_ARGUMENT, f"{what} is invalid:\n{lines}")


class ConfigServicer(config_pb2_grpc.ConfigServiceServicer):
    def __init__(self, daemon: DaemonView) -> None:
        self.daemon = daemon

    @unary
    def ValidateConfig(
        self, request: config_pb2.ValidateConfigRequest, context: grpc.ServicerContext
    ) -> config_pb2.ValidateConfigResponse:
        result = _load(request.config_yaml, request.file_name or "<request>")
        return config_pb2.ValidateConfigResponse(
            valid=result.valid,
            errors=[convert.issue(i) for i in result.errors],
            warnings=[convert.issue(i) for i in result.warnings],
        )

    @unary
    def PlanChanges(
        self, request: config_pb2.PlanChangesRequest, context: grpc.ServicerContext
    ) -> config_pb2.Plan:
        engine = self.daemon.engine
        snap = engine.snapshot
        _, running = ready(snap)
        router = snap.startup.name
        lowered = running
        if request.config_yaml:
            lowered, router = self._candidate(request.config_yaml, running)
        changes = on_engine_thread(engine, _planner(self.daemon, lowered), context)
        ops = [c.op for c in changes]
        return config_pb2.Plan(
            router=router,
            backend=self.daemon.opts.backend,
            config_generation=snap.generation,
            changes=[convert.change(c) for c in changes],
            add=ops.count("add"),
            replace=ops.count("replace"),
            remove=ops.count("remove"),
        )

    def _candidate(self, text: str, running: Lowered) -> tuple[Lowered, str]:
        result = _load(text, "<plan>")
        if not result.valid or result.config is None:
            raise _invalid(result, "the config to plan")
        engine = self.daemon.engine
        eff = build_effective(
            result.config,
            self.daemon.store.list_parts(),
            engine.clock(),
            extra_checks=engine.extra_checks,
        )
        keys = {
            o.ifname: o.public_key
            for o in running.desired.objects.values()
            if isinstance(o, WireGuardDevice) and o.public_key
        }
        lowered = lower(
            eff.config,
            generation=engine.snapshot.generation,
            key_dir=engine.settings.key_dir,
            public_keys=keys,
        )
        return lowered, result.config.name

    @unary
    def GetEffectiveConfig(
        self, request: config_pb2.GetEffectiveConfigRequest, context: grpc.ServicerContext
    ) -> config_pb2.EffectiveConfig:
        snap = self.daemon.engine.snapshot
        eff, _ = ready(snap)
        return config_pb2.EffectiveConfig(
            config_generation=snap.generation,
            config=convert.struct(eff.config.to_doc()),
            active=eff.active,
            expired=eff.expired,
            superseded=eff.superseded,
            added=[
                config_pb2.AddedResource(
                    source=a.source,
                    generation=a.generation,
                    api_version=a.identity[0],
                    kind=a.identity[1],
                    name=a.identity[2],
                )
                for a in eff.added
            ],
            suppressed=[
                config_pb2.SuppressedResource(
                    api_version=s.target[0],
                    kind=s.target[1],
                    name=s.target[2],
                    masked_by=s.masked_by,
                    masked_until=convert.timestamp(s.masked_until),
                    reason=s.reason,
                )
                for s in eff.suppressed
            ],
            rejected=[
                config_pb2.RejectedPart(source=r.source, generation=r.generation, reasons=r.reasons)
                for r in eff.rejected
            ],
            next_change_at=convert.timestamp(eff.next_change_at),
        )

    @unary
    def ReloadConfig(
        self, request: config_pb2.ReloadConfigRequest, context: grpc.ServicerContext
    ) -> config_pb2.ReloadConfigResponse:
        path = self.daemon.opts.config_path
        # The same path as SIGHUP: one read, logged, and recorded for `routerctl status`.
        result = self.daemon.reload_result()
        if not result.valid or result.config is None:
            lines = "\n".join(f"  - {e.render()}" for e in result.errors)
            raise ApiError(
                grpc.StatusCode.FAILED_PRECONDITION,
                f"reload rejected: {path} is invalid; the running config is kept:\n{lines}",
            )
        return config_pb2.ReloadConfigResponse(
            config_path=path,
            resources=len(result.config),
            warnings=[convert.issue(w) for w in result.warnings],
        )

    @unary
    def PutDynamicPart(
        self, request: config_pb2.PutDynamicPartRequest, context: grpc.ServicerContext
    ) -> config_pb2.PutDynamicPartResponse:
        return config_pb2.PutDynamicPartResponse(
            part=dynamic.put_part(self.daemon, request.document)
        )

    @unary
    def ListDynamicParts(
        self, request: config_pb2.ListDynamicPartsRequest, context: grpc.ServicerContext
    ) -> config_pb2.ListDynamicPartsResponse:
        return config_pb2.ListDynamicPartsResponse(
            parts=dynamic.list_parts(self.daemon, request.source)
        )

    @unary
    def DeleteDynamicSource(
        self, request: config_pb2.DeleteDynamicSourceRequest, context: grpc.ServicerContext
    ) -> config_pb2.DeleteDynamicSourceResponse:
        return config_pb2.DeleteDynamicSourceResponse(
            deleted=dynamic.delete_source(self.daemon, request.source)
        )


def _planner(daemon: DaemonView, lowered: Lowered) -> Callable[[], list[Change]]:
    def plan() -> list[Change]:
        observed = daemon.engine.backend.observe(observe_scope(lowered))
        return diff(lowered.desired, observed)

    return plan
