"""Stopping is bounded: a stuck thread, a second signal, even a C call holding the GIL."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

from routerd.daemon import shutdown
from routerd.daemon.shutdown import ShutdownDeadline
from tests.support.wait import wait_until
from tests.unit.daemon import harness

ROOT = Path(__file__).resolve().parents[3]


def test_a_stuck_thread_cannot_hold_the_process_past_the_deadline(caplog):
    exits: list[int] = []
    release = threading.Event()
    stuck = threading.Thread(target=release.wait, name="busy-request", daemon=True)
    stuck.start()
    deadline = ShutdownDeadline(0.2, exit=exits.append)
    try:
        deadline.arm()
        deadline.arm()  # idempotent
        wait_until(lambda: None if exits else "not forced yet", what="forced exit")
    finally:
        release.set()
        deadline.disarm()
    assert exits == [shutdown.EXIT_FORCED]
    [record] = [r for r in caplog.records if "shutdown did not finish" in r.getMessage()]
    assert "busy-request" in record.kv_stacks and "busy_threads=" in record.getMessage()


def test_a_disarmed_deadline_does_nothing(tmp_path):
    exits: list[int] = []
    deadline = ShutdownDeadline(0.1, stall_dir=tmp_path, exit=exits.append)
    deadline.arm()
    deadline.disarm()
    threading.Event().wait(0.3)
    assert exits == [] and not deadline.armed
    assert not (tmp_path / shutdown.STALL_LOG).exists(), "an empty stall log is removed"


def test_a_second_stop_signal_exits_at_once(tmp_path, monkeypatch):
    rig = harness.build(tmp_path, monkeypatch)
    daemon = rig.daemon
    exits: list[int] = []
    monkeypatch.setattr(daemon.deadline, "_exit", exits.append)
    try:
        daemon._on_signal(signal.SIGTERM, None)
        assert daemon.stop.is_set() and daemon.deadline.armed and exits == []
        daemon._on_signal(signal.SIGINT, None)
        assert exits == [shutdown.EXIT_FORCED]
    finally:
        daemon.deadline.disarm()
        daemon.engine.close()
        daemon.store.close()


GIL_HOG = textwrap.dedent(
    """
    import re, sys
    from pathlib import Path
    from routerd.daemon import shutdown
    d = shutdown.ShutdownDeadline(0.5, stall_dir=Path(sys.argv[1]), exit=lambda code: None)
    d.arm()
    re.match(r"(a+)+b", "a" * 64)  # catastrophic backtracking inside C, holding the GIL
    print("regex finished", flush=True)
    """
)


def test_the_backstop_exits_even_while_a_c_call_holds_the_gil(tmp_path):
    """The Python timer cannot run (its exit is disabled here anyway); faulthandler can."""
    proc = subprocess.run(
        [sys.executable, "-c", GIL_HOG, str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0 and "regex finished" not in proc.stdout
    stall = (tmp_path / shutdown.STALL_LOG).read_text()
    assert "Timeout" in stall and "<string>" in stall  # the stuck frame is named


def test_sigterm_during_a_wedged_pass_still_ends_the_process(
    tmp_path, monkeypatch, own_signals, caplog
):
    """The engine is stuck inside a pass (a hung netlink call): the deadline ends it."""
    host = harness.GatedHost()
    rig = harness.build(tmp_path, monkeypatch, host=host)
    daemon = rig.daemon
    exits: list[int] = []
    daemon.deadline.seconds = 0.5
    daemon.deadline.stall_dir = None  # no GIL-free backstop inside the test runner
    monkeypatch.setattr(daemon.deadline, "_exit", exits.append)

    def wedge_then_terminate() -> None:
        wait_until(lambda: None if daemon.engine.snapshot.pass_count else "no pass yet")
        wait_until(
            lambda: (
                None
                if signal.getsignal(signal.SIGTERM) == daemon._on_signal
                else "handler not installed"
            )
        )
        host.gate.clear()
        wait_until(lambda: None if host.held.is_set() else "not wedged yet")
        os.kill(os.getpid(), signal.SIGTERM)
        wait_until(lambda: None if exits else "not forced", what="forced exit")

    assert harness.serve(rig, wedge_then_terminate, release=[host.gate.set]) == 0
    assert exits == [shutdown.EXIT_FORCED]
    assert any("shutdown did not finish" in r.getMessage() for r in caplog.records)


def test_a_failing_reconcile_loop_stops_with_1_and_one_log_record(
    tmp_path, monkeypatch, own_signals, caplog
):
    rig = harness.build(tmp_path, monkeypatch)
    engine = rig.daemon.engine
    real = engine.run_pass
    calls = []

    def run_pass():
        calls.append(1)
        if len(calls) == 2:
            raise sqlite3.DatabaseError("database disk image is malformed")
        return real()

    monkeypatch.setattr(engine, "run_pass", run_pass)
    assert harness.serve(rig, lambda: wait_until(lambda: None if len(calls) > 1 else "")) == 1
    [record] = [r for r in caplog.records if r.getMessage() == "reconcile loop failed; stopping"]
    assert record.levelname == "CRITICAL" and record.exc_info is not None
    assert rig.daemon.store.state_lock is None, "the state directory was released"
