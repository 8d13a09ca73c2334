"""What excuses a master's silent adverts: keepalived's VRRP process waiting for a CPU.

The processes are real children of the test (a busy loop, a sleeper, a stopped sleeper), so
the state read from ``/proc`` is the kernel's. Neighbour states are in tests/netns.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest

from routerd.redundancy.silence import explain, process_state
from tests.support.wait import wait_until


@pytest.fixture
def spawn() -> Iterator[list[subprocess.Popen[bytes]]]:
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for p in procs:
        if p.poll() is None:
            os.kill(p.pid, signal.SIGKILL)
        p.wait(timeout=10)


def _state_becomes(pid: int, want: str) -> None:
    def check() -> str | None:
        got = process_state(pid)
        return None if got == want else f"state {got}"

    wait_until(check, timeout=10, interval=0.01, what=f"process {pid} in state {want}")


def test_a_runnable_process_excuses_the_silence_a_stopped_one_does_not(spawn):
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    sleeper = subprocess.Popen(["sleep", "60"])
    spawn += [busy, sleeper]
    _state_becomes(busy.pid, "R")
    assert explain(busy.pid, ()) == "its VRRP process is runnable: it waits for a CPU"
    _state_becomes(sleeper.pid, "S")
    assert explain(sleeper.pid, ()) is None  # asleep and silent: nothing explains it
    os.kill(sleeper.pid, signal.SIGSTOP)  # how a hung keepalived is simulated elsewhere
    _state_becomes(sleeper.pid, "T")
    assert explain(sleeper.pid, ()) is None


def test_a_gone_or_unknown_process_excuses_nothing(spawn):
    done = subprocess.Popen(["true"])
    done.wait(timeout=10)
    assert process_state(done.pid) is None
    assert explain(done.pid, ()) is None
    assert explain(None, ()) is None
