"""The inputs and outputs of a home decision (``homes.decide``), and their collection.

``Memory`` is what one decision about an address leaves for the next, ``Facts`` what the
world says now, ``Outcome`` what follows; ``Decision`` gathers the outcomes of several
addresses with the views people read (originations, homes, claims, conflicts, moves).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from routerd.core.exchange import LearnedPath, Origination, SessionState
from routerd.core.mobility.records import (
    Conflict,
    Explicit,
    Home,
    MoveRecord,
    Own,
    Pin,
    PresenceFact,
)


@dataclass(frozen=True, slots=True)
class Memory:
    """What the previous decision about an address left for the next one.

    Attributes:
        own: what this router originates for it (None: nothing).
        high: the highest sequence seen or used for it (sequences only grow).
        pin: its pin, if any.
        explicit: a pending explicit move to this router's site.
        home: the previous decision's home.
        learned: ``(site_id, sequence, at)`` of the best remote path and when it was
            first seen here.
        lost_at: when this router last stopped being its home (0: never).
        reclaims: when this router took it back from another site lately (damping).
    """

    own: Own | None = None
    high: int = 0
    pin: Pin | None = None
    explicit: Explicit | None = None
    home: Home | None = None
    learned: tuple[int, int, float] | None = None
    lost_at: float = 0.0
    reclaims: tuple[float, ...] = ()


@dataclass(frozen=True, slots=True)
class Facts:
    """What the world says about an address now.

    Attributes:
        presence: presence here (None: never heard of).
        paths: every accepted path for it (``ExchangeView.paths``).
        sessions: the speaker's sessions by neighbor address.
        connected: whether the exchange view reflects the speaker (while not, absence of
            a path proves nothing).
    """

    presence: PresenceFact | None
    paths: tuple[LearnedPath, ...] = ()
    sessions: Mapping[str, SessionState] | None = None
    connected: bool = True


@dataclass(frozen=True, slots=True)
class ClaimWant:
    """A claim this router should hold for an address homed at another site.

    Attributes:
        site: the home site's name.
        origin: ``bgp`` (a path says so) or ``pin`` (pinned there here).
        sequence: the home's sequence (0 for a pin without a path).
        neighbor: the session the path came over ("" for a pin).
        stale: the path went with a session that is down (``home-unconfirmed``).
    """

    site: str
    origin: str
    sequence: int = 0
    neighbor: str = ""
    stale: bool = False


@dataclass(frozen=True, slots=True)
class Outcome:
    """One decision.

    Attributes:
        memory: what to remember for the next decision.
        home: where the address lives (None: unknown).
        origination: what to announce for it (None: nothing).
        claim: the claim to derive (None: none).
        conflicts: what needs a person.
        move: the journal record when the home changed.
        wake_at: decide again at this time even if nothing else changes (None: no need).
        verify: presence should probe the address (it was lost while a host seemed to be
            here: a probe answer is fresh evidence, an unanswered probe settles it).
    """

    memory: Memory
    home: Home | None
    origination: Origination | None
    claim: ClaimWant | None
    conflicts: tuple[Conflict, ...]
    move: MoveRecord | None
    wake_at: float | None
    verify: bool


@dataclass(frozen=True)
class Decision:
    """The outcomes of one round of decisions, by address, with the views people read.

    Attributes:
        outcomes: address -> its outcome.
    """

    outcomes: Mapping[str, Outcome]

    @property
    def originations(self) -> dict[str, Origination]:
        """What to announce, by address (the decided addresses only)."""
        return {a: o.origination for a, o in self.outcomes.items() if o.origination}

    @property
    def homes(self) -> dict[str, Home]:
        return {a: o.home for a, o in self.outcomes.items() if o.home}

    @property
    def claims(self) -> dict[str, ClaimWant]:
        return {a: o.claim for a, o in self.outcomes.items() if o.claim}

    @property
    def conflicts(self) -> list[Conflict]:
        return [c for o in self.outcomes.values() for c in o.conflicts]

    @property
    def moves(self) -> list[MoveRecord]:
        return [o.move for o in self.outcomes.values() if o.move]
