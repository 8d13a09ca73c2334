"""Address mobility: addresses follow their VMs between the sites of a mobile domain.

Pure and platform-neutral, like the rest of ``routerd.core``: it reads what the route
exchange (``routerd.core.exchange``) and presence say, decides where each address lives
(``homes``), derives the claims this router must hold for addresses homed elsewhere
(``derive``), and keeps sequences, pins and the move journal through a store port
(``port``). ``controller.MobilityController`` is what the engine runs once per pass.
"""

from routerd.core.mobility.controller import MobilityController
from routerd.core.mobility.decision import Decision, Facts, Memory, Outcome
from routerd.core.mobility.derive import ClaimOrigin, DerivedClaim, claim_name
from routerd.core.mobility.homes import decide, decide_all
from routerd.core.mobility.plan import MobileDomain, MobilityPlan, Site, StaticPin, Watch
from routerd.core.mobility.port import (
    MemoryMobilityStore,
    MobilityBatch,
    MobilityStore,
    StoredMobility,
)
from routerd.core.mobility.records import (
    ABSENT,
    CONFLICTS,
    PRESENT,
    UNKNOWN,
    Conflict,
    Home,
    MoveRecord,
    Own,
    Pin,
    PresenceFact,
    PresenceView,
)
from routerd.core.mobility.requests import MobilityError
from routerd.core.mobility.step import ClaimDelta, MobilityStep, Where
from routerd.core.mobility.verify import MOBILITY_REASONS, FarEnd

__all__ = [
    "ABSENT",
    "CONFLICTS",
    "MOBILITY_REASONS",
    "PRESENT",
    "UNKNOWN",
    "ClaimDelta",
    "ClaimOrigin",
    "Conflict",
    "Decision",
    "DerivedClaim",
    "Facts",
    "FarEnd",
    "Home",
    "Memory",
    "MemoryMobilityStore",
    "MobileDomain",
    "MobilityBatch",
    "MobilityController",
    "MobilityError",
    "MobilityPlan",
    "MobilityStep",
    "MobilityStore",
    "MoveRecord",
    "Outcome",
    "Own",
    "Pin",
    "PresenceFact",
    "PresenceView",
    "Site",
    "StaticPin",
    "StoredMobility",
    "Watch",
    "Where",
    "claim_name",
    "decide",
    "decide_all",
]
