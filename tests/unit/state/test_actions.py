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


A, H = "10.40.8.31", "10.40.8.32"


def _put(store: Store, n: int, **kw: object) -> int:
    return store.put_action(record(f"k{n}", **kw)).id


def test_pruning_actions_deletes_only_finished_ones_nothing_can_need_again(tmp_path: Path) -> None:
    store = Store.open(tmp_path, journal_keep=0)  # nothing pruned on its own
    try:
        for want in ("eni-1", "eni-2"):  # both addresses' intents move on to 2
            store.provider_intents({A: want, H: want})
        done = {"status": "succeeded", "intent": 1}
        ids = {
            "old": _put(store, 1, **done),
            "superseded": _put(store, 2, status="superseded", intent=1),
            "failed": _put(store, 3, status="failed", intent=1),  # open: may run again
            "current": _put(store, 4, status="succeeded", intent=2),  # its key may come back
            "held": _put(store, 5, address=H, **done),
            "undone-by-running": _put(store, 6, **done),
        }
        ids["running-undo"] = _put(store, 7, origin="undo", undo_of=ids["undone-by-running"],
                                   status="running")  # fmt: skip
        ids["undone"] = _put(store, 8, **done)
        ids["its-undo"] = _put(store, 9, origin="undo", undo_of=ids["undone"], **done)
        ids["undone-lately"] = _put(store, 10, **done)
        ids["filler"] = _put(store, 11, **done)
        ids["late-undo"] = _put(store, 12, origin="undo", undo_of=ids["undone-lately"], **done)
        ids["newest"] = _put(store, 13, **done)
        store.hold_address(H, "p", "eni-1", "k5")
        assert store.prune_actions(keep=2) == 5  # 12 and 13 are the newest two
        left = {r.id for r in store.list_actions()}
        gone = {name for name, i in ids.items() if i not in left}
        assert gone == {"old", "superseded", "undone", "its-undo", "filler"}
        assert store.prune_actions(keep=2) == 0
    finally:
        store.close()


def test_the_action_journal_is_pruned_apart_a_tenth_over_its_limit(tmp_path: Path) -> None:
    store = Store.open(tmp_path, journal_keep=3)
    try:
        store.provider_intents({A: "eni-1"})
        store.provider_intents({A: "eni-2"})
        for n in range(4):  # 4 rows: within a tenth (at least one) over 3
            _put(store, n, status="succeeded", intent=1)
        store.settle()
        assert len(store.list_actions()) == 4
        _put(store, 4, status="succeeded", intent=1)
        store.settle()
        assert [r.key for r in store.list_actions()] == ["k4", "k3", "k2"]
        for n in range(5, 12):  # open actions are never pruned, however many
            _put(store, n, status="planned", intent=2)
        store.settle()
        keys = [r.key for r in store.list_actions()]
        assert keys[:7] == [f"k{n}" for n in range(11, 4, -1)]
        assert len(keys) == 7  # the finished ones went, from the oldest
        store.put_action(record("k11"))  # a key already journaled adds no row
        store.settle()
        assert len(store.list_actions()) == 7
    finally:
        store.close()
