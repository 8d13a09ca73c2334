"""The reconcile engine: a pass handles what changed; a periodic full pass handles the rest.

A pass:

1. takes requests from other threads (config reload, dynamic parts changed), runs the
   claim sources' hooks, and syncs the claims with their inputs (``ClaimTable``): only
   claims whose inputs changed are lowered again;
2. asks the backend what drifted (``drain``: the keys it saw change behind routerd's back),
   and the provider what it answers for the provider-side claims (``AssignmentWatch``: the
   claims whose answer changed are judged, as drifted ones are);
3. decides its *scope*. A full pass looks at the whole host and judges every claim: the
   first pass, every ``full_pass_interval``, whenever the backend cannot say what changed,
   and whenever something claims share moved (a sysctl, a link, the WireGuard device, a
   handshake going stale: ``PassScope``). Any other pass observes and diffs only the keys
   named by config deltas, drift and backoff, plus what claims share, and judges only the
   claims those touch, the claims not yet verified and those whose path check is due;
4. diffs, judges the claims needing a changed object before the apply (so drift shows as
   ``degraded`` even when this pass heals it), applies (keys in backoff wait), observes
   again and judges; new proxy-ARP captures ask for a gratuitous ARP, applied as one
   more change;
5. journals and publishes the transitions and an immutable snapshot.

Why this equals judging everything every pass (what ``EngineSettings.reference`` does, and
what ``tests/unit/core/test_engine_equivalence.py`` checks side by side): ``assess`` reads a
claim's intent, its own objects, what claims share, links, handshakes, the provider's
answer for its address, its evidence and the apply error of its objects. Intents and own
objects move only by config deltas and drift, and provider answers only by a read that
changed them, which scope the claims they touch; anything shared moving makes the pass
full; evidence moves only for judged claims; and judging an unchanged verdict again moves
nothing (``Lifecycle.judge``), so every claim left alone would have stayed where it is.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from routerd.core.assignment import ProviderEvidence
from routerd.core.assignment_watch import AssignmentWatch
from routerd.core.backoff import Backoff
from routerd.core.capture import proxy_arp_key
from routerd.core.claim_source import ClaimSource
from routerd.core.claim_table import ClaimTable, Sync
from routerd.core.config import RouterConfig
from routerd.core.desired import Garp
from routerd.core.events import EventBus
from routerd.core.evidence import Evidence
from routerd.core.inputs import ConfigInputs
from routerd.core.lifecycle import LEVEL, ClaimState, Lifecycle, TransitionRecord
from routerd.core.lowering import Lowered, key_file
from routerd.core.mobility.gateway import gateway_device
from routerd.core.pass_scope import PassScope
from routerd.core.pass_work import PassParts, PassWork
from routerd.core.persistent import Map
from routerd.core.phases import PassPhases
from routerd.core.port import ChangeResult, DataplaneBackend
from routerd.core.resources import AddressMobilityDomain, WireGuardInterface
from routerd.core.snapshot import ClaimView, Snapshot
from routerd.core.state_port import EngineStore
from routerd.core.validation import ExtraCheck
from routerd.core.wgkey import KeySource

LOG = logging.getLogger(__name__)

__all__ = ["ClaimView", "Engine", "EngineSettings", "PassResult"]


@dataclass
class EngineSettings:
    """Tunables of the reconcile loop."""

    resync_interval: float = 15.0
    """Longest sleep between passes when nothing wakes the engine."""
    full_pass_interval: float = 60.0
    """Seconds between passes that look at the whole host and judge every claim."""
    reference: bool = False
    """Run every pass as a full pass over a desired state lowered from scratch: the plain
    whole-state engine, for when the incremental one is in doubt (same results, slower)."""
    verify_interval: float = 60.0
    """Seconds before a verified claim's path is looked up again (drift wakes it sooner)."""
    error_delays: tuple[float, ...] = (1, 2, 3, 5, 8, 13, 21, 34, 60)
    """Backoff after consecutive failures of one object (kopf-style), with ±20% jitter."""
    handshake_max_age: float = 180.0
    """A WireGuard handshake older than this makes a claim ``handshake-stale``."""
    key_dir: str = "/var/lib/routerd/keys"
    """Where WireGuard private keys live when a WireGuardInterface names no file."""
    keys_in_key_dir: bool = False
    """Keep every WireGuard key under ``key_dir`` whatever ``privateKeyFile`` says (the sim
    backend: a simulated router must not create key files in the host's /etc)."""


@dataclass
class PassResult:
    changes: int
    failures: list[ChangeResult]
    transitions: int
    seconds: float
    full: bool = False
    judged: int = 0
    observed_keys: int | None = None
    """Keys the pass asked the backend for (None: the whole host)."""
    phases: Mapping[str, float] = field(default_factory=dict)
    """Seconds per phase (``routerd.core.phases.PHASES``), adding up to ``seconds``."""


