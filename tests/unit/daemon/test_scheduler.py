"""The world's pass scheduler: virtual time, ordering, reactions between routers, failures.

Engines here are stand-ins that record the virtual time of each pass and say when they want
to run next (as ``Engine.next_wake`` does); the scheduler must run each at exactly those
times and in order, never let real time move the clock, and report instead of spinning.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from routerd.backends.sim import ManualClock
from routerd.core.engine import EngineSettings, PassResult
from routerd.daemon.scheduler import PassScheduler


@dataclass
class Stub:
    """An engine that wants to run every ``every`` seconds and applies ``changes`` each pass."""

    clock: ManualClock
    every: float
    changes: int = 0
    crash: bool = False
    runs: list[float] = field(default_factory=list)
    settings: EngineSettings = field(default_factory=EngineSettings)

    def run_pass(self) -> PassResult:
        self.runs.append(self.clock.now)
        if self.crash:
            raise RuntimeError("boom")
        return PassResult(self.changes, [], 0, 0.0)

    def next_wake(self) -> float:
        return self.clock.now + self.every


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(start=1000.0)


@pytest.fixture
def sched(clock: ManualClock):
    s = PassScheduler(clock, max_rounds=5)
    yield s
    s.stop()


def add(sched: PassScheduler, name: str, engine: Stub, log: list[str] | None = None) -> None:
    sched.add(name, engine, lambda _r: log.append(name) if log is not None else None)  # type: ignore[arg-type]


def test_first_passes_run_at_start_without_moving_the_clock(sched, clock):
    a, b = Stub(clock, 10), Stub(clock, 25)
    add(sched, "a", a)
    add(sched, "b", b)
    sched.start()
    assert sched.settle(5)
    assert (a.runs, b.runs) == ([1000.0], [1000.0])


def test_advance_runs_each_engine_at_its_own_due_times_in_order(sched, clock):
    a, b = Stub(clock, 10), Stub(clock, 25)
    order: list[str] = []
    add(sched, "a", a, order)
    add(sched, "b", b, order)
    sched.start()
    assert sched.settle(5)
    order.clear()
    assert sched.advance(50)
    assert a.runs == [1000.0, 1010.0, 1020.0, 1030.0, 1040.0, 1050.0]
    assert b.runs == [1000.0, 1025.0, 1050.0]
    assert order == ["a", "a", "b", "a", "a", "a", "b"]
    assert clock.now == 1050.0


def test_a_pass_that_changes_the_dataplane_wakes_the_other_routers(sched, clock):
    a, b = Stub(clock, 100, changes=1), Stub(clock, 100)
    add(sched, "a", a)
    add(sched, "b", b)
    sched.start()
    assert sched.settle(5)
    b.runs.clear()
    sched.poke("a")
    assert sched.settle(5)
    assert b.runs == [1000.0]


def test_a_crashing_pass_is_reported_and_the_others_go_on(sched, clock):
    a, b = Stub(clock, 10, crash=True), Stub(clock, 10)
    add(sched, "a", a)
    add(sched, "b", b)
    sched.start()
    assert sched.advance(10)
    assert b.runs == [1000.0, 1010.0]
    assert sched.errors and sched.errors[0] == "a: pass failed: RuntimeError: boom"


def test_routers_that_keep_changing_each_other_are_cut_off(sched, clock):
    a, b = Stub(clock, 100, changes=1), Stub(clock, 100, changes=1)
    add(sched, "a", a)
    add(sched, "b", b)
    sched.start()
    assert sched.settle(5)
    assert len(a.runs) == 5
    assert sched.errors == ["routers a, b still changing after 5 rounds"]


def test_world_timers_fire_at_their_time_between_passes(clock):
    fired: list[float] = []
    due = [1030.0]

    def run(now: float) -> None:
        while due[0] <= now:
            fired.append(now)
            due[0] += 30

    s = PassScheduler(clock, timers=lambda: due[0], run_timers=run)
    a = Stub(clock, 1000)
    add(s, "a", a)
    s.start()
    try:
        assert s.advance(100)
    finally:
        s.stop()
    assert fired == [1030.0, 1060.0, 1090.0]
    assert clock.now == 1100.0
