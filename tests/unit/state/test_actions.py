"""The provider-action tables: migration, intent counters, superseding, holdings."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from routerd.core.action_journal import ActionRecord
from routerd.state.store import DB_NAME, MIGRATIONS, SCHEMA_VERSION, Store


def record(key: str, address: str = "10.40.8.31", **kw: object) -> ActionRecord:
    base: dict[str, object] = {
        "id": 0,
        "key": key,
        "profile": "p",
        "provider": "aws",
        "operation": "assign",
        "address": address,
        "nic": "eni-1",
    }
    base.update(kw)
    return ActionRecord(**base)  # type: ignore[arg-type]


def test_a_store_of_the_first_schema_gains_the_tables_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / DB_NAME
    db = sqlite3.connect(path)
    for stmt in MIGRATIONS[0][1].split(";"):
        if stmt.strip():
            db.execute(stmt)
    db.execute("INSERT INTO meta VALUES ('generation', '7')")
    db.execute("PRAGMA user_version=1")
    db.commit()
    db.close()
    store = Store.open(tmp_path)
    try:
        assert store.get_meta("generation") == "7"
        assert store.list_actions() == []
        version = store._query("PRAGMA user_version")[0][0]
        assert version == SCHEMA_VERSION >= 2
    finally:
        store.close()


def test_intent_counter_moves_only_when_the_want_changes(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    try:
        assert store.provider_intents({"a": "eni-1", "b": "eni-1"}) == {"a": 1, "b": 1}
        assert store.provider_intents({"a": "eni-1"}) == {"a": 1}
        assert store.provider_intents({"a": "eni-2", "b": ""}) == {"a": 2, "b": 2}
        assert store.provider_intents({"a": "eni-1"}) == {"a": 3}, "back again is a new intent"
        assert store.renew_provider_intent("a") == 4
        assert store.provider_intents({"a": "eni-1"}) == {"a": 4}
    finally:
        store.close()
    reopened = Store.open(tmp_path)
    try:
        assert reopened.provider_intents({"a": "eni-1"}) == {"a": 4}, "survives a restart"
    finally:
        reopened.close()


def test_put_is_idempotent_by_key_and_supersede_spares_running_and_undo(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    try:
        first = store.put_action(record("k1", request={"nic": "eni-1"}))
        again = store.put_action(record("k1", operation="unassign"))
        assert again == first and again.operation == "assign"
        store.put_action(record("k2", status="running"))
        store.put_action(record("k3", status="awaiting-approval"))
        store.put_action(record("u1", origin="undo"))
        assert store.supersede_actions("10.40.8.31", keep="k3") == 1
        by_key = {r.key: r.status for r in store.list_actions()}
        assert by_key == {
            "k1": "superseded",
            "k2": "running",
            "k3": "awaiting-approval",
            "u1": "planned",
        }
        assert [r.key for r in store.open_actions("p")] == ["k2", "k3", "u1"]
        done = store.update_action("k3", status="succeeded", result={"ok": True}, approved=True)
        assert done is not None and done.approved and done.result == {"ok": True}
        assert [r.key for r in store.list_actions(statuses=["succeeded"])] == ["k3"]
    finally:
        store.close()


def test_holdings_by_profile(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    try:
        store.hold_address("10.40.8.31", "p", "eni-1", "k1")
        store.hold_address("10.40.8.32", "q", "eni-9", "k2")
        assert sorted(store.provider_holdings()) == ["10.40.8.31", "10.40.8.32"]
        assert list(store.provider_holdings("p")) == ["10.40.8.31"]
        store.release_address("10.40.8.31")
        assert store.provider_holdings("p") == {}
    finally:
        store.close()
