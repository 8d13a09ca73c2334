"""Every executor, through its real SDK client, against its cloud's local double.

Each test runs once per cloud (``world`` is parametrized over aws, azure, oci, gcp). The
doubles enforce "one address, one NIC" and count the state changes they applied, so a
test sees a double action or a lost move as a wrong count or a second holder, not as a
log line.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from routerd.providers.base import ASSIGN, UNASSIGN
from tests.unit.providers.exec_worlds import FAST_RETRY, World

GRANTS = {
    "aws": "ec2:AssignPrivateIpAddresses",
    "azure": "Network Contributor",
    "oci": "manage private-ips",
    "gcp": "compute.instances.updateNetworkInterface",
}


def test_assign_then_unassign(world: World) -> None:
    ex = world.executor()
    a = world.nics[0]
    ip = world.free[0]
    r = ex.assign(a, ip, reassign=False, key="t-assign")
    assert r.ok and r.changed, r.error
    assert world.held_by(ip) == [a]
    assert r.undo == {"action": UNASSIGN, "nic": a, "address": ip}
    assert ex.holder(ip) == a
    u = ex.unassign(a, ip, key="t-unassign")
    assert u.ok and u.changed, u.error
    assert world.held_by(ip) == []
    assert ex.holder(ip) is None
    assert u.undo == {"action": ASSIGN, "nic": a, "address": ip, "reassign": False}
    assert world.server.applied == {"assign": 1, "unassign": 1}


def test_reassign_moves_the_address(world: World) -> None:
    ex = world.executor()
    a, b = world.nics[:2]
    ip = world.free[0]
    assert ex.assign(a, ip, reassign=False, key="t-1").ok
    r = ex.assign(b, ip, reassign=True, key="t-2")
    assert r.ok, r.error
    assert world.held_by(ip) == [b], "the old NIC must lose it"
    assert r.response["previousHolder"] == a and r.response["holder"] == b
    assert r.undo == {"action": ASSIGN, "nic": a, "address": ip, "reassign": True}


def test_address_held_elsewhere_is_not_moved_without_reassign(world: World) -> None:
    ex = world.executor()
    a, b = world.nics[:2]
    ip = world.free[0]
    assert ex.assign(a, ip, reassign=False, key="t-1").ok
    r = ex.assign(b, ip, reassign=False, key="t-2")
    assert not r.ok and not r.retryable and a in (r.error or "")
    assert r.attempts == 0 and r.undo is None
    assert world.held_by(ip) == [a]


def test_double_refuses_a_second_holder(world: World) -> None:
    """The double itself enforces the rule: a raw write bypassing the executor fails."""
    ex = world.executor()
    a, b = world.nics[:2]
    ip = world.free[0]
    assert ex.assign(a, ip, reassign=False, key="t-1").ok
    with pytest.raises(Exception):  # noqa: B017 - each SDK raises its own error type
        ex._write_assign(b, ip, None, "raw")
    assert world.held_by(ip) == [a]


def test_primary_address_never_moves(world: World) -> None:
    ex = world.executor()
    r = ex.assign(world.nics[0], world.vm_primary, reassign=True, key="t-primary")
    assert not r.ok and "primary" in (r.error or "")
    assert world.held_by(world.vm_primary) == [world.nics[2]]
    assert not world.server.applied


def test_repeat_is_idempotent(world: World) -> None:
    ex = world.executor()
    a = world.nics[0]
    ip = world.free[0]
    first = ex.assign(a, ip, reassign=False, key="t-1")
    again = ex.assign(a, ip, reassign=False, key="t-2")
    assert again.ok and not again.changed and again.attempts == 0 and again.undo is None
    replay = ex.assign(a, ip, reassign=False, key="t-1")
    assert replay.replayed and replay.ok and replay.response == first.response
    assert world.server.applied == {"assign": 1}
    assert ex.unassign(a, ip, key="t-3").changed
    gone = ex.unassign(a, ip, key="t-4")
    assert gone.ok and not gone.changed
    assert world.server.applied == {"assign": 1, "unassign": 1}


def test_key_reused_for_another_request_is_refused(world: World) -> None:
    ex = world.executor()
    assert ex.assign(world.nics[0], world.free[0], reassign=False, key="t-1").ok
    r = ex.assign(world.nics[0], world.free[1], reassign=False, key="t-1")
    assert not r.ok and "different request" in (r.error or "")
    assert world.held_by(world.free[1]) == []


def test_crash_between_call_and_journal(world: World) -> None:
    """routerd died after the API call, before its journal: the restart retries the key."""
    a, b = world.nics[:2]
    ip = world.free[0]
    world.executor().assign(a, ip, reassign=False, key="move-1")  # result lost with the process
    after = world.executor().assign(a, ip, reassign=False, key="move-1")
    assert after.ok and not after.changed and after.attempts == 0
    world.executor().assign(b, ip, reassign=True, key="move-2")
    again = world.executor().assign(b, ip, reassign=True, key="move-2")
    assert again.ok and not again.changed
    world.executor().unassign(b, ip, key="move-3")
    gone = world.executor().unassign(b, ip, key="move-3")
    assert gone.ok and not gone.changed
    assert world.held_by(ip) == []
    assert world.server.applied["assign"] == 2 and world.server.applied["unassign"] <= 2


@pytest.mark.parametrize("op", ["assign", "unassign"])
def test_answer_lost_in_transit_converges(world: World, op: str) -> None:
    ex = world.executor()
    a = world.nics[0]
    ip = world.free[0]
    if op == "unassign":
        assert ex.assign(a, ip, reassign=False, key="t-0").ok
    world.server.faults.inject(op, "drop")
    applied = world.server.applied[op]
    r = (
        ex.assign(a, ip, reassign=False, key="t-1")
        if op == "assign"
        else ex.unassign(a, ip, key="t-1")
    )
    assert r.ok and r.changed, r.error
    assert "converged: the write had taken effect" in r.response["calls"]
    assert world.server.applied[op] == applied + 1, "the write must not be repeated"
    assert world.held_by(ip) == ([a] if op == "assign" else [])


def test_throttling_and_server_errors_are_retried(world: World) -> None:
    ex = world.executor()
    world.server.faults.inject("assign", "throttle")
    world.server.faults.inject("assign", "error")
    r = ex.assign(world.nics[0], world.free[0], reassign=False, key="t-1")
    assert r.ok, r.error
    assert r.attempts == 3
    assert len(world.sleeps) == 2 and all(0 < s <= FAST_RETRY.cap for s in world.sleeps)
    assert world.server.applied == {"assign": 1}


def test_retries_are_bounded(world: World) -> None:
    ex = world.executor()
    world.server.faults.inject("assign", "error", count=20)
    r = ex.assign(world.nics[0], world.free[0], reassign=False, key="t-1")
    assert not r.ok and r.retryable
    assert r.attempts == FAST_RETRY.attempts
    assert world.held_by(world.free[0]) == [] and not world.server.applied


def test_permission_denied_is_final_and_says_what_to_grant(world: World) -> None:
    ex = world.executor()
    world.server.faults.inject("assign", "deny")
    r = ex.assign(world.nics[0], world.free[0], reassign=False, key="t-1")
    assert not r.ok and not r.retryable and r.attempts == 1
    assert GRANTS[world.cloud] in (r.error or "")
    assert world.sleeps == []


def test_inventory_is_cached_and_rate_limited(world: World) -> None:
    ex = world.executor(inventory_min_interval=30.0)
    a = world.nics[0]
    first = ex.inventory()
    assert not first.cached and first.age_s == 0
    assert first.holders[world.vm_primary] == world.nics[2]
    assert world.vm_primary in first.primary
    reads = len(world.server.requests)
    assert ex.assign(a, world.free[0], reassign=False, key="t-1").ok
    reads_after_assign = len(world.server.requests)
    world.clock.now += 10
    cached = ex.inventory()
    assert cached.cached and cached.age_s == 10 and world.free[0] not in cached.holders
    assert len(world.server.requests) == reads_after_assign, "no provider call within the interval"
    assert reads_after_assign > reads
    world.clock.now += 25
    fresh = ex.inventory()
    assert not fresh.cached and fresh.holders[world.free[0]] == a
    world.clock.now += 31
    world.server.faults.inject("read", "error", count=20)
    stale = ex.inventory()
    assert stale.cached and stale.error and stale.age_s == 31
    assert json.loads(json.dumps(stale.as_dict()))["ageSeconds"] == 31


def test_check_access_passes_with_the_instance_identity(world: World) -> None:
    found = world.executor().check_access(world.nics[0])
    by = {f.check: f for f in found}
    assert by["credentials"].status == "pass"
    assert by["read"].status == "pass"
    assert all(f.status in ("pass", "skip") for f in found), [f.as_dict() for f in found]
    skipped = [f for f in found if f.status == "skip"]
    assert all(f.grant for f in skipped), "an unprovable permission still says what to grant"


def test_check_access_reports_missing_permissions(world: World) -> None:
    if world.cloud == "gcp":
        world.fake.granted.discard("compute.instances.updateNetworkInterface")
    else:
        world.server.faults.inject("read", "deny")
    found = world.executor().check_access(world.nics[0])
    failed = [f for f in found if f.status == "fail"]
    assert failed and all(f.grant for f in failed), [f.as_dict() for f in found]


def test_secrets_never_reach_logs_or_results(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ex = world.executor()
    a, b = world.nics[:2]
    out: list[Any] = []
    out.append(ex.assign(a, world.free[0], reassign=False, key="s-1").as_dict())
    out.append(ex.assign(b, world.free[0], reassign=True, key="s-2").as_dict())
    world.server.faults.inject("unassign", "deny")
    out.append(ex.unassign(b, world.free[0], key="s-3").as_dict())
    out.append([f.as_dict() for f in ex.check_access(a)])
    out.append(ex.inventory().as_dict())
    text = caplog.text + json.dumps(out, default=str)
    for secret in world.secrets:
        assert secret and secret not in text


def test_bad_input_is_refused_with_the_field(world: World) -> None:
    ex = world.executor()
    seen = len(world.server.requests)
    r = ex.assign("not-a-nic", world.free[0], reassign=False, key="t-1")
    assert not r.ok and r.error and r.error.startswith("nic:")
    r = ex.assign(world.nics[0], "10.0.0.300", reassign=False, key="t-2")
    assert not r.ok and "not an IPv4 address" in (r.error or "")
    r = ex.assign(world.nics[0], world.free[0], reassign=False, key="")
    assert not r.ok and "idempotency key" in (r.error or "")
    assert not world.server.applied and len(world.server.requests) == seen
