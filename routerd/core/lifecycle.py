"""The claim state machine (docs/concepts.md#the-claim-lifecycle) and its policy, in one place.

::

    pending --capture--> captured --deliver--> delivering --verify--> verified
       ^                    |                      |                     |
       +------retry---- degraded <----degrade-----+---------------------+
    (any state) --release--> released   (the claim left the effective config)

``TRANSITIONS`` is the single source of truth for what may follow what: it defines the one
``transitions.Machine`` every claim shares, and triggers run through the table compiled
from that machine (``Lifecycle.fire``): a move the table does not allow is an engine bug
and raises. The machine does not run per-claim callbacks: through its event machinery a
trigger costs ~11 µs, and a first pass at 10,000 claims walks 30,000 transitions (0.33 s of
a pass whose floor is ~0.2 s); a table look-up costs ~1 µs.
Models are therefore not registered with the machine at all, so adding or removing a claim
is O(1) with no registry to keep.

``Lifecycle.judge`` holds the rules that turn a verdict (the furthest level the observation
supports, and why not further) into moves: a drop below the current level degrades and
remembers the level reached (*high water*); a degraded claim retries only once the
observation supports that level again and nothing failed to apply; a failed capture or
delivery step degrades (D6, docs/decisions.md). Judging the same verdict twice moves
nothing the second time, which is what lets the engine judge only the claims whose inputs
moved.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Any, NamedTuple

from transitions import Machine

LOG = logging.getLogger(__name__)


class ClaimState(StrEnum):
    PENDING = "pending"
    CAPTURED = "captured"
    DELIVERING = "delivering"
    VERIFIED = "verified"
    DEGRADED = "degraded"
    RELEASED = "released"


LEVEL = {
    ClaimState.PENDING: 0,
    ClaimState.CAPTURED: 1,
    ClaimState.DELIVERING: 2,
    ClaimState.VERIFIED: 3,
}
STATE_OF: dict[str, ClaimState] = {s.value: s for s in ClaimState}
"""A model's state name -> its ``ClaimState`` (a dict look-up; the enum's own call costs
~20 times more, and a first pass makes several per claim)."""
FORWARD = (ClaimState.PENDING, ClaimState.CAPTURED, ClaimState.DELIVERING, ClaimState.VERIFIED)
STEP_TRIGGER = {
    ClaimState.CAPTURED: "capture",
    ClaimState.DELIVERING: "deliver",
    ClaimState.VERIFIED: "verify",
}
LIVE_STATES = [s.value for s in ClaimState if s is not ClaimState.RELEASED]

TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": "capture", "source": "pending", "dest": "captured"},
    {"trigger": "deliver", "source": "captured", "dest": "delivering"},
    {"trigger": "verify", "source": "delivering", "dest": "verified"},
    {"trigger": "degrade", "source": ["captured", "delivering", "verified"], "dest": "degraded"},
    {"trigger": "retry", "source": "degraded", "dest": "pending"},
    {"trigger": "release", "source": LIVE_STATES, "dest": "released"},
]


class ClaimFSM:
    """The per-claim model: a handful of slots, no bound methods.

    Attributes:
        name: claim name.
        address: ``a.b.c.d/32``.
        state: current state name.
        reason / message: why the claim is where it is (stable code + text).
        since: when the state was entered.
        high_water: the furthest level reached before the last degrade; a degraded claim
            retries once the observation supports that level again.
    """

    __slots__ = ("address", "high_water", "message", "name", "reason", "since", "state")

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


class TransitionRecord(NamedTuple):
    """One transition (journaled and published by the engine; a tuple: 30,000 of them are
    made in the first pass at 10,000 claims)."""

    claim: str
    address: str
    from_state: str
    to_state: str
    trigger: str
    reason: str
    message: str
    at: float


_RECORD = tuple.__new__
"""Makes a ``TransitionRecord`` from a tuple of its fields (no keyword handling)."""


def compile_table(machine: Machine) -> dict[tuple[str, str], str]:
    """``(state, trigger) -> next state`` for every transition ``machine`` allows."""
    table: dict[tuple[str, str], str] = {}
    for trigger, event in machine.events.items():
        for source, transitions in event.transitions.items():
            for t in transitions:
                table[(source, trigger)] = str(t.dest)
    return table


class Lifecycle:
    """Every claim's model, the shared machine's table, and the records of moves made.

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
        )
        self.table = compile_table(self.machine)
        self.claims: dict[str, ClaimFSM] = {}
        self._forward: dict[tuple[ClaimState, ClaimState], tuple[tuple[str, str], ...]] = {}

    def add(self, name: str, address: str) -> ClaimFSM:
        """Register a claim in ``pending`` (O(1))."""
        model = ClaimFSM(name, address)
        model.since = self._clock()
        self.claims[name] = model
        return model

    def respecified(self, name: str, address: str) -> None:
        """The claim's intent changed: it keeps its state but starts its history over."""
        model = self.claims[name]
        model.address = address
        model.high_water = 0

    def release(self, name: str, reason: str, message: str) -> TransitionRecord | None:
        """Move a claim to ``released`` and forget it (its objects are being removed)."""
        model = self.claims.get(name)
        if model is None:
            return None
        self.fire(model, "release", reason, message)
        del self.claims[name]
        return self.records[-1]

    def fire(self, model: ClaimFSM, trigger: str, reason: str = "", message: str = "") -> None:
        """Run one trigger on one model, recording why."""
        dest = self.table.get((model.state, trigger))
        if dest is None:  # a bug in the engine's walk, never a user error
            raise RuntimeError(
                f"claim {model.name}: can't trigger event {trigger} from state {model.state}"
            )
        now = self._clock()
        model.reason, model.message = reason, message
        self.records.append(
            TransitionRecord(
                model.name, model.address, model.state, dest, trigger, reason, message, now
            )
        )
        model.state, model.since = dest, now

    def _steps(self, state: ClaimState, target: ClaimState) -> tuple[tuple[str, str], ...]:
        """(trigger, next state) of each forward step from ``state`` up to ``target``, as
        the table allows them (worked out once per pair: a first pass walks 30,000)."""
        steps = self._forward.get((state, target))
        if steps is None:
            out, at = [], str(state.value)
            for nxt in FORWARD[LEVEL[state] + 1 : LEVEL[target] + 1]:
                trigger = STEP_TRIGGER[nxt]
                dest = self.table.get((at, trigger))
                if dest is None:  # a bug in the engine's walk, never a user error
                    raise RuntimeError(f"can't trigger event {trigger} from state {at}")
                out.append((trigger, dest))
                at = dest
            steps = self._forward[(state, target)] = tuple(out)
        return steps

    def walk(
        self, model: ClaimFSM, target: ClaimState, reason: str = "", message: str = ""
    ) -> None:
        """Move a claim to ``target`` through the legal transitions.

        Forward moves step through each intermediate state (each transition journaled);
        a drop below the current level degrades; a degraded claim retries to ``pending``
        and walks forward. Non-transition reason updates (a pending claim whose reason
        changed) just update the fields.
        """
        state = STATE_OF[model.state]
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
        self._advance(model, state, target, reason, message)

    def _advance(
        self, model: ClaimFSM, state: ClaimState, target: ClaimState, reason: str, message: str
    ) -> None:
        """Step ``model`` forward from ``state`` (its own, not degraded) up to ``target`` (not
        below it), each step recorded as ``fire`` does; only the last says why it stopped."""
        steps = self._forward.get((state, target))
        if steps is None:
            steps = self._steps(state, target)
        self._take_steps(model, steps, reason, message)

    def _take_steps(
        self, model: ClaimFSM, steps: tuple[tuple[str, str], ...], reason: str, message: str
    ) -> None:
        """Record each of ``steps`` (trigger, next state) for ``model`` and move it to the
        last; only the last record says why it stopped."""
        if steps:
            name, address, append, make = model.name, model.address, self.records.append, _RECORD
            clock = self._clock
            at = model.state
            for trigger, dest in steps[:-1]:
                append(make(TransitionRecord, (name, address, at, dest, trigger, "", "", clock())))
                at = dest
            trigger, dest = steps[-1]
            now = clock()
            append(make(TransitionRecord, (name, address, at, dest, trigger, reason, message, now)))
            model.state, model.since = dest, now
        model.reason, model.message = reason, message

    def judge(
        self,
        model: ClaimFSM,
        level: int,
        reason: str = "",
        message: str = "",
        *,
        apply_failed: bool = False,
    ) -> bool:
        """Apply a verdict: the claim's observation supports ``level`` (0-3), and why not more.

        Args:
            model: the claim.
            level: 0 pending .. 3 verified.
            reason / message: the first failing check ("" when verified).
            apply_failed: an object behind that check could not be programmed.

        Returns:
            Whether the claim was captured by this verdict (its level crossed 1 from below:
            the moment a gratuitous ARP is due, D9).
        """
        state = STATE_OF[model.state]
        if state is ClaimState.DEGRADED:
            if level < model.high_water or apply_failed:
                model.reason, model.message = reason, message
                return False
            self.walk(model, FORWARD[level], reason, message)  # retries, then steps forward
            captures = level >= 1
        elif level < LEVEL[state]:
            self.walk(model, ClaimState.DEGRADED, reason, message)
            return False
        else:  # what ``captures`` says on this path; the walk is ``walk``'s forward part
            captures = LEVEL[state] < 1 <= level
            self._advance(model, state, FORWARD[level], reason, message)
        if apply_failed and model.state in (ClaimState.CAPTURED, ClaimState.DELIVERING):
            # D6: a failed capture or delivery step is a degradation, not a quiet wait.
            self.walk(model, ClaimState.DEGRADED, reason, message)
        return captures

    def judge_many(
        self, models: Sequence[ClaimFSM], verdicts: Sequence[tuple[int, str, str, object, bool]]
    ) -> list[bool]:
        """``judge`` of each model with its verdict (level, reason, message, key,
        apply_failed), in order; returns what each ``judge`` returns.

        A ``pending`` claim whose verdict failed nothing only steps forward (every claim of
        a first pass): its steps are looked up once per level and recorded here, as
        ``_advance`` records them; any other claim goes through ``judge``.
        """
        out: list[bool] = []
        capture = out.append
        judge, take = self.judge, self._take_steps
        pending = ClaimState.PENDING.value
        walks: dict[int, tuple[tuple[str, str], ...]] = {}
        for model, (level, reason, message, _, failed) in zip(models, verdicts, strict=True):
            if model.state != pending or failed:
                capture(judge(model, level, reason, message, apply_failed=failed))
                continue
            steps = walks.get(level)
            if steps is None:
                steps = walks[level] = self._steps(ClaimState.PENDING, FORWARD[level])
            take(model, steps, reason, message)
            capture(level >= 1)
        return out

    @staticmethod
    def captures(model: ClaimFSM, level: int, *, apply_failed: bool = False) -> bool:
        """Whether ``judge`` with this verdict would capture the claim (changes nothing):
        the engine announces a new capture before the path checks that complete its verdict."""
        state = STATE_OF[model.state]
        if state is ClaimState.DEGRADED:
            if level < model.high_water or apply_failed:
                return False
        elif level < LEVEL[state]:
            return False
        return LEVEL.get(state, 0) < 1 <= level

    def drain(self) -> list[TransitionRecord]:
        """Take the records accumulated since the last drain."""
        out, self.records = self.records, []
        return out

    def counts(self) -> dict[str, int]:
        out = {s: 0 for s in LIVE_STATES}
        for m in self.claims.values():
            out[m.state] += 1
        return out
