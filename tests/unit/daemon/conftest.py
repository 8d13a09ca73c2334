"""Fixtures for daemon component tests: signal hygiene, a fake notify socket, a clean env."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest

from tests.unit.daemon.harness import FakeNotifySocket

DAEMON_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


@pytest.fixture(autouse=True)
def no_systemd_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hide any systemd notification variables the test runner itself inherited.

    Name: no_systemd_env. Scope: function (autouse). Depends: monkeypatch.
    """
    for name in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def own_signals() -> Iterator[None]:
    """Restore SIGTERM/SIGINT/SIGHUP handlers after a test that ran ``Daemon.run()``.

    Name: own_signals. Scope: function. Depends: nothing.
    """
    saved = {s: signal.getsignal(s) for s in DAEMON_SIGNALS}
    yield
    for s, handler in saved.items():
        signal.signal(s, handler)


@pytest.fixture
def notify_socket(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeNotifySocket]:
    """An abstract-namespace datagram socket named by ``$NOTIFY_SOCKET``.

    Name: notify_socket. Scope: function. Depends: monkeypatch, no_systemd_env.
    """
    sock = FakeNotifySocket()
    monkeypatch.setenv("NOTIFY_SOCKET", sock.env_value)
    yield sock
    sock.close()
