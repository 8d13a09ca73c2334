"""SQLite state store: schema, parts, runs, journal, readers alongside the writer."""

from __future__ import annotations

import sqlite3

import pytest

from routerd.core.state_port import JournalEntry, StoreError
from routerd.state import store as store_module
from routerd.state.store import SCHEMA_VERSION, Store
from tests.unit.core.test_effective import NOW, claim, mask, part


def test_schema_version_and_wal(tmp_path):
    s = Store.open(tmp_path)
    db = sqlite3.connect(tmp_path / "routerd.db")
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    s.close()


def test_newer_schema_is_refused(tmp_path):
    Store.open(tmp_path).close()
    db = sqlite3.connect(tmp_path / "routerd.db")
    db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="newer than this routerd"):
        Store.open(tmp_path)


def test_parts_round_trip_with_typed_resources(tmp_path):
    s = Store.open(tmp_path)
    p = part(resources=(claim("app-44", "10.40.8.44/32"),), directives=(mask(),))
    stored = s.put_part(part(gen=0, resources=p.resources, directives=p.directives))
    assert stored.generation == 1
    assert s.put_part(part(gen=0)).generation == 2
    (first, second) = s.list_parts("Plugin/inv")
    assert first.resources[0].spec.address == "10.40.8.44/32"
    assert first.directives[0].target.name == "app-fallback"
    assert first.expires_at == NOW - 10 + 60
    assert second.generation == 2


def test_reader_sees_writer_without_blocking(tmp_path):
    w = Store.open(tmp_path)
    r = Store.open(tmp_path, readonly=True)
    w.append_journal(
        [JournalEntry(1, "c", "10.0.0.1/32", "pending", "captured", "capture", "", "", NOW, 1)]
    )
    assert r.max_seq() == 1
    with pytest.raises(sqlite3.OperationalError):
        r.set_meta("x", "y")


def test_readonly_open_of_missing_db_says_what_to_do(tmp_path):
    with pytest.raises(StoreError, match="has routerd run with --state-dir"):
        Store.open(tmp_path / "nope", readonly=True)


def test_plugin_runs(tmp_path):
    s = Store.open(tmp_path)
    run = s.start_run("inv", "manual")
    s.finish_run(run, status="failed", exit_code=3, stderr="boom", error="exit status 3")
    (r,) = s.list_runs("inv")
    assert (r.status, r.exit_code, r.stderr) == ("failed", 3, "boom")


def test_prune_keeps_recent_generations(tmp_path):
    s = Store.open(tmp_path)
    for g in range(1, 9):
        s.put_part(part(gen=g, received=NOW - 1000, ttl=10))
    assert s.prune_parts(expired_before=NOW, keep_per_source=3) == 5
    assert [p.generation for p in s.list_parts()] == [6, 7, 8]


def test_a_part_that_cannot_be_written_is_a_store_error_naming_the_source(tmp_path):
    Store.open(tmp_path).close()
    r = Store.open(tmp_path, readonly=True)
    with pytest.raises(StoreError, match="cannot store Plugin/a: attempt to write a readonly"):
        r.put_part(part("Plugin/a", 0))
    assert r.list_parts() == []


def _entries(n: int) -> list[JournalEntry]:
    return [
        JournalEntry(
            i, f"c{i}", "10.0.0.1/32", "pending", "captured", "capture", "", "x" * 100, NOW, 1
        )
        for i in range(1, n + 1)
    ]


def test_a_big_journal_append_commits_then_checkpoints_apart(tmp_path, monkeypatch):
    # 40,000 rows leave the write-ahead log far past the autocheckpoint: the commit does
    # not copy it into the database, the checkpoint apart does, and sets it back
    monkeypatch.setattr(store_module, "CHECKPOINT_APART", 100)
    s = Store.open(tmp_path)
    apart: list[int] = []
    monkeypatch.setattr(s, "_start_apart", lambda target, *args: apart.extend(args))
    s.append_journal(_entries(40_000))
    db_file = tmp_path / store_module.DB_NAME
    assert Store.open(tmp_path, readonly=True).max_seq() == 40_000  # committed
    assert apart == [1000]
    assert s._db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
    small = db_file.stat().st_size
    s._checkpoint(apart[0])
    assert db_file.stat().st_size > small + 4_000_000
    assert s._db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
    s.close()


