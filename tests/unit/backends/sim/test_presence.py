"""``SimPresence``: what routers hear on a simulated world's segments, in virtual time.

A VM that moves announces itself at its new segment (gratuitous ARP, or RARP naming only
its MAC) and is heard there at the moment of the move, and nowhere else; probes find a VM
where it is and not where it was; a router that only proxies an address never answers for
it; what a router sends itself, or what comes from an ignored MAC, is never evidence; a
provider fabric carries none of it. Fed to ``PresenceTracker``, the old site's silence
turns into ``absent`` exactly ``absentAfter`` probe rounds later.
"""

from __future__ import annotations

import pytest

from routerd.backends.sim.faultkind import FaultInputError
from routerd.backends.sim.presence import ANSWER_DELAY, SimPresence
from routerd.backends.sim.timers import advance
from routerd.core.errors import DataplaneError
from routerd.core.presence import PresenceEvidence, PresenceTracker
from tests.support import mobility_world as mw

VM1 = "10.77.0.21"
T0 = 1_000_000.0


@pytest.fixture
def bed():  # type: ignore[no-untyped-def]
    """Name: bed / Scope: function / Depends: nothing. (world, control, clock, sources):
    the three-site world with a listening SimPresence on every router's ens19 for VM1."""
    world, control, clock = mw.build()
    sources = {}
    for router in ("ra", "ra2", "rb"):
        source = SimPresence(world, router)
        source.start(lambda: None)
        source.watch("ens19", [VM1, "10.77.0.22"])
        sources[router] = source
    yield world, control, clock, sources
    for source in sources.values():
        source.close()


def test_a_moved_vm_is_heard_at_its_new_site_at_the_move_and_nowhere_else(bed) -> None:
    world, control, clock, src = bed
    wakes: list[float] = []
    src["rb"].close()
    src["rb"] = SimPresence(world, "rb")
    src["rb"].start(lambda: wakes.append(clock.now))
    src["rb"].watch("ens19", [VM1])
    clock.now = T0 + 7.5
    move = control.move_vm("vm1", "lan-b")
    assert move.heard_by == ("rb",) and move.announce == "garp"
    assert src["rb"].drain() == [PresenceEvidence(VM1, "garp", mw.VM1_MAC, "ens19", T0 + 7.5)]
    assert wakes == [T0 + 7.5], "the engine is woken at once"
    assert src["ra"].drain() == [] and src["ra2"].drain() == []


def test_probes_find_a_vm_where_it_is_and_not_where_it_was(bed) -> None:
    world, control, clock, src = bed
    src["ra"].probe("ens19", [VM1])
    assert src["ra"].drain() == [], "an answer takes a round trip"
    advance(world.timers, clock, ANSWER_DELAY)
    (answer,) = src["ra"].drain()
    assert (answer.kind, answer.mac, answer.at) == ("probe-answer", mw.VM1_MAC, T0 + ANSWER_DELAY)
    assert src["ra2"].drain() == [], "a probe's answer goes to the prober only"

    control.move_vm("vm1", "lan-b", announce="none")
    src["ra"].probe("ens19", [VM1])
    src["rb"].probe("ens19", [VM1])
    advance(world.timers, clock, 1.0)
    assert src["ra"].drain() == []
    assert [e.kind for e in src["rb"].drain()] == ["probe-answer"]


def test_the_old_site_goes_absent_after_its_probe_rounds_and_the_new_one_present_at_once(
    bed,
) -> None:
    world, control, clock, src = bed
    old, new = PresenceTracker(absent_after=3), PresenceTracker(absent_after=3)
    old.track([VM1])
    new.track([VM1])

    def rounds(router: str, tracker: PresenceTracker) -> list[tuple[str, float]]:
        went = tracker.observe(src[router].drain())
        due = tracker.due_probes(clock.now, 1.0)
        if due.addresses:
            src[router].probe("ens19", due.addresses)
        return [(t.new, t.at) for t in (*went, *due.transitions)]

    seen: dict[str, list[tuple[str, float]]] = {"ra": [], "rb": []}
    for step in range(60):  # 6 s in 100 ms steps
        if step == 10:
            control.move_vm("vm1", "lan-b")
        for router, tracker in (("ra", old), ("rb", new)):
            seen[router] += rounds(router, tracker)
        advance(world.timers, clock, 0.1)
    assert seen["ra"][0] == ("present", T0 + ANSWER_DELAY)
    assert seen["ra"][1:] == [("absent", pytest.approx(T0 + 4.0))], "3 unanswered rounds"
    assert seen["rb"] == [("present", pytest.approx(T0 + 1.0))], "heard at the move"
    assert old.get(VM1).state == "absent" and new.get(VM1).state == "present"  # type: ignore[union-attr]


