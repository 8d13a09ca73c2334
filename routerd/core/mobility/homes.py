"""Where does an address live: the pure decision, one address at a time.

``decide`` takes what this router knows about one address (its presence here, the paths
other sites announce, what this router itself originates, pins, a pending explicit move,
and the ``Memory`` the previous decision left) and returns the next ``Memory`` with what
follows from it: the home, whether to originate, the claim to derive, conflicts and the
journal record of a move. It is level-triggered: deciding again on the same inputs changes
nothing, so the controller may re-decide any address at any time.

The rules (EVPN MAC Mobility, RFC 7432 section 15, applied to /32s):

1. Arrival: presence ``present`` with evidence heard after the current best remote path was
   learned and after this router last lost the address, and this router does not
   originate it: originate with ``max(every sequence seen) + 1``. Evidence older than that
   never claims again, so a VM that just left is not pulled back (no ping-pong).
2. A remote path with a higher sequence than ours, or the same one from a lower siteID:
   withdraw at once; that site is the home; capture it (derived claim).
3. Originating on presence and presence turns ``absent`` (after the hysteresis): withdraw.
4. Not originating: the home is the best remote path's site (highest sequence, then the
   lowest siteID: ``exchange.choose_home``).
5. The home's path is gone while the sessions it came over are down (or the exchange is
   not connected): keep the home, marked stale (``home-unconfirmed``), for the domain's
   ``staleTime``; gone while they are up (a withdrawal): the home is unknown.
6. An explicit move here: originate with ``max seen + 1``; it holds until a higher
   sequence from another site contradicts it, or until a host answers here after it (then
   presence rules: absence withdraws it). Absence alone never withdraws it: a migration
   tool may move the address before the VM runs here.
7. Pinned here: always originate, above any other sequence seen; pinned elsewhere: never
   originate, capture it for that site; presence is ignored (a host answering is a
   conflict).

A router that keeps re-claiming an address (``DUPLICATE_MOVES`` times within
``DUPLICATE_WINDOW`` seconds) stops claiming it by presence and reports a ``duplicate``
conflict: RFC 7432's duplicate-MAC detection, so two hosts answering for one address at two
sites cannot drive the sequence up forever. An explicit move or a pin clears it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from routerd.core.exchange import LearnedPath, Origination, choose_home
from routerd.core.mobility.decision import ClaimWant, Decision, Facts, Memory, Outcome
from routerd.core.mobility.plan import MobileDomain
from routerd.core.mobility.records import (
    ABSENT,
    PRESENT,
    Conflict,
    Explicit,
    Home,
    MoveRecord,
    Own,
    Pin,
)

DUPLICATE_MOVES = 5
DUPLICATE_WINDOW = 180.0


def _beats(sequence: int, site_id: int, path: LearnedPath) -> bool:
    return sequence > path.sequence or (sequence == path.sequence and site_id < path.site_id)


class _Decision:
    """The state of one decision while the rules run (see the module docstring)."""

    def __init__(
        self, address: str, dom: MobileDomain, facts: Facts, mem: Memory, now: float
    ) -> None:
        self.address, self.dom, self.facts, self.now = address, dom, facts, now
        self.local = dom.local
        self.conflicts: list[Conflict] = []
        remote = []
        for p in facts.paths:
            if p.site_id == self.local.site_id:
                continue
            if dom.site_by_id(p.site_id) is None:
                self.conflict("unknown-site", f"site identity {p.site_id} from {p.originator_id}")
                continue
            remote.append(p)
        self.remote = remote
        choice = choose_home(remote)
        self.best = choice.home
        for p in choice.conflicts:
            self.conflict("tie", self._tie(choice.home, p))
        seen = max((p.sequence for p in facts.paths), default=0)
        learned = mem.learned
        if self.best is None:
            learned = None
        elif learned is None or learned[:2] != (self.best.site_id, self.best.sequence):
            learned = (self.best.site_id, self.best.sequence, now)
        window = now - DUPLICATE_WINDOW
        reclaims = mem.reclaims
        if reclaims and reclaims[0] <= window:
            reclaims = tuple(t for t in reclaims if t > window)
        high = max(mem.high, seen, mem.own.sequence if mem.own else 0)
        self.mem = mem  # (dataclasses.replace costs ~20 us: built directly on the hot path)
        if (high, learned, reclaims) != (mem.high, mem.learned, mem.reclaims):
            self.mem = Memory(
                mem.own, high, mem.pin, mem.explicit, mem.home, learned, mem.lost_at, reclaims
            )
        self.claim: ClaimWant | None = None
        self.wake_at: float | None = None
        self.verify = False

    # -- helpers ---------------------------------------------------------------------------

    def conflict(self, code: str, detail: str) -> None:
        self.conflicts.append(Conflict(self.address, code, detail))

    def _tie(self, a: LearnedPath | None, b: LearnedPath) -> str:
        names = [self._site_name(p.site_id) for p in (a, b) if p is not None]
        return f"sites {' and '.join(names)} both at sequence {b.sequence}"

    def _site_name(self, site_id: int) -> str:
        site = self.dom.site_by_id(site_id)
        return site.name if site else f"site {site_id}"

    def site_of(self, path: LearnedPath) -> str:
        return self._site_name(path.site_id)

    def fresh_presence(self) -> bool:
        """Present with evidence heard after the last loss and the best path's arrival."""
        p = self.facts.presence
        if p is None or p.state != PRESENT:
            return False
        learned = self.mem.learned
        lost_at = self.mem.lost_at
        return (not lost_at or p.last_at > lost_at) and (not learned or p.last_at > learned[2])

    def damped(self) -> bool:
        return len(self.mem.reclaims) >= DUPLICATE_MOVES

    def originate(self, cause: str, *, reclaim: bool = False, since: float = 0.0) -> Own:
        """Originate with a sequence above every one seen (``since``: default now)."""
        sequence = self.mem.high + 1
        own = Own(self.address, self.dom.name, sequence, since or self.now, cause)
        reclaims = (*self.mem.reclaims, self.now) if reclaim else self.mem.reclaims
        self.mem = replace(self.mem, own=own, high=sequence, reclaims=reclaims)
        return own

    def withdraw(self) -> None:
        self.mem = replace(self.mem, own=None, lost_at=self.now)

    def home_here(self, origin: str, evidence: str) -> Home:
        own = self.mem.own
        assert own is not None
        return Home(
            self.address, self.dom.name, self.local.name, own.sequence, self.now, origin, evidence
        )

    def home_of(self, path: LearnedPath) -> Home:
        self.claim = ClaimWant(self.site_of(path), "bgp", path.sequence, path.neighbor)
        return Home(
            self.address,
            self.dom.name,
            self.site_of(path),
            path.sequence,
            self.now,
            "bgp",
            f"BGP from {path.originator_id} via {path.neighbor}",
            path.neighbor,
        )

    def presence_evidence(self) -> str:
        p = self.facts.presence
        if p is None:
            return ""
        return f"{p.kind} from {p.mac}" if p.mac else p.kind

    def present_here(self) -> bool:
        """A host seemed to be here while another site (or nobody) is the home: a probe
        tells whether it still is (an answer is fresh evidence, silence makes it absent)."""
        p = self.facts.presence
        return self.mem.own is None and p is not None and p.state == PRESENT


