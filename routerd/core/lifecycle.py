"""The claim state machine (product.md §3): one shared ``transitions`` Machine, slim models.

::

    pending --capture--> captured --deliver--> delivering --verify--> verified
       ^                    |                      |                     |
       +------retry---- degraded <----degrade-----+---------------------+

Why it is shaped this way (measured in perf-limits.md §4, transitions 0.9.3):

* One ``Machine`` per claim costs 19–44 KB per claim; we share one machine.
* ``Machine.add_model`` checks ``mod not in self.models`` (a list scan) and
  ``remove_model`` calls ``list.remove``: O(N) each, 153 s to add 100k claims. The
  machine's model list is replaced by ``_ModelRegistry``, a list-compatible container indexed
  by ``id`` so both are O(1).
* ``model_override=True`` binds only the methods a model class *declares*; ``ClaimFSM``
  declares none, so no per-claim bound methods are created (that is where the naive
  layout's ~6 KB per model goes). Triggers are fired through the machine's events with
  ``model=`` explicitly.
* Callbacks do no I/O: ``after_state_change`` appends one record to a buffer that the
  engine journals (one SQLite transaction per pass) and publishes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from transitions import EventData, Machine, MachineError

LOG = logging.getLogger(__name__)

# transitions logs a WARNING for every method it declines to bind under model_override;
# with slim models that is every trigger of every claim.
logging.getLogger("transitions.core").setLevel(logging.ERROR)


class ClaimState(StrEnum):
    PENDING = "pending"
    CAPTURED = "captured"
    DELIVERING = "delivering"
    VERIFIED = "verified"
    DEGRADED = "degraded"


LEVEL = {
    ClaimState.PENDING: 0,
    ClaimState.CAPTURED: 1,
    ClaimState.DELIVERING: 2,
    ClaimState.VERIFIED: 3,
}
FORWARD = (ClaimState.PENDING, ClaimState.CAPTURED, ClaimState.DELIVERING, ClaimState.VERIFIED)
STEP_TRIGGER = {
    ClaimState.CAPTURED: "capture",
    ClaimState.DELIVERING: "deliver",
    ClaimState.VERIFIED: "verify",
}

TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": "capture", "source": "pending", "dest": "captured"},
    {"trigger": "deliver", "source": "captured", "dest": "delivering"},
    {"trigger": "verify", "source": "delivering", "dest": "verified"},
    {"trigger": "degrade", "source": ["captured", "delivering", "verified"], "dest": "degraded"},
    {"trigger": "retry", "source": "degraded", "dest": "pending"},
]


class ClaimFSM:
    """The per-claim model: identity equality, a handful of slots, no bound methods.

    Attributes:
        name: claim name.
        address: ``a.b.c.d/32``.
        state: current state name (owned by the machine).
        reason / message: why the claim is where it is (stable code + text).
        since: when the state was entered.
        high_water: the furthest level reached before the last degrade; a degraded claim
            retries once the observation supports that level again.
    """

    __slots__ = (
        "__weakref__",
        "address",
        "high_water",
        "message",
        "name",
        "reason",
        "since",
        "state",
    )

    def __init__(self, name: str, address: str) -> None:
        self.name = name
        self.address = address
        self.state = ClaimState.PENDING.value
        self.reason = ""
        self.message = ""
        self.since = 0.0
        self.high_water = 0

    def __repr__(self) -> str:
        return f"ClaimFSM({self.name!r}, {self.state})"


class _ModelRegistry(list):  # type: ignore[type-arg]
    """A list look-alike with O(1) membership, append and remove (see module docstring)."""

    def __init__(self) -> None:
        super().__init__()
        self._items: dict[int, Any] = {}

    def __contains__(self, item: object) -> bool:
        return id(item) in self._items

    def append(self, item: Any) -> None:
        self._items[id(item)] = item

    def remove(self, item: Any) -> None:
        if self._items.pop(id(item), None) is None:
            raise ValueError("model not registered")

    def __iter__(self) -> Iterator[Any]:
        return iter(list(self._items.values()))

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index: Any) -> Any:
        return list(self._items.values())[index]

    def __bool__(self) -> bool:
        return bool(self._items)


@dataclass(frozen=True, slots=True)
class TransitionRecord:
    """One transition as the callbacks saw it (journaled and published by the engine)."""

    claim: str
    address: str
    from_state: str
    to_state: str
    trigger: str
    reason: str
    message: str
    at: float


class Lifecycle:
    """The shared machine plus the id-indexed registry of claim models.

    Args:
        clock: returns "now" in epoch seconds (injected for tests).
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self.records: list[TransitionRecord] = []
        self.machine = Machine(
            model=None,
            states=[s.value for s in ClaimState],
            transitions=TRANSITIONS,
            initial=ClaimState.PENDING.value,
            auto_transitions=False,
            model_override=True,
            send_event=True,
            queued=False,
            after_state_change=self._record,
        )
        self.machine.models = _ModelRegistry()
        self.claims: dict[str, ClaimFSM] = {}

    def _record(self, event: EventData) -> None:
        m = event.model
        assert isinstance(m, ClaimFSM) and event.transition is not None
        m.since = self._clock()
        self.records.append(
            TransitionRecord(
                m.name,
                m.address,
                str(event.transition.source),
                str(event.transition.dest),
                event.event.name if event.event else "",
                m.reason,
                m.message,
                m.since,
            )
        )

    def add(self, name: str, address: str) -> ClaimFSM:
        """Register a claim in ``pending`` (O(1))."""
        model = ClaimFSM(name, address)
        model.since = self._clock()
        self.machine.add_model(model)
        self.claims[name] = model
        return model

    def remove(self, name: str) -> ClaimFSM | None:
        """Forget a claim (O(1)); the engine has already released its objects."""
        model = self.claims.pop(name, None)
        if model is not None:
            self.machine.remove_model(model)
        return model

    def fire(self, model: ClaimFSM, trigger: str, reason: str = "", message: str = "") -> None:
        """Run one trigger on one model, recording why."""
        model.reason = reason
        model.message = message
        try:
            self.machine.events[trigger].trigger(model)
        except MachineError as e:  # a bug in the engine's walk, never a user error
            raise RuntimeError(f"claim {model.name}: {e}") from e

    def walk(
        self, model: ClaimFSM, target: ClaimState, reason: str = "", message: str = ""
    ) -> None:
        """Move a claim to ``target`` through the legal transitions.

        Forward moves step through each intermediate state (each transition journaled);
        a drop below the current level degrades; a degraded claim retries to ``pending``
        and walks forward. Non-transition reason updates (a pending claim whose reason
        changed) just update the fields.
        """
        state = ClaimState(model.state)
        if target is ClaimState.DEGRADED:
            if state is ClaimState.DEGRADED or state is ClaimState.PENDING:
                model.reason, model.message = reason, message
                return
            model.high_water = LEVEL[state]
            self.fire(model, "degrade", reason, message)
            return
        if state is ClaimState.DEGRADED:
            self.fire(model, "retry", reason, message)
            state = ClaimState.PENDING
        if LEVEL[target] < LEVEL[state]:
            model.high_water = LEVEL[state]
            self.fire(model, "degrade", reason, message)
            return
        for nxt in FORWARD[LEVEL[state] + 1 : LEVEL[target] + 1]:
            self.fire(
                model,
                STEP_TRIGGER[nxt],
                reason if nxt is target else "",
                message if nxt is target else "",
            )
        model.reason, model.message = reason, message

    def drain(self) -> list[TransitionRecord]:
        """Take the records accumulated since the last drain."""
        out, self.records = self.records, []
        return out

    def counts(self) -> dict[str, int]:
        out = {s.value: 0 for s in ClaimState}
        for m in self.claims.values():
            out[m.state] += 1
        return out
