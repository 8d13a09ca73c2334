"""The provider reconciler: a worker thread that converges the cloud to the claims.

Cloud APIs answer in seconds, and a reconcile pass of the engine must never wait on one; so
the engine only *offers* each published snapshot here (cheap: two references kept) and
this thread does the rest: it derives the desired provider state (``targets``), runs one
``ActionRunner`` run when that state changed, when an action was approved or an undo asked
for, when a retry is due, after ``maxActionsPerRun`` left work (one second later) and every
``resync`` seconds regardless (someone may have changed the cloud by hand). When a run
changed something at the provider, ``on_change`` tells the daemon, which refreshes the
provider evidence and wakes the engine: the claim then moves to ``captured`` on its own.

A router of a redundant pair runs the reconciler only while it is the active router
(``set_active``): the standby neither assigns nor releases anything, so it never takes the
secondary IPs from the active router (the fence: a recovering former active comes back as
standby and leaves them alone); the moment it becomes active, a run reads the provider
anew and reassigns the addresses from the failed partner's NIC to its own.

Level-triggered: a run looks at the whole desired and observed state; nothing is cancelled
in flight, a stale action is only marked superseded, and a run never trusts what an earlier
run believed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping

from routerd.core.config import RouterConfig
from routerd.core.lowering import ClaimIntent
from routerd.providers.action_runner import ActionRunner, ProfileReport
from routerd.providers.targets import ProfileTargets, desired_targets

LOG = logging.getLogger(__name__)

RESYNC = 60.0
"""Seconds between runs when nothing wakes the reconciler."""
MORE_PAUSE = 1.0
"""Seconds between runs while ``maxActionsPerRun`` leaves actions for the next run."""


class ProviderReconciler:
    """Runs ``runner`` on its own thread whenever the desired provider state may have moved.

    Args:
        runner: does one run (observe, plan, journal, execute).
        on_change: called (on this thread) after a run changed something at a provider.
        resync: seconds between runs when nothing else wakes it.
        clock: monotonic seconds.
    """

    def __init__(
        self,
        runner: ActionRunner,
        *,
        on_change: Callable[[], None] = lambda: None,
        resync: float = RESYNC,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.runner = runner
        self.on_change = on_change
        self.resync = resync
        self.clock = clock
        self.reports: list[ProfileReport] = []
        self.runs = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._offered: tuple[RouterConfig, Mapping[str, ClaimIntent]] | None = None
        self._seen: tuple[object, object] | None = None
        self._wanted: dict[str, ProfileTargets] = {}
        self._thread: threading.Thread | None = None
        self._idle = threading.Event()
        self._forced = False
        self._fresh = False
        self._active = True

    # -- from other threads ---------------------------------------------------------------

    def offer(self, config: RouterConfig, claims: Mapping[str, ClaimIntent]) -> None:
        """The engine published a new state; wake the thread when it is another one."""
        with self._lock:
            current = self._offered
            if current is not None and current[0] is config and current[1] is claims:
                return
            self._offered = (config, claims)
        self._wake.set()

    def wake(self, *, fresh: bool = False) -> None:
        """Run soon even if the desired state did not move (an approval, an undo).

        Args:
            fresh: read the provider anew (no cached inventory): something says it changed
                (a claim lost its provider evidence).
        """
        self._forced = True
        self._fresh = self._fresh or fresh
        self._wake.set()

    def set_active(self, active: bool) -> None:
        """Run only while ``active`` (this router is its pair's active one, or has no pair).

        Becoming active runs at once with a fresh read of the provider (a takeover); becoming
        standby lets a run in flight finish and starts no other.
        """
        was, self._active = self._active, active
        if active and not was:
            LOG.info("provider reconciler active: taking over this router's addresses")
            self.wake(fresh=True)
        elif was and not active:
            LOG.info("provider reconciler on standby: the active router holds the addresses")

    @property
    def active(self) -> bool:
        return self._active

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="provider-actions", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop after the current run (a provider call in flight finishes first)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def wait_idle(self, timeout: float) -> bool:
        """Block until a run finished with nothing left to do (tests, the lab)."""
        return self._idle.wait(timeout)

    # -- the thread -----------------------------------------------------------------------

    def _loop(self) -> None:
        next_at: float | None = None  # nothing is due before the engine's first offer
        while not self._stop.is_set():
            self._wake.wait(None if next_at is None else max(0.0, next_at - self.clock()))
            self._wake.clear()
            if self._stop.is_set():
                return
            if not self._active:  # standby: keep the offer, run nothing until active
                self._idle.set()
                next_at = None
                continue
            forced, self._forced = self._forced, False
            moved = self._refresh()
            due = next_at is not None and self.clock() >= next_at
            if not (moved or forced or due):
                continue
            try:
                next_at = self.run_once()
            except Exception:  # a bug must not end the thread: log it, try again later
                LOG.exception("provider reconciler run failed")
                next_at = self.clock() + self.resync

    def _refresh(self) -> bool:
        """Derive the desired state from the latest offer; True when it changed."""
        with self._lock:
            offered = self._offered
        if offered is None or self._seen == (offered[0], offered[1]):
            return False
        self._seen = (offered[0], offered[1])
        wanted = desired_targets(*offered)
        moved = wanted != self._wanted
        self._wanted = wanted
        return moved

    def run_once(self) -> float:
        """Run once over the latest desired state; returns when to run next (monotonic)."""
        self._idle.clear()
        self._refresh()
        fresh, self._fresh = self._fresh, False
        reports = self.runner.run(self._wanted, fresh=fresh)
        self.reports = reports
        self.runs += 1
        if any(r.changed for r in reports):
            self.on_change()
        now = self.clock()
        next_at = now + self.resync
        if any(r.left for r in reports):
            next_at = min(next_at, now + MORE_PAUSE)
        retry = self.runner.next_retry()
        if retry is not None:
            next_at = min(next_at, max(retry, now + MORE_PAUSE))
        if not any(r.left or r.executed for r in reports):
            self._idle.set()
        return next_at