Step = tuple[Home | None, str, str]
"""A rule's result: the home, and the cause and evidence journaled if the home moved."""


def _pinned_elsewhere(d: _Decision, pin: Pin) -> Step:
    d.mem = replace(d.mem, explicit=None)
    if d.mem.own is not None:
        d.withdraw()
    path = next((p for p in d.remote if d.site_of(p) == pin.site), None)
    if d.best is not None and d.site_of(d.best) != pin.site:
        d.conflict(
            "pin-contested",
            f"pinned at {pin.site or 'an unknown site'}, but {d.site_of(d.best)} originates "
            f"it at sequence {d.best.sequence}",
        )
    if d.fresh_presence() and (d.facts.presence and d.facts.presence.last_at > pin.since):
        d.conflict("host-at-pinned-elsewhere", f"{d.presence_evidence()} at {d.local.name}")
    if not pin.claim and pin.site:
        d.claim = ClaimWant(pin.site, "pin", path.sequence if path else 0, "")
    evidence = f"static claim {pin.claim}" if pin.claim else f"pinned: {pin.cause}".rstrip(": ")
    home = Home(
        d.address, d.dom.name, pin.site, path.sequence if path else 0, d.now, "pin", evidence
    )
    return home, "pin", evidence


def _pinned_here(d: _Decision, pin: Pin) -> Step:
    d.mem = replace(d.mem, explicit=None)
    own = d.mem.own
    contested = [p for p in d.remote if own is None or not _beats(own.sequence, d.local.site_id, p)]
    for p in d.remote:
        d.conflict(
            "pin-contested",
            f"pinned at {d.local.name}, but {d.site_of(p)} originates it at sequence {p.sequence}",
        )
    if own is None or (contested and not d.damped()):
        d.originate("pin", reclaim=own is not None)
    elif own.cause != "pin":
        d.mem = replace(d.mem, own=replace(own, cause="pin"))
    evidence = f"pinned: {pin.cause}".rstrip(": ")
    return d.home_here("pin", evidence), "pin", evidence


