"""An in-process routerd (engine thread + API server) on a temporary Unix socket, for API tests.

The daemon is the real ``routerd.daemon.service.Daemon`` with the real store and engine; only
the backend is swapped for the in-memory ``FakeHost`` port double, whose behaviour is simple
and deterministic (claims walk to ``verified`` in one pass; deleting an object is drift).
``routerctl`` runs in-process against the same socket, with its output captured.

Unix socket paths are limited to 107 bytes, so sockets live in a short directory under /tmp
rather than in pytest's (long) ``tmp_path``.
"""

from __future__ import annotations

import contextlib
import io
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import grpc
import pytest

from routerd.api import server
from routerd.cli import routerctl_main
from routerd.cli.validate_cmd import load_config
from routerd.daemon import service
from tests.support import configs
from tests.support.wait import wait_until
from tests.unit.core.fakehost import FakeHost

T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[3]
INVENTORY_EXE = ROOT / "examples" / "plugins" / "inventory" / "bin" / "inventory"

# The OCI on-prem example plus the "inventory" example plugin, the route it masks and the
# policy that allows the mask (examples/plugins/inventory/router.yaml).
PLUGIN_RESOURCES = """
    - apiVersion: net.routerd.net/v1alpha1
      kind: IPv4Route
      metadata: {{ name: app-fallback-route }}
      spec: {{ destination: 10.40.8.44/32, device: ens19 }}

    - apiVersion: plugin.routerd.net/v1alpha1
      kind: Plugin
      metadata: {{ name: inventory }}
      spec:
        executable: {exe}
        timeout: 5s
        env:
          INVENTORY_ADDRESS: 10.40.8.44/32
          INVENTORY_MASK_TARGET: app-fallback-route
        capabilities: [observe.cloud, propose.dynamicConfig]

    - apiVersion: plugin.routerd.net/v1alpha1
      kind: DynamicConfigSource
      metadata: {{ name: inventory }}
      spec:
        pluginRef: inventory
        ttl: 240s

    - apiVersion: config.routerd.net/v1alpha1
      kind: DynamicOverridePolicy
      metadata: {{ name: inventory-may-mask-fallback }}
      spec:
        allow:
          - source: Plugin/inventory
            operations: [mask]
            targets:
              - apiVersion: net.routerd.net/v1alpha1
                kind: IPv4Route
                name: app-fallback-route
"""


def router_text(key_dir: Path) -> str:
    base = configs.with_keys(configs.example_text("oci", "onprem"), key_dir)
    return base.rstrip("\n") + "\n" + PLUGIN_RESOURCES.format(exe=INVENTORY_EXE)


@dataclass
class CtlRun:
    code: int
    out: str
    err: str


@dataclass
class Served:
    """A running daemon with its API.

    Attributes:
        daemon: the real Daemon (engine, store, opts).
        host: the FakeHost behind the engine; mutate it only via ``on_engine``.
        socket: the API socket path.
        tmp: the test's temp dir (config file, state dir, keys).
    """

    daemon: service.Daemon
    host: FakeHost  # a placeholder FakeHost (unused) when the daemon runs another backend
    socket: str
    tmp: Path
    stop_api: Callable[[], None]
    thread: threading.Thread
    channels: list[grpc.Channel] = field(default_factory=list)

    def channel(self) -> grpc.Channel:
        ch = grpc.insecure_channel(f"unix:{self.socket}")
        self.channels.append(ch)
        return ch

    def stub(self, factory: Callable[[grpc.Channel], T]) -> T:
        return factory(self.channel())

    def on_engine(self, fn: Callable[[], Any]) -> None:
        """Run ``fn`` on the engine thread (FakeHost is not thread-safe)."""
        self.daemon.engine.submit(fn)

    def ctl(self, *argv: str) -> CtlRun:
        """Run ``routerctl --socket SOCKET ARGV`` in-process and capture its output."""
        return run_ctl("--socket", self.socket, *argv)

    def wait_passes(self, n: int = 1) -> None:
        target = self.daemon.engine.snapshot.pass_count + n
        wait_until(
            lambda: (
                None
                if self.daemon.engine.snapshot.pass_count >= target
                else f"pass_count {self.daemon.engine.snapshot.pass_count} < {target}"
            ),
            what="engine passes",
        )

    def close(self) -> None:
        for ch in self.channels:
            ch.close()
        self.stop_api()
        self.daemon.stop.set()
        self.daemon.engine.wake()
        self.thread.join(timeout=30)
        self.daemon.engine.close()
        self.daemon.store.close()


def run_ctl(*argv: str) -> CtlRun:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = routerctl_main.main(list(argv))
        except SystemExit as e:  # argparse usage errors and --help
            code = int(e.code or 0)
    return CtlRun(code, out.getvalue(), err.getvalue())


def make_daemon(
    tmp: Path,
    socket_path: str,
    monkeypatch: pytest.MonkeyPatch,
    *,
    text: str | None = None,
    backend: str = "fake",
    **options: Any,
) -> tuple[service.Daemon, FakeHost | None]:
    """A Daemon, not yet serving: over a FakeHost, or over a registry backend (``sim``)."""
    tmp.mkdir(parents=True, exist_ok=True)
    cfg_file = tmp / "router.yaml"
    cfg_file.write_text(text if text is not None else router_text(tmp / "keys"))
    result = load_config(str(cfg_file))
    assert result.config is not None, [e.render() for e in result.errors]
    host = None
    if backend == "fake":
        fake = host = FakeHost()
        monkeypatch.setattr(service.registry, "create", lambda name, **kw: fake)
        monkeypatch.setattr(service.registry, "provider_evidence", lambda name, backend: None)
    opts = service.DaemonOptions(
        config_path=str(cfg_file),
        backend=backend,
        state_dir=tmp / "state",
        socket=socket_path,
        **options,
    )
    return service.Daemon(opts, result.config, load_config), host


def serve(daemon: service.Daemon, host: FakeHost | None, tmp: Path) -> Served:
    """Start the API, then the engine loop on a thread; wait for the first pass."""
    stop_api = server.start(daemon)
    thread = threading.Thread(
        target=daemon.engine.run_forever, args=(daemon.stop,), name="engine", daemon=True
    )
    thread.start()
    served = Served(daemon, host or FakeHost(), daemon.opts.socket, tmp, stop_api, thread)
    wait_until(
        lambda: None if daemon.engine.snapshot.pass_count > 0 else "no pass yet",
        what="first reconcile pass",
    )
    return served


@contextlib.contextmanager
def serving(
    tmp: Path, socket_path: str, monkeypatch: pytest.MonkeyPatch, **kw: Any
) -> Iterator[Served]:
    daemon, host = make_daemon(tmp, socket_path, monkeypatch, **kw)
    served = serve(daemon, host, tmp)
    try:
        yield served
    finally:
        served.close()
