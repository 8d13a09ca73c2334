"""ProviderReconciler: when it runs, and that the engine's side of it never blocks.

A recording runner stands in for the ``ActionRunner`` (its provider work is tested against
the doubles elsewhere); these tests are about the thread: an offer of the same state runs
nothing, a changed desired state runs once, a wake runs even without a change, a run that
changed the cloud calls ``on_change``, work left by ``maxActionsPerRun`` runs again soon.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any

from routerd.core.loader import load_text
from routerd.core.lowering import lower
from routerd.providers.action_runner import ProfileReport
from routerd.providers.reconciler import MORE_PAUSE, ProviderReconciler
from routerd.providers.targets import ProfileTargets
from tests.support.wait import wait_until
from tests.unit.providers.test_policy_targets import example


class Runner:
    def __init__(self) -> None:
        self.calls: list[tuple[Mapping[str, ProfileTargets], bool]] = []
        self.reports: list[ProfileReport] = [ProfileReport("aws-lab")]
        self.block = threading.Event()
        self.block.set()

    def run(self, wanted: Mapping[str, ProfileTargets], *, fresh: bool = False) -> Any:
        self.block.wait(10)
        self.calls.append((wanted, fresh))
        return self.reports

    def next_retry(self) -> float | None:
        return None


def inputs(**policy: Any) -> tuple[Any, Any]:
    result = load_text(example(policy=policy or {}))
    assert result.config is not None
    return result.config, lower(result.config).claims


def test_runs_when_the_desired_state_moves_not_when_offered_again() -> None:
    runner = Runner()
    rec = ProviderReconciler(runner, resync=3600)  # type: ignore[arg-type]
    rec.start()
    try:
        config, claims = inputs()
        rec.offer(config, claims)
        wait_until(lambda: None if len(runner.calls) == 1 else f"{len(runner.calls)} runs")
        assert "aws-lab" in runner.calls[0][0]
        rec.offer(config, claims)  # the same objects
        again_config, again_claims = inputs()  # equal state, new objects
        rec.offer(again_config, again_claims)
        time.sleep(0.3)
        assert len(runner.calls) == 1, "nothing moved: no provider reads"
        moved = inputs(allowedPrefixes=["10.40.8.0/28"])
        rec.offer(*moved)
        wait_until(lambda: None if len(runner.calls) == 2 else f"{len(runner.calls)} runs")
        rec.wake(fresh=True)
        wait_until(lambda: None if len(runner.calls) == 3 else f"{len(runner.calls)} runs")
        assert runner.calls[2][1] is True, "a fresh read was asked for"
    finally:
        rec.stop()


def test_offer_never_waits_for_a_run_in_progress() -> None:
    runner = Runner()
    runner.block.clear()  # a provider call that takes long
    rec = ProviderReconciler(runner, resync=3600)  # type: ignore[arg-type]
    rec.start()
    try:
        first, second = inputs(), inputs(allowedPrefixes=["10.40.8.0/28"])
        rec.offer(*first)
        time.sleep(0.1)  # the run has started and blocks in the "provider call"
        for i in range(50):
            rec.offer(*(first if i % 2 else second))  # returns although the run blocks
        assert runner.calls == [], "the run is still blocked: offer did not wait for it"
    finally:
        runner.block.set()
        rec.stop()


def test_on_change_after_a_changing_run_and_soon_again_when_work_is_left() -> None:
    runner = Runner()
    runner.reports = [ProfileReport("aws-lab", executed=["k"], left=3, changed=True)]
    changes: list[int] = []
    now = [100.0]
    rec = ProviderReconciler(
        runner,  # type: ignore[arg-type]
        on_change=lambda: changes.append(1),
        resync=3600,
        clock=lambda: now[0],
    )
    rec.offer(*inputs())
    next_at = rec.run_once()
    assert changes == [1]
    assert next_at == 100.0 + MORE_PAUSE
    runner.reports = [ProfileReport("aws-lab")]
    assert rec.run_once() == 100.0 + 3600
    assert rec.wait_idle(0) and changes == [1]
