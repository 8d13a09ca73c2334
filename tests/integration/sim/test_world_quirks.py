"""What a World file declares shows up in what routerd does: cloud quirks, inline configs,
hosting a subset of routers, and the seam where address mobility will listen for moves."""

from __future__ import annotations

import pytest
import yaml

from routerd.examples import example_text, world_file

pytestmark = pytest.mark.integration


def world_text(provider: str, **quirks: object) -> str:
    """The example world with both router configs inline and the cloud site's quirks set."""
    doc = yaml.safe_load(world_file(provider).read_text())
    doc["spec"]["sites"][0]["quirks"] = quirks
    for router, side in zip(doc["spec"]["routers"], ("cloud", "onprem"), strict=True):
        router["config"] = yaml.safe_load(example_text(provider, side))
    return yaml.safe_dump(doc, sort_keys=False)


def test_a_world_written_inline_starts_and_verifies(routerd_world):
    world = routerd_world(world_text("gcp"))
    assert set(world.states().values()) == {("verified", "")}


def test_the_guest_agent_quirk_readds_the_address_on_its_schedule(routerd_world):
    world = routerd_world(world_text("azure", guestAgentReadds="60s"))
    world.advance(59)
    assert not any(e.to_state == "degraded" for e in world.history("cloud-router", "onprem-vm-31"))
    world.advance(1)
    reasons = [
        e.reason for e in world.history("cloud-router", "onprem-vm-31") if e.to_state == "degraded"
    ]
    assert reasons == ["os-address-present"]
    assert world.claim("cloud-router", "onprem-vm-31").state == "verified"
    world.advance(60)
    reasons = [
        e.reason for e in world.history("cloud-router", "onprem-vm-31") if e.to_state == "degraded"
    ]
    assert reasons == ["os-address-present"] * 2


def test_an_image_firewall_holds_the_tunnel_until_the_documented_rule_is_in(routerd_world):
    closed = routerd_world(
        world_text("oci", pathMTU=1452, icmpBlackhole=True, imageFirewall="image-default")
    )
    assert set(closed.states().values()) == {("delivering", "handshake-stale")}
    opened = routerd_world(
        world_text("oci", pathMTU=1452, icmpBlackhole=True, imageFirewall="opened")
    )
    assert set(opened.states().values()) == {("verified", "")}
    big = opened.trace("cloud-vm", "10.40.8.31", size=1400)
    assert (big.drop_reason, big.drop_host) == ("path mtu black hole", "cloud-uplink")


def test_hosting_one_router_leaves_the_other_without_routerd(routerd_world):
    world = routerd_world(file=world_file("azure"), routers=("cloud-router",))
    assert world.routers == ["cloud-router"]
    assert [(r.name, r.hosted, bool(r.socket)) for r in world.world().routers] == [
        ("cloud-router", True, True),
        ("onprem-router", False, False),
    ]
    assert world.states() == {"cloud-router/onprem-vm-31": ("delivering", "handshake-stale")}


def test_moves_are_published_where_presence_will_listen(routerd_example_world):
    world = routerd_example_world
    seen = []
    world.host.control.move_listeners.append(seen.append)
    world.move_vm("onprem-vm", "cloud-fabric")
    [move] = seen
    assert (move.vm, move.from_site, move.to_site, move.interface) == (
        "onprem-vm",
        "onprem",
        "cloud",
        "eth0",
    )
    assert move.at == world.host.clock.now
