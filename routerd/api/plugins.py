"""PluginService: the plugin listing and manual runs.

A run goes through the same runner the scheduler uses (``routerd.core.plugins``): a dry run
executes the plugin and stores nothing; a real run records a ``plugin_runs`` row, stores the
part as the source's next generation and marks the engine dirty. Either way the report says
whether the effective merge accepts the part (D3 in docs/decisions.md) so the operator sees a
rejection at once, not on the next ``doctor dynamic``. A plugin that fails is a normal answer
(``ok = false``).
"""

from __future__ import annotations

from dataclasses import replace

import grpc

from routerd.api import convert
from routerd.api.dynamic import part_status
from routerd.api.errors import unary
from routerd.api.view import DaemonView
from routerd.core.dynamic import DynamicPart
from routerd.core.effective import build_effective
from routerd.core.plugins import (
    PluginOutcome,
    dry_run_plugin,
    find_plugin,
    list_plugins,
    run_plugin,
)
from routerd.plugins.process import launch_plugin
from routerd.v1 import plugins_pb2, plugins_pb2_grpc


class PluginServicer(plugins_pb2_grpc.PluginServiceServicer):
    def __init__(self, daemon: DaemonView) -> None:
        self.daemon = daemon

    @unary
    def ListPlugins(
        self, request: plugins_pb2.ListPluginsRequest, context: grpc.ServicerContext
    ) -> plugins_pb2.ListPluginsResponse:
        engine = self.daemon.engine
        infos = list_plugins(engine.startup, self.daemon.store, engine.clock())
        return plugins_pb2.ListPluginsResponse(plugins=[convert.plugin_info(i) for i in infos])

    @unary
    def RunPlugin(
        self, request: plugins_pb2.RunPluginRequest, context: grpc.ServicerContext
    ) -> plugins_pb2.PluginRunReport:
        engine = self.daemon.engine
        startup = engine.startup
        plugin = find_plugin(startup, request.name)
        generation = engine.snapshot.generation
        if request.dry_run:
            outcome = dry_run_plugin(
                plugin, startup=startup, launch=launch_plugin, effective_generation=generation
            )
        else:
            outcome = run_plugin(
                plugin,
                startup=startup,
                store=self.daemon.store,
                launch=launch_plugin,
                effective_generation=generation,
            )
            if outcome.part is not None:
                engine.mark_dirty()
        return self._report(outcome)

    def _report(self, o: PluginOutcome) -> plugins_pb2.PluginRunReport:
        report = plugins_pb2.PluginRunReport(
            plugin=o.plugin,
            source=o.source,
            dry_run=o.dry_run,
            ok=o.ok,
            error=o.error,
            exit_code=o.exit_code,
            duration_ms=round(o.duration * 1000),
            stdout_digest=o.stdout_digest,
            stderr=o.stderr,
            stderr_truncated=o.stderr_truncated,
            run_id=o.run_id or 0,
            ttl_origin=o.ttl_origin,
            observed_at=o.observed_at,
            part=convert.struct(o.part.to_resource_doc()) if o.part else None,
            action_plans=[convert.struct(a) for a in o.action_plans],
            events=len(o.events),
        )
        if o.part is not None:
            status, reasons = self._judge(o.part, dry_run=o.dry_run)
            report.part_accepted = status == "active"
            report.part_rejected_reasons.extend(reasons)
        return report

    def _judge(self, part: DynamicPart, *, dry_run: bool) -> tuple[str, tuple[str, ...]]:
        """How the effective merge treats the part (a dry-run part as the next generation)."""
        engine = self.daemon.engine
        stored = self.daemon.store.list_parts()
        if dry_run:
            part = replace(part, generation=self.daemon.store.next_generation(part.source))
        others = [p for p in stored if p.label != part.label]
        eff = build_effective(
            engine.startup, [*others, part], engine.clock(), extra_checks=engine.extra_checks
        )
        return part_status(eff, part)
