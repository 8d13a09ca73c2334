"""Things that happen later in a simulated world: a queue of callbacks in virtual time.

Route exchange and presence in the simulator take time the way they do on a network: a BGP
update reaches the route reflector a hop later, a session whose peer went silent drops when
its hold timer expires, an answer to an ARP probe comes back a moment after the probe. Each
of these is a callback due at a virtual time, queued here.

The queue never looks at a clock and never runs anything by itself: whoever moves virtual
time runs what fell due. In a world served by ``routerd serve --world`` that is the pass
scheduler (``WorldControl.run_timers``), which steps from due time to due time, so events
fire at their time, in order, with every router reacting in between. A world nobody drives
(``driven`` False: one host under ``routerd serve --backend sim -c FILE``, or a unit test
that reads views directly) catches up when its state is read (``catch_up``).

Order is total and reproducible: by due time, then by the order the events were queued.
A callback that raises is logged and recorded (``errors``) and the others still run: one
broken event must not stop a world's clock.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .world import ManualClock

LOG = logging.getLogger(__name__)


class TimerQueue:
    """Callbacks due at virtual times (module docstring). Thread-safe.

    Attributes:
        driven: a scheduler runs the due callbacks; readers need not catch up.
    """

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._lock = threading.Lock()
        self.driven = False
        self.fired = 0
        """Callbacks run so far."""
        self.errors: list[str] = []
        """Callbacks that raised, as text."""

    def __len__(self) -> int:
        with self._lock:
            return len(self._heap)

    def at(self, when: float, callback: Callable[[], None]) -> None:
        """Run ``callback`` once virtual time reaches ``when``."""
        with self._lock:
            heapq.heappush(self._heap, (when, next(self._order), callback))

    def next_due(self) -> float | None:
        """When the earliest callback is due (None: nothing queued)."""
        with self._lock:
            return self._heap[0][0] if self._heap else None

    def run_due(self, now: float) -> int:
        """Run every callback due at or before ``now``, in order, including those the
        callbacks queue for times not after ``now``.

        Returns:
            How many ran.
        """
        ran = 0
        while True:
            with self._lock:
                if not self._heap or self._heap[0][0] > now:
                    break
                _, _, callback = heapq.heappop(self._heap)
            try:
                callback()  # outside the lock: it may queue more
            except Exception as e:
                LOG.exception("world timer failed")
                self.errors.append(f"world timer failed: {type(e).__name__}: {e}")
            ran += 1
        self.fired += ran
        return ran

    def catch_up(self, now: float) -> None:
        """Run what is due when no scheduler drives this queue (else nothing)."""
        if not self.driven:
            self.run_due(now)


def run_until(timers: TimerQueue, clock: ManualClock, until: float) -> int:
    """Move ``clock`` to ``until`` through every due time on the way, running what falls due
    at each (what a scheduler does, for tests and tools that hold the clock themselves).

    Returns:
        How many callbacks ran.
    """
    ran = 0
    while True:
        due = timers.next_due()
        if due is None or due > until:
            break
        clock.now = max(clock.now, due)
        ran += timers.run_due(clock.now)
    clock.now = max(clock.now, until)
    return ran


def advance(timers: TimerQueue, clock: ManualClock, seconds: float) -> int:
    """``run_until`` ``seconds`` from now."""
    return run_until(timers, clock, clock.now + max(0.0, seconds))
