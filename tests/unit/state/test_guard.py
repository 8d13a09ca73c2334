"""The state directory guard: one writer, no start on a damaged database, a repair that keeps all.

Damage is made the way it happens: pages in the middle of the file overwritten (SQLite opens
such a file and serves queries that miss the bad pages, so only the check can see it), the
file truncated to nothing, the file replaced by something that is not SQLite, the database
removed with its write-ahead log left behind.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from routerd.core.state_port import JournalEntry, StoreError
from routerd.state.guard import (
    StateLock,
    StateLockedError,
    StoreDamagedError,
    holder,
    inspect,
    open_guarded,
    repair,
)
from routerd.state.store import DB_NAME, Store

ROWS = 3000


def entry(seq: int) -> JournalEntry:
    return JournalEntry(
        seq, f"c{seq}", "10.0.0.1/32", "pending", "captured", "capture", "", "x" * 200, 1.0, 1
    )


def filled(state_dir: Path) -> Path:
    """A closed database with a generation and ROWS journal entries (about 0.9 MB)."""
    store = Store.open(state_dir)
    store.set_meta("generation", "7")
    store.append_journal(entry(i) for i in range(1, ROWS + 1))
    store.close()
    return state_dir / DB_NAME


def damage_middle(db: Path, pages: int = 2) -> None:
    data = bytearray(db.read_bytes())
    mid = len(data) // 2 // 4096 * 4096
    data[mid : mid + pages * 4096] = b"\x55" * (pages * 4096)
    db.write_bytes(bytes(data))


def test_a_second_writer_is_refused_with_the_holders_pid(tmp_path):
    first = StateLock(tmp_path).acquire()
    with pytest.raises(StateLockedError, match=f"in use by routerd PID {os.getpid()}"):
        StateLock(tmp_path).acquire()
    assert holder(tmp_path) == os.getpid()
    first.release()
    assert holder(tmp_path) is None
    StateLock(tmp_path).acquire().release()


def test_the_lock_held_by_another_process_names_that_process(tmp_path):
    code = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from routerd.state.guard import StateLock
        StateLock(Path({str(tmp_path)!r})).acquire()
        print("locked", flush=True)
        sys.stdin.read()
        """
    )
    root = Path(__file__).resolve().parents[3]
    with subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=root,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        try:
            assert child.stdout is not None and child.stdout.readline() == "locked\n"
            with pytest.raises(StateLockedError, match=f"routerd PID {child.pid}") as e:
                open_guarded(tmp_path)
            assert "--state-dir" in str(e.value)
        finally:
            child.kill()
            child.wait(timeout=10)
    open_guarded(tmp_path).close()  # the lock died with its holder


def test_children_do_not_inherit_the_lock(tmp_path):
    """wireguard-go outlives routerd: a lock it inherited would block the next start."""
    lock = StateLock(tmp_path).acquire()
    child = subprocess.Popen(["sleep", "30"])
    try:
        lock.release()
        StateLock(tmp_path).acquire().release()
    finally:
        child.kill()
        child.wait(timeout=10)


def test_a_fresh_directory_is_healthy_and_creation_leaves_no_partial_file(tmp_path):
    assert inspect(tmp_path).ok and not inspect(tmp_path).exists
    (tmp_path / f"{DB_NAME}.new").write_bytes(b"half-made")  # an interrupted earlier create
    store = open_guarded(tmp_path)
    store.close()
    assert (tmp_path / DB_NAME).read_bytes()[:16] == b"SQLite format 3\x00"
    assert not (tmp_path / f"{DB_NAME}.new").exists()
    assert inspect(tmp_path).ok


def test_damage_sqlite_would_serve_is_found_and_start_is_refused(tmp_path):
    db = filled(tmp_path)
    damage_middle(db)
    s = Store.open(tmp_path)  # what routerd did before: it opens and serves
    s.close()
    before = db.read_bytes()
    health = inspect(tmp_path)
    assert not health.ok and health.problems
    with pytest.raises(StoreDamagedError) as e:
        open_guarded(tmp_path)
    msg = str(e.value)
    assert str(db) in msg and f"routerd state repair --state-dir {tmp_path}" in msg
    assert f"routerd state check --state-dir {tmp_path}" in msg
    assert db.read_bytes() == before, "a refused start must not touch the database"
    assert holder(tmp_path) is None, "a refused start releases the lock"


@pytest.mark.parametrize(
    ("content", "problem"),
    [(b"", r"is empty \(0 bytes\)"), (b"not a database at all" * 100, "is not a SQLite database")],
)
def test_an_empty_or_foreign_file_is_never_turned_into_a_fresh_journal(tmp_path, content, problem):
    db = tmp_path / DB_NAME
    db.write_bytes(content)
    with pytest.raises(StoreDamagedError, match=problem):
        open_guarded(tmp_path)
    assert db.read_bytes() == content


def test_a_write_ahead_log_without_its_database_is_refused(tmp_path):
    store = Store.open(tmp_path)
    store.append_journal([entry(1)])  # stays in the WAL while the connection is open
    wal = Path(f"{tmp_path / DB_NAME}-wal")
    assert wal.stat().st_size > 0
    (tmp_path / DB_NAME).rename(tmp_path / "moved.db")
    with pytest.raises(StoreDamagedError, match="missing but its write-ahead log"):
        open_guarded(tmp_path)
    store.close()


def test_repair_keeps_the_damaged_files_and_copies_every_readable_row(tmp_path):
    db = filled(tmp_path)
    damage_middle(db)
    report = repair(tmp_path, stamp="T1")
    assert report.needed and report.problems
    aside = tmp_path / f"{DB_NAME}.broken-T1"
    assert aside in report.moved and aside.exists()
    copied = report.copied["claim_journal"]
    assert ROWS // 2 < copied < ROWS, copied  # most rows, not the ones on the bad pages
    [lost] = report.lost["claim_journal"]
    first, last = (int(x) for x in lost.split("-"))
    assert copied + (last - first + 1) == ROWS
    assert inspect(tmp_path).ok
    store = Store.open(tmp_path)
    assert store.get_meta("generation") == "7" and store.max_seq() == ROWS
    assert len(store.journal(limit=ROWS)) == copied
    store.close()


def test_repair_of_an_empty_file_starts_a_new_database_and_keeps_the_empty_one(tmp_path):
    (tmp_path / DB_NAME).write_bytes(b"")
    report = repair(tmp_path, stamp="T2")
    assert report.copied == {} and (tmp_path / f"{DB_NAME}.broken-T2").exists()
    assert inspect(tmp_path).ok


def test_repair_leaves_a_healthy_database_alone_and_refuses_while_locked(tmp_path):
    db = filled(tmp_path)
    before = db.read_bytes()
    assert not repair(tmp_path, stamp="T3").needed
    assert db.read_bytes() == before
    store = open_guarded(tmp_path)
    with pytest.raises(StateLockedError):
        repair(tmp_path, stamp="T4")
    store.close()


def test_damage_met_while_running_is_recorded_as_the_store_fault(tmp_path):
    db = filled(tmp_path)
    store = Store.open(tmp_path)
    assert store.fault == ""
    damage_middle(db, pages=8)
    with pytest.raises(sqlite3.DatabaseError):
        store.journal(limit=ROWS)
    assert "SQLITE_CORRUPT" in store.fault and "routerd state check" in store.fault
    store.close()


def test_an_unopenable_database_is_a_store_error_not_a_traceback(tmp_path):
    (tmp_path / DB_NAME).write_bytes(b"garbage" * 1000)
    with pytest.raises(StoreError, match="routerd state check"):
        Store.open(tmp_path)
