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
        reason: the reason code an affected claim goes ``degraded`` with ("" = none).
        heals: routerd repairs it by itself (the claim returns to ``verified``).
        drop: the drop reason of a packet between the VMs while the fault holds ("" =
            packets arrive).
        probe_size: the size of that packet (0: a default ping; larger to meet a hop MTU).
        after: virtual seconds that must pass before routerd can notice (a verified path
            is looked at again every 60 s).
    """

    reason: str
    heals: bool
    drop: str = ""
    probe_size: int = 0
    after: float = 0.0

    @property
    def trace(self) -> str:
        """What a packet trace between the VMs shows, in words."""
        if self.heals:
            return "delivered (routerd repaired it before any packet was sent)"
        if not self.drop:
            return "delivered"
        size = f"{self.probe_size}-byte DF packet" if self.probe_size else "packet"
        return f"a {size} is dropped: {self.drop}"

    @property
    def doctor(self) -> str:
        """The ``RemoteAddressClaim/<name> state`` finding of the affected claim."""
        if not self.reason:
            return "PASS (verified: claims are unaffected)"
        if self.heals:
            return f"FAIL ({self.reason}) until repaired, then PASS"
        return f"FAIL: degraded, {self.reason} (until cleared)"


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
