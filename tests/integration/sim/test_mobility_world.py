"""Address mobility end to end in the shipped three-site world, without root.

``examples/worlds/mobility.yaml`` runs the real daemons (``routerd.testing``): each router's
mobility component steps its controller in the engine, announces through the world's BGP
fabric and hears its segment. Homes start the way they do in the namespace lab: the on-prem
VMs announce themselves, and the cloud VM's address is moved to site-c explicitly (a cloud
fabric carries no ARP). What is checked is what an operator relies on:

* a live migration moves the home (every router agrees, with the next sequence and the
  VM's gratuitous ARP as evidence), the claims follow (the old home captures, the others
  deliver to the new one), traffic flows both ways, and the arriving VM is told about the
  addresses it left behind;
* an explicit ``MoveAddress`` of one and of 100 addresses, answered once originated;
* a partition that outlasts the BGP hold time keeps the old home as stale while it lasts
  and heals to one home, never two;
* a restarted routerd keeps its sequences and pins (the store) and adopts its speaker;
* a pin elsewhere derives a claim held at ``delivering`` until the pinned site announces;
* a redundant pair's standby (``set_active_source``) withdraws everything it originates in
  one pass, keeps deciding meanwhile, and re-originates all of it when active again.
"""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from tests.support.configs import EXAMPLES

pytestmark = pytest.mark.integration

WORLD = EXAMPLES / "worlds" / "mobility.yaml"
VM_A, MIGRANT, VM_B, VM_C = "10.77.1.10", "10.77.1.50", "10.77.2.10", "10.77.3.10"
MIGRANT_MAC = "02:00:00:77:01:50"
ROUTERS = ("ra", "rb", "rc")


def claim(address: str) -> str:
    return f"mobility.lab.{address.replace('.', '-')}"


def start(routerd_world, *, cloud: bool = True):  # type: ignore[no-untyped-def]
    """The mobility world with the on-prem VMs homed by their gratuitous ARP and (``cloud``)
    the cloud VM's address moved to site-c, settled."""
    w = routerd_world(file=Path(WORLD))
    for vm in ("vm-a", "migrant", "vm-b"):
        assert w.announce_vm(vm)
    if cloud:
        (moved,) = w.mobility.move("rc", [VM_C], "site-c", cause="the cloud VM")
        assert moved.status == "moved", moved
    w.advance(5)  # paths cross the reflector; handshakes and path checks settle
    return w


@pytest.fixture
def world(routerd_world):  # type: ignore[no-untyped-def]
    """Name: world / Scope: function / Depends: routerd_world. The mobility world with every
    VM homed (on-prem ones by their gratuitous ARP, the cloud one moved to site-c)."""
    return start(routerd_world)


def homes(world, address: str) -> dict[str, tuple[str, int]]:  # type: ignore[no-untyped-def]
    out = {}
    for router in ROUTERS:
        h = world.mobility.where(router, address)
        out[router] = (h.home, h.sequence)
    return out


def reflector_paths(world, address: str) -> list[tuple[str, int, int]]:  # type: ignore[no-untyped-def]
    rr = world.exchange().reflector
    return sorted(
        (r.client, r.route.site_id, r.route.sequence)
        for r in rr.accepted
        if r.route.prefix == f"{address}/32"
    )


def test_every_vm_is_homed_and_every_router_holds_the_claims_for_the_others(world) -> None:
    assert homes(world, MIGRANT) == dict.fromkeys(ROUTERS, ("site-a", 1))
    assert homes(world, VM_C) == dict.fromkeys(ROUTERS, ("site-c", 1))
    states = world.states()
    expected = {
        f"{r}/{claim(a)}": ("verified", "")
        for r, addresses in {
            "ra": (VM_B, VM_C),
            "rb": (VM_A, MIGRANT, VM_C),
            "rc": (VM_A, MIGRANT, VM_B),
        }.items()
        for a in addresses
    }
    assert states == expected
    where = world.mobility.where("ra", MIGRANT)
    # homed by its gratuitous ARP; since then it answered routerd's probes every second
    assert (where.origin, where.originating) == ("presence", True)
    assert where.evidence.kind == "probe-answer"
    assert (where.evidence.mac, where.evidence.interface) == (MIGRANT_MAC, "ens19")
    remote = world.mobility.where("rc", MIGRANT)
    assert (remote.origin, remote.evidence.kind, remote.evidence.peer) == (
        "bgp",
        "bgp",
        "10.255.0.1",
    )
    assert world.claims("ra")[0].origin == "mobility"


