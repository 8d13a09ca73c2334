"""What one kind of fault is: its parameters, its expected effect, how it is applied.

``routerd.backends.sim.faultcatalog`` lists the kinds; ``routerd.backends.sim.faultbook``
applies and clears them on a world.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .world import World

Params = dict[str, str]
Undo = Callable[[], None]


class FaultInputError(ValueError):
    """A fault request that cannot be applied; ``field`` names the parameter."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name


@dataclass(frozen=True)
class Param:
    name: str
    help: str
    required: bool = True


@dataclass(frozen=True)
class Effect:
    """What routerd shows while (and after) the fault acts.

    Attributes:
        reason: the reason code the affected claim goes ``degraded`` with ("" = none).
        heals: routerd repairs it by itself (the claim returns to ``verified``).
        after: virtual seconds that must pass before routerd can notice (a handshake
            ages, a verified path is looked at again).
        trace: what a packet trace along the claim's path shows while the fault holds.
        doctor: the ``RemoteAddressClaim/<name> state`` finding while it holds.
    """

    reason: str
    heals: bool
    trace: str
    doctor: str
    after: float = 0.0


@dataclass(frozen=True)
class FaultKind:
    """One kind of fault (see the module docstring)."""

    name: str
    summary: str
    params: tuple[Param, ...]
    effect: Effect
    example: Params
    """Parameters for the example worlds (examples/worlds), used by docs and tests."""
    apply: Callable[[World, Params], Undo]

    def check(self, params: Params) -> None:
        unknown = sorted(set(params) - {p.name for p in self.params})
        if unknown:
            names = ", ".join(p.name for p in self.params)
            raise FaultInputError(
                unknown[0], f"{self.name} takes no {unknown[0]!r} (takes: {names})"
            )
        for p in self.params:
            if p.required and not params.get(p.name):
                raise FaultInputError(p.name, f"required by {self.name}: {p.help}")