@dataclass
class _Inbox:
    requests: queue.SimpleQueue[Callable[[], None]] = field(default_factory=queue.SimpleQueue)
    wake: threading.Event = field(default_factory=threading.Event)


class Engine:
    """Drives one backend toward the effective config.

    Args:
        backend: the dataplane port.
        startup: the validated startup config.
        store: state store (dynamic parts, journal); None for store-less tools.
        keys: where WireGuard public keys come from (``routerd.keys.KeyFiles``); required
            when the config has a ``WireGuardInterface``.
        settings: loop tunables.
        clock: epoch-seconds clock (injected for tests).
        extra_checks: provider rules used when merging dynamic parts.
        provider: where provider-secondary-ip captures are confirmed (instance metadata on
            a cloud VM, the fabric in the sim); None: such captures are only declared.
    """

    def __init__(
        self,
        backend: DataplaneBackend,
        startup: RouterConfig,
        *,
        store: EngineStore | None = None,
        keys: KeySource | None = None,
        settings: EngineSettings | None = None,
        clock: Callable[[], float] = time.time,
        extra_checks: Sequence[ExtraCheck] = (),
        provider: ProviderEvidence | None = None,
    ) -> None:
        self.backend = backend
        self.store = store
        self.keys = keys
        self.settings = s = settings or EngineSettings()
        self.clock = clock
        self.lifecycle = Lifecycle(clock)
        self.bus = EventBus(store)
        self.inputs = ConfigInputs(startup, store=store, extra_checks=extra_checks)
        self.evidence = Evidence(s.verify_interval)
        self.backoff = Backoff(s.error_delays)
        self.claims = ClaimTable(self.inputs, self.lifecycle, self.evidence, reference=s.reference)
        self.scope = PassScope(s.handshake_max_age)
        self.parts = PassParts(
            backend,
            self.claims,
            self.scope,
            self.lifecycle,
            self.evidence,
            self.backoff,
            s.handshake_max_age,
            AssignmentWatch(provider),
        )
        self._inbox = _Inbox()
        self._next_full = 0.0
        self._full_asked = False
        self._capture_active: dict[str, bool] = {}
        self._standby: frozenset[str] = frozenset()
        self._public_keys: dict[str, str] = {}
        self._keys_read = False
        self._pass_count = 0
        self._started = False
        self._gateway_standby: frozenset[str] = frozenset()
        self._gateway_applied: frozenset[str] = frozenset()
        self._woken: frozenset[str] = frozenset()
        self._paired: frozenset[str] = frozenset()  # capture interfaces ever in standby
        self.generation = int(store.get_meta("generation", "0")) if store else 0
        self.snapshot = Snapshot(self.generation, Map(), None, None, 0, 0.0, 0.0, 0, Map(), startup)
        self.listeners: list[Callable[[Snapshot, list[TransitionRecord]], None]] = []

    # -- requests from other threads ---------------------------------------------------------

    def submit(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the engine thread at the start of the next pass."""
        self._inbox.requests.put(fn)
        self.wake()

    def wake(self) -> None:
        self._inbox.wake.set()

    def set_startup(self, config: RouterConfig) -> None:
        """Hand over a new startup config (any thread; compared with the last one here)."""
        self.inputs.set_startup(config)
        self.wake()

    def mark_dirty(self) -> None:
        """Dynamic parts changed (or a reload found nothing new): merge them again and read
        the WireGuard key files again on the next pass."""
        self.inputs.mark_dirty()
        self._keys_read = False
        self.wake()

    def request_full_pass(self) -> None:
        """Look at the whole host on the next pass (and read WireGuard key files again)."""
        self._full_asked = True
        self.wake()

    def set_capture_active(self, ifname: str, active: bool) -> None:
        """Switch proxy-ARP capture on ``ifname`` (OS name) on or off (any thread).

        Off is a warm standby: the interface's ``proxy_arp`` goes to 0 and every route
        stays, so the switch is one sysctl write in the next pass, which also judges the
        claims captured there (``capture-standby`` while off). ``EVERY_INTERFACE`` switches
        every capture interface, including those that come into use later. Switching back
        on is a takeover: that pass sends a gratuitous ARP for every address captured on
        the interface, so the segment's hosts and switches learn the new MAC at once.
        """

        def switch() -> None:
            self._capture_active[ifname] = active

        self.submit(switch)

    def set_gateway_standby(self, domains: Iterable[str]) -> None:
        """Hold these mobile domains' anycast gateways in standby from the next pass (any
        thread): each device is kept with its link down, so this router answers neither for
        the gateway nor for what it captures there (a redundant pair's standby router).
        An empty set makes every gateway active; a gateway leaving standby is announced by
        a gratuitous ARP in the pass that brings its link up."""
        wanted = frozenset(domains)

        def set_standby() -> None:
            self._gateway_standby = wanted

        self.submit(set_standby)

    def add_claim_source(self, source: ClaimSource) -> None:
        """Reconcile ``source``'s claims too (engine thread, or before the loop starts)."""
        source.attach(self.wake)
        self.inputs.sources.append(source)
        self.inputs.mark_dirty()

    @property
    def provider(self) -> ProviderEvidence | None:
        """Where provider-side captures are confirmed (set before the engine starts)."""
        return self.parts.answers.provider

    @provider.setter
    def provider(self, provider: ProviderEvidence | None) -> None:
        self.parts.answers.provider = provider

    @property
    def startup(self) -> RouterConfig:
        return self.inputs.startup.config

    @property
    def extra_checks(self) -> tuple[ExtraCheck, ...]:
        """The provider rules dynamic parts are merged with."""
        return self.inputs.extra_checks

    # -- the loop --------------------------------------------------------------------------

    def start(self) -> None:
        if not self._started:
            self.backend.start(self.wake)
            if self.provider is not None:
                self.provider.start(self.wake)
            self._started = True

    def run_forever(
        self, stop: threading.Event, on_pass: Callable[[PassResult], None] | None = None
    ) -> None:
        """Reconcile until ``stop`` is set; wakes on drift, requests and timers."""
        self.start()
        while not stop.is_set():
            result = self.run_pass()
            if on_pass is not None:
                on_pass(result)
            timeout = max(0.05, self.next_wake() - self.clock())
            self._inbox.wake.wait(timeout)
            self._inbox.wake.clear()

    def next_wake(self) -> float:
        now = self.clock()
        times = [now + self.settings.resync_interval, self._next_full]
        times += [t for t in (self.backoff.next_at(now), self.evidence.next_due()) if t]
        times += [t for t in (src.next_wake(now) for src in self.inputs.sources) if t]
        expiry = self.inputs.effective.next_change_at
        if expiry is not None:
            times.append(expiry)
        stale = self.scope.next_handshake_change()
        if stale is not None:
            times.append(stale)
        if self.parts.unverified:  # handshakes and probes settle quickly; look again soon
            times.append(now + min(2.0, self.settings.resync_interval))
        return min(times)

    def run_pass(self) -> PassResult:
        """One pass (see the module docstring)."""
        t0 = time.perf_counter()
        phases = PassPhases()
        now, full, sync, lowered = phases.timed("inputs", self._take_inputs)
        work = PassWork(self.parts, lowered, sync, now, full, phases)
        work.takeover(self._woken, self._gateway_garps(), self._paired)
        work.run()
        records = phases.timed("journal", self._journal)
        self._pass_count += 1
        seconds = time.perf_counter() - t0
        timed = phases.close(seconds)
        self._publish(work, now, seconds, tuple(timed.items()))
        for listener in self.listeners:
            listener(self.snapshot, records)
        failures = [r for r in work.results if not r.ok]
        return PassResult(
            len(work.changes),
            failures,
            len(records),
            seconds,
            work.full,
            len(work.judged),
            None if work.full else len(work.keys),
            timed,
        )

    def _take_inputs(self) -> tuple[float, bool, Sync, Lowered]:
        """The pass's start: requests, claim sources and config taken in, claims lowered."""
        self.start()
        self._drain_inbox()
        now = self.clock()
        for source in self.inputs.sources:
            if source.on_pass is not None:
                source.on_pass(now)
        full = self._full_due(now)
        sync = self._sync(now, full)
        return now, full, sync, self.claims.published()

    def _journal(self) -> list[TransitionRecord]:
        """The pass's transitions journaled, published to watchers and logged."""
        records = self.lifecycle.drain()
        self.bus.publish(records, self.generation)
        self._log_transitions(records)
        return records

    def settle(
        self,
        *,
        timeout: float = 30.0,
        until: ClaimState = ClaimState.VERIFIED,
        sleep: Callable[[float], None] = time.sleep,
    ) -> bool:
        """Run passes until every claim reaches ``until`` (or better) or time runs out.

        The one blocking call in core, on purpose: ``routerd run`` (one-shot) and tests wait
        here between passes; the daemon never calls it. ``sleep`` is injected for tests.
        """
        deadline = time.monotonic() + timeout
        while True:
            self.run_pass()
            if all(
                LEVEL.get(ClaimState(c.state), -1) >= LEVEL[until]
                for c in self.lifecycle.claims.values()
            ):
                return True
            if time.monotonic() >= deadline:
                return False
            sleep(0.2)

    def close(self, *, cleanup: bool = False) -> None:
        self.bus.close()
        if self.provider is not None:
            self.provider.close()
        self.backend.close(cleanup=cleanup)

    # -- steps -----------------------------------------------------------------------------

    def _drain_inbox(self) -> None:
        while True:
            try:
                fn = self._inbox.requests.get_nowait()
            except queue.Empty:
                return
            fn()

    def _full_due(self, now: float) -> bool:
        full = self.settings.reference or self._full_asked or now >= self._next_full
        if full:
            self._full_asked = False
            self._next_full = now + self.settings.full_pass_interval
        return full

    def _sync(self, now: float, full: bool) -> Sync:
        sync = self.claims.sync(now)
        if sync.config:
            self.generation += 1
            if self.store is not None:
                self.store.set_meta("generation", str(self.generation))
        if full or sync.config or sync.context or not self._keys_read:
            self._read_public_keys(self.inputs.current.context)
        self.claims.comp.set_tail_inputs(
            generation=self.generation,
            key_dir=self.settings.key_dir,
            public_keys=self._public_keys,
            capture_active=self._capture_active,
            gateway_standby=self._gateway_standby,
        )
        standby = self.claims.comp.standby
        self._woken = self._standby - standby
        self._paired |= standby
        if standby != self._standby:  # switched: judge the claims captured there
            flipped = (("sysctl", proxy_arp_key(i)) for i in standby ^ self._standby)
            sync.dirty |= self.claims.claims_needing(flipped)
            self._standby = standby
        sync.keys = self.claims.changed_keys()
        released = [p.name for p in sync.released]
        self.parts.unverified.difference_update(released)
        self.parts.answers.update(self.claims.published().claims, [*sync.dirty, *released])
        return sync

    def _gateway_garps(self) -> list[tuple[Garp, str]]:
        """A gratuitous ARP for each gateway address leaving standby in this pass (with the
        domain asking for it): the switches learn the shared MAC behind this router now."""
        woken = self._gateway_applied - self._gateway_standby
        self._gateway_applied = self._gateway_standby
        if not woken:
            return []
        context = self.inputs.current.context
        out = []
        for dom in context.of(AddressMobilityDomain):
            device = gateway_device(context, dom) if dom.name in woken else None
            if device is not None:
                out += [(Garp(a.split("/")[0], device.ifname), dom.ref) for a in device.addresses]
        return out

    def _read_public_keys(self, context: RouterConfig) -> dict[str, str]:
        out: dict[str, str] = {}
        for wgi in context.of(WireGuardInterface):
            if self.keys is None:
                raise RuntimeError(
                    f"WireGuardInterface/{wgi.name}: this engine has no key source; "
                    "construct it with keys=routerd.keys.KeyFiles()"
                )
            path = key_file(wgi, self.settings.key_dir, in_key_dir=self.settings.keys_in_key_dir)
            try:
                out[wgi.name] = self.keys.public_key(path)
            except (OSError, ValueError) as e:
                LOG.error("WireGuard key for %s unusable path=%s error=%s", wgi.name, path, e)
        self._public_keys, self._keys_read = out, True
        return out

    def _log_transitions(self, records: list[TransitionRecord]) -> None:
        # asked once a pass: a first pass makes 300,000 records, most of them INFO
        if not LOG.isEnabledFor(logging.INFO):
            if not LOG.isEnabledFor(logging.WARNING):
                return
            records = [r for r in records if r.to_state == "degraded"]  # the WARNING ones
        for r in records:
            level = logging.WARNING if r.to_state == "degraded" else logging.INFO
            LOG.log(
                level,
                "claim transition claim=%s address=%s from=%s to=%s trigger=%s reason=%s",
                r.claim,
                r.address,
                r.from_state,
                r.to_state,
                r.trigger,
                r.reason or "-",
                extra={
                    "kv_claim": r.claim,
                    "kv_address": r.address,
                    "kv_from": r.from_state,
                    "kv_to": r.to_state,
                    "kv_trigger": r.trigger,
                    "kv_reason": r.reason or "-",
                },
            )

    def _publish(
        self, work: PassWork, now: float, seconds: float, phases: tuple[tuple[str, float], ...]
    ) -> None:
        if self.settings.reference:
            self.claims.rebuild_views()
        else:
            self.claims.update_views(work.touched(), work.sync.released)
        self.snapshot = Snapshot(
            self.generation,
            self.claims.views,
            self.inputs.effective,
            work.lowered,
            self._pass_count,
            now,
            seconds,
            len(work.changes),
            Map(self.backoff.errors()),
            self.startup,
            Map(work.observed.handshakes),
            work.full,
            phases,
        )
