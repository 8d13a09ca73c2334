"""The provider fabric: ARP for everything, delivery by assignment, per-NIC forwarding."""

from __future__ import annotations

import pytest

from routerd.backends.sim import Drop, World, build_lab
from routerd.backends.sim import lab as L
from routerd.backends.sim.fabric import FABRIC_MAC, ProviderFabric


def fabric_world() -> tuple[World, ProviderFabric]:
    """vm 10.40.8.21 and router 10.40.8.5 on a fabric; the router forwards in the OS."""
    w = World()
    fabric = w.add_fabric("fabric", "10.40.8.0/24", "10.40.8.1")
    w.add_host("vm")
    w.connect("vm", "eth0", "fabric", address="10.40.8.21/24")
    w.add_route("vm", "0.0.0.0/0", gateway="10.40.8.1", dev="eth0")
    router = w.add_host("router")
    w.connect("router", "eth0", "fabric", address="10.40.8.5/24")
    router.add_interface("dummy0")
    router.add_address("dummy0", "172.16.0.1/32")
    router.set_sysctl("net.ipv4.ip_forward", "1")
    return w, fabric


def test_fabric_answers_arp_for_every_subnet_address() -> None:
    w, _ = fabric_world()
    trace = w.trace("vm", "10.40.8.77")
    assert any(FABRIC_MAC in h.detail for h in trace.hops)
    assert trace.drop_reason == Drop.FABRIC_NO_OWNER


def test_delivery_follows_the_provider_assignment_not_the_guest_os() -> None:
    w, fabric = fabric_world()
    assert w.trace("vm", "10.40.8.31").drop_reason == Drop.FABRIC_NO_OWNER
    fabric.assign(("router", "eth0"), "10.40.8.31")
    w.host("router").set_sysctl("net.ipv4.ip_forward", "0")
    trace = w.trace("vm", "10.40.8.31")
    assert "10.40.8.31 -> router/eth0" in [h.detail for h in trace.hops]
    assert trace.drop_host == "router"  # the NIC got it; the OS does not forward (yet)
    assert trace.drop_reason == Drop.FORWARDING_DISABLED


def test_a_nic_without_forwarding_may_not_send_a_foreign_source() -> None:
    w, fabric = fabric_world()
    trace = w.trace("router", "10.40.8.21", src_ip="10.40.8.99")
    assert trace.drop_reason == Drop.FABRIC_SOURCE_CHECK
    fabric.set_forwarding(("router", "eth0"), True)
    assert w.trace("router", "10.40.8.21", src_ip="10.40.8.99").delivered


def test_a_nic_without_forwarding_may_not_receive_for_addresses_it_does_not_hold() -> None:
    w, fabric = fabric_world()
    fabric.add_route("172.16.0.0/16", "10.40.8.5")
    trace = w.trace("vm", "172.16.0.1")
    assert trace.drop_reason == Drop.FABRIC_DEST_CHECK
    fabric.set_forwarding(("router", "eth0"), True)
    trace = w.trace("vm", "172.16.0.1")
    assert trace.delivered and trace.dst_host == "router"


def test_off_subnet_traffic_without_a_fabric_route_goes_nowhere() -> None:
    w, _ = fabric_world()
    assert w.trace("vm", "8.8.8.8").drop_reason == Drop.FABRIC_NO_ROUTE


@pytest.mark.parametrize("provider", ["azure", "aws", "oci", "gcp"])
def test_lab_provisioning_is_the_secondary_ip_plus_nic_forwarding(provider: str) -> None:
    lab = build_lab(provider, provision=False)  # type: ignore[arg-type]
    assert not lab.provisioned
    assert lab.world.trace(L.CLOUD_VM, L.ONPREM_VM_IP).drop_reason == Drop.FABRIC_NO_OWNER
    lab.provision()
    assert lab.provisioned
    port = (L.CLOUD_ROUTER, L.CAPTURE_IFNAME[provider])
    assert lab.fabric.nics[port].forwarding
    trace = lab.world.trace(L.CLOUD_VM, L.ONPREM_VM_IP)
    assert trace.drop_host == L.CLOUD_ROUTER  # routerd has not run: ip_forward is 0
    assert trace.drop_reason == Drop.FORWARDING_DISABLED