def test_a_live_migration_moves_the_home_and_the_traffic_follows(world) -> None:
    assert world.trace("vm-c", MIGRANT).delivered_to == "migrant"
    move = world.move_vm("migrant", "lan-b")
    assert list(move.heard_by) == ["rb"]
    world.advance(0.01)  # one hop to the reflector, one back: 2 ms
    assert homes(world, MIGRANT) == dict.fromkeys(ROUTERS, ("site-b", 2))
    assert reflector_paths(world, MIGRANT) == [("rb", 2, 2)], "never two homes"
    at_b = world.mobility.where("rb", MIGRANT)
    assert (at_b.origin, at_b.evidence.mac, at_b.evidence.interface) == (
        "presence",
        MIGRANT_MAC,
        "ens19",
    )
    oracle = world.host.world
    for vm, address in (("vm-a", VM_A), ("vm-b", VM_B), ("vm-c", VM_C)):
        assert oracle.ping(vm, MIGRANT).ok, vm  # a request and its reply, both ways
        assert oracle.ping("migrant", address).ok, vm
    via = [h.host for h in world.trace("vm-c", MIGRANT).hops if h.event == "forward"]
    assert "rb" in via and "ra" not in via
    world.advance(5)
    states = world.states()
    assert f"rb/{claim(MIGRANT)}" not in states  # homed here now: nothing to capture
    assert states[f"ra/{claim(MIGRANT)}"] == ("verified", "")  # the old home captures
    assert states[f"rc/{claim(MIGRANT)}"] == ("verified", "")
    (last,) = world.mobility.history("ra", MIGRANT)[-1:]
    assert (last.from_site, last.to_site, last.sequence, last.cause) == (
        "site-a",
        "site-b",
        2,
        "bgp",
    )
    (arrived,) = world.mobility.history("rb", MIGRANT)[-1:]
    assert (arrived.cause, arrived.evidence) == ("presence", f"garp from {MIGRANT_MAC}")
    # the arriving VM is told, and only it, that what it left behind is behind rb now
    told = [g for g in world.host.world.garps if g.to == MIGRANT_MAC]
    assert [(g.host, g.dev, g.address) for g in told] == [("rb", "ens19", VM_A)]
    # the old home announced its new capture to the hosts that stayed
    assert ("ra", "ens19", MIGRANT) in [(g.host, g.dev, g.address) for g in world.host.world.garps]


def test_move_address_one_and_a_hundred_at_once(world) -> None:
    (one,) = world.mobility.move("rc", ["10.77.5.1"], "site-c", cause="wave 1")
    assert (one.status, one.sequence) == ("moved", 1)
    wave = [f"10.77.6.{i}" for i in range(1, 101)]
    results = world.mobility.move("rc", wave, "site-c", cause="wave 2")
    assert {r.status for r in results} == {"moved"} and len(results) == 100
    world.advance(0.01)
    for router in ("ra", "rb"):
        known = world.mobility.homes(router)
        assert {a for a in wave if known[a].home == "site-c"} == set(wave), router
        names = {c.name for c in world.claims(router)}
        assert {claim(a) for a in wave} <= names
    rc_origin = world.mobility.where("rc", "10.77.6.7")
    assert (rc_origin.origin, rc_origin.evidence.detail, rc_origin.originating) == (
        "explicit",
        "wave 2",
        True,
    )
    again = world.mobility.move("rc", ["10.77.5.1"], "site-c")
    assert [r.status for r in again] == ["already-home"]
    with pytest.raises(grpc.RpcError) as err:
        world.mobility.move("ra", ["10.77.5.2", "10.77.5.3"], "site-c")
    assert err.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert "call MoveAddress on site-c's router (10.255.0.31" in err.value.details()
    assert "remote-site" in err.value.details()
    assert world.mobility.where("ra", "10.77.5.2").home == ""  # all or none: nothing moved