def test_rarp_names_only_the_mac_and_a_silent_vm_is_heard_by_nobody(bed) -> None:
    _, control, clock, src = bed
    move = control.move_vm("vm1", "lan-b", announce="rarp")
    assert move.heard_by == ("rb",)
    assert src["rb"].drain() == [PresenceEvidence("", "rarp", mw.VM1_MAC, "ens19", clock.now)]
    assert control.move_vm("vm1", "lan-a", announce="none").heard_by == ()
    assert src["ra"].drain() == []
    assert control.announce_vm("vm1") == ("ra", "ra2")
    with pytest.raises(FaultInputError, match="announce: 'arp': use garp"):
        control.announce_vm("vm1", "arp")


def test_own_frames_and_ignored_macs_are_never_evidence(bed) -> None:
    world, _, _, src = bed
    ra_mac = world.hosts["ra"].iface("ens19").mac
    src["ra2"].watch("ens19", [VM1], ignore_macs=[ra_mac.upper()])
    world.record_garp("ra", "ens19", VM1)  # ra captures VM1 and announces it
    assert src["ra"].drain() == [], "a router does not hear itself"
    assert src["ra2"].drain() == [] and src["ra2"].stats["ignored-mac"] == 1
    src["ra2"].watch("ens19", [VM1])
    world.record_garp("ra", "ens19", VM1)
    assert [(e.kind, e.mac) for e in src["ra2"].drain()] == [("garp", ra_mac)]


def test_a_router_that_proxies_an_address_does_not_answer_a_probe_for_it(bed) -> None:
    world, _, clock, src = bed
    ra2 = world.hosts["ra2"]
    ra2.set_sysctl("net.ipv4.ip_forward", "1")
    world.add_route("ra2", "10.77.0.22/32", gateway="198.51.101.1", dev="public")
    ra2.set_sysctl("net.ipv4.conf.ens19.proxy_arp", "1")
    trace = world.trace("vm1", "10.77.0.22")
    assert any("proxy ra2" in h.detail for h in trace.hops), "ra2 answers ARP as a proxy"
    src["ra"].probe("ens19", ["10.77.0.22"])
    advance(world.timers, clock, 1.0)
    assert src["ra"].drain() == []


def test_unwatched_addresses_links_down_and_fabrics_give_nothing(bed) -> None:
    world, control, clock, src = bed
    src["rb"].watch("ens19", ["10.77.0.99"])
    control.move_vm("vm1", "lan-b")
    assert src["rb"].drain() == [] and src["rb"].stats["unwatched"] == 1
    world.hosts["rb"].iface("ens19").up = False
    src["rb"].watch("ens19", [VM1])
    control.move_vm("vm1", "lan-a")
    control.move_vm("vm1", "lan-b")
    assert src["rb"].drain() == [], "a link that is down hears nothing"
    rc = SimPresence(world, "rc")
    rc.start(lambda: None)
    rc.watch("eth0", ["10.77.128.21"])
    assert control.announce_vm("vm3") == ()
    rc.probe("eth0", ["10.77.128.21"])
    advance(world.timers, clock, 1.0)
    assert rc.drain() == [], "a provider fabric carries no ARP between VMs"
    rc.close()


def test_bad_requests_are_refused_and_change_nothing(bed) -> None:
    _, _, _, src = bed
    with pytest.raises(DataplaneError, match="no such device"):
        src["ra"].watch("eth9", [VM1])
    with pytest.raises(ValueError):
        src["ra"].watch("ens19", ["10.77.0.300"])
    with pytest.raises(ValueError, match="not a MAC address"):
        src["ra"].watch("ens19", [VM1], ignore_macs=["02:00"])
    src["ra"].watch("ens19", [])
    with pytest.raises(DataplaneError, match="watch it first"):
        src["ra"].probe("ens19", [VM1])
    with pytest.raises(RuntimeError, match="already started"):
        src["ra"].start(lambda: None)


def test_a_full_queue_drops_and_says_so_once(bed) -> None:
    world, control, _, _ = bed
    small = SimPresence(world, "rb", queue_limit=1)
    small.start(lambda: None)
    small.watch("ens19", [VM1])
    control.move_vm("vm1", "lan-b")
    control.announce_vm("vm1")
    assert small.stats["queue-drops"] == 1
    assert small.lost() is True and small.lost() is False
    assert len(small.drain()) == 1
    small.close()
