"""The mobility store on SQLite: migration from the previous schema, restart, the journal."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from routerd.core.mobility.port import MemoryMobilityStore, MobilityBatch, MobilityStore
from routerd.core.mobility.records import MoveRecord, Own, Pin
from routerd.core.state_port import JournalEntry
from routerd.state.store import MIGRATIONS, SCHEMA_VERSION, Store

A, B = "10.77.3.9", "10.77.3.10"


def version_one(tmp_path: Path) -> Path:
    """A state directory as the previous routerd left it: schema 1 with a journal entry."""
    path = tmp_path / "routerd.db"
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    (version, sql), *_ = MIGRATIONS
    assert version == 1
    for stmt in sql.split(";"):
        if stmt.strip():
            db.execute(stmt)
    db.execute(
        "INSERT INTO claim_journal VALUES (1,'c','10.0.0.1/32','pending','captured',"
        "'capture','','',1.0,1)"
    )
    db.execute("PRAGMA user_version=1")
    db.close()
    return tmp_path


def test_previous_schema_migrates_and_keeps_its_data(tmp_path: Path) -> None:
    store = Store.open(version_one(tmp_path))
    try:
        assert store.max_seq() == 1  # the claim journal survived
        assert store.mobility_load().own == {}
        store.mobility_commit(MobilityBatch(own_put=(Own(A, "lab", 3, 1.0, "presence"),)))
        assert store.mobility_load().own[A].sequence == 3
    finally:
        store.close()
    db = sqlite3.connect(tmp_path / "routerd.db")
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION >= 2


def test_restart_keeps_sequences_pins_and_journal(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    move = MoveRecord(A, "lab", "site-b", "site-a", 4, "presence", "garp", 2.0)
    store.mobility_commit(
        MobilityBatch(
            own_put=(Own(A, "lab", 4, 2.0, "presence"), Own(B, "lab", 1, 2.0, "explicit")),
            high=((A, 4), (B, 1), ("10.77.3.11", 9)),
            moves=(move,),
        )
    )
    store.mobility_put_pin(Pin("10.77.3.12", "lab", "site-c", 3.0, "db"))
    store.close()
    again = Store.open(tmp_path)
    loaded = again.mobility_load()
    assert loaded.own[A] == Own(A, "lab", 4, 2.0, "presence")
    assert loaded.high == {A: 4, B: 1, "10.77.3.11": 9}
    assert loaded.pins["10.77.3.12"].site == "site-c"
    (stored,) = again.mobility_moves()
    assert stored == MoveRecord(A, "lab", "site-b", "site-a", 4, "presence", "garp", 2.0, seq=1)
    again.close()


@pytest.mark.parametrize("kind", ["sqlite", "memory"])
def test_both_stores_behave_alike(tmp_path: Path, kind: str) -> None:
    store: MobilityStore = Store.open(tmp_path) if kind == "sqlite" else MemoryMobilityStore()
    assert store.mobility_head() == 0
    store.mobility_commit(
        MobilityBatch(own_put=(Own(A, "lab", 2, 1.0, "presence"),), high=((A, 2),))
    )
    store.mobility_commit(MobilityBatch(own_drop=(A,), high=((A, 1),)))  # high never falls
    loaded = store.mobility_load()
    assert loaded.own == {} and loaded.high == {A: 2}
    moves = [
        MoveRecord(a, "lab", "", "site-a", i, "presence", "", float(i))
        for i, a in enumerate((A, B, A), 1)
    ]
    stored = store.mobility_commit(MobilityBatch(moves=tuple(moves[:2])))
    stored += store.mobility_commit(MobilityBatch(moves=(moves[2],)))
    assert [m.seq for m in stored] == [1, 2, 3]
    assert store.mobility_head() == 3
    assert [m.seq for m in store.mobility_moves(address=A)] == [1, 3]
    assert [m.seq for m in store.mobility_moves(after=1, limit=1)] == [2]
    assert store.mobility_drop_pin(A) is False
    store.mobility_put_pin(Pin(A, "lab", "site-b", 1.0))
    store.mobility_put_pin(Pin(A, "lab", "site-c", 2.0))
    assert store.mobility_load().pins[A].site == "site-c"
    assert store.mobility_drop_pin(A) is True
    assert store.mobility_load().pins == {}


def test_a_failed_commit_writes_nothing(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    bad = MobilityBatch(
        own_put=(Own(A, "lab", 2, 1.0, "presence"),),
        moves=(MoveRecord(A, "lab", "", "site-a", 2, "presence", "", 1.0, seq=0),),
    )
    store.mobility_commit(bad)
    dup = MobilityBatch(own_put=(Own(B, "lab", 5, 1.0, "presence"),), high=((B, 5),))
    with pytest.raises(sqlite3.Error):
        _force_failure(store, dup)
    loaded = store.mobility_load()
    assert B not in loaded.own and B not in loaded.high


def _force_failure(store: Store, batch: MobilityBatch) -> None:
    """Make the transaction fail after its first statement (a trigger refuses the second)."""
    with store._tx() as db:
        db.execute(
            "CREATE TRIGGER IF NOT EXISTS refuse BEFORE INSERT ON mobility_sequences "
            "BEGIN SELECT RAISE(ABORT, 'refused'); END"
        )
    store.mobility_commit(batch)


def test_claim_journal_still_works_beside_it(tmp_path: Path) -> None:
    store = Store.open(tmp_path)
    store.append_journal(
        [JournalEntry(1, "c", "10.0.0.1/32", "pending", "captured", "capture", "", "", 1.0, 1)]
    )
    store.mobility_commit(MobilityBatch(moves=(MoveRecord(A, "lab", "", "x", 1, "c", "", 1.0),)))
    assert store.max_seq() == 1 and len(store.mobility_moves()) == 1


def test_the_move_journal_keeps_its_newest_rows(tmp_path: Path) -> None:
    store = Store.open(tmp_path, journal_keep=10)

    def moves(n: int) -> MobilityBatch:
        return MobilityBatch(
            moves=tuple(MoveRecord(A, "lab", "site-a", "site-b", i, "explicit", "", 1.0)
                        for i in range(n))
        )  # fmt: skip

    store.mobility_commit(moves(11))  # within a tenth over the limit: 11 <= 10 + 1
    store.settle()
    assert [m.seq for m in store.mobility_moves(limit=100)] == list(range(1, 12))
    stored = store.mobility_commit(moves(1))  # 12: pruned apart to the newest 10
    store.settle()
    assert stored[0].seq == 12 and store.mobility_head() == 12
    assert [m.seq for m in store.mobility_moves(limit=100)] == list(range(3, 13))
    assert store.mobility_commit(moves(1))[0].seq == 13  # numbering goes on
    store.close()
