"""SimService over gRPC on a running world: every call's contract, and bad input.

World-changing calls return only once every router has reacted, so the claim read right
after them is final; bad parameters are INVALID_ARGUMENT naming the parameter and what
exists; traces show the addresses each hop saw.
"""

from __future__ import annotations

import grpc
import pytest
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from routerd.v1 import sim_pb2

pytestmark = pytest.mark.integration


def test_world_describes_routers_sockets_vms_and_segments(routerd_example_world):
    w = routerd_example_world.world()
    assert w.name == "lab-azure"
    assert [(r.name, r.site, r.hosted) for r in w.routers] == [
        ("cloud-router", "cloud", True),
        ("onprem-router", "onprem", True),
    ]
    assert all(r.socket.endswith(f"/{r.name}.sock") for r in w.routers)
    assert {(v.name, v.segment, v.site) for v in w.vms} == {
        ("cloud-vm", "cloud-fabric", "cloud"),
        ("onprem-vm", "onprem-lan", "onprem"),
        ("onprem-gw", "onprem-lan", "onprem"),
    }
    fabric = next(s for s in w.segments if s.name == "cloud-fabric")
    assert (fabric.provider, fabric.subnet) == ("azure", "10.40.8.0/24")
    uplinks = {(s.name, s.site, s.uplink_of) for s in w.segments if s.uplink_of}
    assert uplinks == {
        ("cloud-uplink", "cloud", "cloud-router"),
        ("onprem-uplink", "onprem", "onprem-router"),
    }


def test_every_router_socket_serves_the_same_world(routerd_example_world):
    world = routerd_example_world
    fault = world.faults.inject("link-down", host="onprem-router", interface="wg-sam")
    from routerd.v1 import sim_pb2_grpc

    other = sim_pb2_grpc.SimServiceStub(world.channel("onprem-router"))
    listed = other.ListFaults(sim_pb2.ListFaultsRequest(active_only=True)).faults
    assert [f.id for f in listed] == [fault.id]


def test_inject_returns_after_the_routers_reacted(routerd_example_world):
    world = routerd_example_world
    fault = world.faults.inject("link-down", host="onprem-router", interface="wg-sam")
    assert fault.active
    assert world.claim("onprem-router", "cloud-vm-21").reason == "tunnel-down"
    cleared = world.faults.clear(fault)
    assert not cleared.active and cleared.HasField("cleared_at")
    assert world.claim("onprem-router", "cloud-vm-21").state == "verified"


@pytest.mark.parametrize(
    ("kind", "params", "field", "says"),
    [
        ("no-such-fault", {}, "kind", "route-deleted"),
        ("route-deleted", {"router": "cloud-router"}, "address", "required"),
        ("route-deleted", {"router": "nope", "address": "10.40.8.31"}, "router", "cloud-router"),
        ("route-deleted", {"router": "cloud-router", "address": "10.9.9.9"}, "address", "no route"),
        ("link-down", {"host": "onprem-vm", "interface": "eth9"}, "interface", "eth0"),
        (
            "link-down",
            {"host": "onprem-vm", "interface": "eth0", "colour": "red"},
            "colour",
            "takes",
        ),
        ("icmp-dropped", {"medium": "onprem-lan", "mtu": "12"}, "mtu", "576"),
    ],
)
def test_bad_fault_requests_name_the_parameter(routerd_example_world, kind, params, field, says):
    with pytest.raises(grpc.RpcError) as err:
        routerd_example_world.faults.inject(kind, **params)
    assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert err.value.details().startswith(f"{field}: ")
    assert says in err.value.details()
    assert routerd_example_world.faults.active() == []


def test_bad_moves_and_clock_requests_are_refused(routerd_example_world):
    world = routerd_example_world
    for vm, segment, field in (
        ("nope", "onprem-lan", "vm"),
        ("cloud-vm", "nowhere", "segment"),
        ("onprem-vm", "onprem-lan", "segment"),
    ):
        with pytest.raises(grpc.RpcError) as err:
            world.move_vm(vm, segment)
        assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        assert err.value.details().startswith(f"{field}: ")
    for seconds in (-5, 86_401):
        with pytest.raises(grpc.RpcError) as err:
            world.advance(seconds)
        assert err.value.code() is grpc.StatusCode.INVALID_ARGUMENT
        assert err.value.details().startswith("by: ")
    with pytest.raises(grpc.RpcError) as err:
        world.trace("cloud-vm", "not-an-ip")
    assert err.value.details().startswith("to: ")


def test_trace_reports_each_hop_with_the_addresses_it_saw(routerd_example_world):
    trace = routerd_example_world.trace("onprem-vm", "10.40.8.21", protocol="tcp", port=22)
    assert trace.delivered and trace.delivered_to == "cloud-vm"
    assert trace.source == trace.source_seen == "10.40.8.31"
    assert trace.hops[-1].verdict == "deliver"
    underlay = [h for h in trace.hops if h.inner_source]
    assert underlay, "the tunnel's underlay hops carry the inner packet"
    assert {(h.source, h.inner_source) for h in underlay} == {("198.51.100.20", "10.40.8.31")}
    assert all(h.source == "10.40.8.31" for h in trace.hops if not h.inner_source)


def test_the_clock_only_moves_when_advanced(routerd_example_world):
    world = routerd_example_world
    start = world.sim.GetClock(sim_pb2.GetClockRequest())
    again = world.sim.GetClock(sim_pb2.GetClockRequest())
    assert again.now == start.now
    moved = world.advance(90.5)
    assert moved.elapsed.ToNanoseconds() - start.elapsed.ToNanoseconds() == 90_500_000_000
    settled = world.settle()
    assert settled.settled and list(settled.errors) == []
    assert set(settled.passes) == {"cloud-router", "onprem-router"}


def test_reflection_lists_the_sim_service(routerd_example_world):
    stub = reflection_pb2_grpc.ServerReflectionStub(routerd_example_world.channel())
    req = reflection_pb2.ServerReflectionRequest(list_services="")
    [resp] = list(stub.ServerReflectionInfo(iter([req])))
    names = {s.name for s in resp.list_services_response.service}
    assert "routerd.v1.SimService" in names and "routerd.v1.ClaimService" in names