def _explicit(d: _Decision, request: Explicit) -> Step:
    own = d.mem.own
    d.mem = replace(d.mem, explicit=None, reclaims=())
    evidence = f"explicit: {request.cause}".rstrip(": ")
    if own is None or any(not _beats(own.sequence, d.local.site_id, p) for p in d.remote):
        own = d.originate("explicit", since=request.at)
    else:
        own = replace(own, cause="explicit", since=request.at)
        d.mem = replace(d.mem, own=own)
    _confirm(d, own)
    return d.home_here("explicit", evidence), "explicit", evidence


def _confirm(d: _Decision, own: Own) -> Own:
    """An explicit home that a host answers for after the move: presence rules from now."""
    fact = d.facts.presence
    if own.cause == "explicit" and fact and fact.state == PRESENT and fact.last_at >= own.since:
        own = replace(own, cause="presence")
        d.mem = replace(d.mem, own=own)
    return own


def _owned(d: _Decision, own: Own) -> Step:
    winner = next(
        (
            p
            for p in sorted(d.remote, key=lambda p: (-p.sequence, p.site_id))
            if not _beats(own.sequence, d.local.site_id, p)
        ),
        None,
    )
    for p in d.remote:
        if p.sequence == own.sequence:
            d.conflict(
                "tie", f"sites {d.local.name} and {d.site_of(p)} both at sequence {p.sequence}"
            )
    if winner is not None:
        d.withdraw()
        d.verify = d.present_here()
        home = d.home_of(winner)
        return home, "bgp", home.evidence
    own = _confirm(d, own)
    fact = d.facts.presence
    if own.cause in ("presence", "pin") and fact is not None and fact.state == ABSENT:
        d.withdraw()
        return None, "absent", f"no answer to {d.dom.absent_after} probes"
    origin = own.cause if own.cause != "pin" else "presence"
    if origin != own.cause:
        d.mem = replace(d.mem, own=replace(own, cause=origin))
    prev = d.mem.home
    evidence = prev.evidence if prev and prev.site == d.local.name else d.presence_evidence()
    return d.home_here(origin, evidence), origin, evidence


