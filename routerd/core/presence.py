"""Where an address is on this router's segment: presence evidence and its hysteresis.

An on-prem router sees its capture segment's L2, so it can tell whether a host there holds
an address: the host announces it (gratuitous ARP, or RARP when a hypervisor resumes a
migrated VM), uses it (an ARP request or reply with it as sender, a reachable kernel
neighbour entry), or answers routerd's ARP probe. A cloud site learns the same from the
provider's inventory, and an operator or migration tool can say it explicitly.

This module is the platform-neutral half: the evidence, the port a platform implements
(``PresenceSource``), and ``PresenceTracker``, which turns evidence and probe rounds into a
state per address:

* ``unknown`` until anything is known;
* ``present`` from the first fresh evidence: arrival is the fast path of a move, so one frame
  is enough, with no waiting;
* ``absent`` after ``absent_after`` consecutive probe rounds went unanswered. That many rounds
  of silence is the hysteresis: a VM whose link blinks for less than that keeps its address
  where it is.

Evidence from the router's own MACs, the domain's anycast gateway MAC and configured MACs
(a redundant partner's) is never presence: those are routers answering for addresses they
capture. ``stale`` records that the address moved away at a given moment, so only evidence
heard after it can claim the address again (no ping-pong with a VM that just left).

The tracker keeps no clock of its own: every call takes ``now``, and evidence carries the
time it was heard, from the same clock. It does no I/O.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Protocol

EVIDENCE_KINDS = frozenset(
    {
        "garp",  # a gratuitous ARP: request or reply whose sender and target address agree
        "rarp",  # a RARP request (what hypervisors send for a resumed VM)
        "arp-request",  # a host asking for someone: its sender address and MAC
        "arp-reply",  # a host answering for its own address
        "probe-answer",  # a host answering routerd's ARP probe
        "neighbour",  # the kernel confirmed a neighbour entry as reachable
        "inventory",  # the cloud provider shows the address on a NIC other than ours
        "explicit",  # an operator or migration tool said so
    }
)
"""Every kind of presence evidence."""

PRESENT, ABSENT, UNKNOWN = "present", "absent", "unknown"
_TOLERANCE = 1e-6
"""Clock slack when deciding whether a probe round is due (float arithmetic)."""


def normalize_mac(mac: str) -> str:
    """A MAC address as lower-case colon-separated hex (``02:00:00:28:08:fe``)."""
    return mac.strip().lower().replace("-", ":")


def _mac_set(macs: Iterable[str]) -> frozenset[str]:
    return frozenset(m for m in (normalize_mac(x) for x in macs) if m)


@dataclass(frozen=True, slots=True)
class PresenceEvidence:
    """One sign that a host on a segment holds an address.

    Attributes:
        address: the IPv4 address. Empty only for ``rarp`` evidence from a frame carrying no
            address (hypervisors send RARP with zero addresses); the tracker then maps the MAC
            to the addresses it last saw with it.
        kind: one of ``EVIDENCE_KINDS``.
        mac: the host's MAC (lower-case, colon-separated); empty for ``inventory`` and
            ``explicit`` evidence that names none.
        interface: the interface it was heard on (or the NIC/source name for others).
        at: when it was heard, on the clock the tracker's ``now`` uses.
    """

    address: str
    kind: str
    mac: str
    interface: str
    at: float

    def __post_init__(self) -> None:
        if self.kind not in EVIDENCE_KINDS:
            known = ", ".join(sorted(EVIDENCE_KINDS))
            raise ValueError(f"presence evidence kind {self.kind!r} is not one of: {known}")
        if not self.address and self.kind != "rarp":
            raise ValueError(f"{self.kind} presence evidence needs an address")


class PresenceSource(Protocol):
    """Where presence evidence comes from (a platform's listener and prober)."""

    def start(self, on_event: Callable[[], None]) -> None:
        """Begin listening; ``on_event`` is called (from any thread) when evidence waits."""

    def watch(
        self, interface: str, addresses: Collection[str], *, ignore_macs: Collection[str] = ()
    ) -> None:
        """Listen on ``interface`` for exactly these addresses, never for ``ignore_macs``.

        Idempotent; replaces what was watched on that interface. Empty ``addresses`` stops
        listening there.
        """

    def drain(self) -> list[PresenceEvidence]:
        """Evidence heard since the last call, oldest first."""

    def lost(self) -> bool:
        """Whether evidence was dropped since the last call (then reset).

        After a loss the caller should probe every address it cares about
        (``PresenceTracker.sweep``): an arrival may have gone unheard.
        """

    def probe(self, interface: str, addresses: Collection[str]) -> None:
        """Send one probe per address on ``interface``; answers arrive as evidence."""

    def close(self) -> None:
        """Stop listening and release everything."""


@dataclass(frozen=True, slots=True)
class Presence:
    """What the tracker knows about one address.

    Attributes:
        address: the IPv4 address.
        state: ``present``, ``absent`` or ``unknown``.
        since: when the state began (None while nothing was ever known).
        evidence: the last accepted evidence (kept after the address goes absent or stale).
        misses: consecutive unanswered probe rounds.
    """

    address: str
    state: str
    since: float | None
    evidence: PresenceEvidence | None
    misses: int


@dataclass(frozen=True, slots=True)
class Transition:
    """A change the caller must act on: the state changed, or a present address was heard
    with another MAC or on another interface (a different host, or the host moved).

    Attributes:
        address: the IPv4 address.
        old: the state before.
        new: the state after.
        at: when it happened.
        cause: the evidence kind, ``probes-unanswered`` or ``stale``.
        evidence: the evidence that caused it (None for unanswered probes and ``stale``).
    """

    address: str
    old: str
    new: str
    at: float
    cause: str
    evidence: PresenceEvidence | None


@dataclass(frozen=True, slots=True)
class ProbeRound:
    """What ``due_probes`` decided: addresses to probe now, and who went absent."""

    addresses: tuple[str, ...]
    transitions: tuple[Transition, ...]


class _Entry:
    __slots__ = ("evidence", "heard", "misses", "probe", "probed_at", "since", "stale", "state")

    def __init__(self) -> None:
        self.state = UNKNOWN
        self.since: float | None = None
        self.evidence: PresenceEvidence | None = None
        self.heard = -math.inf
        self.misses = 0
        self.stale = -math.inf
        self.probe = False
        self.probed_at: float | None = None


class PresenceTracker:
    """Presence per tracked address, with hysteresis on the way out.

    Use: ``track`` the addresses (and which of them to probe); feed every drained batch to
    ``observe``; call ``due_probes`` when ``next_probe_at`` is reached (after observing what
    was drained, so answers count), send the probes it names, and act on the transitions
    both return.

    Args:
        absent_after: consecutive unanswered probe rounds before an address is absent.
        ignore_macs: MACs whose evidence is never presence (gateway, partner router).

    Raises:
        ValueError: ``absent_after`` is below 1.
    """

    def __init__(self, *, absent_after: int = 3, ignore_macs: Collection[str] = ()) -> None:
        if absent_after < 1:
            raise ValueError(f"absent_after must be at least 1, got {absent_after}")
        self.absent_after = absent_after
        self._ignored = _mac_set(ignore_macs)
        self._entries: dict[str, _Entry] = {}
        self._by_mac: dict[str, set[str]] = {}
        self._rounds: dict[float, set[str]] = {}
        self._unprobed: set[str] = set()
        self._sweep: set[str] = set()
        self.stats = {"accepted": 0, "ignored-mac": 0, "stale": 0, "untracked": 0, "late": 0}
        """Evidence counters: accepted, and dropped by reason."""

    # -- what is tracked -------------------------------------------------------------------

    def track(self, addresses: Collection[str], *, probe: Collection[str] | None = None) -> None:
        """Track exactly ``addresses``; probe those in ``probe`` (default: all of them).

        Addresses no longer tracked are forgotten; new ones start ``unknown``, and new
        probed ones are probed at the next ``due_probes``.
        """
        wanted = set(addresses)
        probed = wanted if probe is None else set(probe) & wanted
        for address in self._entries.keys() - wanted:
            self._forget(address)
        for address in wanted - self._entries.keys():
            self._entries[address] = _Entry()
        for address in wanted:
            entry = self._entries[address]
            if address in probed and not entry.probe:
                entry.probe = True
                self._unprobed.add(address)
            elif address not in probed and entry.probe:
                entry.probe, entry.probed_at, entry.misses = False, None, 0
                self._unprobed.discard(address)

    def ignore(self, macs: Collection[str]) -> None:
        """Replace the MACs whose evidence is dropped."""
        self._ignored = _mac_set(macs)

    def _forget(self, address: str) -> None:
        entry = self._entries.pop(address)
        if entry.evidence is not None:
            self._unindex(address, entry.evidence.mac)
        self._unprobed.discard(address)
        self._sweep.discard(address)

    def _unindex(self, address: str, mac: str) -> None:
        holders = self._by_mac.get(mac)
        if holders is not None:
            holders.discard(address)
            if not holders:
                del self._by_mac[mac]

    # -- evidence --------------------------------------------------------------------------

    def observe(self, evidence: Iterable[PresenceEvidence]) -> list[Transition]:
        """Take evidence in the order it was heard.

        Returns:
            The transitions it caused, in order.
        """
        out: list[Transition] = []
        for ev in evidence:
            mac = normalize_mac(ev.mac)
            if mac in self._ignored:
                self.stats["ignored-mac"] += 1
            elif ev.address:
                self._accept(ev, mac, out)
            elif mac and mac in self._by_mac:
                for address in sorted(self._by_mac[mac]):
                    self._accept(replace(ev, address=address), mac, out)
            else:
                # A RARP naming only a MAC we never saw: whoever it is, a probe of every
                # address not known here finds it.
                self.stats["untracked"] += 1
                self.sweep()
        return out

    def _accept(self, ev: PresenceEvidence, mac: str, out: list[Transition]) -> None:
        entry = self._entries.get(ev.address)
        if entry is None:
            self.stats["untracked"] += 1
            return
        if ev.at <= entry.stale:
            self.stats["stale"] += 1
            return
        if ev.at < entry.heard:
            self.stats["late"] += 1  # another source already told us something newer
            return
        self.stats["accepted"] += 1
        before = entry.evidence
        if before is not None and before.mac != mac:
            self._unindex(ev.address, before.mac)
        if mac:
            self._by_mac.setdefault(mac, set()).add(ev.address)
        if ev.mac != mac:
            ev = replace(ev, mac=mac)
        entry.evidence, entry.heard, entry.misses = ev, ev.at, 0
        if entry.state != PRESENT:
            out.append(Transition(ev.address, entry.state, PRESENT, ev.at, ev.kind, ev))
            entry.state, entry.since = PRESENT, ev.at
        elif before is not None and (
            (before.mac != mac and mac and before.mac) or before.interface != ev.interface
        ):
            out.append(Transition(ev.address, PRESENT, PRESENT, ev.at, ev.kind, ev))

    def stale(self, address: str, at: float) -> Transition | None:
        """Evidence heard up to ``at`` no longer counts for ``address`` (it moved away then).

        An address last heard before ``at`` becomes ``unknown`` until new evidence arrives;
        one already heard after ``at`` stays as it is.

        Returns:
            The transition to ``unknown``, if there was one.
        """
        entry = self._entries.get(address)
        if entry is None:
            return None
        entry.stale = max(entry.stale, at)
        if entry.heard > at or entry.state == UNKNOWN:
            return None
        old = entry.state
        entry.state, entry.since, entry.misses = UNKNOWN, at, 0
        return Transition(address, old, UNKNOWN, at, "stale", None)

    # -- probes ----------------------------------------------------------------------------

    def sweep(self) -> None:
        """Probe every tracked address not present at the next ``due_probes`` (once).

        For when an arrival may have gone unheard: evidence was lost, or a RARP named a MAC
        with no known address. Unanswered sweep probes count as nothing.
        """
        self._sweep.update(a for a, e in self._entries.items() if e.state != PRESENT)

    def next_probe_at(self, interval: float) -> float | None:
        """When ``due_probes`` next has work (``-inf``: now; None: nothing to probe)."""
        if self._unprobed or self._sweep:
            return -math.inf
        return min(self._rounds) + interval if self._rounds else None

    def due_probes(self, now: float, interval: float) -> ProbeRound:
        """Close the rounds that lasted ``interval`` and say which addresses to probe now.

        A probed address answered its round if any evidence was heard after the round was
        sent; ``absent_after`` unanswered rounds in a row make it absent. The addresses
        returned count as probed at ``now``: the caller sends them right away.

        Args:
            now: the current time.
            interval: the time between two probes of one address.

        Returns:
            The addresses to probe and the transitions to ``absent``.
        """
        due: set[str] = set()
        went: list[Transition] = []
        for sent in sorted(t for t in self._rounds if t + interval <= now + _TOLERANCE):
            for address in self._rounds.pop(sent):
                entry = self._entries.get(address)
                if entry is None or entry.probed_at != sent:
                    continue  # forgotten or re-tracked since
                due.add(address)
                self._verdict(address, entry, sent, now, went)
        due |= self._unprobed
        self._unprobed.clear()
        probed = set(due)
        due |= self._sweep & self._entries.keys()
        self._sweep.clear()
        if probed:
            self._rounds.setdefault(now, set()).update(probed)
            for address in probed:
                self._entries[address].probed_at = now
        return ProbeRound(tuple(sorted(due)), tuple(went))

    def _verdict(
        self, address: str, entry: _Entry, sent: float, now: float, out: list[Transition]
    ) -> None:
        if entry.heard > sent:
            entry.misses = 0
            return
        entry.misses += 1
        if entry.misses >= self.absent_after and entry.state != ABSENT:
            out.append(Transition(address, entry.state, ABSENT, now, "probes-unanswered", None))
            entry.state, entry.since = ABSENT, now

    # -- views -----------------------------------------------------------------------------

    def get(self, address: str) -> Presence | None:
        """What is known about ``address`` (None when it is not tracked)."""
        entry = self._entries.get(address)
        if entry is None:
            return None
        return Presence(address, entry.state, entry.since, entry.evidence, entry.misses)

    def present(self, address: str) -> bool:
        """Whether a host on the segment holds ``address`` now."""
        entry = self._entries.get(address)
        return entry is not None and entry.state == PRESENT

    def __iter__(self) -> Iterator[Presence]:
        for address in self._entries:
            presence = self.get(address)
            assert presence is not None
            yield presence

    def __len__(self) -> int:
        return len(self._entries)
