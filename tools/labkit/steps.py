"""Running lab steps: each one named, timed, and failing with a message that names it.

A step is a function ``step(lab) -> str`` that raises when the behaviour it checks is
absent and otherwise returns a one-line detail for the report. ``tools/lab`` runs a list of
them and stops at the first failure (later steps would only fail for the same reason);
the pytest suite runs each through ``check``, which turns any failure into ``StepFailed``
whose message starts with the provider and the step name — the first thing a reader of a
red CI run needs.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .lab import Lab

Step = Callable[["Lab"], str]


class StepFailed(AssertionError):
    """A lab step found the behaviour it checks missing."""


@dataclass
class StepResult:
    name: str
    ok: bool
    seconds: float
    detail: str

    def line(self) -> str:
        status = "PASS" if self.ok else "FAIL"
        return f"{status}  {self.name:<22} {self.seconds:6.1f}s  {self.detail}"


def run_step(lab: Lab, name: str, step: Step) -> StepResult:
    """Run one step and record how it went (never raises for a failing check)."""
    started = time.monotonic()
    try:
        detail = step(lab)
        ok = True
    except (AssertionError, RuntimeError, OSError, ValueError, TimeoutError) as exc:
        detail, ok = f"{type(exc).__name__}: {exc}", False
    except Exception as exc:  # a bug in the lab itself: keep the traceback for the report
        detail = f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"
        ok = False
    return StepResult(name, ok, time.monotonic() - started, detail)


def check(lab: Lab, name: str, step: Step) -> str:
    """Run one step for pytest; raise ``StepFailed`` naming provider and step on failure."""
    result = run_step(lab, name, step)
    if not result.ok:
        raise StepFailed(f"lab step {name!r} failed ({lab.provider}): {result.detail}")
    return result.detail


def run_steps(
    lab: Lab, steps: Sequence[tuple[str, Step]], *, echo: Callable[[str], None]
) -> list[StepResult]:
    """Run steps in order until one fails; each result is echoed as it finishes."""
    results = []
    for name, step in steps:
        result = run_step(lab, name, step)
        results.append(result)
        echo(result.line())
        if not result.ok:
            break
    return results