def _not_owned(d: _Decision) -> Step:
    if d.fresh_presence():
        if not d.damped():
            d.originate("presence", reclaim=d.best is not None)
            evidence = d.presence_evidence()
            return d.home_here("presence", evidence), "presence", evidence
        d.conflict(
            "duplicate", f"taken back {len(d.mem.reclaims)} times in {DUPLICATE_WINDOW:.0f}s"
        )
        d.wake_at = d.mem.reclaims[0] + DUPLICATE_WINDOW
    d.verify = d.present_here()
    if d.best is not None:
        home = d.home_of(d.best)
        return home, "bgp", home.evidence
    return _gone(d)


def _gone(d: _Decision) -> Step:
    """Rule 5: no path. Keep a home learned over a session that is down, for a while."""
    prev = d.mem.home
    if prev is None or prev.site in ("", d.local.name):
        return None, "", ""
    if prev.origin == "pin":
        return None, "unpin", "pin removed"
    if prev.origin != "bgp":
        return None, "withdrawn", ""
    state = (d.facts.sessions or {}).get(prev.neighbor)
    down = not d.facts.connected or state is None or state.state != "established"
    until = prev.stale_until or d.now + d.dom.stale_time
    if down and d.now < until:
        d.claim = ClaimWant(prev.site, "bgp", prev.sequence, prev.neighbor, stale=True)
        d.wake_at = until
        return replace(prev, stale_until=until), "", ""
    if down:
        return (
            None,
            "stale-expired",
            f"no path for {d.dom.stale_time:.0f}s while {prev.neighbor} is down",
        )
    return None, "withdrawn", f"{prev.site} withdrew it"


def decide(address: str, dom: MobileDomain, facts: Facts, mem: Memory, now: float) -> Outcome:
    """Decide one address (see the module docstring for the rules).

    Args:
        address: the bare address; must be mobile in ``dom``.
        dom: its domain.
        facts: presence here and the paths learned for it.
        mem: what the previous decision left (``Memory()`` the first time).
        now: the engine's clock.

    Returns:
        The outcome; ``outcome.memory`` is the input of the next decision.
    """
    d = _Decision(address, dom, facts, mem, now)
    pin = d.mem.pin
    if pin is not None and pin.site != dom.local.name:
        home, cause, evidence = _pinned_elsewhere(d, pin)
    elif pin is not None:
        home, cause, evidence = _pinned_here(d, pin)
    elif d.mem.explicit is not None:
        home, cause, evidence = _explicit(d, d.mem.explicit)
    elif d.mem.own is not None:
        home, cause, evidence = _owned(d, d.mem.own)
    else:
        home, cause, evidence = _not_owned(d)
    prev = mem.home
    move = None
    before, after = (prev.site if prev else ""), (home.site if home else "")
    if home is not None and prev is not None and before == after:
        home = prev if _same_home(prev, home) else replace(home, since=prev.since)
    if before != after:
        move = MoveRecord(
            address, dom.name, before, after, home.sequence if home else 0, cause, evidence, now
        )
    m = d.mem
    if m.home is not home:
        d.mem = Memory(m.own, m.high, m.pin, m.explicit, home, m.learned, m.lost_at, m.reclaims)
    own = d.mem.own
    origination = (
        Origination(address, dom.local.site_id, own.sequence, dom.router_id) if own else None
    )
    if own is not None and own.cause == "presence":
        d.verify = False
    return Outcome(d.mem, home, origination, d.claim, tuple(d.conflicts), move, d.wake_at, d.verify)


def _same_home(a: Home, b: Home) -> bool:
    """Equal but for ``since`` (the time a home was first seen is kept)."""
    return (a.site, a.sequence, a.origin, a.evidence, a.neighbor, a.stale_until) == (
        b.site,
        b.sequence,
        b.origin,
        b.evidence,
        b.neighbor,
        b.stale_until,
    )


def decide_all(decisions: Mapping[str, tuple[MobileDomain, Facts, Memory]], now: float) -> Decision:
    """``decide`` for several addresses at once.

    Args:
        decisions: address -> (its domain, its facts, its memory).
        now: the engine's clock.
    """
    return Decision({a: decide(a, dom, f, m, now) for a, (dom, f, m) in decisions.items()})
