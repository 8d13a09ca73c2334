"""``routerd serve --backend sim --world FILE``: every router of a simulated world, one process.

Each router of the World file gets what a real ``routerd serve`` has — its own state
directory (``<state-dir>/<router>/``: store and WireGuard keys), its own API socket
(``<socket-dir>/<router>.sock``), the real engine and API server (``RouterDaemon`` is a
``Daemon``) — over a ``SimBackend`` bound to its host in one shared ``World``. What differs
is time: the routers share a virtual clock and their passes run on one ``PassScheduler``
thread, so a test gets the same answer every time; the API additionally serves
``SimService`` (faults, VM moves, packet traces, the clock) on every router's socket, all
acting on the one world.

``--router NAME`` hosts only the named routers; the others stay in the world as hosts
without routerd (as if it were stopped there). Keys are paired across the world before the
first pass: each WireGuard peer gets the public key of the router it stands for.
"""

from __future__ import annotations

import importlib
import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

from routerd.api import server as api_server
from routerd.backends.sim import ManualClock, SimBackend, World
from routerd.backends.sim.control import WorldControl
from routerd.backends.sim.worldfile.build import build_world
from routerd.backends.sim.worldfile.load import WorldFile, load_world_file, paired_config
from routerd.core.config import RouterConfig
from routerd.core.engine import Engine, EngineSettings
from routerd.core.errors import ConfigError, ConfigIssue, RouterdError
from routerd.core.loader import LoadResult
from routerd.core.port import DataplaneBackend
from routerd.daemon import mobility, plugins, registry
from routerd.daemon.scheduler import PassScheduler
from routerd.daemon.service import Daemon, DaemonOptions
from routerd.keys import KeyFiles

LOG = logging.getLogger(__name__)

SOCKET_PATH_MAX = 107
"""Longest Unix socket path the kernel accepts (sun_path is 108 bytes with the NUL)."""


def preload() -> None:
    """Import now what starting a world would import on first use (SimService, the provider
    rules; the API server and the plugin worker come with the daemon's imports), so a test
    session pays it once up front instead of inside its first test."""
    for name in ("routerd.api.sim", "routerd.providers.check"):
        importlib.import_module(name)


class WorldEngine(Engine):
    """An engine whose wake-ups go to the world's scheduler (it has no loop of its own)."""

    def __init__(self, *args: Any, on_wake: Callable[[], None], **kwargs: Any) -> None:
        self._on_wake = on_wake
        super().__init__(*args, **kwargs)

    def wake(self) -> None:
        super().wake()
        self._on_wake()


class RouterDaemon(Daemon):
    """One router of a world: a ``Daemon`` over the shared world, driven by the scheduler."""

    components = (mobility.start, api_server.start, plugins.start)

    def __init__(
        self,
        opts: DaemonOptions,
        startup: RouterConfig,
        loader: Callable[[str], LoadResult],
        *,
        host: WorldHost,
        router: str,
    ) -> None:
        self.sim = host
        self.router = router
        super().__init__(opts, startup, loader)

    def _create_backend(self, startup: RouterConfig) -> DataplaneBackend:
        return SimBackend(self.sim.world, self.router)

    def _create_engine(self, startup: RouterConfig, settings: EngineSettings) -> Engine:
        from routerd.providers import config_checks

        return WorldEngine(
            self.backend,
            startup,
            store=self.store,
            keys=KeyFiles(),
            settings=settings,
            clock=self.sim.clock,
            extra_checks=[config_checks],
            provider=registry.provider_evidence("sim", self.backend),
            on_wake=lambda: self.sim.scheduler.poke(self.router),
        )

    def after_pass(self, result: Any) -> None:
        self._after_pass(result)


@dataclass
class WorldOptions:
    """What ``routerd serve --world`` was asked to do.

    Attributes:
        world_file: the World file (also what each router reloads its config from).
        state_dir: parent of the routers' state directories.
        socket_dir: where the routers' API sockets go (``<router>.sock``).
        routers: host only these routers (empty: all).
    """

    world_file: str
    state_dir: Path
    socket_dir: Path
    routers: tuple[str, ...] = ()
    socket_group: str | None = None
    resync_interval: float = 15.0
    cleanup_on_exit: bool = False


def _fail(loaded: WorldFile, message: str, path: str = "") -> ConfigError:
    return ConfigError([ConfigIssue("World", path, message, None, loaded.file)])


