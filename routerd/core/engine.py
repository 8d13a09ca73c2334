"""The reconcile engine: observe -> diff -> apply -> observe -> advance the claim machines.

Level-triggered: each pass looks at the whole host and walks every claim to the furthest
state the observation supports; nothing depends on remembering what happened in between.
A pass:

1. take requests from other threads (config reload, dynamic parts changed);
2. rebuild the effective config and lower it when inputs changed or a part expired (D1),
   reusing what did not change (``effective.MergeMemo``, ``config.FragmentCache``,
   ``lowering_cache.LoweringCache``: each gives exactly what recomputing would);
3. observe the host through the backend port (and the provider's assignments through the
   provider port), diff against the desired state; before
   applying, judge the claims that need a changed object (so drift shows as `degraded`
   even when this pass heals it), then apply (changes of keys in backoff are skipped
   until due: bounded backoff with jitter);
4. observe again (only if something was applied), verify delivery paths of claims that
   are ready (re-verified at most every ``verify_interval`` once verified), judge the
   claims (``routerd.core.assess``) and walk their state machines; a claim verified
   against an observation that has not moved for it is not judged again
   (``routerd.core.triage``: it would be judged ``verified`` and walk nowhere);
5. journal and publish the transitions and the snapshot; send gratuitous ARP for new
   proxy-ARP captures.

One failing claim never blocks the others: every change has its own result, and a failure
only puts that object's key into backoff.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from routerd.core.assess import Verdict, assess, path_check
from routerd.core.assignment import ProviderEvidence, Queries
from routerd.core.config import FragmentCache, RouterConfig
from routerd.core.desired import Key, Observed, ObserveScope
from routerd.core.effective import EffectiveResult, MergeMemo, build_effective
from routerd.core.events import EventBus
from routerd.core.lifecycle import LEVEL, ClaimFSM, ClaimState, Lifecycle, TransitionRecord
from routerd.core.lowering import ClaimIntent, Lowered, key_file
from routerd.core.lowering_cache import LoweringCache
from routerd.core.plan import SatisfiedMemo, diff
from routerd.core.port import ChangeResult, DataplaneBackend, PathCheck, PathEvidence
from routerd.core.resources import WireGuardInterface
from routerd.core.snapshot import ClaimView, Snapshot, claim_views
from routerd.core.store import Store
from routerd.core.triage import Triage, touching
from routerd.core.validation import ExtraCheck
from routerd.core.wgkey import ensure_private_key

LOG = logging.getLogger(__name__)


@dataclass
class EngineSettings:
    """Tunables of the reconcile loop."""

    resync_interval: float = 15.0
    """Seconds between full passes when nothing wakes the engine."""
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


def _ordered(lowered: Lowered, names: set[str]) -> list[str]:
    """``names`` in config order."""
    return [n for n in lowered.claims if n in names] if names else []


@dataclass
class PassResult:
    changes: int
    failures: list[ChangeResult]
    transitions: int
    seconds: float


@dataclass
class _Backoff:
    count: int = 0
    next_at: float = 0.0
    last_error: str = ""


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
        store: Store | None = None,
        settings: EngineSettings | None = None,
        clock: Callable[[], float] = time.time,
        extra_checks: Sequence[ExtraCheck] = (),
        provider: ProviderEvidence | None = None,
    ) -> None:
        self.backend = backend
        self.provider = provider
        self._queries = Queries()
        self.store = store
        self.settings = settings or EngineSettings()
        self.clock = clock
        self.extra_checks = tuple(extra_checks)
        self.lifecycle = Lifecycle(clock)
        self.bus = EventBus(store)
        self._startup = startup
        self._inbox = _Inbox()
        self._dirty = True
        self._parts_version: tuple[int, float] | None = None
        self._effective: EffectiveResult | None = None
        self._lowered: Lowered | None = None
        self._scope = ObserveScope()
        self._digest = ""
        # Incremental pieces of a pass; each gives the same result as recomputing.
        self._merge_memo = MergeMemo()
        self._fragments = FragmentCache()
        self._lowering = LoweringCache()
        self._triage = Triage(
            handshake_max_age=self.settings.handshake_max_age,
            verify_interval=self.settings.verify_interval,
        )
        self._judged: set[str] = set()
        self._backoff: dict[Key, _Backoff] = {}
        self._verified_at: dict[str, float] = {}
        self._evidence: dict[str, PathEvidence] = {}
        self._key_cache: dict[str, tuple[float, str]] = {}
        self._pass_count = 0
        self._started = False
        self._fresh_claims: set[str] = set()
        self._satisfied: SatisfiedMemo = {}
        self.generation = int(store.get_meta("generation", "0")) if store else 0
        self.snapshot = Snapshot(self.generation, {}, None, None, 0, 0.0, 0.0, 0, {}, startup)
        self.listeners: list[Callable[[Snapshot, list[TransitionRecord]], None]] = []

    # -- requests from other threads ---------------------------------------------------------

    def submit(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` on the engine thread at the start of the next pass."""
        self._inbox.requests.put(fn)
        self.wake()

    def wake(self) -> None:
        self._inbox.wake.set()

    def set_startup(self, config: RouterConfig) -> None:
        """Replace the startup config (engine thread only; use ``submit`` elsewhere)."""
        self._startup = config
        self._dirty = True

    def mark_dirty(self) -> None:
        """Dynamic parts changed: rebuild the effective config on the next pass."""
        self._dirty = True
        self.wake()

    @property
    def startup(self) -> RouterConfig:
        return self._startup

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
        times = [now + self.settings.resync_interval]
        times += [b.next_at for b in self._backoff.values() if b.next_at > now]
        if self._effective is not None and self._effective.next_change_at is not None:
            times.append(self._effective.next_change_at)
        if any(c.state != "verified" for c in self.lifecycle.claims.values()):
            # handshakes and probes settle quickly; look again soon
            times.append(now + min(2.0, self.settings.resync_interval))
        return min(times)

    def run_pass(self) -> PassResult:
        """One full observe/diff/apply/judge cycle."""
        t0 = time.perf_counter()
        self.start()
        self._drain_inbox()
        now = self.clock()
        lowered = self._refresh(now)
        scope = self._scope
        observed = self._observe(scope, lowered)
        skip = (lambda k: self._in_backoff(k, now)) if self._backoff else None
        changes = diff(lowered.desired, observed, skip=skip, memo=self._satisfied)
        results: list[ChangeResult] = []
        self._judged = set()
        if changes:
            # Judge what we found before repairing it, so drift is visible as `degraded`
            # (with its reason) even when this very pass heals it. The drift this shows
            # is in the objects being changed, so the claims that need one of them.
            drifted = touching(changes, lowered) - self._fresh_claims
            self._judge(lowered, observed, now, verify=False, names=_ordered(lowered, drifted))
            self._triage.forget(drifted)  # judged again after the apply, like the rest
            results = self.backend.apply(changes)
            self._note_results(results, now)
            observed = self._observe(scope, lowered)
        applied = [r.change.key for r in results]
        names = self._triage.to_judge(lowered, observed, self._verified_at, now, applied=applied)
        self._judge(lowered, observed, now, verify=True, names=names)
        self._settle(names, observed)
        self._fresh_claims = set()
        records = self.lifecycle.drain()
        self.bus.publish(records, self.generation)
        self._log_transitions(records)
        self._pass_count += 1
        seconds = time.perf_counter() - t0
        self._publish_snapshot(now, seconds, len(changes), observed.handshakes)
        for listener in self.listeners:
            listener(self.snapshot, records)
        failures = [r for r in results if not r.ok]
        return PassResult(len(changes), failures, len(records), seconds)

    def settle(
        self,
        *,
        timeout: float = 30.0,
        until: ClaimState = ClaimState.VERIFIED,
        sleep: Callable[[float], None] = time.sleep,
    ) -> bool:
        """Run passes until every claim reaches ``until`` (or better) or time runs out."""
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

    def _refresh(self, now: float) -> Lowered:
        parts_version = self.store.parts_version() if self.store else (0, 0.0)
        eff = self._effective
        expired = eff is not None and eff.next_change_at is not None and now >= eff.next_change_at
        if (
            not self._dirty
            and not expired
            and parts_version == self._parts_version
            and self._lowered is not None
        ):
            return self._lowered
        parts = self.store.list_parts() if self.store else []
        eff = build_effective(
            self._startup, parts, now, extra_checks=self.extra_checks, memo=self._merge_memo
        )
        for rej in eff.rejected:
            LOG.warning(
                "dynamic part rejected source=%s generation=%d reasons=%s",
                rej.source,
                rej.generation,
                "; ".join(rej.reasons),
            )
        digest = self._fragments.digest(eff.config, self._startup)
        if digest != self._digest:
            self.generation += 1
            if self.store is not None:
                self.store.set_meta("generation", str(self.generation))
            self._digest = digest
        keys = self._public_keys(eff.config)
        lowered = self._lowering.lower(
            eff.config, generation=self.generation, key_dir=self.settings.key_dir, public_keys=keys
        )
        self._sync_claims(lowered, eff, now)
        self._effective, self._lowered = eff, lowered
        self._scope = self._lowering.scope
        self._dirty, self._parts_version = False, parts_version
        return lowered

    def _public_keys(self, config: RouterConfig) -> dict[str, str]:
        out: dict[str, str] = {}
        for wgi in config.of(WireGuardInterface):
            path = key_file(wgi, self.settings.key_dir, in_key_dir=self.settings.keys_in_key_dir)
            try:
                mtime = Path(path).stat().st_mtime
            except OSError:
                mtime = -1.0
            cached = self._key_cache.get(path)
            if cached is not None and cached[0] == mtime >= 0:
                out[wgi.name] = cached[1]
                continue
            try:
                pub, created = ensure_private_key(path)
            except (OSError, ValueError) as e:
                LOG.error("WireGuard key for %s unusable path=%s error=%s", wgi.name, path, e)
                continue
            if created:
                LOG.info("generated WireGuard private key interface=%s path=%s", wgi.name, path)
            self._key_cache[path] = (Path(path).stat().st_mtime, pub)
            out[wgi.name] = pub
        return out

    def _sync_claims(self, lowered: Lowered, eff: EffectiveResult, now: float) -> None:
        wanted = lowered.claims
        for name in list(self.lifecycle.claims):
            if name not in wanted:
                model = self.lifecycle.remove(name)
                if model is not None:
                    self.lifecycle.records.append(
                        TransitionRecord(
                            name,
                            model.address,
                            model.state,
                            "released",
                            "release",
                            "claim-removed",
                            "no longer in the effective config",
                            now,
                        )
                    )
                self._verified_at.pop(name, None)
                self._evidence.pop(name, None)
                self._triage.forget((name,))
        old = self._lowered.claims if self._lowered is not None else {}
        for name, intent in wanted.items():
            model = self.lifecycle.claims.get(name)
            if model is None:
                self.lifecycle.add(name, intent.address)
                self._fresh_claims.add(name)
                continue
            before = old.get(name)
            if before is not intent and before != intent:
                model.address = intent.address
                model.high_water = 0  # a changed intent starts over
                self._verified_at.pop(name, None)
                self._fresh_claims.add(name)
        self._triage.forget(self._fresh_claims)

    def _observe(self, scope: ObserveScope, lowered: Lowered) -> Observed:
        """The backend's observation plus the provider's answers for provider-side claims."""
        observed = self.backend.observe(scope)
        if self.provider is not None:
            observed.assignments = self.provider.assignments(self._queries.of(lowered))
        return observed

    def _in_backoff(self, key: Key, now: float) -> bool:
        b = self._backoff.get(key)
        return b is not None and now < b.next_at

    def _note_results(self, results: list[ChangeResult], now: float) -> None:
        delays = self.settings.error_delays
        for r in results:
            key = r.change.key
            if r.ok:
                self._backoff.pop(key, None)
                continue
            b = self._backoff.setdefault(key, _Backoff())
            delay = delays[min(b.count, len(delays) - 1)] * random.uniform(0.8, 1.2)
            if b.count == 0 or r.error != b.last_error:
                LOG.warning(
                    "apply failed change=%r error=%s retry_in=%.1fs owners=%s",
                    r.change.describe(),
                    r.error,
                    delay,
                    ",".join(r.change.owners),
                )
            b.count += 1
            b.next_at = now + (delay if r.retryable else delays[-1])
            b.last_error = r.error

    def _judge(
        self, lowered: Lowered, observed: Observed, now: float, *, verify: bool, names: list[str]
    ) -> None:
        """Judge ``names`` (in config order: the journal follows it) and walk their machines."""
        if not names:
            return
        self._judged.update(names)
        max_age = self.settings.handshake_max_age
        claims = lowered.claims
        first = {
            name: assess(
                claims[name], observed, self._evidence.get(name), max_handshake_age=max_age
            )
            for name in names
        }
        # Only claims whose evidence this pass refreshed can judge differently the second
        # time (assess is pure): re-judging all of them doubled the cost of a no-op pass.
        refreshed = self._verify(lowered, observed, first, now) if verify else set()
        for name, verdict in first.items():
            intent = lowered.claims[name]
            if name in refreshed:
                verdict = assess(
                    intent, observed, self._evidence.get(name), max_handshake_age=max_age
                )
            verdict = self._with_apply_error(verdict)
            self._advance(self.lifecycle.claims[name], intent, verdict)

    def _verify(
        self, lowered: Lowered, observed: Observed, first: dict[str, Verdict], now: float
    ) -> set[str]:
        """Path checks for claims that are due; returns the claims given new evidence."""
        checks: list[PathCheck] = []
        for name, verdict in first.items():
            if verdict.level < 2:
                self._verified_at.pop(name, None)
                continue
            model = self.lifecycle.claims[name]
            last = self._verified_at.get(name)
            if (
                model.state == "verified"
                and last is not None
                and now - last < self.settings.verify_interval
            ):
                continue
            checks.append(path_check(lowered.claims[name], observed))
        if not checks:
            return set()
        evidence = self.backend.verify(checks)
        refreshed = set()
        for chk in checks:
            ev = evidence.get(chk.claim)
            if ev is not None:
                self._evidence[chk.claim] = ev
                self._verified_at[chk.claim] = now
                refreshed.add(chk.claim)
        return refreshed

    def _settle(self, names: list[str], observed: Observed) -> None:
        """Tell the triage how the claims judged after the apply ended up."""
        models = self.lifecycle.claims
        verified = [n for n in names if models[n].state == "verified"]
        others = [n for n in names if models[n].state != "verified"]
        self._triage.record(observed, verified, others, self._verified_at)

    def _with_apply_error(self, v: Verdict) -> Verdict:
        if v.key is None:
            return v
        b = self._backoff.get(v.key)
        if b is None or not b.last_error:
            return v
        return Verdict(v.level, v.reason, f"{v.message}; apply failed: {b.last_error}", v.key, True)

    def _advance(self, model: ClaimFSM, intent: ClaimIntent, v: Verdict) -> None:
        state = ClaimState(model.state)
        before = state
        if state is ClaimState.DEGRADED and (v.level < model.high_water or v.apply_failed):
            model.reason, model.message = v.reason, v.message
            return
        if state is not ClaimState.DEGRADED and v.level < LEVEL[state]:
            self.lifecycle.walk(model, ClaimState.DEGRADED, v.reason, v.message)
            return
        self.lifecycle.walk(model, v.state, v.reason, v.message)
        if v.apply_failed and model.state in ("captured", "delivering"):
            # D6: a failed capture or delivery step is a degradation, not a quiet wait.
            self.lifecycle.walk(model, ClaimState.DEGRADED, v.reason, v.message)
        captured_now = LEVEL.get(before, 0) < 1 <= v.level
        if captured_now and intent.gratuitous_arp and intent.capture_type == "proxy-arp":
            try:
                self.backend.send_garp(intent.ip, intent.capture_interface)
            except Exception as e:  # GARP is best effort; the capture works without it
                LOG.warning("gratuitous ARP failed claim=%s error=%s", model.name, e)

    def _log_transitions(self, records: list[TransitionRecord]) -> None:
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

    def _publish_snapshot(
        self,
        now: float,
        seconds: float,
        changes: int,
        handshakes: dict[tuple[str, str], float] | None = None,
    ) -> None:
        eff, lowered = self._effective, self._lowered
        claims: dict[str, ClaimView] = {}
        if lowered is not None and eff is not None:
            claims = claim_views(
                self.snapshot,
                eff=eff,
                lowered=lowered,
                models=self.lifecycle.claims,
                judged=self._judged,
            )
        errors = {"/".join(k): b.last_error for k, b in self._backoff.items() if b.last_error}
        self.snapshot = Snapshot(
            self.generation,
            claims,
            eff,
            lowered,
            self._pass_count,
            now,
            seconds,
            changes,
            errors,
            self._startup,
            dict(handshakes or {}),
        )
