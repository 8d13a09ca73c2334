"""``routerd serve``: the engine loop plus everything that makes it a daemon.

Threads: the engine runs in the main thread; the gRPC server has its own pool; plugin runs
happen on a worker so a slow plugin never delays a reconcile pass. Signals: SIGTERM/SIGINT
stop the loop and leave the dataplane in place (traffic keeps flowing across a restart or
upgrade) unless ``--cleanup-on-exit``; stopping is bounded by a deadline (``shutdown``), and
a second signal exits at once. SIGHUP re-reads the startup config and keeps the running one
when the new file is invalid; ``config_file`` remembers that, for status and metrics. The
state directory is locked and its database checked before anything else starts.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from routerd.api import server as api_server
from routerd.configfile import ConfigFileTracker, Stamp, stamp
from routerd.core.config import RouterConfig
from routerd.core.engine import Engine, EngineSettings, PassResult
from routerd.core.errors import RouterdError
from routerd.core.loader import LoadResult
from routerd.core.port import DataplaneBackend
from routerd.daemon import (
    metrics,
    mobility,
    plugins,
    provider_actions,
    redundancy,
    registry,
    sdnotify,
    statewatch,
    watchdog,
)
from routerd.daemon.shutdown import EXIT_FORCED, ShutdownDeadline
from routerd.keys import KeyFiles
from routerd.state.guard import open_guarded
from routerd.state.store import JOURNAL_KEEP, Store

LOG = logging.getLogger(__name__)

Component = Callable[["Daemon"], Callable[[], None] | None]
"""A component's ``start(daemon) -> stop | None``; ``stop`` is a no-argument callable run at
shutdown, in reverse order."""

COMPONENTS: tuple[Component, ...] = (
    metrics.start,
    watchdog.start,
    statewatch.start,
    redundancy.start,
    provider_actions.start,
    mobility.start,
    redundancy.join,
    api_server.start,
    sdnotify.start,
    plugins.start,
)
"""What starts with the daemon, in order. Imported explicitly, so the layers contract sees
the daemon's every dependency."""


@dataclass
class DaemonOptions:
    """Everything ``routerd serve`` was asked to do."""

    config_path: str
    backend: str = "linux"
    state_dir: Path = Path("/var/lib/routerd")
    socket: str = "/run/routerd/routerd.sock"
    socket_group: str | None = None
    listen_tcp: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    tls_client_ca: str | None = None
    metrics_listen: str | None = None
    cleanup_on_exit: bool = False
    resync_interval: float = 15.0
    full_pass_interval: float = 60.0
    reference_engine: bool = False
    journal_keep: int = JOURNAL_KEEP
    extra: dict[str, object] = field(default_factory=dict)


Loader = Callable[[str], LoadResult]