class WorldHost:
    """Builds the world and its routers; ``start`` serves them, ``stop`` ends everything."""

    def __init__(self, opts: WorldOptions, loaded: WorldFile) -> None:
        spec = loaded.raise_for_errors()
        self.opts = opts
        self.loaded = loaded
        self.spec = spec
        names = [r.name for r in spec.spec.routers]
        unknown = [r for r in opts.routers if r not in names]
        if unknown:
            raise _fail(
                loaded,
                f"--router {unknown[0]}: no such router (routers: {', '.join(names) or 'none'})",
            )
        self.hosted = [n for n in names if not opts.routers or n in opts.routers]
        start = spec.spec.clock.start
        self.clock = ManualClock(start=time.time() if start is None else start)
        self.started_clock = self.clock.now
        self.key_dirs = {n: opts.state_dir / n / "keys" for n in names}
        configs = {n: self._config(n) for n in names}
        self.world: World = build_world(spec, configs, clock=self.clock)
        self.control = WorldControl(self.world, spec)
        self.scheduler = PassScheduler(
            self.clock, timers=self.control.next_timer, run_timers=self.control.run_timers
        )
        self.daemons: dict[str, RouterDaemon] = {}
        for name in self.hosted:
            self.daemons[name] = RouterDaemon(
                self._daemon_options(name),
                configs[name],
                self._loader(name),
                host=self,
                router=name,
            )
        self.stop_event = threading.Event()

    @property
    def name(self) -> str:
        return self.spec.name

    def socket(self, router: str) -> str:
        return str(self.opts.socket_dir / f"{router}.sock")

    def _config(self, router: str) -> RouterConfig:
        return paired_config(self.loaded, router, self.key_dirs).raise_for_errors()

    def _daemon_options(self, router: str) -> DaemonOptions:
        sock = self.socket(router)
        if len(sock.encode()) > SOCKET_PATH_MAX:
            raise _fail(
                self.loaded,
                f"--socket-dir: {sock} is {len(sock.encode())} bytes; Unix "
                f"socket paths allow {SOCKET_PATH_MAX}: choose a shorter directory",
            )
        return DaemonOptions(
            config_path=self.opts.world_file,
            backend="sim",
            state_dir=self.opts.state_dir / router,
            socket=sock,
            socket_group=self.opts.socket_group,
            cleanup_on_exit=self.opts.cleanup_on_exit,
            resync_interval=self.opts.resync_interval,
        )

    def _loader(self, router: str) -> Callable[[str], LoadResult]:
        """Reload: read the World file again and take this router's config from it."""

        def load(path: str) -> LoadResult:
            world = load_world_file(path)
            if not world.valid or router not in world.routers:
                missing = (
                    []
                    if router in world.routers
                    else [
                        ConfigIssue(
                            "World", "routers", f"no router {router!r} any more", None, path
                        )
                    ]
                )
                return LoadResult(None, world.errors + missing, world.warnings)
            return paired_config(world, router, self.key_dirs)

        return load

    # -- running ---------------------------------------------------------------------------

    def start(self, *, settle_timeout: float = 30.0) -> None:
        """Start every router's API, then the passes; returns once the world has settled.

        Raises:
            RouterdError: an API socket cannot be served (nothing is left running).
        """
        started: list[RouterDaemon] = []
        try:
            for daemon in self.daemons.values():
                started.append(daemon)
                daemon.start_components()
        except BaseException:
            for daemon in reversed(started):
                for hook in reversed(daemon.stop_hooks):
                    hook()
                daemon.stop_hooks.clear()
            raise
        for name, daemon in self.daemons.items():
            self.scheduler.add(name, daemon.engine, daemon.after_pass)
        self.scheduler.start()
        self.scheduler.settle(settle_timeout)
        for name in self.daemons:
            LOG.info("world %s: router %s serving socket=%s", self.name, name, self.socket(name))

    def restart(self, router: str, *, settle_timeout: float = 30.0) -> None:
        """Restart one router's routerd, as ``systemctl restart routerd`` would: the running
        one stops without cleanup (its dataplane and BGP speaker stay as they are), a new one
        starts on the same state directory and socket and adopts them.

        Raises:
            KeyError: the router is not hosted here.
        """
        old = self.daemons[router]
        with self.scheduler.paused():
            for hook in reversed(old.stop_hooks):
                hook()
            old.stop_hooks.clear()
            old.engine.close(cleanup=False)
            old.store.close()
            new = RouterDaemon(
                self._daemon_options(router),
                self._config(router),
                self._loader(router),
                host=self,
                router=router,
            )
            self.daemons[router] = new
            new.start_components()
            self.scheduler.add(router, new.engine, new.after_pass)
        self.scheduler.settle(settle_timeout)
        LOG.info("world %s: router %s restarted", self.name, router)

    def stop(self) -> None:
        """Stop the passes and every router (dataplane left as is unless --cleanup-on-exit)."""
        self.scheduler.stop()
        for daemon in reversed(list(self.daemons.values())):
            for hook in reversed(daemon.stop_hooks):
                hook()
            daemon.stop_hooks.clear()
            daemon.engine.close(cleanup=self.opts.cleanup_on_exit)
            daemon.store.close()

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if signum == signal.SIGHUP:
            for daemon in self.daemons.values():
                threading.Thread(target=daemon.reload, name="reload", daemon=True).start()
            return
        LOG.info("stopping world %s on %s", self.name, signal.Signals(signum).name)
        self.stop_event.set()

    def run(self) -> int:
        """Serve until SIGTERM/SIGINT (SIGHUP reloads every router's config)."""
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, self._on_signal)
        try:
            self.start()
        except (RouterdError, OSError) as e:
            hint = (
                "; give --socket-dir a directory you can write to" if isinstance(e, OSError) else ""
            )
            LOG.error("routerd cannot start: %s%s", e, hint)
            self.stop()
            return 1
        try:
            self.stop_event.wait()
        finally:
            self.stop()
        return 0
