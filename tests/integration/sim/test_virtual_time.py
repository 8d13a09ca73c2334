"""Timers run on the world's virtual clock: nothing happens until time is advanced, then it
happens at its time — the re-verification of a verified path, a dynamic part's expiry."""

from __future__ import annotations

import pytest

from routerd.v1 import config_pb2, config_pb2_grpc

pytestmark = pytest.mark.integration

PART = """
apiVersion: config.routerd.net/v1alpha1
kind: DynamicConfigPart
metadata: { name: cutover }
spec:
  source: Operator/migration
  ttl: 300s
  resources:
    - apiVersion: hybrid.routerd.net/v1alpha1
      kind: RemoteAddressClaim
      metadata: { name: cloud-vm-22 }
      spec:
        domainRef: edge-lan
        address: 10.40.8.22/32
        ownerSide: cloud
        capture: { type: proxy-arp, interface: ens19 }
        delivery: { peerRef: cloud-a, mode: route, tunnelInterface: wg-sam }
"""


def test_a_broken_underlay_is_noticed_at_the_next_verification_not_before(routerd_example_world):
    world = routerd_example_world
    world.faults.inject("link-down", host="cloud-router", interface="public")
    world.advance(59)
    assert set(world.states().values()) == {("verified", "")}
    world.advance(2)
    assert set(world.states().values()) == {("degraded", "overlay-probe-failed")}


def test_a_dynamic_part_expires_when_virtual_time_passes_its_ttl(routerd_example_world):
    world = routerd_example_world
    config = config_pb2_grpc.ConfigServiceStub(world.channel("onprem-router"))
    config.PutDynamicPart(config_pb2.PutDynamicPartRequest(document=PART))
    assert world.settle().settled
    names = {c.name for c in world.claims("onprem-router")}
    assert names == {"cloud-vm-21", "cloud-vm-22"}
    world.advance(290)
    assert {c.name for c in world.claims("onprem-router")} == names
    world.advance(20)
    assert {c.name for c in world.claims("onprem-router")} == {"cloud-vm-21"}
