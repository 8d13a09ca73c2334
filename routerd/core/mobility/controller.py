"""The mobility controller: the stateful part the engine thread runs once per pass.

``step`` re-decides the addresses whose inputs changed (presence named by the caller,
paths that differ from the last view, sessions, due timers, requests) with
``homes.decide``, writes what must survive a restart through the ``MobilityStore`` port
(before anything reaches the speaker), and returns a ``MobilityStep``: the derived-claim
delta (only what changed), the originations for ``RouteExchange.sync``, the journal
records and the probe targets. Requests from API threads (``move``, ``pin``, ``unpin``)
are checked at once (an error names what to do), queued, and applied by the next step;
views (``where``, ``homes``, ``conflicts``) read an immutable snapshot published by each
step, so they never wait for the engine.
"""

from __future__ import annotations

import heapq
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import replace
from types import MappingProxyType
from typing import TypeVar

from routerd.core.config import RouterConfig
from routerd.core.exchange import ExchangeView, LearnedPath, Origination
from routerd.core.mobility.decision import Facts, Memory, Outcome
from routerd.core.mobility.derive import (
    ClaimFactory,
    ClaimOrigin,
    DerivedClaim,
    claim_name,
    same_claim,
)
from routerd.core.mobility.homes import decide
from routerd.core.mobility.plan import MobileDomain, MobilityPlan
from routerd.core.mobility.port import MobilityBatch, MobilityStore
from routerd.core.mobility.records import (
    Conflict,
    Explicit,
    Home,
    MoveRecord,
    Own,
    Pin,
    PresenceView,
)
from routerd.core.mobility.requests import Request, Requests, Unpin
from routerd.core.mobility.step import ClaimDelta, MobilityStep, Where
from routerd.core.mobility.verify import FarEnd, far_end
from routerd.core.resources import RemoteAddressClaim

Paths = Mapping[str, tuple[LearnedPath, ...]]
V = TypeVar("V")


