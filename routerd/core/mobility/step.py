"""What a mobility step hands the engine, and what ``routerctl where`` shows of an address."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from routerd.core.exchange import Origination
from routerd.core.mobility.records import Conflict, Home, MoveRecord, Pin
from routerd.core.resources import RemoteAddressClaim


@dataclass(frozen=True)
class ClaimDelta:
    """Derived claims changed by a step: ``put`` (added or replaced), ``removed`` (names)."""

    put: tuple[RemoteAddressClaim, ...] = ()
    removed: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.put or self.removed)


@dataclass(frozen=True)
class MobilityStep:
    """What one step asks of the engine.

    Attributes:
        claims: the derived-claim delta (feed it to the engine's claim source).
        originations: every address to announce (for ``RouteExchange.sync``) when the set
            changed, else None; a read-only view, never copied per step.
        moves: journal records of this step (already stored, with their ``seq``).
        homes_changed: addresses whose home (or its sequence, staleness) changed.
        probing: capture interface -> every address presence should probe there, when
            that changed, else None.
        next_wake: run a step again at this time even if nothing happens (None: no need).
        error: why nothing was applied ("" when the step applied); retried next step.
    """

    claims: ClaimDelta = ClaimDelta()
    originations: Mapping[str, Origination] | None = None
    moves: tuple[MoveRecord, ...] = ()
    homes_changed: tuple[str, ...] = ()
    probing: Mapping[str, frozenset[str]] | None = None
    next_wake: float | None = None
    error: str = ""


@dataclass(frozen=True)
class Where:
    """``routerctl where``: one address as this router sees it."""

    address: str
    domain: str
    home: Home | None
    pin: Pin | None
    conflicts: tuple[Conflict, ...]
    originating: bool

    def as_dict(self) -> dict[str, object]:
        base = (self.home.as_dict() if self.home else {}) | {
            "address": self.address,
            "domain": self.domain,
            "home": self.home.site if self.home else "",
        }
        base.setdefault("sequence", 0)
        base.setdefault("since", 0.0)
        base.setdefault("evidence", "")
        base["pinned"] = self.pin.site if self.pin else ""
        base["conflicts"] = [c.describe() for c in self.conflicts]
        return base