def test_a_partition_keeps_the_home_stale_then_heals_to_one_home(world) -> None:
    with world.partitions.cut_off("site-b", "reflector"):
        world.advance(10)  # past the 9 s hold time: rb's session is down
        stale = world.mobility.where("rb", MIGRANT)
        assert (stale.home, stale.state) == ("site-a", "stale")
        # the claim stays (capture and delivery kept for staleTime) but is not verified:
        # first for want of the home's announcement; then the path check fails too, as
        # the reflector withdrew rb's paths from ra (a withdrawal over ra's live session)
        events = [(e.to_state, e.reason) for e in world.history("rb", claim(MIGRANT))]
        assert ("degraded", "home-unconfirmed") in events
        assert world.claim("rb", claim(MIGRANT)).state == "degraded"
        move = world.move_vm("migrant", "lan-b")  # the VM moves while site-b is cut off
        assert list(move.heard_by) == ["rb"]
        world.advance(0.01)
        assert world.mobility.where("rb", MIGRANT).home == "site-b"
        assert world.mobility.where("ra", MIGRANT).home == "site-a"  # it cannot know yet
    world.advance(3)  # the session comes back within the reflector's reconnect time
    assert homes(world, MIGRANT) == dict.fromkeys(ROUTERS, ("site-b", 2))
    assert reflector_paths(world, MIGRANT) == [("rb", 2, 2)], "never two homes"
    world.advance(5)
    assert world.states()[f"ra/{claim(MIGRANT)}"] == ("verified", "")


def test_a_restarted_router_keeps_its_sequences_and_pins_and_adopts_its_speaker(world) -> None:
    world.move_vm("migrant", "lan-b")
    world.advance(0.01)
    world.mobility.pin("rb", "10.77.7.7", "site-c", "kept in the cloud")
    before = [s.originated for s in world.exchange("rb").speakers]
    world.restart("rb")
    assert [s.originated for s in world.exchange("rb").speakers] == before  # nothing withdrawn
    pin = world.mobility.where("rb", "10.77.7.7").pin
    assert (pin.site, pin.cause) == ("site-c", "kept in the cloud")
    assert world.mobility.where("rb", MIGRANT).sequence == 2
    world.move_vm("migrant", "lan-a")  # back: site-a takes it with the next sequence
    world.advance(0.01)
    world.move_vm("migrant", "lan-b")
    world.advance(0.01)
    assert homes(world, MIGRANT) == dict.fromkeys(ROUTERS, ("site-b", 4))
    assert [m.sequence for m in world.mobility.history("rb", MIGRANT) if m.to_site] == [1, 2, 3, 4]


def test_a_pin_elsewhere_is_held_until_the_pinned_site_announces(routerd_world) -> None:
    world = start(routerd_world, cloud=False)  # the cloud VM runs, but nobody announces it
    world.mobility.pin("ra", VM_C, "site-c", "maintenance")
    world.advance(5)
    held = world.claim("ra", claim(VM_C))
    assert (held.state, held.reason) == ("delivering", "home-not-originating")
    assert "pinned at site-c" in held.message
    assert world.host.world.ping("vm-a", VM_C).ok  # the dataplane works; the far end is unsure
    assert world.mobility.where("ra", VM_C).origin == "pin"
    world.mobility.move("rc", [VM_C], "site-c")
    world.advance(0.01)
    assert world.claim("ra", claim(VM_C)).state == "verified"
    assert world.mobility.unpin("ra", VM_C) is True


def test_a_standby_withdraws_everything_it_originates_and_active_again_restores_it(world) -> None:
    world.move_vm("migrant", "lan-b")
    world.advance(0.01)
    originated = {o.prefix for s in world.exchange("rb").speakers for o in s.originated}
    assert originated == {f"{VM_B}/32", f"{MIGRANT}/32"}
    active = [False]
    component = world.host.daemons["rb"].mobility_component
    component.set_active_source(lambda: active[0])
    world.advance(0.01)
    assert [list(s.originated) for s in world.exchange("rb").speakers] == [[]]
    assert reflector_paths(world, MIGRANT) == [] and reflector_paths(world, VM_B) == []
    assert world.mobility.where("ra", MIGRANT).home == ""  # withdrawn over a live session
    where = world.mobility.where("rb", MIGRANT)  # the standby keeps deciding
    assert (where.home, where.sequence) == ("site-b", 2)
    world.advance(5)  # full steps and probe rounds: still nothing announced
    assert [list(s.originated) for s in world.exchange("rb").speakers] == [[]]
    active[0] = True
    component.wake()
    world.advance(0.01)
    assert reflector_paths(world, MIGRANT) == [("rb", 2, 2)]
    assert reflector_paths(world, VM_B) == [("rb", 2, 1)]
    assert homes(world, MIGRANT) == dict.fromkeys(ROUTERS, ("site-b", 2))
    world.advance(5)
    assert world.states()[f"ra/{claim(MIGRANT)}"] == ("verified", "")
