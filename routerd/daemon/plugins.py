"""Scheduled plugin runs inside the daemon (D12, docs/decisions.md).

A worker thread asks the PluginScheduler which plugins are due, runs them through the
runner (never on the engine thread, so a slow plugin cannot delay a reconcile pass), and
marks the engine dirty when a run stored a part so the next pass merges it (D1). A reload
that changes the startup config rebuilds the schedule.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from routerd.core.config import RouterConfig
from routerd.core.plugins import PluginScheduler
from routerd.plugins.process import launch_plugin

if TYPE_CHECKING:
    from routerd.daemon.service import Daemon

LOG = logging.getLogger(__name__)
IDLE_CHECK = 5.0


class PluginWorker:
    def __init__(self, daemon: Daemon) -> None:
        self.daemon = daemon
        self.stop = threading.Event()
        self._startup: RouterConfig | None = None
        self._scheduler: PluginScheduler | None = None
        self.thread = threading.Thread(target=self._loop, name="plugins", daemon=True)

    def _scheduler_for_current_config(self) -> PluginScheduler:
        startup = self.daemon.engine.startup
        if self._scheduler is None or startup is not self._startup:
            self._startup = startup
            self._scheduler = PluginScheduler(startup, clock=time.monotonic)
        return self._scheduler

    def tick(self) -> float:
        """Run what is due; return seconds until the next check."""
        sched = self._scheduler_for_current_config()
        outcomes = sched.run_due(
            time.monotonic(),
            store=self.daemon.store,
            launch=launch_plugin,
            effective_generation=self.daemon.engine.generation,
        )
        for o in outcomes:
            if o.ok:
                LOG.info(
                    "plugin run plugin=%s result=ok generation=%s",
                    o.plugin,
                    o.part.generation if o.part else "-",
                )
            else:
                LOG.warning("plugin run plugin=%s result=failed error=%s", o.plugin, o.error)
        if any(o.part is not None for o in outcomes):
            self.daemon.engine.mark_dirty()
        nxt = sched.next_due_at()
        if nxt is None:
            return IDLE_CHECK
        return max(0.05, min(IDLE_CHECK, nxt - time.monotonic()))

    def _loop(self) -> None:
        while not self.stop.is_set():
            try:
                delay = self.tick()
            except Exception:  # keep scheduling; the failure is logged with its traceback
                LOG.exception("plugin scheduler tick failed")
                delay = IDLE_CHECK
            self.stop.wait(delay)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)


def start(daemon: Daemon) -> Callable[[], None] | None:
    worker = PluginWorker(daemon)
    worker.thread.start()
    return worker.close
