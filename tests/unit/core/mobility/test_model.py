"""Three sites in lockstep under random VM moves, delays and partitions (hypothesis).

Properties, checked over every run:

* once every message is delivered and partitions are healed, no address is originated by
  two sites, a VM that stays at a site ends up homed there, as seen from every site, and an
  address whose VM is gone is originated nowhere (but where an explicit move put it and no
  host answered since: an explicit home holds until contradicted);
* stale evidence never re-claims: a site starts announcing an address on presence only
  with evidence heard after it last lost the address (the model's VMs are heard only
  where they are);
* sequences only grow: each announcement a site starts for an address carries a sequence
  above every one that site announced for it before.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routerd.core.mobility.homes import DUPLICATE_WINDOW
from tests.unit.core.mobility.model import ADDRESSES, SITES, World, _pairs

WHERE = st.sampled_from((*SITES, None))
EVENT = st.one_of(
    st.tuples(st.just("move"), st.sampled_from(ADDRESSES), WHERE),
    st.tuples(st.just("partition"), st.sampled_from(_pairs()), st.none()),
    st.tuples(st.just("heal"), st.sampled_from(_pairs()), st.none()),
    st.tuples(st.just("explicit"), st.sampled_from(ADDRESSES), st.sampled_from(SITES)),
)


def run(world: World, events: list, waits: list[int]) -> None:
    for (kind, what, arg), wait in zip(events, waits, strict=True):
        if kind == "move":
            world.move_vm(what, arg)
        elif kind == "partition":
            world.partition(*what)
        elif kind == "heal":
            world.heal(*what)
        else:
            world.explicit(what, arg)
        for _ in range(wait):
            world.tick()


def settle(world: World) -> None:
    """Heal everything, then run until nothing is in flight and nothing changes (and past
    any duplicate-detection window a flapping VM may have opened)."""
    for pair in _pairs():
        world.heal(*pair)
    world.now += DUPLICATE_WINDOW  # let any damping expire before the end state is judged
    calm, ticks = 0, 0
    while calm < 8:
        before = {s: dict(world.announcing[s]) for s in SITES}
        world.tick()
        ticks += 1
        calm = calm + 1 if world.quiet() and before == world.announcing else 0
        assert ticks < 300, "the sites never settled"


def check_history(world: World) -> None:
    seqs: dict[tuple[str, str], int] = {}
    for s in world.started:
        key = (s.site, s.address)
        assert s.sequence > seqs.get(key, 0), f"sequence did not grow: {s}"
        seqs[key] = s.sequence
    for s in world.started:
        # an explicit move here since the loss originates whatever the evidence says (and
        # becomes presence-caused once the host answers): only a re-claim by presence
        # alone must stand on evidence heard after the loss
        asked = any(
            site == s.site and address == s.address and s.lost_at <= at <= s.at
            for at, site, address in world.explicits
        )
        if s.cause == "presence" and s.lost_at and not asked:
            assert s.evidence_at > s.lost_at, f"stale evidence re-claimed: {s}"


def check_end(world: World) -> None:
    for address in ADDRESSES:
        owners = world.originators(address)
        assert len(owners) <= 1, f"{address} originated by {owners}"
        vm = world.vm[address]
        if vm is None:
            causes = [world.ctl[s].store.mobility_load().own[address].cause for s in owners]
            assert causes in ([], ["explicit"]), f"{address}: no VM, originated by {owners}"
        if vm is not None:
            assert owners == [vm], f"{address}: VM at {vm}, originated by {owners}"
            for site in SITES:
                assert world.home_at(site, address) == vm, (site, address)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    seed=st.integers(0, 2**16),
    events=st.lists(EVENT, min_size=1, max_size=14),
    data=st.data(),
)
def test_three_sites_converge_safely(seed: int, events: list, data: st.DataObject) -> None:
    world = World(seed)
    for _ in range(3):
        world.tick()
    waits = data.draw(st.lists(st.integers(0, 4), min_size=len(events), max_size=len(events)))
    run(world, events, waits)
    settle(world)
    assert world.errors == []
    check_history(world)
    check_end(world)


def test_explicit_move_back_in_the_tick_a_site_lost_the_address() -> None:
    """Found by the property test: site-a withdraws (its probes go unanswered) and, in the
    same instant, the VM comes back and an explicit move names site-a. The origination the
    move starts turns presence-caused once the host answers; it stands on the move, not on
    evidence older than the loss, and the end state is one home where the VM is."""
    world = World(0)
    for _ in range(3):
        world.tick()
    address = "10.77.3.9"
    events = [
        ("partition", ("site-a", "site-b"), None),
        ("move", address, "site-a"),
        ("move", address, "site-b"),
        ("partition", ("site-a", "site-b"), None),
        ("move", address, "site-a"),
        ("explicit", address, "site-a"),
    ]
    run(world, events, [0, 0, 0, 4, 0, 0])
    settle(world)
    assert world.errors == []
    check_history(world)
    check_end(world)
    assert world.originators(address) == ["site-a"]


def test_live_migration_between_two_onprem_sites() -> None:
    world = World(seed=1, max_delay=1)
    world.tick()
    world.move_vm(ADDRESSES[0], "site-a")
    for _ in range(4):
        world.tick()
    assert world.originators(ADDRESSES[0]) == ["site-a"]
    world.move_vm(ADDRESSES[0], "site-b")
    world.tick()
    assert "site-b" in world.originators(ADDRESSES[0])  # one pass after the GARP
    settle(world)
    check_end(world)
    check_history(world)
    assert [(s.site, s.sequence) for s in world.started] == [("site-a", 1), ("site-b", 2)]


def test_partition_heals_without_two_homes() -> None:
    world = World(seed=2, max_delay=0)
    world.tick()
    world.move_vm(ADDRESSES[0], "site-a")
    for _ in range(3):
        world.tick()
    world.partition("site-a", "site-b")
    world.partition("site-a", "site-c")
    world.move_vm(ADDRESSES[0], "site-b")  # site-a cannot hear about it
    for _ in range(2):
        world.tick()
    assert sorted(world.originators(ADDRESSES[0])) == ["site-a", "site-b"]  # while cut off
    settle(world)
    check_end(world)
    check_history(world)
