"""Route exchange, partitions and presence in a served world, through ``SimService``.

A three-site world runs under the real daemons (``routerd.testing``). Each router's route
exchange and presence source are the ones the sim backend hands out (``registry``), as the
daemon will pick them up when mobility is wired; the test drives them directly and looks
from outside through ``SimService``: ``GetExchange`` shows what each speaker originates and
receives and what the reflector holds, ``Partition``/``Heal`` cut a site off and bring it
back (sessions drop at the hold time, the underlay drops packets), ``MoveVm`` says which
routers heard the VM's announcement. BGP takes virtual time: nothing crosses the reflector
until the clock is advanced.
"""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from routerd.core.exchange import ImportPolicy, Neighbor, Origination, SpeakerSettings
from routerd.daemon import registry
from routerd.v1 import sim_pb2
from tests.support import mobility_world as mw

pytestmark = pytest.mark.integration

RR = "10.99.0.1"
POLICY = ImportPolicy(
    65000,
    ("10.77.0.0/16",),
    {1: frozenset({"10.99.0.11", "10.99.0.12"}), 2: frozenset({"10.99.0.21"})}
    | {3: frozenset({"10.99.0.31"})},
)


@pytest.fixture
def world(routerd_world, tmp_path: Path):  # type: ignore[no-untyped-def]
    """Name: world / Scope: function / Depends: routerd_world, tmp_path. The three-site
    world with a declared reflector (2 ms per hop) and every router's exchange started."""
    running = routerd_world(mw.world_yaml(f"  reflector: {{address: {RR}, delay: 2ms}}\n"))
    host = running.host
    running.ex = {}
    for router, (rid, site) in mw.SPEAKERS.items():
        rr = Neighbor(RR, description="reflector")
        settings = SpeakerSettings(65000, site, rid, rid, neighbors=(rr,))
        backend = host.daemons[router].backend
        ex = registry.route_exchange("sim", backend, settings, POLICY, state_dir=tmp_path)
        assert ex is not None
        ex.start(lambda r=router: host.scheduler.poke(r))
        running.ex[router] = ex
    yield running
    for ex in running.ex.values():
        ex.close(cleanup=True)


def route(prefix: str, site: int, seq: int, origin: str) -> sim_pb2.SimRoute:
    return sim_pb2.SimRoute(
        prefix=prefix,
        site_id=site,
        sequence=seq,
        next_hop=origin,
        neighbor=RR,
        originator_id=origin,
    )


def test_paths_cross_the_reflector_in_virtual_time_and_get_exchange_shows_them(world) -> None:
    home = Origination("10.77.0.21", 1, 1, "10.99.0.11")
    assert world.ex["ra"].sync({"10.77.0.21": home}) == []
    (rb,) = world.exchange("rb").speakers
    assert [s.state for s in rb.sessions] == ["active"], "the clock has not moved"
    world.advance(0.01)
    (rb,) = world.exchange("rb").speakers
    (session,) = rb.sessions
    assert (session.neighbor, session.state, session.peer) == (RR, "established", "reflector")
    assert list(rb.received) == [route("10.77.0.21/32", 1, 1, "10.99.0.11")]
    ex = world.exchange()
    assert [s.router for s in ex.speakers] == ["ra", "ra2", "rb", "rc"]
    assert [(o.prefix, o.sequence) for o in ex.speakers[0].originated] == [("10.77.0.21/32", 1)]
    rr = ex.reflector
    assert (rr.address, rr.delay.ToMilliseconds(), rr.reconnect.seconds) == (RR, 2, 1)
    assert sorted(rr.clients) == ["ra", "ra2", "rb", "rc"]
    assert [(a.client, a.route.prefix) for a in rr.accepted] == [("ra", "10.77.0.21/32")]
    assert world.ex["rb"].view().paths["10.77.0.21"][0].site_id == 1


def test_a_site_cut_off_loses_its_sessions_at_the_hold_time_and_heals(world) -> None:
    world.ex["ra"].sync({"10.77.0.21": Origination("10.77.0.21", 1, 1, "10.99.0.11")})
    world.advance(0.01)
    p = world.partitions.cut("site-a")
    assert (list(p.side_a), list(p.side_b)) == (["ra", "ra2"], ["rb", "rc", "reflector"])
    trace = world.trace("ra", "198.51.102.10")
    assert (trace.delivered, trace.drop_reason, trace.drop_host) == (False, "partition", "internet")
    world.advance(8.9)
    assert len(world.exchange("rb").speakers[0].received) == 1, "held until the hold time"
    world.advance(0.2)
    (ra,) = world.exchange("ra").speakers
    assert ra.sessions[0].state == "active"
    assert "hold timer expired" in ra.sessions[0].last_error
    assert list(world.exchange("rb").speakers[0].received) == []
    assert [x.id for x in world.partitions.active()] == [p.id]

    world.partitions.heal(p)
    assert world.trace("ra", "198.51.102.10").delivered
    world.advance(1.01)
    assert world.exchange("ra").speakers[0].sessions[0].state == "established"
    world.advance(0.01)
    assert len(world.exchange("rb").speakers[0].received) == 1
    assert world.partitions.active() == []


def test_move_vm_says_who_heard_it_and_the_presence_source_has_the_evidence(world) -> None:
    host = world.host
    sources = {r: registry.presence_source("sim", host.daemons[r].backend) for r in ("ra", "rb")}
    for source in sources.values():
        assert source is not None
        source.start(lambda: None)
        source.watch("ens19", ["10.77.0.21"])
    move = world.move_vm("vm1", "lan-b")
    assert (move.announce, list(move.heard_by)) == ("garp", ["rb"])
    (evidence,) = sources["rb"].drain()
    assert (evidence.address, evidence.kind, evidence.mac) == ("10.77.0.21", "garp", mw.VM1_MAC)
    assert evidence.at == pytest.approx(move.at.ToNanoseconds() / 1e9)
    assert sources["ra"].drain() == []
    assert world.announce_vm("vm1", "rarp") == ["rb"]
    assert world.move_vm("vm1", "lan-a", announce="none").heard_by == []
    for source in sources.values():
        source.close()


@pytest.mark.parametrize(
    ("call", "says"),
    [
        (lambda w: w.partitions.cut("site-x"), "a: no site, router or reflector 'site-x'"),
        (lambda w: w.partitions.cut("site-a", "ra2"), "b: ra2 would be on both sides"),
        (lambda w: w.partitions.heal("p7"), "id: no partition 'p7'"),
        (lambda w: w.exchange("nobody"), "router: no router 'nobody'"),
        (lambda w: w.move_vm("vm1", "lan-b", announce="loud"), "announce: 'loud': use garp"),
        (lambda w: w.announce_vm("vm9"), "vm: no VM 'vm9'"),
    ],
)
def test_bad_mobility_requests_name_the_parameter(world, call, says) -> None:
    with pytest.raises(grpc.RpcError) as err:
        call(world)
    assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert says in err.value.details()
    assert world.partitions.active() == []
