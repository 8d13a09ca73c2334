"""Interval scheduling with a fake clock: first run at start, cadence, bounded backoff.

The daemon schedules interval triggers (D12, docs/decisions.md).
"""

from __future__ import annotations

import pytest

from routerd.core.plugins import PluginScheduler
from routerd.plugins.process import launch_plugin
from routerd.state.store import Store
from tests.unit.core.plugins.kit import ScriptFactory, plugin_doc, printing, router, source_doc

START = 1000.0
OK = {"ttl": "60s"}


class FakeClock:
    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def interval(every: str) -> dict[str, str]:
    return {"type": "interval", "every": every}


def scheduler(*docs: dict[str, object], delays: tuple[float, ...] = (1, 2, 3)) -> PluginScheduler:
    return PluginScheduler(router(*docs), clock=FakeClock(), error_delays=delays)


def test_interval_plugins_are_due_at_start_and_others_never() -> None:
    s = scheduler(
        plugin_doc("a", "/x/a", triggers=[interval("30s")]),
        plugin_doc("b", "/x/b", triggers=[{"type": "event", "topic": "cloud.refresh"}]),
        plugin_doc("c", "/x/c"),
    )
    assert s.due(START) == ["a"]
    assert s.next_due_at() == START
    assert s.scheduled == {"a": 30}


def test_nothing_scheduled() -> None:
    s = scheduler(plugin_doc("c", "/x/c"))
    assert s.due(START + 1e6) == []
    assert s.next_due_at() is None


def test_success_runs_again_after_every() -> None:
    s = scheduler(plugin_doc("a", "/x/a", triggers=[interval("30s")]))
    s.record("a", START + 2, ok=True)
    assert s.next_due_at() == START + 32
    assert s.due(START + 31.9) == []
    assert s.due(START + 32) == ["a"]


def test_source_triggers_count_and_the_shortest_interval_wins() -> None:
    s = scheduler(
        plugin_doc("a", "/x/a", triggers=[interval("5m")]),
        source_doc("inv", "a", "10m", triggers=[interval("90s")]),
        plugin_doc("b", "/x/b"),
        source_doc("only-source", "Plugin/b", "1m", triggers=[interval("45s")]),
    )
    assert s.scheduled == {"a": 90, "b": 45}
    assert s.due(START) == ["a", "b"]


def test_failures_back_off_bounded_by_the_interval_and_success_resets() -> None:
    s = scheduler(plugin_doc("a", "/x/a", triggers=[interval("2500ms")]), delays=(1, 2, 3))
    t = START
    delays = []
    for _ in range(5):
        s.record("a", t, ok=False)
        nxt = s.next_run_at("a")
        assert nxt is not None
        delays.append(nxt - t)
        t = nxt
    assert delays == [1, 2, 2.5, 2.5, 2.5]
    s.record("a", t, ok=True)
    s.record("a", t + 2.5, ok=False)
    assert s.next_run_at("a") == t + 2.5 + 1


def test_record_of_an_unscheduled_plugin_is_ignored() -> None:
    s = scheduler(plugin_doc("c", "/x/c"))
    s.record("c", START, ok=False)
    assert s.next_run_at("c") is None


def test_empty_error_delays_are_refused() -> None:
    with pytest.raises(ValueError, match="at least one"):
        scheduler(plugin_doc("c", "/x/c"), delays=())


def test_run_due_runs_records_and_reports(store: Store, script: ScriptFactory) -> None:
    good = script("good", printing(OK))
    bad = script("bad", "exit 1\n")
    clock = FakeClock()
    s = PluginScheduler(
        router(
            plugin_doc("good", good, triggers=[interval("60s")]),
            plugin_doc("bad", bad, triggers=[interval("60s")]),
            plugin_doc("manual", good),
        ),
        clock=clock,
        error_delays=(5,),
    )
    clock.now = START + 3  # the clock when the runs finish
    outcomes = s.run_due(START, store=store, launch=launch_plugin)

    assert [(o.plugin, o.ok, o.trigger.type) for o in outcomes] == [
        ("bad", False, "interval"),
        ("good", True, "interval"),
    ]
    assert [p.source for p in store.list_parts()] == ["Plugin/good"]
    assert (s.next_run_at("good"), s.next_run_at("bad")) == (START + 63, START + 8)
    assert s.run_due(START + 7, store=store, launch=launch_plugin) == []
    assert [o.plugin for o in s.run_due(START + 8, store=store, launch=launch_plugin)] == ["bad"]
