"""Tests of claim_watch against simulated routers (docs/testing-automation.md).

Run with ``pytest``: the ``routerd_world`` and ``routerd_example_world`` fixtures come with
routerd (its pytest plugin), no root and no cloud account needed.
"""

from __future__ import annotations

from claim_watch import unhealthy_claims

from routerd.testing import example_world


def test_quiet_while_every_claim_is_verified(routerd_example_world):
    world = routerd_example_world
    assert unhealthy_claims(world.channel("cloud-router")) == []
    assert unhealthy_claims(world.channel("onprem-router")) == []


def test_pages_when_the_tunnel_goes_down_and_stops_when_it_is_back(routerd_example_world):
    world = routerd_example_world
    with world.faults.injected("link-down", host="onprem-router", interface="wg-sam"):
        assert unhealthy_claims(world.channel("onprem-router")) == ["cloud-vm-21"]
        trace = world.trace("onprem-vm", "10.40.8.21")
        assert trace.drop_reason == "interface down"
    assert unhealthy_claims(world.channel("onprem-router")) == []


def test_pages_on_a_claim_that_never_got_verified(routerd_world):
    # OCI's image firewall blocks WireGuard until the documented host rule is applied:
    # the claim waits in "delivering", never "degraded".
    world = routerd_world(file=example_world("oci"))
    assert world.claim("cloud-router", "onprem-vm-31").state == "delivering"
    assert unhealthy_claims(world.channel("cloud-router")) == ["onprem-vm-31"]


def test_a_vm_moving_to_the_cloud_is_noticed_at_once(routerd_example_world):
    world = routerd_example_world
    assert unhealthy_claims(world.channel("cloud-router")) == []
    # The provider gives the address to the VM's new NIC; the router's NIC no longer holds it.
    world.move_vm("onprem-vm", "cloud-fabric")
    assert unhealthy_claims(world.channel("cloud-router")) == ["onprem-vm-31"]
