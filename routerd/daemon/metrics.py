"""Prometheus metrics for ``routerd serve --metrics-listen HOST:PORT``.

Why it is shaped this way:

* One ``CollectorRegistry`` per daemon, never prometheus_client's global one, so nothing
  else imported into the process can add series and tests can run several daemons.
* Two kinds of series. Events (transitions, apply failures, pass durations and their
  phases, plugin runs) are counted as they happen, from the engine's per-pass hooks, on the
  engine thread. States (claims by state, dynamic parts, handshake ages, generation) are
  read from the engine's immutable ``Snapshot`` at scrape time by a custom collector, so a
  scrape always shows one consistent pass and a claim or peer that went away simply has no
  series.
* A failing metrics hook is logged and swallowed: metrics must never stop reconciling.
* A listener that cannot bind is logged as an error and routerd keeps serving without
  metrics: the dataplane matters more than its dashboards, and a crash loop over a busy
  port would take traffic down with it.

Every series is listed with its meaning in docs/operations.md.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from routerd import __version__
from routerd.configfile import ConfigFileTracker
from routerd.core.engine import Engine, PassResult
from routerd.core.lifecycle import TransitionRecord
from routerd.core.phases import PHASES
from routerd.core.snapshot import Snapshot
from routerd.state.store import Store

if TYPE_CHECKING:
    from routerd.daemon.service import Daemon

LOG = logging.getLogger(__name__)

DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
"""Pass durations: a quiet pass takes milliseconds; tens of seconds means trouble."""
RUN_WINDOW = 500
"""Newest plugin runs looked at per pass (more than can finish between two passes)."""


def parse_listen(value: str) -> tuple[str, int]:
    """``HOST:PORT``, ``[v6]:PORT`` or ``:PORT`` (all interfaces) -> (host, port).

    Raises:
        ValueError: when there is no valid port.
    """
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"expected HOST:PORT, got {value!r}")
    host = host.strip("[]") or "0.0.0.0"
    return host, int(port)


class SnapshotCollector(Collector):
    """State series, read from the engine's latest snapshot at scrape time."""

    def __init__(self, engine: Engine, started_at: float) -> None:
        self.engine = engine
        self.started_at = started_at

    def collect(self) -> Iterator[Metric]:
        snap: Snapshot = self.engine.snapshot
        claims = GaugeMetricFamily("routerd_claims", "Claims by lifecycle state", labels=["state"])
        for state, n in snap.counts().items():
            claims.add_metric([state], n)
        yield claims
        yield self._parts(snap)
        yield self._handshakes(snap)
        yield GaugeMetricFamily(
            "routerd_apply_failing_objects",
            "Dataplane objects whose last apply failed (in backoff)",
            value=len(snap.apply_errors),
        )
        yield GaugeMetricFamily(
            "routerd_config_generation", "Generation of the effective config", snap.generation
        )
        if snap.pass_count:
            yield GaugeMetricFamily(
                "routerd_last_reconcile_timestamp_seconds",
                "When the latest reconcile pass ran (Unix time)",
                snap.last_pass_at,
            )
        yield GaugeMetricFamily(
            "routerd_start_time_seconds", "When this routerd started (Unix time)", self.started_at
        )
        info = GaugeMetricFamily("routerd_build_info", "routerd version", labels=["version"])
        info.add_metric([__version__], 1)
        yield info

    @staticmethod
    def _parts(snap: Snapshot) -> Metric:
        parts = GaugeMetricFamily(
            "routerd_dynamic_parts",
            "Dynamic config parts by status in the effective config",
            labels=["status"],
        )
        eff = snap.effective
        counts = {
            "active": len(eff.active) if eff else 0,
            "rejected": len(eff.rejected) if eff else 0,
            "superseded": len(eff.superseded) if eff else 0,
            "expired": len(eff.expired) if eff else 0,
        }
        for status, n in counts.items():
            parts.add_metric([status], n)
        return parts

    def _handshakes(self, snap: Snapshot) -> Metric:
        ages = GaugeMetricFamily(
            "routerd_wireguard_handshake_age_seconds",
            "Seconds since the latest WireGuard handshake per peer (absent: never)",
            labels=["interface", "peer"],
        )
        elapsed = max(0.0, self.engine.clock() - snap.last_pass_at) if snap.pass_count else 0.0
        for (ifname, peer), age in sorted(snap.handshakes.items()):
            ages.add_metric([ifname, peer], age + elapsed)
        return ages


class InputsCollector(Collector):
    """The daemon's inputs, read at scrape time: the config file and the state database.

    Named after Prometheus's own ``prometheus_config_last_reload_successful`` so existing
    reload alerts carry over.
    """

    def __init__(self, config_file: ConfigFileTracker | None, store: Store | None) -> None:
        self.config_file = config_file
        self.store = store

    def collect(self) -> Iterator[Metric]:
        if self.config_file is not None:
            state = self.config_file.state()
            rejected = state.last is not None and state.last.outcome == "rejected"
            yield GaugeMetricFamily(
                "routerd_config_last_reload_successful",
                "1 unless the last reload of the startup config was rejected",
                0 if rejected else 1,
            )
            yield GaugeMetricFamily(
                "routerd_config_last_reload_success_timestamp_seconds",
                "When a startup config was last loaded (start-up or reload; Unix time)",
                state.last_success_at,
            )
            yield GaugeMetricFamily(
                "routerd_config_file_differs",
                "1 when the config file on disk is not the running config",
                1 if state.differs else 0,
            )
        if self.store is not None:
            yield GaugeMetricFamily(
                "routerd_state_store_healthy",
                "0 once damage or a failed write of the state database was seen",
                0 if self.store.fault else 1,
            )


