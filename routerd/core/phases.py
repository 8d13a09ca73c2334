"""Where a reconcile pass spends its time, phase by phase.

A pass is timed as a whole (``PassResult.seconds``); ``PassPhases`` splits that time into
the phases of the pipeline a pass walks, so a slow pass says which step was slow without a
profiler: ``routerd_reconcile_phase_seconds_total{phase}`` in the metrics, the ``phases``
of each ``PassResult``, and the kernel bench's first-pass figures.

The phases (``PHASES``) are exclusive: a phase timed inside another (the backend's path
checks inside the judgement) counts only for itself, and ``other`` is the rest of the pass
(bookkeeping between the steps), so the phases of a pass add up to its ``seconds``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")

PHASES = ("inputs", "observe", "diff", "apply", "judge", "verify", "journal", "other")
"""In pipeline order.

- ``inputs``: requests queued from other threads run, config, dynamic parts and claim
  sources taken in, claims lowered into the desired state (the first pass lowers every
  claim, and starts the backend and the provider's reader).
- ``observe``: the backend's drift events, its observation of the host, the provider's
  answers.
- ``diff``: desired against observed.
- ``apply``: the backend writing the changes (and gratuitous ARPs).
- ``judge``: verdicts and state-machine walks of the claims the pass judges.
- ``verify``: the backend's path checks (route lookups, probes) for the claims due one.
- ``journal``: the pass's transitions journaled and published to watchers, and logged.
- ``other``: the rest of the pass.
"""


class PassPhases:
    """Exclusive wall seconds per phase of one pass.

    Args:
        clock: a monotonic clock in seconds (injected for tests).
    """

    __slots__ = ("_clock", "_inner", "seconds")

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self.seconds: dict[str, float] = {}
        """Phase -> seconds, for the phases the pass went through."""
        self._clock = clock
        self._inner = 0.0  # seconds taken by phases timed inside the one running

    def timed(self, phase: str, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(*args, **kwargs)``, its time added to ``phase`` (less any phase it timed)."""
        clock = self._clock
        outer, self._inner = self._inner, 0.0
        start = clock()
        try:
            return fn(*args, **kwargs)
        finally:
            spent = clock() - start
            self.seconds[phase] = self.seconds.get(phase, 0.0) + spent - self._inner
            self._inner = outer + spent

    def close(self, total: float) -> dict[str, float]:
        """The phases of a pass that took ``total`` seconds, ``other`` being what no phase
        timed, in ``PHASES`` order."""
        seconds = self.seconds
        seconds["other"] = max(0.0, total - sum(seconds.values()))
        return {p: seconds[p] for p in PHASES if p in seconds}
