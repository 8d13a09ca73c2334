"""A real ``Daemon`` in-process against the FakeHost double, for daemon component tests.

``Daemon.run()`` installs signal handlers, which Python allows only on the main thread, so
``serve`` runs the daemon on the test's main thread and the test's scenario on a helper
thread; the scenario's end, or its failure, stops the daemon (and releases anything the
scenario may have left blocked), so a failing test cannot hang the suite. The backend
registry is monkeypatched to hand out the given host; the config is the shipped Azure
on-prem example, written to a file (``reload`` reads it back) with its key in ``tmp_path``.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
import threading
import uuid
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

from routerd.cli.validate_cmd import load_config
from routerd.core.desired import Observed, ObserveScope
from routerd.daemon import registry
from routerd.daemon.service import Daemon, DaemonOptions
from routerd.state.store import JOURNAL_KEEP
from tests.support import configs
from tests.unit.core.fakehost import FakeHost

CLAIM = "cloud-vm-21"


@dataclass
class Rig:
    daemon: Daemon
    host: FakeHost
    config_path: Path
    key_file: Path


def build(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    host: FakeHost | None = None,
    metrics_listen: str | None = None,
    resync_interval: float = 0.1,
    reference_engine: bool = False,
    journal_keep: int = JOURNAL_KEEP,
) -> Rig:
    """A daemon over ``host`` with the Azure on-prem example config on disk."""
    key_dir = tmp_path / "keys"
    config_path = tmp_path / "router.yaml"
    config_path.write_text(configs.with_keys(configs.example_text("azure", "onprem"), key_dir))
    result = load_config(str(config_path))
    assert result.config is not None, [e.render() for e in result.errors]
    fake = host if host is not None else FakeHost()
    monkeypatch.setattr(registry, "create", lambda name, **kw: fake)
    monkeypatch.setattr(registry, "provider_evidence", lambda name, backend: None)
    # A short private socket path: Unix socket paths are limited to 108 bytes, and the
    # daemon's API must never touch the host's /run/routerd from a test.
    sock_dir = Path(tempfile.mkdtemp(prefix="rd-", dir="/tmp"))
    opts = DaemonOptions(
        config_path=str(config_path),
        backend="fake",
        state_dir=tmp_path / "state",
        socket=str(sock_dir / "s.sock"),
        metrics_listen=metrics_listen,
        resync_interval=resync_interval,
        reference_engine=reference_engine,
        journal_keep=journal_keep,
    )
    rig = Rig(Daemon(opts, result.config, load_config), fake, config_path, key_dir / "wg-sam.key")
    weakref.finalize(rig, shutil.rmtree, sock_dir, True)  # at the latest at interpreter exit
    return rig


def serve(
    rig: Rig, scenario: Callable[[], None], *, release: Iterable[Callable[[], None]] = ()
) -> int:
    """Run ``rig.daemon.run()`` on this (main) thread while ``scenario`` runs on another.

    Returns:
        The daemon's exit code. Re-raises the scenario's exception, if any.
    """
    errors: list[BaseException] = []
    daemon = rig.daemon

    def drive() -> None:
        try:
            scenario()
        except BaseException as e:
            errors.append(e)
        finally:
            for fn in release:
                fn()
            daemon.stop.set()
            daemon.engine.wake()

    driver = threading.Thread(target=drive, name="scenario")
    driver.start()
    try:
        code = daemon.run()
    finally:
        driver.join()
    if errors:
        raise errors[0]
    return code


class GatedHost(FakeHost):
    """A FakeHost whose ``observe`` can be held, to wedge the engine inside a pass."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.gate.set()
        self.held = threading.Event()

    def observe(self, scope: ObserveScope) -> Observed:
        if not self.gate.is_set():
            self.held.set()
            self.gate.wait()
        return super().observe(scope)


class FakeNotifySocket:
    """The receiving end of ``$NOTIFY_SOCKET``: an abstract-namespace datagram socket."""

    def __init__(self) -> None:
        self.name = f"routerd-test-{uuid.uuid4().hex}"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("\0" + self.name)
        self.sock.setblocking(False)
        self.datagrams: list[dict[str, str]] = []

    @property
    def env_value(self) -> str:
        return "@" + self.name

    def drain(self) -> list[dict[str, str]]:
        """Receive everything queued; returns the new datagrams (also kept in ``datagrams``)."""
        new = []
        while True:
            try:
                data = self.sock.recv(4096)
            except BlockingIOError:
                break
            new.append(dict(line.split("=", 1) for line in data.decode().splitlines()))
        self.datagrams.extend(new)
        return new

    def with_key(self, key: str) -> list[dict[str, str]]:
        return [d for d in self.datagrams if key in d]

    def close(self) -> None:
        self.sock.close()
