"""SQLite state store: schema, parts, runs, journal, readers alongside the writer."""

from __future__ import annotations

import sqlite3

import pytest

from routerd.core.state_port import JournalEntry, StoreError
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
