"""When plugins run: interval triggers scheduled by the daemon, with bounded backoff.

A trigger that is validated and then ignored is a promise nobody keeps (D12 in
docs/decisions.md). Every plugin with at least one ``interval`` trigger — on its ``Plugin`` or
on a ``DynamicConfigSource`` that references it — runs once at start and then every ``every``.
Several interval triggers for one plugin collapse into the shortest one: every run feeds the
same source (``Plugin/<name>``), so running more often than the shortest interval would only
produce redundant generations.

A failed run is retried after the next entry of ``error_delays`` (1 s, 2 s, 3 s, 5 s, ...), but
never later than the plugin's own interval, so a failing plugin backs off without ever
falling off its schedule; the first success resets the backoff.

The scheduler only decides; ``due``/``next_due_at``/``record`` take ``now`` explicitly (any
monotonic clock; tests use a fake one). ``run_due`` is the one method that acts: it runs the
due plugins through the runner, records the outcomes and returns them, so the engine can
re-merge the effective config when a part was stored.

``event`` triggers are accepted and listed, but there is no event bus yet: nothing fires them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from routerd.core.config import RouterConfig
from routerd.core.duration import parse_duration
from routerd.core.plugins.binding import find_plugin, triggers_for
from routerd.core.plugins.port import PluginLauncher
from routerd.core.plugins.protocol import INTERVAL
from routerd.core.plugins.runner import PluginOutcome, run_plugin
from routerd.core.resources import Plugin
from routerd.core.state_port import PluginStore

ERROR_DELAYS: tuple[float, ...] = (1, 2, 3, 5, 8, 13, 21, 34, 60)


@dataclass
class _Slot:
    every: float
    next_at: float
    failures: int = 0


class PluginScheduler:
    """Which plugins are due, from the startup config's interval triggers.

    Args:
        startup: the startup config (Plugins and DynamicConfigSources are read from it).
        clock: monotonic seconds; the schedule starts at ``clock()`` (every plugin is due
            immediately) and ``run_due`` records completions with it.
        error_delays: the retry delays after consecutive failures (the last one repeats).
    """

    def __init__(
        self,
        startup: RouterConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
        error_delays: Sequence[float] = ERROR_DELAYS,
    ) -> None:
        if not error_delays:
            raise ValueError("error_delays needs at least one delay")
        self.startup = startup
        self._clock = clock
        self._delays = tuple(error_delays)
        start = clock()
        self._slots: dict[str, _Slot] = {}
        for plugin in startup.of(Plugin):
            every = [t.every for t in triggers_for(startup, plugin) if t.type == "interval"]
            if every:
                self._slots[plugin.name] = _Slot(min(parse_duration(e) for e in every), start)

    @property
    def scheduled(self) -> dict[str, float]:
        """Plugin name -> its effective interval in seconds."""
        return {name: slot.every for name, slot in sorted(self._slots.items())}

    def due(self, now: float) -> list[str]:
        """Names of the plugins whose next run is at or before ``now``, sorted."""
        return sorted(name for name, slot in self._slots.items() if slot.next_at <= now)

    def next_due_at(self) -> float | None:
        """When the earliest plugin is next due, or None when nothing is scheduled."""
        return min((slot.next_at for slot in self._slots.values()), default=None)

    def next_run_at(self, name: str) -> float | None:
        """When ``name`` is next due, or None when it has no interval trigger."""
        slot = self._slots.get(name)
        return slot.next_at if slot else None

    def record(self, name: str, now: float, ok: bool) -> None:
        """Note that ``name`` finished at ``now``; schedule its next run.

        A success runs again after ``every``; a failure after the next error delay, capped at
        ``every``. Unknown names (plugins without interval triggers) are ignored: a manual
        run of such a plugin has no schedule to move.
        """
        slot = self._slots.get(name)
        if slot is None:
            return
        if ok:
            slot.failures = 0
            slot.next_at = now + slot.every
            return
        slot.failures += 1
        delay = self._delays[min(slot.failures, len(self._delays)) - 1]
        slot.next_at = now + min(delay, slot.every)

    def run_due(
        self,
        now: float,
        *,
        store: PluginStore,
        launch: PluginLauncher,
        effective_generation: int = 0,
    ) -> list[PluginOutcome]:
        """Run every plugin due at ``now`` (interval trigger), record and return the outcomes.

        Runs are sequential; each is recorded at the clock reading after it finished, so a
        slow plugin is never re-run back to back.
        """
        outcomes = []
        for name in self.due(now):
            outcome = run_plugin(
                find_plugin(self.startup, name),
                startup=self.startup,
                store=store,
                launch=launch,
                trigger=INTERVAL,
                effective_generation=effective_generation,
            )
            self.record(name, self._clock(), outcome.ok)
            outcomes.append(outcome)
        return outcomes
