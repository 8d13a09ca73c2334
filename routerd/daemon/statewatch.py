"""Keep checking the state database while serving, so damage is seen when it happens.

Why it is shaped this way: SQLite reports damage only when a query reaches the bad page,
and a database file removed or replaced under a running daemon is not reported at all (the
open connection keeps writing to the old, unlinked file, and the journal vanishes at the
next start). So a thread looks on its own schedule: every minute it compares the file at the
path with the one the store opened, and every ten minutes it runs ``PRAGMA quick_check`` on
a separate read-only connection (WAL lets it read while the engine writes; about 0.2 s for a
million journal rows). A finding goes to ``Store.note_fault``, which is where the store also
records damage its own queries hit; ``routerctl status`` and the
``routerd_state_store_healthy`` metric read it from there. The daemon keeps serving: the
dataplane does not depend on the journal.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from routerd.state.guard import inspect
from routerd.state.store import Store

if TYPE_CHECKING:
    from routerd.daemon.service import Daemon

LOG = logging.getLogger(__name__)

IDENTITY_EVERY = 60.0
QUICK_CHECK_EVERY = 600.0


def identity_problem(store: Store) -> str:
    """Why the file at ``store.path`` is not the one the store writes to, or ``""``."""
    try:
        st = os.stat(store.path)
    except FileNotFoundError:
        return (
            f"{store.path} was removed while routerd runs: new journal entries go to a deleted "
            "file and are lost at the next start; restore it from a backup, or restart routerd "
            "to start a new one"
        )
    if (st.st_dev, st.st_ino) != store.identity:
        return (
            f"{store.path} was replaced while routerd runs: routerd still writes to the old "
            "file, and the next start reads the new one; restart routerd"
        )
    return ""


def check_once(store: Store, *, quick: bool) -> str:
    """One look at the database; returns the problem found (also noted in the store)."""
    if store.fault:
        return store.fault
    problem = identity_problem(store)
    if not problem and quick:
        health = inspect(store.path.parent)
        problem = "; ".join(health.problems)
    if problem:
        LOG.error("state database damaged: %s", problem)
        store.note_fault(problem)
    return problem


class StateWatch:
    """The checking thread; ``stop`` ends it."""

    def __init__(self, store: Store, clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self._clock = clock
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="statewatch", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        next_quick = self._clock() + QUICK_CHECK_EVERY
        while not self._stop.wait(IDENTITY_EVERY):
            quick = self._clock() >= next_quick
            if quick:
                next_quick = self._clock() + QUICK_CHECK_EVERY
            try:
                check_once(self.store, quick=quick)
            except Exception:  # a failed look is not a verdict; try again next time
                LOG.exception("state database check failed")

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def start(daemon: Daemon) -> Callable[[], None]:
    """Daemon component: watch the state database until the returned callable is called."""
    watch = StateWatch(daemon.store)
    watch.start()
    return watch.stop
