"""Partitions of a world: which nodes a side stands for, the underlay cut, the BGP cut.

A site stands for every router in it, a router for itself, ``reflector`` for the route
reflector; no second side means everything else. While a partition holds, packets between
the two sides' routers are dropped where the internet would forward them (a trace shows
``partition``) and their BGP sessions carry nothing; healing restores both.
"""

from __future__ import annotations

import pytest

from routerd.backends.sim.bgp.exchange import SimExchange
from routerd.backends.sim.faultkind import FaultInputError
from routerd.backends.sim.packet import Drop
from routerd.backends.sim.timers import advance
from routerd.core.exchange import ImportPolicy, Neighbor, SpeakerSettings
from tests.support import mobility_world as mw

RB_PUBLIC = "198.51.102.10"
RC_PUBLIC = "203.0.113.10"


def test_sides_name_sites_routers_and_the_reflector() -> None:
    _, control, _ = mw.build()
    book = control.partitions
    assert book.side("site-a", "a") == ("ra", "ra2")
    assert book.side("router/rb", "a") == ("rb",)
    assert book.side("reflector", "b") == ("reflector",)
    p = book.cut("site-a")
    assert (p.side_a, p.side_b) == (("ra", "ra2"), ("rb", "rc", "reflector"))
    with pytest.raises(FaultInputError, match=r"a: no site, router or reflector 'site-x'"):
        book.cut("site-x", "rb")
    with pytest.raises(FaultInputError, match="b: ra would be on both sides"):
        book.cut("site-a", "ra")
    with pytest.raises(FaultInputError, match=r"id: no partition 'p9' \(partitions: p1\)"):
        book.heal("p9")
    assert book.heal("p1").active is False
    assert book.heal("p1").healed_at is not None, "healing twice changes nothing"


def test_the_underlay_between_cut_sites_forwards_nothing_until_healed() -> None:
    world, control, _ = mw.build()
    assert world.trace("ra", RB_PUBLIC).delivered
    p = control.partitions.cut("site-a", "site-b")
    cut = world.trace("ra", RB_PUBLIC)
    assert not cut.delivered
    assert (cut.drop_host, cut.drop_reason) == ("internet", Drop.PARTITION)
    assert cut.drop_detail == "ra and rb are cut apart"
    assert world.trace("ra", RC_PUBLIC).delivered, "site-c is not part of it"
    assert world.trace("ra2", RC_PUBLIC).delivered
    control.partitions.heal(p.id)
    assert world.trace("ra", RB_PUBLIC).delivered


def test_a_site_cut_off_loses_the_reflector_and_the_others_keep_it() -> None:
    world, control, clock = mw.build()
    exchanges = {}
    for router, (rid, site) in mw.SPEAKERS.items():
        rr = Neighbor("10.99.0.1", description="rr")
        settings = SpeakerSettings(65000, site, rid, rid, neighbors=(rr,))
        policy = ImportPolicy(65000, ("10.77.0.0/16",), {site: frozenset({rid})})
        exchanges[router] = SimExchange(world.bgp, router, settings, policy)
        exchanges[router].start(lambda: None)
    advance(world.timers, clock, 0.01)
    p = control.partitions.cut("site-a")
    advance(world.timers, clock, 10.0)
    state = {r: ex.view().sessions["10.99.0.1"].state for r, ex in exchanges.items()}
    assert state == {"ra": "active", "ra2": "active", "rb": "established", "rc": "established"}
    control.partitions.heal(p.id)
    advance(world.timers, clock, 1.0)
    assert all(ex.view().sessions["10.99.0.1"].state == "established" for ex in exchanges.values())
