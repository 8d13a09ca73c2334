"""``--sizes``: the kernel item at sizes the presets leave out (100,000 claims), kept bounded.

A 100,000-claim run is opt-in and runs once per size; items 2 and 3 run at every size from
10,000 on, so one invocation gives the figures at 10,000 and at 100,000 side by side, each
named by its size and checked against that size's budget.
"""

from __future__ import annotations

import pytest

from bench import kernel
from bench.__main__ import FULL, QUICK, parse_args


def test_sizes_replace_the_kernel_sizes_sorted_and_without_repeats():
    args = parse_args(["--only", "kernel", "--sizes", "100_000,10000,10000"])
    assert args.kernel_sizes == (10_000, 100_000)
    assert parse_args(["--only", "kernel"]).kernel_sizes is None


@pytest.mark.parametrize("text", ["", "10k", "0", "1000,-5", "1000,,2000"])
def test_bad_sizes_are_a_usage_error_naming_the_option(text, capsys):
    with pytest.raises(SystemExit) as exc:
        parse_args(["--only", "kernel", "--sizes", text])
    assert exc.value.code == 2
    assert "--sizes" in capsys.readouterr().err


def test_sizes_without_the_kernel_item_are_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        parse_args(["--only", "fsm", "--sizes", "100000"])
    assert exc.value.code == 2
    assert "add kernel to --only" in capsys.readouterr().err


def test_presets_keep_their_steady_size_and_repetitions():
    # The default runs are not made longer: items 2-3 at their largest size only, 3 reps.
    assert kernel.steady_sizes(list(FULL.kernel_sizes)) == [10_000]
    assert kernel.steady_sizes(list(QUICK.kernel_sizes)) == [1_000]
    assert [kernel.reps_at(n, 3) for n in FULL.kernel_sizes] == [3, 3]


def test_a_large_size_runs_once_and_adds_its_own_steady_figures():
    assert kernel.steady_sizes([1_000, 10_000, 100_000]) == [10_000, 100_000]
    assert (kernel.reps_at(10_000, 3), kernel.reps_at(100_000, 3)) == (3, 1)


def test_the_one_claim_budget_follows_the_size():
    assert kernel.one_claim_target(10_000).check(0.015, None) is False
    assert kernel.one_claim_target(100_000).check(0.015, None) is True
    assert kernel.one_claim_target(100_000).check(0.025, None) is False


def test_skipped_figures_carry_the_size_of_every_steady_run(monkeypatch):
    monkeypatch.setattr(kernel, "unavailable", lambda: "needs root")
    names = {r.name for r in kernel.run([1_000, 10_000, 100_000], 3)}
    for side in ("proxy-arp", "provider"):
        for n in (10_000, 100_000):
            assert f"engine_cold_pass.{side}.{n}" in names
            assert f"noop_pass.{side}.{n}" in names
            assert f"one_claim.modify.{side}.{n}.time" in names
        assert f"cold_apply.{side}.1000" in names
        assert f"noop_pass.{side}.1000" not in names