class Daemon:
    """Owns the store, backend, engine and servers for one routerd process.

    ``routerd.daemon.world`` hosts several of these in one process (one per router of a
    simulated world): it overrides how the backend and the engine are made and which
    components start, and drives the engines itself.
    """

    components: tuple[Component, ...] = COMPONENTS

    def __init__(
        self,
        opts: DaemonOptions,
        startup: RouterConfig,
        loader: Loader,
        *,
        config_stamp: Stamp | None = None,
    ) -> None:
        """Open the state (locked and checked), the backend and the engine.

        Args:
            opts: what ``routerd serve`` was asked to do.
            startup: the validated startup config.
            loader: reads the config file again on reload.
            config_stamp: the file's stamp taken before ``startup`` was read (default: now).
        """
        self.opts = opts
        self.loader = loader
        self.stop = threading.Event()
        self.started_at = time.time()
        loaded = config_stamp if config_stamp is not None else stamp(opts.config_path)
        self.config_file = ConfigFileTracker(opts.config_path, loaded)
        self.deadline = ShutdownDeadline(stall_dir=opts.state_dir)
        self._stop_signals = 0
        self.store: Store = open_guarded(opts.state_dir, journal_keep=opts.journal_keep)
        try:
            self.backend = self._create_backend(startup)
        except BaseException:
            self.store.close()  # releases the state directory for the next attempt
            raise
        settings = EngineSettings(
            resync_interval=opts.resync_interval,
            full_pass_interval=opts.full_pass_interval,
            reference=opts.reference_engine,
            key_dir=str(opts.state_dir / "keys"),
            keys_in_key_dir=opts.backend == "sim",
        )
        self.engine = self._create_engine(startup, settings)
        self.pass_hooks: list[Callable[[PassResult], None]] = []
        self.stop_hooks: list[Callable[[], None]] = []
        self._reload_lock = threading.Lock()
        self._submitted = startup  # the startup config last handed to the engine

    def _create_backend(self, startup: RouterConfig) -> DataplaneBackend:
        return registry.create(
            self.opts.backend, config=startup, store=self.store, state_dir=self.opts.state_dir
        )

    def _create_engine(self, startup: RouterConfig, settings: EngineSettings) -> Engine:
        from routerd.providers import config_checks

        return Engine(
            self.backend,
            startup,
            store=self.store,
            keys=KeyFiles(),
            settings=settings,
            extra_checks=[config_checks],
            provider=registry.provider_evidence(self.opts.backend, self.backend),
        )

    def reload(self) -> bool:
        """Re-read the startup config; keep the running one when the file is invalid.

        Runs on a reload thread (SIGHUP, the API), one reload at a time. The file's digest is
        computed here, off the engine thread (~0.1 s at 10,000 claims); a file equal to the
        config last handed to the engine is not handed over again ("reload: no changes"):
        the engine keeps its config and its generation, and only takes a fresh look
        (WireGuard key files are read again) on its next pass. A changed file is compared
        with the last one claim by claim here too, so the engine's pass handles only the
        claims that changed.
        """
        return self.reload_result().valid

    def reload_result(self) -> LoadResult:
        """Like ``reload``, returning what the loader found (the API reports its errors)."""
        with self._reload_lock:
            return self._reload()

    def _reload(self) -> LoadResult:
        before = stamp(self.opts.config_path)
        result = self.loader(self.opts.config_path)
        if not result.valid or result.config is None:
            for e in result.errors:
                LOG.error("reload rejected: %s", e.render())
            LOG.error(
                "reload rejected config=%s errors=%d; keeping the running config",
                self.opts.config_path,
                len(result.errors),
            )
            self.config_file.rejected(result.errors)
            return result
        for w in result.warnings:
            LOG.warning("config warning: %s", w.render())
        config = result.config
        if config.digest() == self._submitted.digest():
            self.config_file.accepted(before, unchanged=True)
            self.engine.submit(self.engine.mark_dirty)
            LOG.info("reload: no changes config=%s", self.opts.config_path)
            return result
        self.config_file.accepted(before, unchanged=False)
        self._submitted = config
        self.engine.set_startup(config)  # compared claim by claim here, on the reload thread
        LOG.info("reload accepted config=%s resources=%d", self.opts.config_path, len(config))
        return result

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if signum == signal.SIGHUP:
            threading.Thread(target=self.reload, name="reload", daemon=True).start()
            return
        name = signal.Signals(signum).name
        if self._stop_signals:
            LOG.warning("second %s while stopping: exiting now (dataplane left in place)", name)
            self.deadline.force(EXIT_FORCED)
            return
        self._stop_signals += 1
        LOG.info(
            "stopping on %s (dataplane %s)",
            name,
            "removed" if self.opts.cleanup_on_exit else "left in place",
        )
        self.request_stop()

    def request_stop(self) -> None:
        """Stop serving; the process leaves within ``shutdown.DEADLINE`` seconds regardless."""
        self.deadline.arm()
        self.stop.set()
        self.engine.wake()

    def install_signals(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, self._on_signal)

    def _after_pass(self, result: PassResult) -> None:
        for hook in self.pass_hooks:
            hook(result)

    def start_components(self) -> None:
        for start in self.components:
            stop = start(self)
            if stop is not None:
                self.stop_hooks.append(stop)

    def run(self) -> int:
        """Serve until stopped; returns the process exit code."""
        self.install_signals()
        try:
            self.start_components()
        except RouterdError as e:  # e.g. the API socket is held by a live daemon
            LOG.error("routerd cannot start: %s", e)
            for hook in reversed(self.stop_hooks):
                hook()
            self.engine.close(cleanup=False)
            self.store.close()
            return 1
        LOG.info(
            "routerd serving backend=%s config=%s state_dir=%s",
            self.opts.backend,
            self.opts.config_path,
            self.opts.state_dir,
        )
        code = 0
        try:
            self.engine.run_forever(self.stop, self._after_pass)
        except Exception:  # logged through the formatter (JSON stays JSON), then a clean stop
            LOG.critical("reconcile loop failed; stopping", exc_info=True)
            code = 1
        finally:
            self.deadline.arm()  # however the loop ended, stopping is now bounded
            for hook in reversed(self.stop_hooks):
                hook()
            self.engine.close(cleanup=self.opts.cleanup_on_exit)
            self.store.close()
            self.deadline.disarm()
        return code
