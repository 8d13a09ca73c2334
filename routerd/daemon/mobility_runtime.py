"""Address mobility inside one routerd: the controller, its ports, and what each pass does.

``MobilityRuntime`` owns the ``MobilityController`` (``routerd.core.mobility``) and what it
talks to: the route exchange (the BGP speaker), the presence feed, the engine's claim source
and the move journal's signal. Everything here runs on the engine thread: ``on_pass`` at the
start of every pass (the claim source's hook), ``hold`` while the engine judges a derived
claim, ``reconfigure`` after a pass that changed the effective config. One clock (the
engine's) times the passes, the requests and the presence evidence.

A pass:

1. presence: evidence heard since the last pass goes to the trackers; the addresses whose
   presence moved are the ones re-decided (all of them on the first pass after a start or a
   reload);
2. the controller steps: derived claims it added, changed or removed go to the claim source
   (a scoped engine pass programs exactly those), originations that changed go to the
   speaker (after the store has them), moves wake ``WatchHomes`` (and ``MoveAddress``
   callers waiting for them); their log lines are written after the pass (``log_moves``,
   from the engine's listener), so a hundred moves' log lines never hold up the capture and
   release they cause;
3. a VM that just arrived here is told, one unicast gratuitous ARP per address, that the
   addresses homed at the site it left are now behind this router (``arrivals``);
4. probes due now are sent; the next pass is asked for when the controller's timers or the
   next probe round fall due.

A step that fails (the store refused the write) applies nothing and is retried a second
later; nothing reached the speaker.

Standby: one router of a redundant pair serves its site at a time. ``active`` (a callable
the redundancy side provides; always True by default) is asked at the start of every pass.
While it says False the speaker announces nothing (everything this router originated is
withdrawn in that pass, and kept withdrawn: an adopted or restarted speaker is emptied
too) and no arriving VM is sent gratuitous ARPs; the controller keeps deciding, so the
derived claims, the journal and the sequences stay current, and the pass that finds the
router active again hands the speaker everything the controller originates.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from routerd.api.mobility_port import JournalSignal
from routerd.core.claim_source import ClaimSource
from routerd.core.config import RouterConfig
from routerd.core.exchange import (
    ExchangeView,
    ImportPolicy,
    Origination,
    RouteExchange,
    SpeakerSettings,
)
from routerd.core.mobility import (
    MobilityController,
    MobilityPlan,
    MobilityStep,
    MoveRecord,
    claim_name,
)
from routerd.core.mobility.port import MobilityStore
from routerd.core.port import DataplaneBackend
from routerd.daemon.mobility_arrivals import announce_arrivals
from routerd.daemon.mobility_presence import PresenceFeed

LOG = logging.getLogger(__name__)

RETRY = 1.0
FIRST_VIEW_WAIT = 5.0
"""How long start waits for the speaker's first complete view (seconds)."""
"""Seconds before a failed step is tried again."""
FULL_EVERY = 60.0
"""Seconds between steps that re-decide every address (the others decide what changed)."""
NO_EXCHANGE = ExchangeView(
    paths=MappingProxyType({}),
    sessions=MappingProxyType({}),
    originated=MappingProxyType({}),
    connected=False,
    error="no route exchange (the config has no mobile domain)",
)
"""What the controller sees while no speaker runs: nothing, and no absence proves anything."""


@dataclass(frozen=True)
class Speaker:
    """What the route exchange was started with (a change restarts it)."""

    settings: SpeakerSettings
    policy: ImportPolicy


ExchangeFactory = Callable[[SpeakerSettings, ImportPolicy], RouteExchange]


