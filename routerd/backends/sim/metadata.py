"""The simulated provider's answer to "is this address on the router's NIC?" (the fabric).

In the simulation the provider's assignments live in ``ProviderFabric``: an address is
delivered to the NIC it is assigned to, whatever the guest OS has configured. This is the
sim's implementation of the engine's ``ProviderEvidence`` port, with the same meaning as
the instance-metadata reader on a real VM: ``assigned`` when the fabric assigns the address
to this router's capture NIC, ``not-assigned`` when it does not (or assigns it elsewhere),
``unknown`` when the capture interface sits on no provider fabric (``routerd serve
--backend sim`` builds a plain link: there is no provider to ask). Reading the fabric is a
dictionary look-up, so every call reads it afresh; the same dict is returned while nothing
changed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from routerd.core.assignment import Assignment, AssignmentQuery

from .fabric import ProviderFabric
from .world import World


class FabricEvidence:
    """``ProviderEvidence`` answered from the fabrics of ``world`` for ``host_name``."""

    def __init__(self, world: World, host_name: str) -> None:
        self.world = world
        self.host_name = host_name
        self._last: dict[str, Assignment] = {}

    def start(self, on_change: Callable[[], None]) -> None:
        """Nothing runs in the background: every pass reads the fabric."""
        del on_change

    def close(self) -> None:
        """Nothing to stop."""

    def assignments(self, queries: frozenset[AssignmentQuery]) -> Mapping[str, Assignment]:
        with self.world.lock:
            answers = {q.address: self._answer(q) for q in queries}
        if answers != self._last:
            self._last = answers
        return self._last

    def _fabric(self, ifname: str) -> ProviderFabric | None:
        port = (self.host_name, ifname)
        for medium in self.world.media.values():
            if isinstance(medium, ProviderFabric) and port in medium.nics:
                return medium
        return None

    def _answer(self, q: AssignmentQuery) -> Assignment:
        nic = f"{q.interface} (nicRef {q.nic_ref})" if q.nic_ref else q.interface
        fabric = self._fabric(q.interface) if q.interface else None
        if fabric is None:
            return Assignment(
                "unknown", f"no simulated {q.provider} fabric behind {q.interface or 'a NIC'}"
            )
        owner = fabric.owner_of(q.address)
        if owner == (self.host_name, q.interface):
            return Assignment("assigned", f"the {q.provider} fabric assigns {q.address} to {nic}")
        where = f"; it is assigned to {owner[0]}/{owner[1]}" if owner is not None else ""
        return Assignment(
            "not-assigned",
            f"the {q.provider} fabric does not assign {q.address} to this router's NIC "
            f"{nic}{where}: assign it there (the provider step)",
        )
