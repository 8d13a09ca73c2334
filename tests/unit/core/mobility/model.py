"""A tiny model world for the mobility controllers: three sites, VMs, presence, and BGP.

Each site runs a real ``MobilityController`` (its example config). The model provides what
the daemon would: a presence tracker per site that hears a VM's gratuitous ARP when it
arrives, answers probes only where the VM is, and turns an address absent after the
configured number of unanswered probes; and a full-mesh "BGP" that carries each site's
originations to the others over per-pair sessions, in order, with delays, that a partition
takes down (each end drops what it learned over it) and a heal brings back (each end sends
its whole table again). Everything runs in lockstep on one clock.

The model records every origination a site starts, so tests can check the safety
properties over the whole run, not only at its end.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from types import MappingProxyType

from routerd.core.exchange import ExchangeView, LearnedPath, Origination, SessionState
from routerd.core.mobility.controller import MobilityController
from routerd.core.mobility.port import MemoryMobilityStore
from routerd.core.mobility.records import ABSENT, PRESENT, PresenceFact
from tests.unit.core.mobility.kit import config

SITES = ("site-a", "site-b", "site-c")
FILES = {"site-a": "a", "site-b": "b", "site-c": "c"}
ROUTER = {"site-a": "10.255.0.11", "site-b": "10.255.0.21", "site-c": "10.255.0.31"}
SITE_ID = {"site-a": 1, "site-b": 2, "site-c": 3}
ADDRESSES = ("10.77.3.9", "10.77.3.10")


class ModelPresence:
    """One site's presence tracker, as the model's VMs make it."""

    def __init__(self, absent_after: int) -> None:
        self.facts: dict[str, PresenceFact] = {}
        self.misses: dict[str, int] = defaultdict(int)
        self.absent_after = absent_after
        self.touched: set[str] = set()

    def fact(self, address: str) -> PresenceFact | None:
        return self.facts.get(address)

    def present(self) -> list[str]:
        return [a for a, f in self.facts.items() if f.state == PRESENT]

    def hear(self, address: str, now: float, kind: str) -> None:
        old = self.facts.get(address)
        since = old.since if old is not None and old.state == PRESENT else now
        self.facts[address] = PresenceFact(PRESENT, since, now, kind, "52:54:00:00:00:01")
        self.misses[address] = 0
        self.touched.add(address)

    def miss(self, address: str, now: float) -> None:
        self.misses[address] += 1
        old = self.facts.get(address)
        if self.misses[address] >= self.absent_after and old is not None and old.state != ABSENT:
            self.facts[address] = PresenceFact(ABSENT, now, old.last_at, old.kind, old.mac)
            self.touched.add(address)


@dataclass
class Started:
    """A site started announcing an address (or announced a new sequence)."""

    at: float
    site: str
    address: str
    sequence: int
    vm_at: str | None
    evidence_at: float
    lost_at: float
    cause: str


class World:
    """Three sites in lockstep; see the module docstring."""

    def __init__(self, seed: int, max_delay: int = 3, full_every: int = 4) -> None:
        self.rng = random.Random(seed)
        self.full_every = full_every  # the engine's periodic full pass re-decides everything
        self.ticks = 0
        self.max_delay = max_delay
        self.now = 1000.0
        self.ctl = {
            s: MobilityController(config(FILES[s]), MemoryMobilityStore(), clock=self.clock)
            for s in SITES
        }
        self.presence = {s: ModelPresence(self.ctl[s].plan.domains[0].absent_after) for s in SITES}
        self.vm: dict[str, str | None] = dict.fromkeys(ADDRESSES)
        self.up = {frozenset(p) for p in _pairs()}
        self.rib: dict[str, dict[str, dict[str, LearnedPath]]] = {
            s: defaultdict(dict) for s in SITES
        }
        self.sent: dict[tuple[str, str], dict[str, Origination]] = {
            (s, t): {} for s in SITES for t in SITES if s != t
        }
        self.queue: list[tuple[float, int, str, str, str, Origination | None]] = []
        self.link_clock: dict[tuple[str, str], float] = defaultdict(float)
        self.announcing: dict[str, dict[str, Origination]] = {s: {} for s in SITES}
        self.started: list[Started] = []
        self.lost_at: dict[tuple[str, str], float] = defaultdict(float)
        self.explicits: list[tuple[float, str, str]] = []  # (at, site, address) asked
        self.errors: list[str] = []
        self._n = 0

    def clock(self) -> float:
        return self.now

    # -- events ----------------------------------------------------------------------------

    def move_vm(self, address: str, site: str | None) -> None:
        """The VM moves (live); where it lands it sends a gratuitous ARP."""
        self.vm[address] = site
        if site is not None:
            self.presence[site].hear(address, self.now, "inventory" if site == "site-c" else "garp")

    def partition(self, a: str, b: str) -> None:
        pair = frozenset((a, b))
        if pair not in self.up:
            return
        self.up.discard(pair)
        for x, y in ((a, b), (b, a)):
            self.rib[x].pop(y, None)  # the session's Adj-RIB-In goes with it
            self.sent[(y, x)] = {}
        self.queue = [m for m in self.queue if frozenset((m[2], m[3])) != pair]

    def heal(self, a: str, b: str) -> None:
        self.up.add(frozenset((a, b)))  # the next flush sends each side's whole table

    def explicit(self, address: str, site: str) -> None:
        self.explicits.append((self.now, site, address))
        self.ctl[site].move([address], site, "model")

    # -- the clock ---------------------------------------------------------------------------

    def tick(self) -> None:
        self.now += 1.0
        self.ticks += 1
        self._deliver()
        for site in SITES:
            self._probe(site)
        for site in SITES:
            self._step(site)
        for site in SITES:
            self._flush(site)

    def _deliver(self) -> None:
        due = sorted(m for m in self.queue if m[0] <= self.now)
        self.queue = [m for m in self.queue if m[0] > self.now]
        for _, _, src, dst, address, origination in due:
            rib = self.rib[dst][src]
            if origination is None:
                rib.pop(address, None)
            else:
                rib[address] = LearnedPath(
                    address,
                    origination.site_id,
                    origination.sequence,
                    origination.next_hop,
                    ROUTER[src],
                    ROUTER[src],
                )

    def _probe(self, site: str) -> None:
        presence = self.presence[site]
        if site == "site-c":  # a cloud: the provider's inventory, read every tick
            for address in ADDRESSES:
                fact = presence.fact(address)
                if self.vm[address] == site and address not in self.announcing[site]:
                    presence.hear(address, self.now, "inventory")
                elif self.vm[address] != site and fact is not None:
                    presence.miss(address, self.now)
            return
        for targets in self.ctl[site].probing().values():
            for address in targets:
                if self.vm.get(address) == site:
                    presence.hear(address, self.now, "probe-answer")
                else:
                    presence.miss(address, self.now)

    def view(self, site: str) -> ExchangeView:
        paths: dict[str, list[LearnedPath]] = defaultdict(list)
        for rib in self.rib[site].values():
            for address, p in rib.items():
                paths[address].append(p)
        sessions = {
            ROUTER[o]: SessionState(
                ROUTER[o], "established" if frozenset((site, o)) in self.up else "active", 0.0
            )
            for o in SITES
            if o != site
        }
        return ExchangeView(
            paths=MappingProxyType({a: tuple(ps) for a, ps in paths.items()}),
            sessions=MappingProxyType(sessions),
            originated=MappingProxyType(dict(self.announcing[site])),
        )

    def _step(self, site: str) -> None:
        presence = self.presence[site]
        touched: set[str] | None
        touched, presence.touched = presence.touched, set()
        if self.ticks % self.full_every == 0:
            touched = None
        step = self.ctl[site].step(self.now, self.view(site), presence, touched)
        if step.error:
            self.errors.append(step.error)
        if step.originations is None:
            return
        before, after = self.announcing[site], dict(step.originations)
        for address, o in after.items():
            old = before.get(address)
            if old is None or old.sequence != o.sequence:
                fact = presence.fact(address)
                own = self.ctl[site].store.mobility_load().own[address]
                self.started.append(
                    Started(
                        self.now,
                        site,
                        address,
                        o.sequence,
                        self.vm.get(address),
                        fact.last_at if fact else 0.0,
                        self.lost_at[(site, address)],
                        own.cause,
                    )
                )
        for address in before.keys() - after.keys():
            self.lost_at[(site, address)] = self.now
        self.announcing[site] = after

    def _flush(self, site: str) -> None:
        """Send what changed since the last flush to every peer with a session."""
        for other in SITES:
            if other == site or frozenset((site, other)) not in self.up:
                continue
            sent = self.sent[(site, other)]
            now_set = self.announcing[site]
            changes: list[tuple[str, Origination | None]] = [
                (a, o) for a, o in now_set.items() if sent.get(a) != o
            ]
            changes += [(a, None) for a in sent if a not in now_set]
            for address, origination in sorted(changes, key=lambda c: c[0]):
                link = (site, other)
                at = max(self.now + self.rng.randint(0, self.max_delay), self.link_clock[link])
                self.link_clock[link] = at
                self._n += 1
                self.queue.append((at, self._n, site, other, address, origination))
            self.sent[(site, other)] = dict(now_set)

    # -- views for assertions ------------------------------------------------------------------

    def quiet(self) -> bool:
        return not self.queue

    def originators(self, address: str) -> list[str]:
        return [s for s in SITES if address in self.announcing[s]]

    def home_at(self, site: str, address: str) -> str:
        where = self.ctl[site].where(address)
        return where.home.site if where.home else ""


def _pairs() -> list[tuple[str, str]]:
    return [(a, b) for i, a in enumerate(SITES) for b in SITES[i + 1 :]]