class MobilityController:
    """Holds homes, sequences and requests; see the module docstring.

    Args:
        config: the (effective) config; only its mobility part is read.
        store: where sequences, pins and the journal survive restarts.
        clock: the engine's clock (for requests' times).
    """

    def __init__(
        self,
        config: RouterConfig,
        store: MobilityStore,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.clock = clock
        self.plan = MobilityPlan.of(config)
        self._factory = ClaimFactory()
        self._lock = threading.Lock()
        stored = store.mobility_load()
        self._memory: dict[str, Memory] = {}
        for address, own in stored.own.items():
            self._memory[address] = Memory(own=own, high=own.sequence)
        for address, high in stored.high.items():
            mem = self._memory.get(address, Memory())
            self._memory[address] = replace(mem, high=max(mem.high, high))
        self._store_pins = dict(stored.pins)
        self._restored = dict(stored.high)
        """address -> the highest sequence seen before this start: until an address is
        decided once, a home at or below it is what this router knew, not a move."""
        self.requests = Requests(
            lambda: self.plan, store, clock, lambda address: self._store_pins.get(address)
        )
        self._claims: dict[str, DerivedClaim] = {}
        self._orig: dict[str, Origination] = {}
        self._orig_shared = False
        self._homes: dict[str, Home] = {}
        self._conflicts: dict[str, tuple[Conflict, ...]] = {}
        self._shared = False  # a reader holds _homes/_conflicts: copy before changing
        self._pins_view: dict[str, Pin] = {}
        # what a reconfiguration dropped, kept until a step commits and reports it
        self._pending_drops: list[str] = []
        self._pending_moves: list[MoveRecord] = []
        self._pending_removed: list[str] = []
        self._orig_dirty = True  # the first step always hands its originations to sync
        self._probing: dict[str, set[str]] = {}
        self._stale: set[str] = set()
        self._timers: dict[str, float] = {}
        self._heap: list[tuple[float, str]] = []
        self._last_paths: Paths = {}
        self._last_sessions: object = None
        self._new_config: RouterConfig | None = None
        self._full = True
        self._rebuild = False  # a new config may change every claim: build and compare them

    # -- wiring ------------------------------------------------------------------------------

    def attach(self, wake: Callable[[], None]) -> None:
        """How to ask the engine for a pass (called when a request is queued)."""
        self.requests.wake = wake

    def configure(self, config: RouterConfig) -> None:
        """A new effective config; the next step re-decides every address under it."""
        self._new_config = config

    def originations(self) -> Mapping[str, Origination]:
        """Every address this router announces now (read-only, for ``sync``)."""
        self._orig_shared = True
        return MappingProxyType(self._orig)

    def probing(self) -> Mapping[str, frozenset[str]]:
        """Capture interface -> every address presence should probe there now."""
        return MappingProxyType({k: frozenset(v) for k, v in self._probing.items()})

    def claim_origin(self, name: str) -> DerivedClaim | None:
        """A derived claim and its origin, by claim name."""
        return self._claims.get(name)

    def far_end(self, name: str) -> FarEnd | None:
        """Whether the home of a derived claim still announces it (None: not a derived
        claim). The engine's judgement of the claim adds this to ``verified``."""
        derived = self._claims.get(name)
        if derived is None:
            return None
        address = derived.claim.ip
        dom = self.plan.domain_of(address)
        site = dom.sites.get(derived.origin.site) if dom else None
        site_id = site.site_id if site else 0
        return far_end(address, derived.origin, site_id, self._last_paths)

    def home_originating(self, address: str) -> bool | None:
        """True while the home site's path is in the exchange view; False when stale or
        missing; None when the address has no derived claim here."""
        dom = self.plan.domain_of(address)
        verdict = self.far_end(claim_name(dom.name, address)) if dom else None
        return None if verdict is None else verdict.ok

    # -- the engine thread ---------------------------------------------------------------------

    def step(
        self,
        now: float,
        exchange: ExchangeView,
        presence: PresenceView,
        touched: Iterable[str] | None = None,
    ) -> MobilityStep:
        """Decide what changed; see the module docstring.

        Args:
            now: the engine's clock.
            exchange: the route exchange's current view.
            presence: the presence tracker.
            touched: addresses whose presence changed since the last step; None re-decides
                every address (slow at many thousands: pass what the tracker reports).

        Returns:
            What the engine must do (nothing was applied when ``error`` is set).
        """
        if self._new_config is not None:
            self._reconfigure(now)
        requests = self.requests.take()
        domains = self._to_decide(now, exchange, presence, touched, requests)
        memory = {a: self._memory.get(a, Memory()) for a in domains}
        for address, announced in exchange.originated.items():  # what the speaker still has
            mem = memory.get(address)
            if mem is not None and announced.sequence > mem.high:
                memory[address] = replace(mem, high=announced.sequence)
        self._apply_requests(requests, memory)
        outcomes: dict[str, Outcome] = {}
        for address, dom in domains.items():
            facts = Facts(
                presence.fact(address),
                exchange.paths.get(address, ()),
                exchange.sessions,
                exchange.connected,
            )
            outcomes[address] = decide(address, dom, facts, memory[address], now)
        batch = self._batch(outcomes)
        try:
            moves = self.store.mobility_commit(batch) if batch else []
        except Exception as exc:  # any store failure: apply nothing, retry
            self.requests.put_back(requests)
            return MobilityStep(next_wake=now + 1.0, error=f"mobility store: {exc}")
        self._last_paths = exchange.paths
        self._last_sessions = exchange.sessions
        return self._apply(domains, outcomes, tuple(moves))

    def _to_decide(
        self,
        now: float,
        exchange: ExchangeView,
        presence: PresenceView,
        touched: Iterable[str] | None,
        requests: list[Request],
    ) -> dict[str, MobileDomain]:
        """The addresses to decide this step, each with its domain (in address order)."""
        out: set[str] = {r.address for r in requests}
        if self._full or touched is None:
            self._full = False
            if exchange.connected and exchange.originated != self._orig:
                self._orig_dirty = True  # the speaker differs: sync again (level-triggered)
            out |= self._memory.keys() | exchange.paths.keys() | set(presence.present())
            out |= self.plan.static_pins.keys() | self._store_pins.keys()
            out |= exchange.originated.keys()
        else:
            out.update(touched)
            out |= _changed(self._last_paths, exchange.paths)
            if exchange.sessions != self._last_sessions:
                out |= self._stale
        while self._heap and self._heap[0][0] <= now:
            when, address = heapq.heappop(self._heap)
            if self._timers.get(address) == when:
                del self._timers[address]
                out.add(address)
        domain_of = self.plan.domain_of
        found = ((a, domain_of(a)) for a in sorted(out))
        return {a: dom for a, dom in found if dom is not None}

    def _apply_requests(self, requests: list[Request], memory: dict[str, Memory]) -> None:
        for request in requests:
            if isinstance(request, Explicit) and request.address in memory:
                memory[request.address] = replace(memory[request.address], explicit=request)
            elif isinstance(request, Pin):
                self._store_pins[request.address] = request
            elif isinstance(request, Unpin):
                self._store_pins.pop(request.address, None)
        for address, mem in memory.items():
            static = self.plan.static_pins.get(address)
            pin = (
                Pin(address, static.domain, static.site, 0.0, claim=static.claim)
                if static
                else self._store_pins.get(address)
            )
            if pin != mem.pin:
                memory[address] = replace(mem, pin=pin, reclaims=())

    def _batch(self, outcomes: Mapping[str, Outcome]) -> MobilityBatch:
        put: list[Own] = []
        drop: list[str] = list(self._pending_drops)
        high: list[tuple[str, int]] = []
        moves: list[MoveRecord] = list(self._pending_moves)
        for address, o in outcomes.items():
            before = self._memory.get(address, Memory())
            own = o.memory.own
            if own != before.own:
                if own is None:
                    drop.append(address)
                else:
                    put.append(own)
            if o.memory.high > before.high:
                high.append((address, o.memory.high))
            known = self._restored.pop(address, None) if self._restored else None
            if o.move is not None and not _relearned(o.move, known):
                moves.append(o.move)
        return MobilityBatch(tuple(put), tuple(drop), tuple(high), tuple(moves))

    def _apply(
        self,
        domains: Mapping[str, MobileDomain],
        outcomes: Mapping[str, Outcome],
        moves: tuple[MoveRecord, ...],
    ) -> MobilityStep:
        put: list[RemoteAddressClaim] = []
        probing_changed = False
        homes_changed = []
        removed, self._pending_removed = self._pending_removed, []
        self._pending_drops, self._pending_moves = [], []
        pins_changed = self._writable()
        for address, o in outcomes.items():
            dom = domains[address]
            pins_changed |= o.memory.pin != self._memory.get(address, Memory()).pin
            self._memory[address] = o.memory
            self._claim(dom, address, o, put, removed)
            if self._orig.get(address) != o.origination:
                self._set_origination(address, o.origination)
            if self._homes.get(address) != o.home:
                homes_changed.append(address)
            self._put_view(address, o.home, o.conflicts or None)
            probing_changed |= self._probe(dom, address, o)
            self._timer(address, o.wake_at)
        if pins_changed:
            self._pins_view = {a: m.pin for a, m in self._memory.items() if m.pin is not None}
        orig_changed, self._orig_dirty = self._orig_dirty, False
        self._rebuild = False
        return MobilityStep(
            claims=ClaimDelta(tuple(put), tuple(removed)),
            originations=self.originations() if orig_changed else None,
            moves=moves,
            homes_changed=tuple(homes_changed),
            probing=self.probing() if probing_changed else None,
            next_wake=self._heap[0][0] if self._heap else None,
        )

    def _claim(
        self,
        dom: MobileDomain,
        address: str,
        o: Outcome,
        put: list[RemoteAddressClaim],
        removed: list[str],
    ) -> None:
        name = claim_name(dom.name, address)
        old = self._claims.get(name)
        if o.claim is None:
            if old is not None:
                del self._claims[name]
                removed.append(name)
            return
        want = o.claim
        if old is not None and not self._rebuild and old.origin.site == want.site:
            origin = ClaimOrigin(want.origin, want.site, want.neighbor, want.sequence, want.stale)
            new = DerivedClaim(old.claim, origin)
        else:
            new = self._factory.build(dom, address, want)
            if old is not None and same_claim(old.claim, new.claim):
                new = DerivedClaim(old.claim, new.origin)
            else:
                put.append(new.claim)
        self._claims[name] = new
        if o.claim.stale:
            self._stale.add(address)
        else:
            self._stale.discard(address)

    def _set_origination(self, address: str, origination: Origination | None) -> None:
        self._orig_dirty = True
        if self._orig_shared:
            self._orig = dict(self._orig)
            self._orig_shared = False
        if origination is None:
            self._orig.pop(address, None)
        else:
            self._orig[address] = origination

    def _probe(self, dom: MobileDomain, address: str, o: Outcome) -> bool:
        if dom.local.kind != "onprem" or not dom.capture_ifname:
            return False
        own = o.memory.own
        want = o.verify or (own is not None and own.cause in ("presence", "explicit"))
        targets = self._probing.setdefault(dom.capture_ifname, set())
        if want == (address in targets):
            return False
        (targets.add if want else targets.discard)(address)
        return True

    def _timer(self, address: str, when: float | None) -> None:
        if when is None:
            self._timers.pop(address, None)
        elif self._timers.get(address) != when:
            self._timers[address] = when
            heapq.heappush(self._heap, (when, address))

    def _writable(self) -> bool:
        """Copy the published views first if a reader holds them (copy on write);
        returns whether the pins view must be rebuilt (first step)."""
        with self._lock:
            if self._shared:
                self._homes, self._conflicts = dict(self._homes), dict(self._conflicts)
                self._shared = False
        return not self._pins_view and bool(self._store_pins or self.plan.static_pins)

    def _put_view(
        self, address: str, home: Home | None, conflicts: tuple[Conflict, ...] | None
    ) -> None:
        """Set (or drop) one address's home and conflicts in the views. Under the lock, and
        copying first when a reader took the views since the last copy: a reader may take
        them in the middle of a step, and must never iterate a dict this step still changes
        (copying once at the start of a step left that window open)."""
        with self._lock:
            if self._shared:
                self._homes, self._conflicts = dict(self._homes), dict(self._conflicts)
                self._shared = False
            _put(self._homes, address, home)
            _put(self._conflicts, address, conflicts)

    def _snapshot(self) -> tuple[Mapping[str, Home], Mapping[str, tuple[Conflict, ...]]]:
        with self._lock:
            self._shared = True
            return self._homes, self._conflicts

    def _reconfigure(self, now: float) -> None:
        """Adopt a new config: addresses no longer mobile lose their claims and originations
        (journaled with cause ``config``); the next successful step reports it."""
        config, self._new_config = self._new_config, None
        assert config is not None
        self.plan = MobilityPlan.of(config)
        self._factory = ClaimFactory()
        self._full = self._rebuild = True
        for name, derived in list(self._claims.items()):
            address = derived.claim.ip
            dom = self.plan.domain_of(address)
            if dom is None or dom.name != derived.claim.spec.domain_ref:
                del self._claims[name]
                self._pending_removed.append(name)
        self._writable()
        for address in [a for a in self._memory if self.plan.domain_of(a) is None]:
            mem = self._memory.pop(address)
            if mem.own is not None:
                self._pending_drops.append(address)
            if mem.home is not None and mem.home.site:
                self._pending_moves.append(
                    MoveRecord(address, mem.home.domain, mem.home.site, "", 0, "config", "", now)
                )
            self._set_origination(address, None)
            self._put_view(address, None, None)
            self._timers.pop(address, None)
            self._stale.discard(address)
            for targets in self._probing.values():
                targets.discard(address)
        self._pins_view = {}

    # -- API threads (requests are checked and queued by ``self.requests``) -------------

    def move(self, addresses: Collection[str], to_site: str, cause: str = "") -> list[str]:
        """See ``Requests.move``."""
        return self.requests.move(addresses, to_site, cause)

    def pin(self, address: str, site: str, cause: str = "") -> Pin:
        """See ``Requests.pin``."""
        return self.requests.pin(address, site, cause)

    def unpin(self, address: str) -> bool:
        """See ``Requests.unpin``."""
        return self.requests.unpin(address)

    def where(self, address: str) -> Where:
        """One address as this router sees it (raises MobilityError when not mobile)."""
        dom = self.requests.domain(address)
        homes, conflicts = self._snapshot()
        return Where(
            address,
            dom.name,
            homes.get(address),
            self._pins_view.get(address),
            conflicts.get(address, ()),
            address in self._orig,
        )

    def homes(self, domain: str = "") -> list[Home]:
        """Every known home (of one domain when given), by address."""
        items = self._snapshot()[0].values()
        return sorted(
            (h for h in items if not domain or h.domain == domain),
            key=lambda h: tuple(int(x) for x in h.address.split(".")),
        )

    def wheres(self, domain: str = "") -> list[Where]:
        """``where`` of every address with a known home (of one domain when given), by
        address, read from one snapshot."""
        homes, conflicts = self._snapshot()
        pins, orig = self._pins_view, self._orig
        return [
            Where(
                h.address,
                h.domain,
                h,
                pins.get(h.address),
                conflicts.get(h.address, ()),
                h.address in orig,
            )
            for h in sorted(
                (h for h in homes.values() if not domain or h.domain == domain),
                key=lambda h: tuple(int(x) for x in h.address.split(".")),
            )
        ]

    def conflicts(self) -> list[Conflict]:
        """Every current conflict, by address."""
        return [c for _, cs in sorted(self._snapshot()[1].items()) for c in cs]

    def moves(
        self, address: str | None = None, after: int = 0, limit: int = 1000
    ) -> list[MoveRecord]:
        """The move journal (oldest first)."""
        return self.store.mobility_moves(address=address, after=after, limit=limit)


def _put(d: dict[str, V], key: str, value: V | None) -> None:
    if value is None:
        d.pop(key, None)
    else:
        d[key] = value


def _relearned(move: MoveRecord, known: int | None) -> bool:
    """Whether a restarted router's first decision about an address found a home it had
    already seen (no sequence above what it knew before the restart): not a move."""
    return known is not None and not move.from_site and 0 < move.sequence <= known


def _changed(before: Paths, after: Paths) -> set[str]:
    """Addresses whose paths differ (identity first: unchanged entries are shared)."""
    if before is after or before == after:
        return set()
    out = {a for a, paths in after.items() if before.get(a) is not paths}
    out.update(a for a in before if a not in after)
    return out