def test_a_checkpoint_apart_runs_in_a_thread_and_close_waits_for_it(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "CHECKPOINT_APART", 100)
    s = Store.open(tmp_path)
    s.append_journal(_entries(300))
    s.append_journal(_entries(350)[300:])
    (thread,) = s._apart
    thread.join()
    assert s._db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000
    s.append_journal(_entries(800)[350:])
    s.close()  # waits for the second one
    assert not any(t.is_alive() for t in s._apart)
    assert Store.open(tmp_path, readonly=True).max_seq() == 800


def test_a_small_journal_append_checkpoints_as_it_commits(tmp_path):
    s = Store.open(tmp_path)
    s.append_journal(_entries(40_000)[:100])
    assert not s._apart
    s.close()


def _seqs(s: Store) -> list[int]:
    return [e.seq for e in s.journal(limit=10**6)]


def test_the_journal_keeps_its_newest_rows_and_prunes_a_tenth_over_the_limit(tmp_path):
    s = Store.open(tmp_path, journal_keep=100)
    rows = _entries(200)
    s.append_journal(rows[:100])
    s.append_journal(rows[100:110])  # 110 rows: within the tenth allowed over the limit
    s.settle()
    assert _seqs(s) == list(range(1, 111))
    s.append_journal(rows[110:111])  # 111: over it, pruned apart to the newest 100
    s.settle()
    assert _seqs(s) == list(range(12, 112))
    s.append_journal(rows[111:200])  # the oldest kept is remembered: 12..200 is over
    s.settle()
    assert _seqs(s) == list(range(101, 201))
    assert s.max_seq() == 200
    s.close()
    again = Store.open(tmp_path, journal_keep=100)  # a restart finds the oldest again
    again.append_journal(_entries(211)[200:])
    again.settle()
    assert _seqs(again) == list(range(112, 212))
    again.close()


def test_a_journal_keep_of_zero_keeps_everything(tmp_path):
    s = Store.open(tmp_path, journal_keep=0)
    s.append_journal(_entries(500))
    assert s.prune_journal() == 0
    s.settle()
    assert _seqs(s) == list(range(1, 501))
    s.close()


def test_pruning_by_hand_deletes_down_to_the_limit_and_says_how_many(tmp_path):
    s = Store.open(tmp_path, journal_keep=0)
    s.append_journal(_entries(50))
    s.journal_keep = 20
    assert s.prune_journal() == 30
    assert _seqs(s) == list(range(31, 51))
    assert s.prune_journal() == 0
    s.close()


def test_a_negative_journal_keep_is_refused(tmp_path):
    with pytest.raises(ValueError, match="journal_keep: must be 0"):
        Store.open(tmp_path, journal_keep=-1)


def test_the_journal_has_no_index_by_claim_and_an_older_database_loses_it(tmp_path):
    # a schema-3 database (the claim index, journal rows) is migrated: rows stay, index goes
    Store.open(tmp_path).close()
    db = sqlite3.connect(tmp_path / "routerd.db")
    db.execute("CREATE INDEX claim_journal_claim ON claim_journal (claim, seq)")
    db.executemany("INSERT INTO claim_journal VALUES (?,?,?,?,?,?,?,?,?,?)", _entries(5))
    db.execute("PRAGMA user_version=3")
    db.commit()
    db.close()
    s = Store.open(tmp_path)
    indexes = s._db.execute(
        "SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='claim_journal'"
    ).fetchall()
    assert indexes == []
    assert s._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
    assert [e.claim for e in s.journal(claim="c3")] == ["c3"]
    s.close()


def test_only_the_journals_can_be_pruned(tmp_path):
    s = Store.open(tmp_path)
    with pytest.raises(ValueError, match="not a journal: 'owned_objects'"):
        s.prune_journal("owned_objects")
    s.close()
