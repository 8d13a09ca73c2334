"""The records address mobility reasons with and keeps: presence facts, homes, pins, moves.

Times are seconds on the engine's clock (``time.time()`` in the daemon). They are compared
only with other times taken on this router, never with another router's: across routers
only sequence numbers order events.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

PRESENT = "present"
ABSENT = "absent"
UNKNOWN = "unknown"

ORIGINS = ("presence", "explicit", "pin", "bgp")
"""Why a site is an address's home: a host answered there, an explicit move, a pin, or
(seen from another site) BGP said so."""


@dataclass(frozen=True, slots=True)
class PresenceFact:
    """What presence says about one address at this router's site.

    Attributes:
        state: ``present``, ``absent`` (after the hysteresis) or ``unknown``.
        since: when the state began.
        last_at: when the latest evidence was heard (0 when none); the decisions compare
            it with the moment the address was lost or a remote home was learned, so only
            evidence heard after those counts as an arrival.
        kind: that evidence's kind (``garp``, ``probe-answer``, ``inventory``, ...).
        mac: the MAC that evidence came from ("" when none).
    """

    state: str
    since: float
    last_at: float = 0.0
    kind: str = ""
    mac: str = ""


class PresenceView(Protocol):
    """What the presence tracker answers (the tracker of ``routerd.core.presence``)."""

    def fact(self, address: str) -> PresenceFact | None:
        """The address's presence here, None when nothing was ever heard of it."""

    def present(self) -> Iterable[str]:
        """Every address currently ``present`` (read on full steps only)."""


@dataclass(frozen=True, slots=True)
class Own:
    """An address this router originates (its site is the home).

    Attributes:
        address: the bare address.
        domain: its domain.
        sequence: the mobility sequence announced.
        since: when this router started originating it with this sequence.
        cause: ``presence``, ``explicit`` or ``pin``.
    """

    address: str
    domain: str
    sequence: int
    since: float
    cause: str


@dataclass(frozen=True, slots=True)
class Pin:
    """An address that must not move (``routerctl pin``, or a static claim).

    Attributes:
        address: the bare address.
        domain: its domain.
        site: the site it is pinned to ("" when a static claim's peer names no site).
        since: when it was pinned.
        cause: why (free text from the operator).
        claim: the static RemoteAddressClaim that pins it ("" for a stored pin).
    """

    address: str
    domain: str
    site: str
    since: float
    cause: str = ""
    claim: str = ""


@dataclass(frozen=True, slots=True)
class Explicit:
    """A pending explicit move of an address to this router's site.

    Attributes:
        address: the bare address.
        at: when it was asked for.
        cause: the caller's reason (journaled).
    """

    address: str
    at: float
    cause: str


@dataclass(frozen=True, slots=True)
class Home:
    """Where an address lives, as this router sees it.

    Attributes:
        address: the bare address.
        domain: its domain.
        site: the home site ("" when unknown).
        sequence: the home's mobility sequence (0 when unknown or pinned without a path).
        since: when this router first saw that site as the home.
        origin: ``presence``, ``explicit``, ``pin`` or ``bgp`` ("" when unknown).
        evidence: what shows it, for people ("garp from 52:54:00:12:34:56", "BGP from
            10.255.0.21 via 10.255.0.1", "pinned: maintenance").
        neighbor: the BGP session the home's path came over ("" unless ``bgp``).
        stale_until: > 0 while the home is kept although its path went with a session
            that is down (``home-unconfirmed``); the time it is given up.
    """

    address: str
    domain: str
    site: str
    sequence: int
    since: float
    origin: str
    evidence: str = ""
    neighbor: str = ""
    stale_until: float = 0.0

    def as_dict(self) -> dict[str, object]:
        """The ``routerctl where -o json`` form."""
        return {
            "address": self.address,
            "domain": self.domain,
            "home": self.site,
            "sequence": self.sequence,
            "since": self.since,
            "origin": self.origin,
            "evidence": self.evidence,
            "stale": self.stale_until > 0,
        }


CONFLICTS: dict[str, str] = {
    "tie": "two sites originate the address with the same sequence: the lower siteID keeps "
    "it and the other withdraws; if it lasts, the VM may run at both sites (a clone): stop "
    "one, or `routerctl move` it where it runs",
    "duplicate": "the address moved back and forth too often (a host answers for it at "
    "two sites): this router stopped claiming it by presence; find the duplicate host, "
    "then `routerctl move` it to the right site",
    "pin-contested": "the address is pinned, but another site originates it: unpin it "
    "there, or pin it consistently everywhere",
    "host-at-pinned-elsewhere": "a host answers here for an address pinned at another "
    "site: move the host back, or change the pin",
    "unknown-site": "a path names a site identity this domain does not list: add the site "
    "to spec.mobility.sites, or fix the sender",
}
"""Every conflict code, with what it means and what to do."""


@dataclass(frozen=True, slots=True)
class Conflict:
    """Something about an address that needs a person (``CONFLICTS`` says what to do).

    Attributes:
        address: the bare address.
        code: a ``CONFLICTS`` key.
        detail: the sites and sequences involved.
    """

    address: str
    code: str
    detail: str

    def describe(self) -> str:
        return f"{self.address}: {self.detail}: {CONFLICTS[self.code]}"


MOVE_CAUSES: dict[str, str] = {
    "presence": "a host answered here (the evidence says how: garp, probe-answer, ...)",
    "explicit": "an explicit move to this router's site (the caller's reason follows)",
    "pin": "a pin (routerctl pin, or a static claim in the config)",
    "unpin": "a pin was removed",
    "bgp": "another site announced it with a higher sequence (or won a tie)",
    "absent": "it was home here and stopped answering probes",
    "withdrawn": "its home site withdrew it while the session was up",
    "stale-expired": "its home's path went with a session that stayed down for staleTime",
    "config": "the config no longer makes it mobile here",
}
"""Every journaled cause of a move, with what it means."""


@dataclass(frozen=True, slots=True)
class MoveRecord:
    """One change of an address's home, journaled with its cause.

    Attributes:
        address: the bare address.
        domain: its domain.
        from_site: the previous home ("" when unknown).
        to_site: the new home ("" when unknown now).
        sequence: the new home's sequence (0 when unknown).
        cause: a ``MOVE_CAUSES`` key.
        evidence: what showed it (the evidence, the path, the caller's reason).
        at: when this router decided it.
        seq: the journal's sequence number (0 until stored).
    """

    address: str
    domain: str
    from_site: str
    to_site: str
    sequence: int
    cause: str
    evidence: str
    at: float
    seq: int = 0