class PluginRunTally:
    """Counts plugin runs that finished since this daemon started, from the run table.

    Runs finish on the plugin worker; the table is the one record of them. Each refresh
    reads the newest ``RUN_WINDOW`` rows and counts those newer than the last one seen,
    plus those seen running before that have finished since.
    """

    def __init__(self, store: Store, counter: Counter) -> None:
        self.store = store
        self.counter = counter
        runs = store.list_runs(limit=RUN_WINDOW)
        self._newest = runs[0].id if runs else 0
        self._running = {r.id for r in runs if r.status == "running"}

    def refresh(self) -> None:
        runs = self.store.list_runs(limit=RUN_WINDOW)
        for r in runs:
            if r.id <= self._newest and r.id not in self._running:
                continue
            if r.status == "running":
                self._running.add(r.id)
                continue
            self._running.discard(r.id)
            self.counter.labels(r.plugin, r.status).inc()
        if runs:
            self._newest = max(self._newest, runs[0].id)
        self._running &= {r.id for r in runs}


class DaemonMetrics:
    """Every routerd series, in one private registry.

    Args:
        engine: the reconcile engine (snapshot, clock).
        store: the state store (plugin runs); None for store-less use.
        started_at: process start (Unix time).
        config_file: the startup config file record (reload outcome); None to leave out.
    """

    def __init__(
        self,
        engine: Engine,
        store: Store | None,
        started_at: float,
        config_file: ConfigFileTracker | None = None,
    ) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.transitions = Counter(
            "routerd_claim_transitions",
            "Claim state transitions",
            ["from", "to", "reason"],
            registry=r,
        )
        self.duration = Histogram(
            "routerd_reconcile_duration_seconds",
            "Duration of reconcile passes",
            buckets=DURATION_BUCKETS,
            registry=r,
        )
        self.phases = Counter(
            "routerd_reconcile_phase_seconds",
            "Seconds reconcile passes spent in each phase",
            ["phase"],
            registry=r,
        )
        for phase in PHASES:  # every phase present from the start, as rate() wants
            self.phases.labels(phase)
        self.apply_errors = Counter(
            "routerd_apply_errors", "Failed dataplane changes by object kind", ["kind"], registry=r
        )
        self.plugin_runs = Counter(
            "routerd_plugin_runs",
            "Finished plugin runs by result",
            ["plugin", "result"],
            registry=r,
        )
        r.register(SnapshotCollector(engine, started_at))
        r.register(InputsCollector(config_file, store))
        self._runs = PluginRunTally(store, self.plugin_runs) if store is not None else None

    def on_transitions(self, _snapshot: Snapshot, records: list[TransitionRecord]) -> None:
        """Engine listener: count this pass's transitions."""
        try:
            for rec in records:
                self.transitions.labels(rec.from_state, rec.to_state, rec.reason or "-").inc()
        except Exception:
            LOG.warning("metrics: counting transitions failed", exc_info=True)

    def on_pass(self, result: PassResult) -> None:
        """Daemon pass hook: duration and its phases, apply failures, plugin runs."""
        try:
            self.duration.observe(result.seconds)
            for phase, seconds in result.phases.items():
                self.phases.labels(phase).inc(seconds)
            for failure in result.failures:
                self.apply_errors.labels(failure.change.key[0]).inc()
            if self._runs is not None:
                self._runs.refresh()
        except Exception:
            LOG.warning("metrics: recording the pass failed", exc_info=True)


class MetricsServer:
    """The HTTP listener serving ``/metrics`` (and ``/``) from one registry.

    Args:
        registry: what to expose.
        host / port: where to listen (port 0 picks a free one; see ``port``).
    """

    def __init__(self, registry: CollectorRegistry, host: str, port: int) -> None:
        self._server: WSGIServer
        self._thread: threading.Thread
        self._server, self._thread = start_http_server(port, addr=host, registry=registry)
        self.host = host
        self.port: int = self._server.server_port

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def start(daemon: Daemon) -> Callable[[], None] | None:
    """Daemon component: serve metrics when ``--metrics-listen`` was given.

    Args:
        daemon: the daemon being started.

    Returns:
        The shutdown callback, or None when metrics are off (or could not be served).
    """
    listen = daemon.opts.metrics_listen
    if not listen:
        return None
    metrics = DaemonMetrics(daemon.engine, daemon.store, daemon.started_at, daemon.config_file)
    try:
        host, port = parse_listen(listen)
        server = MetricsServer(metrics.registry, host, port)
    except (OSError, ValueError) as e:
        LOG.error("metrics disabled: cannot listen on %s: %s", listen, e)
        return None
    daemon.engine.listeners.append(metrics.on_transitions)
    daemon.pass_hooks.append(metrics.on_pass)
    LOG.info("metrics listening on http://%s:%d/metrics", server.host, server.port)
    return server.stop
