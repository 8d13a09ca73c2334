"""Network partitions in a world: cut two sides apart, heal them later.

A partition names two sides, each a site (every router in it), a router, or the route
reflector; an empty second side means everything else (every other router and the
reflector). While it holds:

* BGP sessions between the sides carry nothing; each drops when its hold timer expires
  (``routerd.backends.sim.bgp.fabric``) — a session to the reflector as well as a direct
  one between two sites' routers;
* the underlay forwards nothing between the two sides' routers, so WireGuard tunnels and
  handshakes between them fail (a trace shows the ``partition`` drop).

Healing restores both; sessions whose hold timer expired come back after the reflector's
``reconnect`` time. Partitions are counted per pair, so overlapping partitions each need
their own heal. Every partition and heal wakes every router.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from .bgp.reflector import REFLECTOR
from .faultkind import FaultInputError
from .world import World
from .worldfile.spec import WorldSpec


@dataclass
class Partition:
    """One partition.

    Attributes:
        id: ``p1``, ``p2`` ... (what ``heal`` takes).
        a / b: the sides as asked for (``b`` "" = everything else).
        side_a / side_b: the nodes each side stands for (routers, ``reflector``).
        active: still holds.
        at / healed_at: virtual times.
    """

    id: str
    a: str
    b: str
    side_a: tuple[str, ...]
    side_b: tuple[str, ...]
    at: float
    active: bool = True
    healed_at: float | None = None

    def pairs(self) -> list[frozenset[str]]:
        """Every pair of nodes it cuts apart."""
        return [frozenset((x, y)) for x in self.side_a for y in self.side_b]

    def router_pairs(self) -> list[frozenset[str]]:
        """The pairs of routers among them (the underlay's part)."""
        return [p for p in self.pairs() if REFLECTOR not in p]


class PartitionBook:
    """Active and healed partitions of one world."""

    def __init__(self, world: World, spec: WorldSpec) -> None:
        self.world = world
        self.spec = spec
        self.partitions: dict[str, Partition] = {}
        self._ids = itertools.count(1)

    def side(self, name: str, field: str) -> tuple[str, ...]:
        """The nodes a side name stands for.

        Raises:
            FaultInputError: no such site, router or reflector, or an ambiguous name.
        """
        kind, sep, rest = name.partition("/")
        if not sep:
            kind, rest = "", name
        routers = {r.name: r.site for r in self.spec.spec.routers}
        is_router = kind in ("", "router") and rest in routers
        is_site = kind in ("", "site") and self.spec.site(rest) is not None
        if not sep and rest == REFLECTOR:
            return (REFLECTOR,)
        if is_router and is_site:
            raise FaultInputError(
                field, f"{rest!r} is a site and a router: say site/{rest} or router/{rest}"
            )
        if is_router:
            return (rest,)
        if is_site:
            members = tuple(r for r, site in routers.items() if site == rest)
            if not members:
                raise FaultInputError(field, f"Site/{rest} has no router to cut off")
            return members
        sites = ", ".join(s.name for s in self.spec.spec.sites) or "none"
        raise FaultInputError(
            field,
            f"no site, router or reflector {name!r} (sites: {sites}; routers: "
            f"{', '.join(routers) or 'none'}; or {REFLECTOR})",
        )

    def cut(self, a: str, b: str = "") -> Partition:
        """Cut ``a`` and ``b`` apart now and wake every router.

        Raises:
            FaultInputError: a side names nothing, or the sides overlap; nothing changed.
        """
        if not a:
            raise FaultInputError("a", "name a site, a router or the reflector")
        side_a = self.side(a, "a")
        if b:
            side_b = self.side(b, "b")
        else:
            everyone = (*(r.name for r in self.spec.spec.routers), REFLECTOR)
            side_b = tuple(n for n in everyone if n not in side_a)
        both = sorted(set(side_a) & set(side_b))
        if both:
            raise FaultInputError("b", f"{', '.join(both)} would be on both sides")
        if not side_b:
            raise FaultInputError("b", f"nothing is left to cut {a} off from")
        with self.world.lock:
            p = Partition(f"p{next(self._ids)}", a, b, side_a, side_b, self.world.clock())
            self.partitions[p.id] = p
            self.world.cut_underlay(p.router_pairs())
        self.world.bgp.cut(p.pairs())
        self.world.notify_all()
        return p

    def heal(self, partition_id: str) -> Partition:
        """End a partition (a healed one stays healed) and wake every router.

        Raises:
            FaultInputError: no such partition.
        """
        p = self.partitions.get(partition_id)
        if p is None:
            known = ", ".join(self.partitions) or "none"
            raise FaultInputError("id", f"no partition {partition_id!r} (partitions: {known})")
        if not p.active:
            return p
        with self.world.lock:
            p.active, p.healed_at = False, self.world.clock()
            self.world.cut_underlay(p.router_pairs(), heal=True)
        self.world.bgp.heal(p.pairs())
        self.world.notify_all()
        return p

    def heal_all(self) -> list[Partition]:
        return [self.heal(p.id) for p in list(self.partitions.values()) if p.active]
