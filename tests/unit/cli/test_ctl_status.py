"""``routerctl status``'s table: a slow last pass names where it spent its time."""

from __future__ import annotations

from google.protobuf.duration_pb2 import Duration

from routerd.cli.ctl_output import span
from routerd.cli.ctl_status import render
from routerd.v1 import status_pb2


def _duration(seconds: float) -> Duration:
    d = Duration()
    d.FromNanoseconds(round(seconds * 1e9))
    return d


def _status(took: float, phases: list[tuple[str, float]]) -> status_pb2.Status:
    return status_pb2.Status(
        router="onprem-router",
        pass_count=1,
        last_pass_duration=_duration(took),
        last_pass_changes=100000,
        last_pass_phases=[status_pb2.PassPhase(phase=p, duration=_duration(s)) for p, s in phases],
    )


FIRST_PASS = [
    ("inputs", 1.201),
    ("observe", 0.049),
    ("diff", 0.248),
    ("apply", 0.528),
    ("judge", 0.525),
    ("verify", 0.309),
    ("journal", 0.510),
    ("other", 0.310),
]


def _reconcile_line(text: str) -> str:
    return next(line for line in text.splitlines() if line.startswith("Reconcile:"))


def test_a_slow_pass_names_its_three_largest_phases():
    line = _reconcile_line(render(_status(3.68, FIRST_PASS), now=0.0))
    assert line.endswith("(took 4s, 100000 changes; most in inputs 1s, apply 528ms, judge 525ms)")


def test_a_quick_pass_says_only_how_long_it_took():
    quick = [("inputs", 0.0001), ("observe", 0.0001), ("judge", 0.00005), ("other", 0.00004)]
    line = _reconcile_line(render(_status(0.00029, quick), now=0.0))
    assert line.endswith("(took 290µs, 100000 changes)"), line


def test_durations_under_half_a_millisecond_print_in_microseconds():
    assert [span(_duration(s)) for s in (0.0, 1e-7, 0.000262, 0.0005, 0.0006, 0.012, 3.6)] == [
        "0s",
        "1µs",
        "262µs",
        "500µs",
        "1ms",
        "12ms",
        "4s",
    ]
