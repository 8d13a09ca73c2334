"""Watchdog: WATCHDOG_USEC/WATCHDOG_PID handling; pings only while passes keep completing."""

from __future__ import annotations

import os

import pytest

from routerd.daemon import watchdog
from routerd.daemon.sdnotify import Notifier
from routerd.daemon.watchdog import LoopHealth, Watchdog, watchdog_timeout
from tests.support.wait import wait_until
from tests.unit.daemon import harness


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        pytest.param({"WATCHDOG_USEC": "30000000"}, 30.0, id="no-pid"),
        pytest.param({"WATCHDOG_USEC": "500000", "WATCHDOG_PID": "4242"}, 0.5, id="our-pid"),
        pytest.param({"WATCHDOG_USEC": "500000", "WATCHDOG_PID": "4243"}, None, id="other-pid"),
        pytest.param({"WATCHDOG_USEC": "0"}, None, id="zero"),
        pytest.param({"WATCHDOG_USEC": "soon"}, None, id="malformed"),
        pytest.param({}, None, id="unset"),
    ],
)
def test_watchdog_timeout(environ, expected):
    assert watchdog_timeout(environ, 4242) == expected


def test_tick_pings_only_while_passes_complete(notify_socket):
    clock = Clock()
    health = LoopHealth(stall_after=20.0, clock=clock)
    notifier = Notifier.from_env({"NOTIFY_SOCKET": notify_socket.env_value})
    assert notifier is not None
    dog = Watchdog(notifier, health, timeout=10.0)
    assert dog.period == 5.0

    assert dog.tick() is True
    clock.now += 19.0
    assert dog.tick() is True  # a resync interval without a pass is normal
    clock.now += 2.0
    assert dog.tick() is False  # 21 s since the last completed pass: stuck
    clock.now += 100.0
    assert dog.tick() is False
    health.pass_completed()
    assert dog.tick() is True
    assert [d for d in notify_socket.drain()] == [{"WATCHDOG": "1"}] * 3
    assert (dog.sent, dog.withheld) == (3, 2)
    notifier.close()


def test_no_watchdog_env_means_no_component(tmp_path, monkeypatch, notify_socket):
    rig = harness.build(tmp_path, monkeypatch)
    assert watchdog.start(rig.daemon) is None
    monkeypatch.setenv("WATCHDOG_USEC", "1000000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid() + 1))  # meant for another process
    assert watchdog.start(rig.daemon) is None
    assert rig.daemon.pass_hooks == []


def _dog(rig: harness.Rig) -> Watchdog:
    """The running daemon's watchdog (its stop hook is the bound ``Watchdog.stop``)."""

    def dogs() -> list[Watchdog]:
        owners = [getattr(h, "__self__", None) for h in rig.daemon.stop_hooks]
        return [d for d in owners if isinstance(d, Watchdog)]

    wait_until(lambda: None if dogs() else "watchdog not started")
    (dog,) = dogs()
    return dog


def test_daemon_pings_while_healthy_and_stops_while_a_pass_is_stuck(
    tmp_path, monkeypatch, notify_socket, own_signals
):
    monkeypatch.setenv("WATCHDOG_USEC", "200000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    host = harness.GatedHost()
    rig = harness.build(tmp_path, monkeypatch, host=host, resync_interval=0.1)

    def pings() -> int:
        return len([d for d in notify_socket.drain() if d.get("WATCHDOG") == "1"])

    def scenario() -> None:
        dog = _dog(rig)
        seen = 0

        def pinged(n: int) -> str | None:
            nonlocal seen
            seen += pings()
            return None if seen >= n else f"{seen} pings"

        wait_until(lambda: pinged(3), what="pings from a healthy loop")

        host.gate.clear()  # the next pass blocks inside observe()
        wait_until(lambda: None if host.held.is_set() else "pass not stuck yet")
        base = dog.withheld
        wait_until(lambda: None if dog.withheld > base else "still pinging", what="stall seen")
        pings()  # anything sent before the stall was noticed
        wait_until(lambda: None if dog.withheld >= base + 4 else f"{dog.withheld} withheld")
        assert pings() == 0, "no WATCHDOG=1 while the engine is stuck in a pass"

        host.gate.set()
        seen = 0
        wait_until(lambda: pinged(1), what="pings after the loop recovered")

    assert harness.serve(rig, scenario, release=[host.gate.set]) == 0
