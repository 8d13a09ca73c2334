"""``routerctl action``: golden output per format, and every refusal's exit code and message.

The journal is filled directly (three actions in the three states people meet most: a
succeeded assign with its undo, one awaiting approval, a failed one), so the goldens hold
exactly what the commands print for them. Regenerate with ``ROUTERD_UPDATE_GOLDEN=1``.
"""

from __future__ import annotations

import json

import pytest

from routerd.core.action_journal import ActionRecord
from routerd.state.store import Store
from tests.integration.api.harness import Served
from tests.integration.api.test_routerctl import check_golden, normalise

pytestmark = pytest.mark.integration

ENI = "eni-0a1b2c3d4e5f60789"


def fill(store: Store) -> list[ActionRecord]:
    base = {"profile": "aws-lab", "provider": "aws", "nic": ENI}
    done = store.put_action(
        ActionRecord(
            id=0,
            key="rd:10.40.8.31:assign:5e2f0c1d9a7b:1",
            operation="assign",
            address="10.40.8.31",
            claim="onprem-vm-31",
            intent=1,
            request={"provider": "aws", "nic": ENI, "address": "10.40.8.31"},
            **base,
        )
    )
    store.update_action(
        done.key,
        status="succeeded",
        result={
            "ok": True,
            "changed": True,
            "previousHolder": None,
            "holder": ENI,
            "calls": [f"AssignPrivateIpAddresses {ENI} 10.40.8.31"],
        },
        undo={"action": "unassign-secondary-ip", "nic": ENI, "address": "10.40.8.31"},
        attempts=1,
        finished_at=1.0e9,
    )
    store.put_action(
        ActionRecord(
            id=0,
            key="rd:10.40.8.32:assign:5e2f0c1d9a7b:1",
            operation="assign",
            address="10.40.8.32",
            claim="onprem-vm-32",
            intent=1,
            status="awaiting-approval",
            **base,
        )
    )
    failed = store.put_action(
        ActionRecord(
            id=0,
            key="rd:10.40.8.33:reassign:5e2f0c1d9a7b:2",
            operation="reassign",
            address="10.40.8.33",
            from_nic="eni-0ffffffffffffffff",
            claim="onprem-vm-33",
            intent=2,
            **base,
        )
    )
    store.update_action(
        failed.key,
        status="failed",
        error="UnauthorizedOperation: not allowed; grant ec2:AssignPrivateIpAddresses on "
        "the router's ENI",
        attempts=1,
    )
    return store.list_actions()


@pytest.mark.parametrize("fmt", ["table", "json", "yaml"])
def test_action_commands_match_their_goldens(served: Served, fmt: str) -> None:
    fill(served.daemon.store)
    for name, argv in {
        "action-list": ("action", "list"),
        "action-describe": ("action", "describe", "1"),
    }.items():
        r = served.ctl(*argv, "-o", fmt)
        assert r.code == 0, r.err
        check_golden(f"{name}.{fmt}", normalise(r.out, served))


def test_filters_and_lookup_by_key(served: Served) -> None:
    fill(served.daemon.store)
    out = served.ctl("action", "list", "--status", "failed", "-o", "json")
    assert [a["address"] for a in json.loads(out.out)["actions"]] == ["10.40.8.33"]
    out = served.ctl("action", "list", "--address", "10.40.8.32", "-o", "json")
    assert [a["status"] for a in json.loads(out.out)["actions"]] == ["awaiting-approval"]
    by_key = served.ctl("action", "describe", "rd:10.40.8.31:assign:5e2f0c1d9a7b:1")
    assert by_key.code == 0 and "ID" in by_key.out and "succeeded" in by_key.out
    empty = served.ctl("action", "list")
    assert empty.code == 0


def test_refusals_exit_2_with_what_to_do(served: Served) -> None:
    fill(served.daemon.store)
    missing = served.ctl("action", "describe", "99")
    assert missing.code == 2 and "no provider action '99'" in missing.err
    not_waiting = served.ctl("action", "approve", "2", "1")
    assert not_waiting.code == 2 and "action 1 is succeeded" in not_waiting.err
    assert served.daemon.store.action_by_id(2).status == "awaiting-approval", "all or none"
    undo_waiting = served.ctl("action", "undo", "2")
    assert undo_waiting.code == 2 and "only a succeeded action can be undone" in undo_waiting.err
    no_exec = served.ctl("action", "undo", "1")
    assert no_exec.code == 2 and "does not execute now" in no_exec.err
    approved = served.ctl("action", "approve", "2")
    assert approved.code == 0 and "approved action 2: assign 10.40.8.32" in approved.out
    assert served.daemon.store.action_by_id(2).status == "planned"
