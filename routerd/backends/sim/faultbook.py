"""The faults injected into one world: applied, listed and cleared.

``FaultBook`` is what ``SimService`` drives. Faults routerd repairs by itself are one-shot:
clearing one only closes it in the book. The others hold until cleared, and clearing
restores what they changed. Every injection and clearing wakes every router (the world
changed), which is how each routerd notices at once rather than on its next timer. A fault
names the dataplane objects it touched as drift (``FaultInjection``), or touches only what
every pass reads anyway, so a router's next pass is a scoped one that still sees it.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from .faultcatalog import KINDS
from .faultkind import FaultInputError, Params, Undo
from .world import World


@dataclass
class Fault:
    """An injected fault."""

    id: str
    kind: str
    params: Params
    injected_at: float
    active: bool = True
    cleared_at: float | None = None
    undo: Undo | None = field(default=None, repr=False)


class FaultBook:
    """Active and past faults of one world (thread-safe through the world's lock)."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.faults: dict[str, Fault] = {}
        self._ids = itertools.count(1)

    def inject(self, kind: str, params: Params) -> Fault:
        """Apply a fault now and wake every router.

        Raises:
            FaultInputError: unknown kind, missing or wrong parameters; nothing changed.
        """
        spec = KINDS.get(kind)
        if spec is None:
            raise FaultInputError("kind", f"unknown fault {kind!r} (kinds: {', '.join(KINDS)})")
        spec.check(params)
        with self.world.lock:
            undo = spec.apply(self.world, dict(params))
            fault = Fault(f"f{next(self._ids)}", kind, dict(params), self.world.clock(), undo=undo)
            if spec.effect.heals:
                fault.active, fault.cleared_at = False, fault.injected_at
            self.faults[fault.id] = fault
        self.world.wake_all()
        return fault

    def clear(self, fault_id: str) -> Fault:
        """Undo a held fault (a repaired one has nothing left to undo) and wake every router."""
        fault = self.faults.get(fault_id)
        if fault is None:
            raise FaultInputError(
                "id", f"no fault {fault_id!r} (faults: {', '.join(self.faults) or 'none'})"
            )
        with self.world.lock:
            if fault.active and fault.undo is not None:
                fault.undo()
            fault.active = False
            fault.cleared_at = fault.cleared_at or self.world.clock()
        self.world.wake_all()
        return fault

    def clear_all(self) -> list[Fault]:
        return [self.clear(f.id) for f in list(self.faults.values()) if f.active]
