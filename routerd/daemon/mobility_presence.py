"""Presence for the mobility controller: evidence from the platform, hysteresis, probes.

``PresenceFeed`` stands between a platform's ``PresenceSource`` (what the router hears on
its capture segments: ``LinuxPresence``, ``SimPresence``) and the controller, which reads a
``PresenceView``. It keeps one ``PresenceTracker`` per on-prem mobile domain (its
``absentAfter`` and ignored MACs) over every mobile address of the domain, since any of them
may arrive at any time, and it tells the source to listen on each capture interface for
exactly those addresses.

Every pass, on the engine thread:

1. ``take(now)`` drains the source into the trackers, closes the probe rounds that are due,
   and returns the addresses whose presence moved (new evidence, even for an address already
   present: a VM that comes back is heard again; absence after unanswered probes);
2. the controller steps and says which addresses to probe (``set_probing``);
3. ``send_probes(now)`` sends the probes due now, including the first ones of new targets,
   and ``next_probe_at`` says when the next round is due.

Evidence times come from the source's clock, which must be the engine's: the controller
compares them with the times of its own decisions.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from routerd.core.errors import DataplaneError
from routerd.core.mobility import PresenceFact
from routerd.core.mobility.plan import MobilityPlan, Watch
from routerd.core.presence import (
    PRESENT,
    UNKNOWN,
    PresenceEvidence,
    PresenceSource,
    PresenceTracker,
)

LOG = logging.getLogger(__name__)

MAX_WATCHED = 65536
"""Addresses one domain's presence listens for: a /16 (validation refuses larger on-prem
domains; a tracker holds an entry per address)."""


def mobile_addresses(plan: MobilityPlan, watch: Watch) -> list[str]:
    """Every address of the watch's domain that may move, in order (cheap at a /16)."""
    dom = plan.by_name[watch.domain]
    net = ipaddress.IPv4Network(watch.prefix)
    first = int(net.network_address)
    count = min(net.num_addresses, MAX_WATCHED)
    mobile = dom.mobile
    return [
        f"{v >> 24}.{v >> 16 & 255}.{v >> 8 & 255}.{v & 255}"
        for v in range(first, first + count)
        if mobile(v)
    ]


@dataclass
class _Domain:
    """One watched domain: its tracker and what it listens for.

    Attributes:
        watch: what the plan asks to listen for.
        tracker: the hysteresis over every address of the domain.
        addresses: every mobile address (tracked and listened for).
        index: the same, for membership.
        probing: the addresses probed every ``probeInterval``.
        present: the addresses present now (kept from the tracker's transitions).
        queued: probes to send at the end of the pass.
    """

    watch: Watch
    tracker: PresenceTracker
    addresses: list[str]
    index: frozenset[str]
    probing: frozenset[str] = frozenset()
    present: set[str] = field(default_factory=set)
    queued: set[str] = field(default_factory=set)


