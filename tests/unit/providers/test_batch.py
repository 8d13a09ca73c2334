"""Many addresses in one provider call: AWS (moto), Azure and GCP against their doubles.

The doubles count the write requests they received and the state changes they applied, and
enforce one address, one NIC; so a batch that silently fell back to one call per address,
a half-applied batch reported as done, or a repeated write shows as a wrong count, a wrong
holder or a wrong per-address result. OCI (no batch call) proves the per-address path.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from routerd.providers.base import ASSIGN, UNASSIGN
from routerd.providers.execution import ActionRequest
from routerd.state.store import Store
from tests.unit.providers.action_kit import Kit
from tests.unit.providers.exec_worlds import World

BATCHING = ("aws", "azure", "gcp")
GRANTS = {
    "aws": "ec2:AssignPrivateIpAddresses",
    "azure": "Network Contributor",
    "gcp": "compute.instances.updateNetworkInterface",
}
OUTSIDE = {
    "aws": "InvalidParameterValue",
    "azure": "PrivateIPAddressNotInSubnet",
    "gcp": "BadRequest",
}


@pytest.fixture
def aws(world_factory: Callable[[str], World]) -> World:
    return world_factory("aws")


@pytest.fixture(params=BATCHING)
def batching(request: pytest.FixtureRequest, world_factory: Callable[[str], World]) -> World:
    """A cloud whose executor batches: AWS, Azure, GCP."""
    return world_factory(request.param)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store.open(tmp_path / "state")
    yield s
    s.close()


def writes(world: World) -> list[dict[str, str]]:
    """Every Assign/Unassign request the double received, as its form."""
    out = []
    for req in world.server.requests:
        form = {k: v[0] for k, v in parse_qs(req.body.decode()).items()}
        if form.get("Action", "").endswith("PrivateIpAddresses"):
            out.append(form)
    return out


def write_calls(world: World) -> int:
    """Write requests the double received (AWS: Assign/Unassign; Azure: NIC PUTs; GCP:
    updateNetworkInterface)."""
    if world.cloud == "aws":
        return len(writes(world))
    if world.cloud == "azure":
        return sum(1 for req in world.server.requests if req.method == "PUT")
    return sum(1 for req in world.server.requests if req.path.endswith("updateNetworkInterface"))


def listed(form: dict[str, str]) -> list[str]:
    return sorted(v for k, v in form.items() if k.startswith("PrivateIpAddress."))


def assigns(nic: str, ips: list[str], *, reassign: bool = False) -> list[ActionRequest]:
    return [ActionRequest(ASSIGN, nic, ip, f"k-{nic[-4:]}-{ip}", reassign) for ip in ips]


def test_a_batch_of_n_is_one_call_with_a_result_per_address(batching: World) -> None:
    world = batching
    ex = world.executor()
    a = world.nics[0]
    ips = world.free[:8]
    results = ex.run_many(assigns(a, ips))
    assert [r.key for r in results] == [f"k-{a[-4:]}-{ip}" for ip in ips], "request order"
    assert all(r.ok and r.changed for r in results), [r.error for r in results]
    assert [r.undo for r in results] == [
        {"action": UNASSIGN, "nic": a, "address": ip} for ip in ips
    ]
    assert write_calls(world) == 1 and world.server.applied == {"assign": 1}
    assert all(world.held_by(ip) == [a] for ip in ips)
    gone = ex.run_many([ActionRequest(UNASSIGN, a, ip, f"u-{ip}") for ip in ips])
    assert all(r.ok and r.changed for r in gone)
    assert write_calls(world) == 2 and world.server.applied == {"assign": 1, "unassign": 1}
    assert all(world.held_by(ip) == [] for ip in ips)


def test_aws_batch_lists_the_addresses_in_one_assign(aws: World) -> None:
    a = aws.nics[0]
    ips = aws.free[:8]
    assert all(r.ok for r in aws.executor().run_many(assigns(a, ips)))
    [call] = writes(aws)
    assert call["Action"] == "AssignPrivateIpAddresses" and listed(call) == sorted(ips)
    assert call.get("AllowReassignment") == "false", "nothing to take: no reassignment"


def test_moves_and_plain_assigns_never_share_a_call(aws: World) -> None:
    a, b = aws.nics[:2]
    moving, fresh = aws.free[:3], aws.free[3:6]
    assert all(r.ok for r in aws.executor().run_many(assigns(b, moving)))
    results = aws.executor().run_many(assigns(a, moving + fresh, reassign=True))
    assert all(r.ok for r in results), [r.error for r in results]
    calls = writes(aws)[1:]
    assert sorted((c["AllowReassignment"], listed(c)) for c in calls) == [
        ("false", sorted(fresh)),
        ("true", sorted(moving)),
    ]
    assert [r.undo for r in results[:3]] == [
        {"action": ASSIGN, "nic": b, "address": ip, "reassign": True} for ip in moving
    ], "a move's undo gives the address back to the NIC it came from"
    assert all(aws.held_by(ip) == [a] for ip in moving + fresh)


def test_a_refused_batch_is_told_apart_per_address(batching: World) -> None:
    """One address outside the subnet spoils the whole call: the others still land."""
    world = batching
    a = world.nics[0]
    good = world.free[:4]
    bad = "10.0.9.9" if world.cloud == "aws" else "10.9.9.9"
    results = world.executor().run_many(assigns(a, [*good[:2], bad, *good[2:]]))
    by_ip = {r.request["address"]: r for r in results}
    assert all(by_ip[ip].ok and by_ip[ip].changed for ip in good), [r.error for r in results]
    code = OUTSIDE[world.cloud]
    assert not by_ip[bad].ok and code in (by_ip[bad].error or ""), by_ip[bad].error
    assert by_ip[bad].undo is None and not by_ip[bad].changed
    assert all(world.held_by(ip) == [a] for ip in good) and world.held_by(bad) == []
    assert f"assign batch of 5 failed: {code}" in by_ip[good[0]].response["calls"]
    assert world.server.applied == {"assign": 4}, "the batch, then each address alone"


def test_already_held_and_refused_addresses_stay_out_of_the_call(aws: World) -> None:
    a, b = aws.nics[:2]
    mine, taken, free = aws.free[0], aws.free[1], aws.free[2:5]
    ex = aws.executor()
    assert ex.assign(a, mine, reassign=False, key="before-1").ok
    assert ex.assign(b, taken, reassign=False, key="before-2").ok
    results = ex.run_many(assigns(a, [mine, taken, aws.vm_primary, *free]))
    ok = {r.request["address"]: r.ok for r in results}
    assert ok == {mine: True, taken: False, aws.vm_primary: False, **dict.fromkeys(free, True)}
    assert "held by" in (results[1].error or "") and "primary IP" in (results[2].error or "")
    assert not results[0].changed and results[0].attempts == 0
    assert listed(writes(aws)[-1]) == sorted(free) and len(writes(aws)) == 3
    assert aws.held_by(taken) == [b], "never taken without reassign"


def test_a_lost_answer_converges_without_a_second_write(batching: World) -> None:
    world = batching
    ips = world.free[:5]
    world.server.faults.inject("assign", "drop")
    results = world.executor().run_many(assigns(world.nics[0], ips))
    assert all(r.ok and r.changed for r in results), [r.error for r in results]
    assert all("converged: the write had taken effect" in r.response["calls"] for r in results)
    assert world.server.applied == {"assign": 1} and write_calls(world) == 1


def test_throttling_retries_the_whole_batch(batching: World) -> None:
    world = batching
    ips = world.free[:5]
    world.server.faults.inject("assign", "throttle", 2)
    results = world.executor().run_many(assigns(world.nics[0], ips))
    assert all(r.ok and r.attempts == 3 for r in results), [r.error for r in results]
    assert write_calls(world) == 3 and world.server.applied == {"assign": 1}
    assert len(world.sleeps) == 2


def test_denied_fails_every_address_once_with_the_grant(batching: World) -> None:
    world = batching
    ips = world.free[:5]
    world.server.faults.inject("assign", "deny")
    results = world.executor().run_many(assigns(world.nics[0], ips))
    assert all(not r.ok and not r.retryable for r in results)
    assert all(GRANTS[world.cloud] in (r.error or "") for r in results), results[0].error
    assert write_calls(world) == 1, "the same NIC and operation would be refused again"
    assert all(world.held_by(ip) == [] for ip in ips)


def test_a_replayed_key_and_a_reused_key_are_answered_alone(aws: World) -> None:
    a = aws.nics[0]
    ex = aws.executor()
    first = ex.run_many(assigns(a, aws.free[:3]))
    again = ex.run_many(
        [
            *assigns(a, aws.free[:3]),
            ActionRequest(ASSIGN, a, aws.free[5], first[0].key),
            *assigns(a, aws.free[3:5]),
        ]
    )
    assert all(r.replayed for r in again[:3])
    assert not again[3].ok and "used for a different request" in (again[3].error or "")
    assert all(r.ok and r.changed for r in again[4:])
    assert [listed(c) for c in writes(aws)] == [sorted(aws.free[:3]), sorted(aws.free[3:5])]


def test_a_cloud_without_a_batch_call_keeps_one_call_per_address(
    world_factory: Callable[[str], World],
) -> None:
    oci = world_factory("oci")
    ex = oci.executor()
    assert ex.batch_limit == 1
    results = ex.run_many(assigns(oci.nics[0], oci.free[:3]))
    assert all(r.ok and r.changed for r in results), [r.error for r in results]
    assert oci.server.applied == {"assign": 3}


def test_runner_failover_of_n_is_one_move_and_a_journal_record_each(
    batching: World, store: Store
) -> None:
    world = batching
    a, b = world.nics[:2]
    ips = world.free[:6]
    assert all(r.ok for r in world.executor().run_many(assigns(b, ips)))
    [report] = Kit(world, store).run(dict.fromkeys(ips, a))
    assert report.error == "" and len(report.executed) == 6
    if world.cloud == "aws":
        [move] = writes(world)[1:]
        assert move["AllowReassignment"] == "true" and listed(move) == sorted(ips)
    else:  # Azure and GCP move in two updates: off the old NIC, then onto the new one
        assert write_calls(world) == 3 and world.server.applied == {"assign": 2, "unassign": 1}
    recs = store.list_actions()
    assert sorted(r.address for r in recs) == sorted(ips)
    assert {(r.operation, r.from_nic, r.status) for r in recs} == {("reassign", b, "succeeded")}
    assert len({r.key for r in recs}) == 6 and all(r.undo for r in recs)
    assert all(world.held_by(ip) == [a] for ip in ips)
    assert sorted(store.provider_holdings("cloud")) == sorted(ips)


def test_runner_per_run_limit_still_holds(aws: World, store: Store) -> None:
    a = aws.nics[0]
    ips = aws.free[:7]
    kit = Kit(aws, store)
    sizes = []
    for _ in range(3):
        [report] = kit.run(dict.fromkeys(ips, a), policy={"maxActionsPerRun": 3})
        sizes.append((len(report.executed), report.left))
    assert sizes == [(3, 4), (3, 1), (1, 0)]
    assert [len(listed(c)) for c in writes(aws)] == [3, 3, 1], "one call per run"
    assert aws.server.applied == {"assign": 3}
    assert all(aws.held_by(ip) == [a] for ip in ips)


def test_runner_crash_after_the_batch_call_replays_idempotently(aws: World, store: Store) -> None:
    """The process dies after the call, before any result is journaled (the hook raises)."""

    class Killed(BaseException):
        pass

    def die(point: str, rec: object) -> None:
        if point == "after-call":
            raise Killed

    a = aws.nics[0]
    ips = aws.free[:5]
    with pytest.raises(Killed):
        Kit(aws, store, hook=die).run(dict.fromkeys(ips, a))
    assert {r.status for r in store.list_actions()} == {"running"}
    assert aws.server.applied == {"assign": 1}
    [report] = Kit(aws, store).run(dict.fromkeys(ips, a))
    assert sorted(report.executed) == sorted(r.key for r in store.list_actions())
    recs = store.list_actions()
    assert {r.status for r in recs} == {"succeeded"} and len(recs) == 5
    assert all(r.result["changed"] is False for r in recs), "found already there"
    assert aws.server.applied == {"assign": 1}, "one write in all"
    assert sorted(store.provider_holdings("cloud")) == sorted(ips)
