"""Moves into and out of a cloud site, through each cloud's real SDK and enforcing double.

The cloud router's controller, inventory presence and provider reconciler run for real
(``cloud_moves_kit``); the double enforces one address, one NIC and counts what it applied,
so an address taken from an arriving VM, a capture never assigned, or an action done twice
shows up as the wrong holder or count.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from routerd.daemon.mobility_take import verdict
from routerd.state.store import Store
from tests.unit.providers.cloud_moves_kit import CloudSiteKit
from tests.unit.providers.exec_worlds import World


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store.open(tmp_path / "state")
    yield s
    s.close()


def captured_for_site_a(kit: CloudSiteKit, ip: str) -> None:
    """``ip`` lives at site A and this router captures it on its NIC."""
    kit.announce(ip, 1)
    kit.read()
    kit.step()
    assert kit.home(ip) == "site-a"
    report = kit.reconcile()
    assert report.changed
    assert kit.holder(ip) == [kit.router_nic]


def homed_here_by_inventory(kit: CloudSiteKit, ip: str) -> None:
    """A VM in this subnet holds ``ip`` and the router homes it (after the first read)."""
    kit.read()
    kit.step()  # the first read: what it finds is older than anything learned
    assert kit.world.executor().assign(kit.vm_nic, ip, reassign=False, key="vm-boots").ok
    kit.tick()
    kit.read()
    kit.step()
    assert kit.home(ip) == "site-c"
    assert kit.ctl.where(ip).originating


def test_leaving_assigns_to_the_router_nic(world: World, store: Store) -> None:
    kit = CloudSiteKit(world, store)
    ip = world.free[0]
    captured_for_site_a(kit, ip)
    assert world.server.applied == {"assign": 1}
    again = kit.reconcile()
    assert again.executed == [] and world.server.applied == {"assign": 1}, "once"


def test_explicit_move_in_releases_first_then_the_vm_takes_it(world: World, store: Store) -> None:
    kit = CloudSiteKit(world, store)
    ip = world.free[1]
    captured_for_site_a(kit, ip)
    kit.tick()
    kit.ctl.move([ip], "site-c", "migration")
    step = kit.step()
    assert kit.home(ip) == "site-c" and step.originations is not None and ip in step.originations
    assert kit.claims == {}, "no capture for an address homed here"
    report = kit.reconcile()
    assert [k.split(":")[2] for k in report.executed] == ["unassign"]
    assert kit.holder(ip) == [], "the router released it"
    # the migration tool can now put it on the VM's NIC without taking it from anyone
    assert world.executor().assign(kit.vm_nic, ip, reassign=False, key="vm-nic").ok
    kit.tick()
    kit.read()
    kit.step()
    assert kit.feed.fact(ip) is not None and kit.feed.fact(ip).state == "present"
    assert kit.ctl.where(ip).home.origin == "presence", "the VM confirmed the explicit move"
    assert kit.reconcile().executed == []
    assert kit.holder(ip) == [kit.vm_nic], "left on the VM"
    refused = verdict(kit, ip, kit.vm_nic)  # type: ignore[arg-type]
    assert isinstance(refused, str) and "homed at this site (site-c)" in refused


def test_inventory_arrival_is_never_taken_back(world: World, store: Store) -> None:
    kit = CloudSiteKit(world, store)
    ip = world.free[2]
    captured_for_site_a(kit, ip)
    kit.tick()
    # the migration tool moves the address onto the VM's NIC itself (reassignment)
    assert world.executor().assign(kit.vm_nic, ip, reassign=True, key="vm-takes").ok
    early = kit.reconcile()  # its own read is newer than presence's
    assert early.executed == []
    assert "presence has not read yet" in early.blocked[ip]
    assert kit.holder(ip) == [kit.vm_nic]
    kit.tick()
    kit.read()
    kit.feed.take(kit.clock.now)  # presence knows, the controller has not stepped yet
    racing = kit.reconcile()
    assert racing.executed == [] and "arriving here" in racing.blocked[ip]
    kit.step()
    assert kit.home(ip) == "site-c"
    assert kit.ctl.where(ip).home.origin == "presence"
    assert kit.ctl.originations()[ip].sequence == 2
    assert kit.claims == {}
    settled = kit.reconcile()
    assert settled.executed == [] and ip not in settled.blocked
    assert kit.holder(ip) == [kit.vm_nic]
    assert store.provider_holdings("aws-lab") == {}, "its old holding is forgotten"
    assert [r.operation for r in store.list_actions()] == ["assign"], "routerd took nothing"


def test_leaving_takes_the_address_off_the_vm_it_left(world: World, store: Store) -> None:
    kit = CloudSiteKit(world, store)
    ip = world.free[3]
    homed_here_by_inventory(kit, ip)
    kit.tick()
    kit.announce(ip, 5)  # the VM runs at site A now; its old NIC here still holds it
    kit.step()
    assert kit.home(ip) == "site-a" and ip not in kit.ctl.originations()
    report = kit.reconcile()
    assert [k.split(":")[2] for k in report.executed] == ["reassign"]
    assert kit.holder(ip) == [kit.router_nic]
    for _ in range(4):  # presence never mistakes the old holding for an arrival
        kit.tick()
        kit.read()
        kit.step()
        assert kit.home(ip) == "site-a" and ip not in kit.ctl.originations()
    assert kit.feed.fact(ip).state == "absent"


def test_a_vm_whose_holding_was_read_before_the_home_moved_is_not_an_arrival(
    world: World, store: Store
) -> None:
    kit = CloudSiteKit(world, store)
    ip = world.free[4]
    homed_here_by_inventory(kit, ip)
    kit.tick()
    kit.announce(ip, 5)
    kit.step()
    for _ in range(3):  # the old NIC keeps it (no reconcile): still site A's
        kit.tick()
        kit.read()
        kit.step()
    assert kit.home(ip) == "site-a"
    assert [m.to_site for m in kit.mstore.moves if m.address == ip] == ["site-c", "site-a"]


def test_vm_gone_from_the_subnet_withdraws_after_absent_after_reads(
    world: World, store: Store
) -> None:
    kit = CloudSiteKit(world, store, absent_after=2)
    ip = world.free[5]
    homed_here_by_inventory(kit, ip)
    assert world.executor().unassign(kit.vm_nic, ip, key="vm-deleted").ok
    kit.tick()
    kit.read()
    kit.step()
    assert ip in kit.ctl.originations(), "one read without it is no departure"
    kit.tick()
    kit.read()
    kit.step()
    assert ip not in kit.ctl.originations()
    assert kit.home(ip) == ""


def test_holding_found_at_start_is_not_taken(world: World, store: Store) -> None:
    ip = world.free[6]
    assert world.executor().assign(world.nics[2], ip, reassign=False, key="before").ok
    kit = CloudSiteKit(world, store)
    kit.announce(ip, 3)
    kit.read()
    kit.step()
    assert kit.home(ip) == "site-a", "an old holding does not beat a home"
    report = kit.reconcile()
    assert report.executed == []
    assert "journal does not show it leaving" in report.blocked[ip]
    assert f"routerctl move {ip} --to site-c" in report.blocked[ip]
    assert kit.holder(ip) == [kit.vm_nic]


def test_a_vm_found_at_start_that_leaves_is_taken_off_its_nic(world: World, store: Store) -> None:
    ip = world.free[7]
    assert world.executor().assign(world.nics[2], ip, reassign=False, key="before").ok
    kit = CloudSiteKit(world, store)
    kit.read()
    kit.step()
    assert kit.home(ip) == "site-c", "a VM found here with no other home is homed here"
    kit.tick()
    kit.announce(ip, 5)
    kit.step()
    report = kit.reconcile()
    assert [k.split(":")[2] for k in report.executed] == ["reassign"], report.blocked
    assert kit.holder(ip) == [kit.router_nic]
