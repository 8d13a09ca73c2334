"""Smoke of the bench runner (``python -m bench``): it runs, and its JSON has the promised shape.

The pure-Python items run at toy sizes, so nothing here asserts a timing: speed goals live
in the bench as ratios against same-run baselines, never in tests.
"""

from __future__ import annotations

import json

import pytest

from bench import machine
from bench.__main__ import main
from bench.result import Result, Target, render_table, skipped

KEYS = {"name", "value", "unit", "baseline", "ratio", "target", "ok"}


def test_toy_run_prints_results_in_the_documented_json_shape(capsys, monkeypatch):
    # The machine description shells out to ip/nft/git; a unit test runs no subprocess.
    monkeypatch.setattr(machine, "describe", lambda: {"date": "d", "cpu": "c", "kernel": "k"})
    main(["--toy", "--only", "fsm,sim", "-o", "json"])
    doc = json.loads(capsys.readouterr().out)
    names = [r["name"] for r in doc["results"]]
    assert any(n.startswith("fsm.") for n in names) and any(n.startswith("sim.") for n in names)
    for r in doc["results"]:
        assert set(r) >= KEYS, r
        assert r["ok"] in (True, False, None)
        assert isinstance(r["value"], float | int)
        if r["baseline"]:
            assert r["ratio"] == pytest.approx(r["value"] / r["baseline"])
    assert set(doc["machine"]) >= {"date", "cpu", "kernel", "preset"}


def test_a_skipped_figure_is_never_ok_and_says_why():
    r = skipped("x", "s", "needs root", Target("value", "<", 1.0, "s"))
    assert r.ok is None and r.to_json()["skipped"] == "needs root"
    assert "skipped [1]" in render_table([r]) and "[1] needs root" in render_table([r])


def test_targets_check_the_value_or_the_ratio():
    ratio = Result("a", 3.0, "s", baseline=1.0, target=Target("ratio", "<=", 3))
    value = Result("b", 0.06, "s", target=Target("value", "<", 0.05, "s"))
    failed = Result("c", None, "", error="boom")
    assert (ratio.ok, value.ok, failed.ok) == (True, False, False)
    assert value.to_json()["target"] == "value < 0.05 s"


def test_unknown_items_are_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--only", "nope"])
    assert exc.value.code == 2
