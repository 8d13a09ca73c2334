"""``routerd serve``: the engine loop plus everything that makes it a daemon.

Threads: the engine runs in the main thread; the gRPC server has its own pool; plugin runs
happen on a worker so a slow plugin never delays a reconcile pass. Signals: SIGTERM/SIGINT
stop the loop and leave the dataplane in place (traffic keeps flowing across a restart or
upgrade) unless ``--cleanup-on-exit``; SIGHUP re-reads the startup config and keeps the
running one when the new file is invalid.
"""

from __future__ import annotations

import importlib
import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from routerd.backends import registry
from routerd.core.config import RouterConfig
from routerd.core.engine import Engine, EngineSettings, PassResult
from routerd.core.errors import RouterdError
from routerd.core.loader import LoadResult
from routerd.core.port import DataplaneBackend
from routerd.core.store import Store

LOG = logging.getLogger(__name__)

COMPONENTS: tuple[str, ...] = (
    "routerd.daemon.metrics",
    "routerd.daemon.watchdog",
    "routerd.api.server",
    "routerd.daemon.sdnotify",
    "routerd.daemon.plugins",
)
"""Modules started with the daemon, in order. Each has ``start(daemon) -> stop | None``
(``stop`` is a no-argument callable run at shutdown, in reverse order)."""


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
    extra: dict[str, object] = field(default_factory=dict)


Loader = Callable[[str], LoadResult]


class Daemon:
    """Owns the store, backend, engine and servers for one routerd process.

    ``routerd.daemon.world`` hosts several of these in one process (one per router of a
    simulated world): it overrides how the backend and the engine are made and which
    components start, and drives the engines itself.
    """

    components: tuple[str, ...] = COMPONENTS

    def __init__(self, opts: DaemonOptions, startup: RouterConfig, loader: Loader) -> None:
        self.opts = opts
        self.loader = loader
        self.stop = threading.Event()
        self.started_at = time.time()
        self.store = Store.open(opts.state_dir)
        self.backend = self._create_backend(startup)
        settings = EngineSettings(
            resync_interval=opts.resync_interval,
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
            settings=settings,
            extra_checks=[config_checks],
            provider=registry.provider_evidence(self.opts.backend, self.backend),
        )

    def reload(self) -> bool:
        """Re-read the startup config; keep the running one when the file is invalid.

        Runs on a reload thread (SIGHUP, the API), one reload at a time. The file's digest is
        computed here, off the engine thread (~0.1 s at 10,000 claims); a file equal to the
        config last handed to the engine is not handed over again ("reload: no changes"):
        the engine keeps its config, its caches and its generation, and only takes a fresh
        look (WireGuard key files are read again) on its next pass.
        """
        with self._reload_lock:
            return self._reload()

    def _reload(self) -> bool:
        result = self.loader(self.opts.config_path)
        if not result.valid or result.config is None:
            for e in result.errors:
                LOG.error("reload rejected: %s", e.render())
            LOG.error(
                "reload rejected config=%s errors=%d; keeping the running config",
                self.opts.config_path,
                len(result.errors),
            )
            return False
        for w in result.warnings:
            LOG.warning("config warning: %s", w.render())
        config = result.config
        if config.digest() == self._submitted.digest():
            self.engine.submit(self.engine.mark_dirty)
            LOG.info("reload: no changes config=%s", self.opts.config_path)
            return True
        self._submitted = config
        self.engine.submit(lambda: self.engine.set_startup(config))
        LOG.info("reload accepted config=%s resources=%d", self.opts.config_path, len(config))
        return True

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if signum == signal.SIGHUP:
            threading.Thread(target=self.reload, name="reload", daemon=True).start()
            return
        LOG.info(
            "stopping on %s (dataplane %s)",
            signal.Signals(signum).name,
            "removed" if self.opts.cleanup_on_exit else "left in place",
        )
        self.stop.set()
        self.engine.wake()

    def install_signals(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, self._on_signal)

    def _after_pass(self, result: PassResult) -> None:
        for hook in self.pass_hooks:
            hook(result)

    def start_components(self) -> None:
        for name in self.components:
            stop = importlib.import_module(name).start(self)
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
        try:
            self.engine.run_forever(self.stop, self._after_pass)
        finally:
            for hook in reversed(self.stop_hooks):
                hook()
            self.engine.close(cleanup=self.opts.cleanup_on_exit)
            self.store.close()
        return 0
