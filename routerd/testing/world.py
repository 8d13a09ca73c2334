"""Start a simulated world in this process, for a test: ``start_world(yaml)``.

The world is the same ``routerd serve --backend sim --world`` runs — one real daemon
(engine, store, API server) per router, a shared virtual clock — started on threads of the
test process, with its sockets and state in a fresh temporary directory. Nothing needs root:
no namespace, no kernel object, no privileged path. ``RunningWorld.close`` stops every
router and removes the directory; it reports passes that crashed, which a test should treat
as a failure (the pytest fixture does).
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc

from routerd.core.errors import ConfigError

from .client import SimClient

SOCKET_ROOT = "/tmp"
"""Parent of the socket directory: Unix socket paths must stay under 108 bytes."""


class RunningWorld(SimClient):
    """A world running in this process; a ``SimClient`` on channels to every router.

    Attributes:
        name: the World's metadata.name.
        routers: the hosted routers, in the World file's order.
        sockets: router -> its API socket path.
        channels: router -> an open gRPC channel to it.
        directory: the temporary directory holding sockets, state and the World file.
    """

    def __init__(self, host: object, directory: Path) -> None:
        from routerd.daemon.world import WorldHost

        assert isinstance(host, WorldHost)
        self.host = host
        self.directory = directory
        self.name = host.name
        self.routers = list(host.hosted)
        self.sockets = {r: host.socket(r) for r in self.routers}
        channels = {r: grpc.insecure_channel(f"unix:{s}") for r, s in self.sockets.items()}
        super().__init__(channels)
        self._closed = False

    def channel(self, router: str | None = None) -> grpc.Channel:
        """The channel to ``router`` (default: the first router)."""
        return self.channels[router or self.routers[0]]

    def restart(self, router: str) -> None:
        """Restart ``router``'s routerd (stopped without cleanup: its dataplane and BGP
        speaker stay; the new one adopts them); returns once the world has settled."""
        self.host.restart(router)
        self.channels[router].close()
        self.channels[router] = grpc.insecure_channel(f"unix:{self.sockets[router]}")
        self._bind()

    @property
    def errors(self) -> list[str]:
        """Reconcile passes that crashed, reactions that did not settle, world timers that
        failed."""
        return [*self.host.scheduler.errors, *self.host.world.timers.errors]

    def close(self) -> list[str]:
        """Stop every router and remove the directory; returns ``errors``."""
        if self._closed:
            return self.errors
        self._closed = True
        for ch in self.channels.values():
            ch.close()
        try:
            self.host.stop()
        finally:
            shutil.rmtree(self.directory, ignore_errors=True)
        return self.errors


def start_world(
    yaml: str | None = None,
    *,
    file: str | Path | None = None,
    routers: tuple[str, ...] = (),
    base_dir: str | Path | None = None,
) -> RunningWorld:
    """Start a world from YAML text or a World file; returns once it has settled.

    Args:
        yaml: the World document as text (inline router configs need no other file).
        file: or a World file (relative config paths start at its directory).
        routers: host only these routers (default: all).
        base_dir: where relative config paths in ``yaml`` start (default: the current
            directory).

    Raises:
        ConfigError: the World (or a router config in it) is invalid; every issue is listed.
    """
    from routerd.backends.sim.worldfile.load import load_world_file, load_world_text
    from routerd.daemon.world import WorldHost, WorldOptions

    if (yaml is None) == (file is None):
        raise ValueError("start_world needs either yaml text or file=PATH")
    directory = Path(tempfile.mkdtemp(prefix="rdw-", dir=SOCKET_ROOT))
    try:
        if yaml is not None:
            world_path = directory / "world.yaml"
            world_path.write_text(yaml, encoding="utf-8")
            base = Path(base_dir) if base_dir else Path.cwd()
            loaded = load_world_text(yaml, str(world_path), base_dir=base)
        else:
            world_path = Path(file).resolve()  # type: ignore[arg-type]
            loaded = load_world_file(world_path)
        if not loaded.valid:
            raise ConfigError(loaded.errors, loaded.warnings)
        opts = WorldOptions(
            world_file=str(world_path),
            state_dir=directory / "state",
            socket_dir=directory / "run",
            routers=routers,
        )
        host = WorldHost(opts, loaded)
        host.start()
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    return RunningWorld(host, directory)


@contextmanager
def running_world(yaml: str | None = None, **kwargs: object) -> Iterator[RunningWorld]:
    """``start_world`` as a context manager (closes the world on exit)."""
    world = start_world(yaml, **kwargs)  # type: ignore[arg-type]
    try:
        yield world
    finally:
        world.close()