class MobilityRuntime:
    """The controller and its ports for one routerd (see the module docstring).

    Args:
        config: the effective config (non-empty mobility plan).
        store: where sequences, pins and the journal live.
        backend: the engine's backend (arrival announcements go through it).
        exchange_for: makes a started-later route exchange for given settings.
        feed: presence (its source not yet started).
        clock: the engine's clock.
        wake: asks the engine for a pass (any thread).
        active: whether this router may originate (False: standby); asked every pass.
    """

    def __init__(
        self,
        config: RouterConfig,
        store: MobilityStore,
        backend: DataplaneBackend,
        exchange_for: ExchangeFactory,
        feed: PresenceFeed,
        *,
        clock: Callable[[], float],
        wake: Callable[[], None],
        active: Callable[[], bool] = lambda: True,
    ) -> None:
        self.store = store
        self.backend = backend
        self.exchange_for = exchange_for
        self.feed = feed
        self.clock = clock
        self.wake = wake
        self.ctl = MobilityController(config, store, clock=clock)
        self.ctl.attach(wake)
        self.plan: MobilityPlan = self.ctl.plan
        self.journal = JournalSignal(store.mobility_head())
        self.source = ClaimSource("mobility", on_pass=self.on_pass, hold=self.hold)
        self.exchange: RouteExchange | None = None
        self.speaker: Speaker | None = None
        self._first = True
        self.full_every = FULL_EVERY
        self._next_full = 0.0
        self.steps = 0
        self.last_error = ""
        self.active = active
        self.announcing: bool | None = None
        """Whether the speaker was last handed the controller's originations (True) or
        nothing (False, standby); None: not yet since the speaker started."""
        self._unlogged: list[MoveRecord] = []

    # -- lifecycle -------------------------------------------------------------------------

    def start(self, first_view_wait: float = FIRST_VIEW_WAIT) -> None:
        """Start the speaker and presence for the current plan, and wait (at most
        ``first_view_wait`` seconds) until the speaker's tables have been read.

        A restarted routerd adopts a speaker that kept its sessions and learned paths; the
        first pass must see them, or it would release every derived claim (and their routes
        and captures) only to install them again a pass later: an outage of one pass for
        every remote address.
        """
        self._replan_speaker()
        self.feed.configure(self.plan)
        self.feed.start(self.wake)
        exchange = self.exchange
        if exchange is None:
            return
        deadline = time.monotonic() + first_view_wait
        while not exchange.view().connected:
            if time.monotonic() >= deadline:
                LOG.warning(
                    "mobility: the speaker's tables were not read within %.0fs (%s); "
                    "starting without them",
                    first_view_wait,
                    exchange.view().error or "not connected",
                )
                return
            time.sleep(0.02)

    def reconfigure(self, config: RouterConfig) -> None:
        """A new effective config: the controller re-decides everything on its next step;
        the speaker and presence follow what changed (engine thread)."""
        self.ctl.configure(config)
        self.plan = MobilityPlan.of(config)
        self._replan_speaker()
        self.feed.configure(self.plan)
        self._first = True
        self.wake()

    def _replan_speaker(self) -> None:
        settings, policy = self.plan.speaker_settings(), self.plan.import_policy()
        wanted = Speaker(settings, policy) if settings and policy else None
        if wanted == self.speaker:
            return
        if self.exchange is not None:
            self.exchange.close(cleanup=wanted is None)  # a new setup adopts the speaker
            self.exchange = None
        self.speaker = wanted
        if wanted is not None:
            exchange = self.exchange_for(wanted.settings, wanted.policy)
            exchange.start(self.wake)
            self.exchange = exchange
            self.announcing = None  # what it adopted is judged on the next pass
            LOG.info(
                "mobility: route exchange started asn=%d router_id=%s neighbors=%s",
                wanted.settings.asn,
                wanted.settings.router_id,
                ",".join(n.address for n in wanted.settings.neighbors) or "-",
            )

    def close(self, *, cleanup: bool) -> None:
        """Stop presence and the speaker (``cleanup``: the speaker stops and withdraws)."""
        self.feed.close()
        if self.exchange is not None:
            self.exchange.close(cleanup=cleanup)
            self.exchange = None

    # -- the engine's hooks ------------------------------------------------------------------

    def hold(self, name: str) -> tuple[str, str] | None:
        """What keeps a derived claim from ``verified``: its home's announcement is missing."""
        verdict = self.ctl.far_end(name)
        if verdict is None or verdict.ok:
            return None
        return verdict.reason, verdict.message

    def on_pass(self, now: float) -> None:
        """One step of the controller (see the module docstring)."""
        self.log_moves()  # a pass that ended without the listener (it raised): log them now
        touched = self.feed.take(now)
        view = self.exchange.view() if self.exchange is not None else NO_EXCHANGE
        self._follow_active(view)
        full = self._first or now >= self._next_full
        step = self.ctl.step(now, view, self.feed, None if full else touched)
        self.steps += 1
        if step.error:
            if step.error != self.last_error:
                LOG.error("mobility step failed (retrying): %s", step.error)
            self.last_error = step.error
            self.source.wake_at(now + RETRY)
            return
        self.last_error = ""
        if full:
            self._first, self._next_full = False, now + self.full_every
        self._apply(step, now)

    def _apply(self, step: MobilityStep, now: float) -> None:
        if step.claims.put:
            self.source.put(*step.claims.put)
        if step.claims.removed:
            self.source.remove(*step.claims.removed)
        if step.originations is not None and self.announcing:
            self._sync(step.originations)
        if step.homes_changed:
            self._touch(step.homes_changed)
        if step.moves:
            self._journal(step)
            if self.announcing:
                announce_arrivals(self, step.moves)
        if step.probing is not None:
            self.feed.set_probing(step.probing)
        self.feed.send_probes(now)
        wakes = [t for t in (step.next_wake, self.feed.next_probe_at()) if t is not None]
        if wakes:
            self.source.wake_at(max(min(wakes), now))

    def _is_active(self) -> bool:
        try:
            return bool(self.active())
        except Exception:  # the redundancy side's answer is unknown: keep what we do
            LOG.exception("mobility: the active/standby source failed; keeping the last state")
            return self.announcing is not False

    def _follow_active(self, view: ExchangeView) -> None:
        """Withdraw everything on standby, hand the speaker the originations again when
        active (see the module docstring)."""
        active = self._is_active()
        if active == self.announcing:
            if not active and view.originated:  # level-triggered: a standby announces nothing
                self._sync({})
            return
        was, self.announcing = self.announcing, active
        if active:  # after a start the step hands over the originations (its first always does)
            if was is not None:
                LOG.warning(
                    "mobility: active: originating %d addresses", len(self.ctl.originations())
                )
                self._sync(self.ctl.originations())
            return
        LOG.warning("mobility: standby: withdrawing every origination (%d)", len(view.originated))
        self._sync({})

    def _sync(self, originations: Mapping[str, Origination]) -> None:
        if self.exchange is None:
            return
        for error in self.exchange.sync(originations)[:10]:
            LOG.warning("mobility: route exchange: %s", error)

    def _touch(self, addresses: tuple[str, ...]) -> None:
        """Derived claims whose far end may have changed are judged again this pass."""
        names = []
        for address in addresses:
            dom = self.plan.domain_of(address)
            if dom is not None:
                names.append(claim_name(dom.name, address))
        self.source.touch(*names)

    def _journal(self, step: MobilityStep) -> None:
        self._unlogged += step.moves
        self.journal.advance(max(m.seq for m in step.moves))

    def log_moves(self) -> None:
        """Log the moves of the last step (engine thread, after the pass applied them)."""
        moves, self._unlogged = self._unlogged, []
        for m in moves:
            LOG.info(
                "address moved address=%s domain=%s from=%s to=%s sequence=%d cause=%s evidence=%s",
                m.address,
                m.domain,
                m.from_site or "-",
                m.to_site or "-",
                m.sequence,
                m.cause,
                m.evidence or "-",
                extra={
                    "kv_address": m.address,
                    "kv_domain": m.domain,
                    "kv_from": m.from_site or "-",
                    "kv_to": m.to_site or "-",
                    "kv_sequence": m.sequence,
                    "kv_cause": m.cause,
                },
            )
