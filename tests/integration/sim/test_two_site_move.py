"""A VM moves between sites in the shipped two-site world: claim states and a packet trace.

This is the shape of test an automation author writes with ``routerd.testing``: start the
world, act (here: live-migrate the on-prem VM into the cloud subnet), read claims and trace
a packet. Static claims do not follow a VM, so the trace shows where delivery now breaks and
the claim whose address left says so at once (the provider no longer lists it on the router).
It runs as any user (no root, no namespace) and in well under a second; the figure is in
the report of ``bench`` (``sim_world_move``), never asserted here.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.integration

CLOUD_CLAIM = "cloud-router/onprem-vm-31"
ONPREM_CLAIM = "onprem-router/cloud-vm-21"


def test_move_vm_to_the_cloud_site_breaks_the_static_claim_where_the_trace_shows(
    routerd_example_world,
):
    world = routerd_example_world
    assert world.states() == {CLOUD_CLAIM: ("verified", ""), ONPREM_CLAIM: ("verified", "")}
    before = world.trace("cloud-vm", "10.40.8.31")
    assert before.delivered and before.delivered_to == "onprem-vm"
    assert "cloud-router" in [h.host for h in before.hops if h.event == "forward"]

    move = world.move_vm("onprem-vm", "cloud-fabric")
    assert (move.from_site, move.to_site) == ("onprem", "cloud")
    world.advance(61)  # past the verify interval: verified paths are looked at again

    state, reason = world.states()[CLOUD_CLAIM]
    assert (state, reason) == ("degraded", "provider-ip-not-assigned")
    assert "does not assign 10.40.8.31" in world.claim("cloud-router", "onprem-vm-31").message
    direct = world.trace("cloud-vm", "10.40.8.31")
    assert direct.delivered and direct.delivered_to == "onprem-vm"
    assert "cloud-router" not in {h.host for h in direct.hops}
    assert direct.source_seen == "10.40.8.21"
    stranded = world.trace("onprem-gw", "10.40.8.31")
    assert not stranded.delivered
    assert (stranded.drop_host, stranded.drop_reason) == ("onprem-gw", "arp unresolved")
