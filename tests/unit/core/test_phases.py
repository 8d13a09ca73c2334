"""Where a pass spends its time: exclusive phases that add up to the pass's seconds."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from routerd.core.engine import Engine, EngineSettings
from routerd.core.phases import PHASES, PassPhases
from routerd.core.port import Change, ChangeResult, PathCheck, PathEvidence
from routerd.keys import KeyFiles
from tests.support import configs
from tests.unit.core.fakehost import FakeHost

APPLY_SLEEP = 0.05
VERIFY_SLEEP = 0.03


class Ticks:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_a_phase_timed_inside_another_counts_only_for_itself():
    ticks = Ticks()
    phases = PassPhases(ticks)

    def checks() -> str:
        ticks.t += 2.0
        return "evidence"

    def judging() -> str:
        ticks.t += 1.0
        got = phases.timed("verify", checks)
        ticks.t += 3.0
        return got

    assert phases.timed("judge", judging) == "evidence"
    phases.timed("judge", lambda: setattr(ticks, "t", ticks.t + 0.5))
    assert phases.close(10.0) == {"judge": 4.5, "verify": 2.0, "other": 3.5}


def test_a_failing_phase_is_still_timed_and_the_error_passes():
    ticks = Ticks()
    phases = PassPhases(ticks)

    def fails() -> None:
        ticks.t += 1.5
        raise OSError("netlink socket gone")

    with pytest.raises(OSError, match="netlink socket gone"):
        phases.timed("apply", fails)
    phases.timed("diff", lambda: setattr(ticks, "t", ticks.t + 0.25))
    assert phases.close(2.0) == {"diff": 0.25, "apply": 1.5, "other": 0.25}


class SlowHost(FakeHost):
    """Writes and path checks that take a known time."""

    def apply(self, changes: Sequence[Change]) -> list[ChangeResult]:
        time.sleep(APPLY_SLEEP)
        return super().apply(changes)

    def verify(self, checks: Sequence[PathCheck]) -> dict[str, PathEvidence]:
        time.sleep(VERIFY_SLEEP)
        return super().verify(checks)


def test_a_pass_reports_its_phases_adding_up_to_its_seconds(tmp_path: Path):
    host = SlowHost()
    settings = EngineSettings(key_dir=str(tmp_path / "keys"))
    cfg = configs.single("azure", "onprem", tmp_path)
    engine = Engine(host, cfg, keys=KeyFiles(), settings=settings)

    first = engine.run_pass()
    assert engine.snapshot.claims["cloud-vm-21"].state == "verified"
    assert list(first.phases) == [p for p in PHASES if p in first.phases]  # pipeline order
    assert {"inputs", "observe", "diff", "apply", "judge", "verify", "journal", "other"} <= set(
        first.phases
    )
    assert first.phases["apply"] >= APPLY_SLEEP  # the route writes, then the announcement
    assert first.phases["verify"] >= VERIFY_SLEEP  # not counted in the judgement around it
    assert first.phases["judge"] < first.seconds - APPLY_SLEEP - VERIFY_SLEEP
    assert sum(first.phases.values()) == pytest.approx(first.seconds)
    assert min(first.phases.values()) >= 0

    quiet = engine.run_pass()  # nothing to write: no apply phase
    assert quiet.changes == 0 and "apply" not in quiet.phases
    assert sum(quiet.phases.values()) == pytest.approx(quiet.seconds)
    engine.close()
