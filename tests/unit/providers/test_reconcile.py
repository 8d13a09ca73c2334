"""The provider reconciler's runs, through each cloud's real SDK against its enforcing double.

Every test runs once per cloud (``world``). The doubles count the state changes they
applied and enforce one address, one NIC, so a double action, a lost action or a stolen
address shows up as a wrong count or a wrong holder, not as a log line.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from routerd.state.store import Store
from tests.unit.providers.action_kit import Kit
from tests.unit.providers.exec_worlds import World


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store.open(tmp_path / "state")
    yield s
    s.close()


def statuses(store: Store) -> list[tuple[str, str, str]]:
    return [(r.operation, r.address, r.status) for r in reversed(store.list_actions())]


def test_assigns_what_claims_want_once(world: World, store: Store) -> None:
    kit = Kit(world, store)
    a, ip = world.nics[0], world.free[0]
    [report] = kit.run({ip: a})
    assert report.error == "" and report.changed
    assert world.held_by(ip) == [a]
    assert statuses(store) == [("assign", ip, "succeeded")]
    rec = store.list_actions()[0]
    assert rec.key.startswith(f"rd:{ip}:assign:") and rec.key.endswith(":1")
    assert rec.undo == {"action": "unassign-secondary-ip", "nic": a, "address": ip}
    assert ip in store.provider_holdings("cloud")
    [again] = kit.run({ip: a})
    assert again.executed == [] and not again.changed
    assert world.server.applied == {"assign": 1}
    assert len(store.list_actions()) == 1


def test_releases_only_what_routerd_assigned(world: World, store: Store) -> None:
    kit = Kit(world, store)
    a = world.nics[0]
    mine, operators = world.free[0], world.free[1]
    assert world.executor().assign(a, operators, reassign=False, key="by-hand").ok
    kit.run({mine: a, operators: a})
    assert sorted(store.provider_holdings("cloud")) == [mine], "only its own assignment"
    [report] = kit.run({})
    assert report.error == ""
    assert world.held_by(mine) == [], "released: no claim wants it"
    assert world.held_by(operators) == [a], "never touches an address it did not assign"
    assert store.provider_holdings("cloud") == {}
    assert statuses(store)[-1] == ("unassign", mine, "succeeded")


def test_reassigns_from_another_nic_when_allowed(world: World, store: Store) -> None:
    a, b = world.nics[:2]
    ip = world.free[0]
    assert world.executor().assign(b, ip, reassign=False, key="old-router").ok
    kit = Kit(world, store)
    [report] = kit.run({ip: a})
    assert report.error == "", report
    assert world.held_by(ip) == [a]
    rec = store.list_actions()[0]
    assert (rec.operation, rec.from_nic, rec.status) == ("reassign", b, "succeeded")
    assert rec.undo is not None and rec.undo["nic"] == b and rec.undo["reassign"] is True


def test_never_takes_without_reassign_or_from_a_homed_vm(world: World, store: Store) -> None:
    a, b = world.nics[:2]
    ip = world.free[0]
    assert world.executor().assign(b, ip, reassign=False, key="vm-secondary").ok
    kit = Kit(world, store)
    [report] = kit.run({ip: a}, policy={"actions": ["assign", "unassign"]})
    assert "does not allow reassign" in report.blocked[ip]
    homed = Kit(world, store, may_take=lambda address, holder: holder != b)
    [report] = homed.run({ip: a})
    assert "a VM this site homes" in report.blocked[ip]
    assert world.held_by(ip) == [b]
    assert store.list_actions() == []
    assert world.server.applied == {"assign": 1}


def test_primary_address_is_never_taken(world: World, store: Store) -> None:
    kit = Kit(world, store)
    [report] = kit.run({world.vm_primary: world.nics[0]})
    assert "primary IP" in report.blocked[world.vm_primary]
    assert world.held_by(world.vm_primary) == [world.nics[2]]
    assert store.list_actions() == [] and not world.server.applied


def test_outside_allowed_prefixes_is_blocked(world: World, store: Store) -> None:
    kit = Kit(world, store)
    ip = world.free[0]
    [report] = kit.run({ip: world.nics[0]}, policy={"allowedPrefixes": ["192.0.2.0/24"]})
    assert "outside ProviderActionPolicy/actions allowedPrefixes" in report.blocked[ip]
    assert world.held_by(ip) == [] and store.list_actions() == []


def test_approval_required_waits_for_a_person(world: World, store: Store) -> None:
    kit = Kit(world, store)
    ip = world.free[0]
    policy = {"approval": "required"}
    [report] = kit.run({ip: world.nics[0]}, policy=policy)
    assert len(report.waiting) == 1 and report.executed == []
    assert statuses(store) == [("assign", ip, "awaiting-approval")]
    assert world.held_by(ip) == []
    kit.run({ip: world.nics[0]}, policy=policy)
    assert len(store.list_actions()) == 1, "waiting is not re-planned"
    store.update_action(report.waiting[0], status="planned", approved=True)
    [report] = kit.run({ip: world.nics[0]}, policy=policy)
    assert report.executed == [store.list_actions()[0].key]
    assert world.held_by(ip) == [world.nics[0]]
    assert statuses(store) == [("assign", ip, "succeeded")]


def test_a_new_intent_supersedes_the_waiting_action(world: World, store: Store) -> None:
    kit = Kit(world, store)
    a, b = world.nics[:2]
    ip = world.free[0]
    policy = {"approval": "required"}
    kit.run({ip: a}, policy=policy)
    kit.run({ip: b}, policy=policy)
    old, new = reversed(store.list_actions())
    assert old.status == "superseded" and new.status == "awaiting-approval"
    assert (old.intent, new.intent) == (1, 2), "the intent counter moved with the want"
    assert old.key != new.key
    kit.run({}, policy=policy)
    assert store.list_actions()[0].status == "superseded", "no longer wanted at all"
    assert not world.server.applied


def test_max_actions_per_run_paces_the_work(world: World, store: Store) -> None:
    kit = Kit(world, store)
    claims = {ip: world.nics[0] for ip in world.free[:3]}
    policy = {"maxActionsPerRun": 1}
    [first] = kit.run(claims, policy=policy)
    assert len(first.executed) == 1 and first.left == 2
    kit.run(claims, policy=policy)
    [last] = kit.run(claims, policy=policy)
    assert last.left == 0
    assert sorted(world.holders()[ip] for ip in claims) == [world.nics[0]] * 3
    assert world.server.applied == {"assign": 3}


def test_drift_after_success_is_repaired_under_a_new_key(world: World, store: Store) -> None:
    kit = Kit(world, store)
    a, ip = world.nics[0], world.free[0]
    kit.run({ip: a})
    assert world.executor().unassign(a, ip, key="someone-else").changed
    kit.factory(kit.wanted({ip: a})["cloud"].profile).forget_inventory()
    [report] = kit.run({ip: a})
    assert report.changed and world.held_by(ip) == [a]
    keys = [r.key for r in reversed(store.list_actions())]
    assert len(keys) == 2 and keys[0].endswith(":1") and keys[1].endswith(":2")


def test_a_failed_action_is_retried_with_its_key_after_backoff(world: World, store: Store) -> None:
    now = [100.0]
    kit = Kit(world, store)
    kit.runner.clock = lambda: now[0]
    ip = world.free[0]
    world.server.faults.inject("assign", "deny")
    [report] = kit.run({ip: world.nics[0]})
    rec = store.list_actions()[0]
    assert rec.status == "failed" and rec.error
    assert world.held_by(ip) == []
    world.server.faults.clear()
    [report] = kit.run({ip: world.nics[0]})
    assert report.executed == [] and report.left == 1, "waits for its backoff"
    now[0] += 3600
    [report] = kit.run({ip: world.nics[0]})
    assert report.executed == [rec.key], "the same key again"
    assert store.action_by_key(rec.key).status == "succeeded"
    assert world.held_by(ip) == [world.nics[0]]


class Crash(BaseException):
    """Stands for the process dying at a hook point (nothing after it runs)."""


@pytest.mark.parametrize("point", ["before-call", "after-call"])
def test_crash_between_call_and_journal_is_neither_lost_nor_repeated(
    world: World, store: Store, point: str
) -> None:
    def die(at: str, rec: object) -> None:
        if at == point:
            raise Crash(at)

    ip = world.free[0]
    with pytest.raises(Crash):
        Kit(world, store, hook=die).run({ip: world.nics[0]})
    rec = store.list_actions()[0]
    assert rec.status == "running", "journaled before the call"
    assert ip in store.provider_holdings("cloud"), "held before the call: releasable"
    restarted = Kit(world, store)  # a new process: new executors, nothing remembered
    [report] = restarted.run({ip: world.nics[0]})
    assert report.executed == [rec.key], "the same key, run again"
    done = store.action_by_key(rec.key)
    assert done is not None and done.status == "succeeded"
    assert world.held_by(ip) == [world.nics[0]]
    assert world.server.applied == {"assign": 1}, "never written twice"
    if point == "after-call":
        assert done.result["changed"] is False, "the restart found it done"


def test_no_credential_reaches_the_journal_or_logs(
    world: World, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    kit = Kit(world, store)
    a, b = world.nics[:2]
    world.server.faults.inject("assign", "deny")
    kit.run({world.free[0]: a})
    world.server.faults.clear()
    kit.runner.clock = lambda: 1e12
    kit.run({world.free[0]: a, world.free[1]: b})
    kit.run({})
    store.close()
    blob = b"".join(p.read_bytes() for p in store.path.parent.glob("routerd.db*"))
    text = caplog.text
    for secret in world.secrets:
        assert secret.encode() not in blob, "a credential in the state database"
        assert secret not in text, "a credential in the logs"
    assert b"succeeded" in blob or b"failed" in blob
