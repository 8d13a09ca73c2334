"""What the mobility API needs from the daemon: the ``MobilityPort`` and its plain results.

``routerd.api.mobility`` serves ``routerd.v1.MobilityService`` over whatever object the
daemon exposes as its ``mobility`` attribute (``None``, or no attribute, when the router has
no mobile domain). That object implements ``MobilityPort``: requests in, the plain
dataclasses below out, no proto types, so the mobility controller (or an adapter over it)
satisfies it without knowing gRPC, and tests drive the servicer with a fake.

Refusals are ``MobilityRefused`` with a stable reason code (``REFUSALS``); the servicer
turns each code into its status code in one place. Anything else a port raises goes through
``routerd.api.errors.status_for`` like every other servicer's errors.

The move journal is the watch source: every change of an address's home is journaled with a
strictly increasing sequence number, and ``WatchHomes`` reads the journal after the last
sequence it sent, woken by ``wait_for_moves``. ``JournalSignal`` is a ready-made
implementation of that wake-up for a port to hold: the engine thread calls ``advance`` after
it has stored a step's moves.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

HOME_STATES = ("local", "remote", "unknown", "conflict", "stale")
"""How a home looks from this router; ``home_state`` decides which."""

ORIGINS = ("presence", "explicit", "pin", "static", "bgp")
"""Why a site is the home: a host answered there, an explicit move, a stored pin, a static
``RemoteAddressClaim`` (a pin in the config), or BGP said so (seen from another site)."""

MOVED = "moved"
QUEUED = "queued"
ALREADY_HOME = "already-home"
WOULD_MOVE = "would-move"
REFUSED = "refused"
MOVE_STATUSES = (MOVED, QUEUED, ALREADY_HOME, WOULD_MOVE, REFUSED)

REFUSALS: dict[str, str] = {
    "not-mobile": "the address is in no mobile domain of this router (or is excluded, the "
    "gateway, or the prefix's network or broadcast address)",
    "remote-site": "the site is another router's: a router moves addresses only to its own "
    "site, so call that site's router",
    "unknown-site": "the site is not a site of the address's domain",
    "unknown-domain": "no mobile domain of that name on this router",
    "pinned": "the address is pinned at another site: unpin it first",
    "pinned-by-config": "a static RemoteAddressClaim pins the address: change the config",
    "not-ready": "mobility is configured but not running yet: retry shortly",
}
"""Every refusal code a port may raise or report, with what it means."""


class MobilityRefused(Exception):
    """A request the port will not carry out.

    Args:
        reason: a ``REFUSALS`` code.
        message: what is wrong and what to do, naming the address, site or domain.
        field: the request field at fault ("" when it is not one field).
    """

    def __init__(self, reason: str, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Evidence:
    """What shows that an address lives where it does.

    Attributes:
        kind: ``garp``, ``probe-answer``, ``inventory``, ``explicit``, ``pin``, ``static``,
            ``bgp``, ... ("" when there is none).
        mac: the MAC the evidence came from (presence only).
        interface: the interface it was heard on (presence only).
        at: when it was heard or learned (epoch seconds; 0 unknown).
        detail: the same for people ("garp from 52:54:00:12:34:56 on lan").
        peer: the BGP neighbor the home's path came over (``bgp`` only).
    """

    kind: str = ""
    mac: str = ""
    interface: str = ""
    at: float = 0.0
    detail: str = ""
    peer: str = ""


@dataclass(frozen=True)
class Pin:
    """An address pinned to a site.

    Attributes:
        address: the bare address.
        domain: its domain.
        site: the site it stays at.
        since: when it was pinned (0 for a static claim).
        cause: the operator's reason.
        claim: the static ``RemoteAddressClaim`` pinning it ("" for a stored pin).
    """

    address: str
    domain: str
    site: str
    since: float = 0.0
    cause: str = ""
    claim: str = ""


@dataclass(frozen=True)
class Conflict:
    """Something about an address that needs a person.

    Attributes:
        code: ``tie``, ``duplicate``, ``pin-contested``, ``host-at-pinned-elsewhere`` or
            ``unknown-site``.
        detail: the sites and sequences involved.
        remedy: what to do.
    """

    code: str
    detail: str
    remedy: str = ""


@dataclass(frozen=True)
class Home:
    """Where an address lives, as this router sees it.

    Attributes:
        address: the bare address.
        domain: its domain.
        site: the home site ("" while unknown).
        local_site: the site this router serves in that domain.
        sequence: the home's mobility sequence (0 while unknown).
        since: since when this router sees ``site`` as the home (0 while unknown).
        origin: an ``ORIGINS`` value ("" while unknown).
        evidence: what shows it.
        originating: this router announces the address.
        stale_until: > 0 while the home is kept although its path went with a session
            that is down; when it is given up.
        pin: the pin, when pinned.
        conflicts: what needs a person.
    """

    address: str
    domain: str
    site: str
    local_site: str
    sequence: int = 0
    since: float = 0.0
    origin: str = ""
    evidence: Evidence = field(default_factory=Evidence)
    originating: bool = False
    stale_until: float = 0.0
    pin: Pin | None = None
    conflicts: tuple[Conflict, ...] = ()


def home_state(h: Home) -> str:
    """The ``HOME_STATES`` value of a home: a conflict first, then staleness, then where."""
    if h.conflicts:
        return "conflict"
    if h.stale_until > 0:
        return "stale"
    if not h.site:
        return "unknown"
    return "local" if h.site == h.local_site else "remote"


@dataclass(frozen=True)
class MoveResult:
    """The outcome of a move for one address.

    Attributes:
        address: the bare address.
        status: a ``MOVE_STATUSES`` value. A port returns ``queued`` (accepted, applied by
            the controller's next step), ``already-home``, ``would-move`` (dry run) or
            ``refused``; the servicer turns ``queued`` into ``moved`` once the journal
            shows the move.
        sequence: the address's sequence here (``moved``, ``already-home``), else 0.
        reason: the ``REFUSALS`` code when refused.
        message: what happened or what to do.
    """

    address: str
    status: str
    sequence: int = 0
    reason: str = ""
    message: str = ""


@dataclass(frozen=True)
class MoveRecord:
    """One journaled change of an address's home.

    Attributes:
        seq: the journal's sequence number (strictly increasing, never reused).
        address: the bare address.
        domain: its domain.
        from_site: the previous home ("" when unknown).
        to_site: the new home ("" when unknown now).
        sequence: the new home's mobility sequence (0 when unknown).
        cause: why (``presence``, ``explicit``, ``pin``, ``bgp``, ``absent``, ...).
        evidence: what showed it, or the caller's reason.
        at: when this router decided it (epoch seconds).
    """

    seq: int
    address: str
    domain: str
    from_site: str
    to_site: str
    sequence: int
    cause: str
    evidence: str
    at: float


class MobilityPort(Protocol):
    """What ``MobilityService`` calls; every method is called from gRPC worker threads.

    Addresses arrive bare and syntactically valid (the servicer checks them first).
    """

    def move(
        self, addresses: Sequence[str], to_site: str, cause: str, *, dry_run: bool = False
    ) -> list[MoveResult]:
        """Queue explicit moves of ``addresses`` to ``to_site``, all or none.

        Returns:
            One result per address, in order. When any is ``refused`` nothing was queued
            (also without ``dry_run``); with ``dry_run`` nothing is ever queued.

        Raises:
            MobilityRefused: for the request as a whole (e.g. ``not-ready``).
        """
        ...

    def where(self, address: str) -> Home:
        """The address's home (``site`` "" when unknown).

        Raises:
            MobilityRefused: ``not-mobile``.
        """
        ...

    def homes(self, domain: str = "") -> list[Home]:
        """Every address with a known home (of ``domain`` when given), in address order.

        Raises:
            MobilityRefused: ``unknown-domain``.
        """
        ...

    def pin(self, address: str, site: str, cause: str) -> Pin:
        """Pin an address (durable before it returns; replaces an earlier stored pin).

        Raises:
            MobilityRefused: ``not-mobile``, ``unknown-site`` or ``pinned-by-config``.
        """
        ...

    def unpin(self, address: str) -> bool:
        """Remove a stored pin; False when there was none.

        Raises:
            MobilityRefused: ``not-mobile`` or ``pinned-by-config``.
        """
        ...

    def history(
        self, *, address: str = "", domain: str = "", after: int = 0, limit: int = 1000
    ) -> list[MoveRecord]:
        """Journal records after ``after``, oldest first, at most ``limit``, filtered."""
        ...

    def journal_head(self) -> int:
        """The newest journal sequence (0 when empty)."""
        ...

    def wait_for_moves(self, after: int, timeout: float) -> int:
        """Wait until the journal holds a record after ``after``, or ``timeout`` seconds.

        Returns:
            The newest journal sequence then.
        """
        ...


class JournalSignal:
    """Wakes API threads waiting for move-journal records after a sequence.

    Args:
        head: the newest sequence already in the journal when the port starts.
    """

    def __init__(self, head: int = 0) -> None:
        self._cond = threading.Condition()
        self._head = head

    @property
    def head(self) -> int:
        with self._cond:
            return self._head

    def advance(self, seq: int) -> None:
        """Records up to ``seq`` are stored: wake every waiter (a lower ``seq`` is ignored)."""
        with self._cond:
            if seq > self._head:
                self._head = seq
                self._cond.notify_all()

    def wait(self, after: int, timeout: float) -> int:
        """Wait until the head passes ``after`` or ``timeout`` elapses; returns the head."""
        with self._cond:
            self._cond.wait_for(lambda: self._head > after, timeout=max(0.0, timeout))
            return self._head