class PresenceFeed:
    """Presence of every on-prem mobile domain of a plan (see the module docstring).

    Args:
        source: the platform's presence source (None: this router hears nothing, e.g. a
            cloud site, or a backend without presence).
    """

    def __init__(self, source: PresenceSource | None) -> None:
        self.source = source
        self._domains: dict[str, _Domain] = {}
        self._plan: MobilityPlan | None = None
        self._started = False
        self.errors: list[str] = []
        """Why listening or probing failed, newest last (for the doctor and logs)."""

    # -- setup -----------------------------------------------------------------------------

    def start(self, on_event: Callable[[], None]) -> None:
        """Begin listening; ``on_event`` (any thread) when evidence waits."""
        if self.source is not None and not self._started:
            self.source.start(on_event)
            self._started = True

    def configure(self, plan: MobilityPlan) -> None:
        """Listen for ``plan``'s on-prem domains (a domain whose watch is unchanged keeps
        its tracker: what was heard survives a reload)."""
        self._plan = plan
        wanted = {w.domain: w for w in plan.watches()} if self.source is not None else {}
        for name in list(self._domains):
            if wanted.get(name) != self._domains[name].watch:
                del self._domains[name]
        for name, watch in wanted.items():
            addresses = mobile_addresses(plan, watch)
            d = self._domains.get(name)
            if d is None:
                tracker = PresenceTracker(
                    absent_after=watch.absent_after, ignore_macs=watch.ignore_macs
                )
                tracker.track(addresses, probe=())
                self._domains[name] = _Domain(watch, tracker, addresses, frozenset(addresses))
            elif d.addresses != addresses:  # what is excluded changed
                d.addresses, d.index = addresses, frozenset(addresses)
                d.probing &= d.index
                d.present &= d.index
                d.tracker.track(addresses, probe=d.probing)
        self._listen()

    def _listen(self) -> None:
        if self.source is None:
            return
        by_if: dict[str, tuple[set[str], set[str]]] = {}
        for d in self._domains.values():
            addresses, ignore = by_if.setdefault(d.watch.interface, (set(), set()))
            addresses.update(d.addresses)
            ignore.update(d.watch.ignore_macs)
        for interface, (addresses, ignore) in by_if.items():
            try:
                self.source.watch(interface, addresses, ignore_macs=ignore)
            except (DataplaneError, ValueError) as exc:
                self._error(f"presence cannot listen on {interface}: {exc}")

    def _error(self, text: str) -> None:
        LOG.error("%s", text)
        self.errors = [*self.errors[-9:], text]

    def close(self) -> None:
        if self.source is not None and self._started:
            self.source.close()
            self._started = False

    # -- every pass ------------------------------------------------------------------------

    def take(self, now: float) -> set[str]:
        """Drain the source, close due probe rounds; the addresses whose presence moved."""
        if self.source is None or not self._domains:
            return set()
        touched: set[str] = set()
        evidence = self.source.drain()
        if self.source.lost():
            for d in self._domains.values():
                d.tracker.sweep()  # an arrival may have gone unheard: probe who is not here
        if evidence:
            self._observe(evidence, touched)
        for d in self._domains.values():
            went = d.tracker.due_probes(now, d.watch.probe_interval)
            d.queued.update(went.addresses)
            for t in went.transitions:
                touched.add(t.address)
                d.present.discard(t.address)
        return touched

    def _observe(self, evidence: list[PresenceEvidence], touched: set[str]) -> None:
        assert self._plan is not None
        domain_of = self._plan.domain_of
        routed: dict[str, list[PresenceEvidence]] = {}
        for ev in evidence:
            if ev.address:
                dom = domain_of(ev.address)
                if dom is not None and dom.name in self._domains:
                    routed.setdefault(dom.name, []).append(ev)
                    touched.add(ev.address)
            else:  # a RARP names only the MAC: every domain listening there may know it
                for d in self._domains.values():
                    if d.watch.interface == ev.interface:
                        routed.setdefault(d.watch.domain, []).append(ev)
        for name, items in routed.items():
            d = self._domains[name]
            for t in d.tracker.observe(items):
                touched.add(t.address)
                (d.present.add if t.new == PRESENT else d.present.discard)(t.address)
            if any(not ev.address for ev in items):
                touched.update(_heard_by_mac(d, {ev.mac for ev in items if not ev.address}))

    def set_probing(self, probing: Mapping[str, frozenset[str]]) -> None:
        """Probe exactly these addresses (capture interface -> addresses)."""
        for d in self._domains.values():
            mine = probing.get(d.watch.interface, frozenset()) & d.index
            if mine != d.probing:
                d.probing = mine
                d.tracker.track(d.addresses, probe=mine)

    def send_probes(self, now: float) -> None:
        """Send every probe due now (new targets' first probes included)."""
        if self.source is None:
            return
        for d in self._domains.values():
            due = d.tracker.due_probes(now, d.watch.probe_interval)
            for t in due.transitions:  # none: take() closed this time's rounds already
                d.present.discard(t.address)
            d.queued.update(due.addresses)
            queued, d.queued = d.queued, set()
            if not queued:
                continue
            try:
                self.source.probe(d.watch.interface, sorted(queued))
            except DataplaneError as exc:
                self._error(f"presence probes on {d.watch.interface} failed: {exc}")

    def next_probe_at(self) -> float | None:
        """When the next probe round is due (None: nothing to probe)."""
        times = [
            t
            for d in self._domains.values()
            if (t := d.tracker.next_probe_at(d.watch.probe_interval)) is not None
        ]
        return min(times) if times else None

    # -- PresenceView (the controller) -------------------------------------------------------

    def _tracker_of(self, address: str) -> PresenceTracker | None:
        if self._plan is None:
            return None
        dom = self._plan.domain_of(address)
        d = self._domains.get(dom.name) if dom is not None else None
        return d.tracker if d is not None else None

    def fact(self, address: str) -> PresenceFact | None:
        """The address's presence here, None when nothing was ever heard of it."""
        tracker = self._tracker_of(address)
        p = tracker.get(address) if tracker is not None else None
        if p is None or (p.state == UNKNOWN and p.evidence is None):
            return None
        ev = p.evidence
        return PresenceFact(
            p.state,
            p.since or 0.0,
            ev.at if ev is not None else 0.0,
            ev.kind if ev is not None else "",
            ev.mac if ev is not None else "",
        )

    def evidence(self, address: str) -> PresenceEvidence | None:
        """The last evidence heard for the address (its interface included)."""
        tracker = self._tracker_of(address)
        p = tracker.get(address) if tracker is not None else None
        return p.evidence if p is not None else None

    def present(self) -> list[str]:
        """Every address present here now."""
        return [a for d in self._domains.values() for a in d.present]

    def watched(self) -> dict[str, int]:
        """Capture interface -> addresses listened for (for views)."""
        out: dict[str, int] = {}
        for d in self._domains.values():
            out[d.watch.interface] = out.get(d.watch.interface, 0) + len(d.addresses)
        return out


def _heard_by_mac(d: _Domain, macs: set[str]) -> set[str]:
    """Present addresses whose last evidence came from one of ``macs`` (a RARP refreshed
    them without a state change)."""
    out = set()
    for address in d.present:
        p = d.tracker.get(address)
        if p is not None and p.evidence is not None and p.evidence.mac in macs:
            out.add(address)
    return out
