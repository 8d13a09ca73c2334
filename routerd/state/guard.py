"""Guard the state directory: one writer at a time, and never start on a damaged database.

Why it is shaped this way:

* Two daemons sharing one ``--state-dir`` would interleave journal sequence numbers and
  fight over ownership bookkeeping. A writer (``routerd serve``, ``apply --once``, ``state
  repair``) therefore holds ``flock`` on ``routerd.lock`` for its lifetime and writes its PID
  there, so the second one is refused with the holder's PID. The lock file descriptor is not
  inherited by children: wireguard-go outlives routerd and must not keep the lock.
* A damaged database is refused at start with the way out, not opened: SQLite happily
  serves a file whose inner pages are garbage until a query touches them, and turns an
  empty file into a fresh one, which would silently start a new journal. The start-up check
  is ``PRAGMA quick_check`` (about 0.2 s for a million journal rows) on a separate read-only
  connection, plus the cases SQLite itself does not call damage: an empty file, a file that
  is not SQLite, and a write-ahead log whose database is gone.
* ``repair`` never deletes: it moves the damaged files aside, starts a new database and
  copies every row it can still read into it, table by table, skipping unreadable ranges.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from routerd.core.state_port import StoreError
from routerd.state.actions import ACTION_TABLES
from routerd.state.store import DB_NAME, JOURNAL_KEEP, SCHEMA_VERSION, Store

LOCK_NAME = "routerd.lock"
SQLITE_HEADER = b"SQLite format 3\x00"
TABLES = (
    "meta",
    "dynamic_config_parts",
    "plugin_runs",
    "claim_journal",
    "owned_objects",
    *ACTION_TABLES,
)
MAX_FINDINGS = 5


class StateLockedError(StoreError):
    """Another process holds the state directory."""


class StoreDamagedError(StoreError):
    """The database failed its check; the message says what and how to get out."""


class StateLock:
    """An exclusive ``flock`` on ``<state_dir>/routerd.lock`` holding the owner's PID.

    Args:
        state_dir: the ``--state-dir``.
    """

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = Path(state_dir)
        self.path = self.state_dir / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> StateLock:
        """Take the lock or refuse.

        Raises:
            StateLockedError: naming the holder's PID and what to do.
        """
        self.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            pid = holder(self.state_dir)
            who = f"routerd PID {pid}" if pid else "another process"
            raise StateLockedError(
                f"state directory {self.state_dir} is in use by {who} (it holds {self.path}); "
                "stop it first, or give this one its own --state-dir"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock; the file stays (it may be re-taken)
            self._fd = None


def holder(state_dir: Path) -> int | None:
    """PID of the process holding ``state_dir``'s lock, or None when it is free."""
    path = Path(state_dir) / LOCK_NAME
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = os.read(fd, 32).decode(errors="replace").strip()
            return int(text) if text.isdigit() else -1
        return None
    finally:
        os.close(fd)


@dataclass
class Health:
    """What a look at the state database found.

    Attributes:
        path: the database file.
        exists: False before the first start (a new database will be created).
        problems: empty when healthy; each says what is wrong.
        schema_version: ``PRAGMA user_version`` when readable.
        rows: rows per table (only when counted).
        size: bytes of the database file (the WAL not included).
    """

    path: Path
    exists: bool = True
    problems: list[str] = field(default_factory=list)
    schema_version: int | None = None
    rows: dict[str, int] = field(default_factory=dict)
    size: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def inspect(state_dir: Path, *, count_rows: bool = False) -> Health:
    """Check the database in ``state_dir`` without changing it (safe while routerd runs).

    Args:
        state_dir: the ``--state-dir``.
        count_rows: also count the rows of every table (for ``routerd state check``).
    """
    path = Path(state_dir) / DB_NAME
    health = Health(path)
    wal = Path(f"{path}-wal")
    if not path.exists():
        health.exists = False
        if wal.exists() and wal.stat().st_size > 0:
            health.problems.append(
                f"{path} is missing but its write-ahead log {wal.name} is here: the database "
                "was removed or moved, and its latest writes are in that log"
            )
        return health
    health.size = path.stat().st_size
    with path.open("rb") as f:
        header = f.read(len(SQLITE_HEADER))
    if health.size == 0:
        logged = wal.stat().st_size if wal.exists() else 0
        health.problems.append(
            f"{path} is empty (0 bytes)"
            + (
                f"; its write-ahead log still holds {logged} bytes that repair may recover"
                if logged
                else ": its contents were lost"
            )
        )
        return health
    if header != SQLITE_HEADER:
        health.problems.append(f"{path} is not a SQLite database (its header is {header[:16]!r})")
        return health
    _check_contents(health, count_rows)
    return health


def _check_contents(health: Health, count_rows: bool) -> None:
    try:
        db = sqlite3.connect(f"file:{health.path}?mode=ro", uri=True)
    except sqlite3.Error as e:
        health.problems.append(f"cannot open {health.path}: {e}")
        return
    try:
        rows = db.execute(f"PRAGMA quick_check({MAX_FINDINGS})").fetchall()
        findings = [str(r[0]) for r in rows if r[0] != "ok"]
        health.problems += [f"quick_check: {f}" for f in findings]
        health.schema_version = int(db.execute("PRAGMA user_version").fetchone()[0])
        if health.schema_version > SCHEMA_VERSION:
            health.problems.append(
                f"schema version {health.schema_version} is newer than this routerd's "
                f"({SCHEMA_VERSION}): upgrade routerd"
            )
        if count_rows and not findings:
            for table in _tables(db):
                health.rows[table] = int(db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
    except sqlite3.DatabaseError as e:
        health.problems.append(f"unreadable: {e}")
    finally:
        db.close()


def _tables(db: sqlite3.Connection) -> list[str]:
    names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    return [t for t in TABLES if t in names]


def refusal(health: Health) -> str:
    """The start-up refusal for an unhealthy database: what is wrong and the way out."""
    state_dir = health.path.parent
    problems = "; ".join(health.problems)
    return (
        f"the state database {health.path} is damaged ({problems}). routerd does not start "
        "on it, so the claim journal is never replaced silently. The dataplane is left as it "
        f"is. See what is readable: `routerd state check --state-dir {state_dir}`; keep the "
        "damaged files aside, copy every readable row into a new database and start again: "
        f"`routerd state repair --state-dir {state_dir}` (or restore a backup)"
    )


class GuardedStore(Store):
    """A writable store that holds its state directory's lock until it is closed."""

    state_lock: StateLock | None = None

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self.state_lock is not None:
                self.state_lock.release()
                self.state_lock = None


def open_guarded(state_dir: Path, *, journal_keep: int = JOURNAL_KEEP) -> GuardedStore:
    """Lock ``state_dir``, check its database and open it for writing.

    Args:
        state_dir: the ``--state-dir``.
        journal_keep: rows each journal keeps (0: all; ``routerd serve --journal-keep``).

    Returns:
        The store; closing it releases the lock.

    Raises:
        StateLockedError: another process holds the directory.
        StoreDamagedError: the database failed its check (the message has the way out).
        StoreError: it cannot be opened for another reason.
    """
    lock = StateLock(Path(state_dir)).acquire()
    try:
        health = inspect(Path(state_dir))
        if not health.ok:
            raise StoreDamagedError(refusal(health))
        store = GuardedStore(health.path, journal_keep=journal_keep)
    except BaseException:
        lock.release()
        raise
    store.state_lock = lock
    return store


@dataclass
class RepairReport:
    """What ``repair`` did.

    Attributes:
        needed: False when the database was healthy (nothing was touched).
        problems: what the check found.
        moved: where the damaged files now are.
        copied: rows copied into the new database, per table (empty when nothing in the
            damaged file could be read).
        lost: per table, the row ranges (``first-last`` rowids) that could not be read, or
            ``"all"`` when the table could not be read at all.
    """

    needed: bool
    problems: list[str] = field(default_factory=list)
    moved: list[Path] = field(default_factory=list)
    copied: dict[str, int] = field(default_factory=dict)
    lost: dict[str, list[str]] = field(default_factory=dict)


def repair(state_dir: Path, *, stamp: str) -> RepairReport:
    """Move a damaged database aside and start a new one holding every readable row.

    Args:
        state_dir: the ``--state-dir`` (its lock is taken: routerd must be stopped).
        stamp: suffix for the damaged files (``routerd.db.broken-<stamp>``).

    Raises:
        StateLockedError: routerd (or another repair) holds the directory.
    """
    state_dir = Path(state_dir)
    lock = StateLock(state_dir).acquire()
    try:
        health = inspect(state_dir)
        report = RepairReport(needed=not health.ok, problems=list(health.problems))
        if health.ok:
            return report
        aside = state_dir / f"{DB_NAME}.broken-{stamp}"
        report.moved = _move_aside(health.path, aside)
        Store.open(state_dir).close()  # a new, empty database with the current schema
        _salvage(aside, health.path, report)
        return report
    finally:
        lock.release()


def _move_aside(path: Path, aside: Path) -> list[Path]:
    moved = []
    for suffix in ("", "-wal", "-shm"):
        src = Path(f"{path}{suffix}")
        if src.exists():
            dst = Path(f"{aside}{suffix}")
            os.replace(src, dst)
            moved.append(dst)
    if not aside.exists():  # only a write-ahead log was left: give it a database to belong to
        aside.touch(mode=0o600)
    return moved


def _salvage(source: Path, target: Path, report: RepairReport) -> None:
    try:
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    except sqlite3.Error:
        return
    dst = sqlite3.connect(str(target), isolation_level=None)
    try:
        try:
            present = _tables(src)
        except sqlite3.DatabaseError:
            present = []
        if not present:  # nothing readable at all (an empty file, not SQLite, no schema)
            return
        for table in TABLES:
            if table not in present:
                report.lost[table] = ["all"]
                continue
            _copy_table(src, dst, table, report)
    finally:
        src.close()
        dst.close()


def _copy_table(
    src: sqlite3.Connection, dst: sqlite3.Connection, table: str, report: RepairReport
) -> None:
    cols = [r[1] for r in dst.execute(f"PRAGMA table_info({table})")]
    try:
        have = {r[1] for r in src.execute(f"PRAGMA table_info({table})")}
    except sqlite3.DatabaseError:
        report.lost[table] = ["all"]
        return
    cols = [c for c in cols if c in have]
    select = f"SELECT rowid, {', '.join(cols)} FROM {table} WHERE rowid > ? ORDER BY rowid LIMIT ?"
    insert = (
        f"INSERT OR REPLACE INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    )
    cursor, copied, lost = -(2**63), 0, []
    dst.execute("BEGIN")
    while True:
        rows = _read(src, select, cursor, 1000) or _read(src, select, cursor, 1)
        if rows is None:  # unreadable right after cursor: find where reading works again
            nxt = _next_readable(src, table, cursor)
            lost.append(f"{cursor + 1 if copied else 'start'}-{nxt - 1 if nxt else 'end'}")
            if nxt is None:
                break
            cursor = nxt - 1
            continue
        if not rows:
            break
        dst.executemany(insert, [r[1:] for r in rows])
        copied += len(rows)
        cursor = rows[-1][0]
    dst.execute("COMMIT")
    report.copied[table] = copied
    if lost:
        report.lost[table] = lost


def _read(src: sqlite3.Connection, sql: str, cursor: int, limit: int) -> list[Any] | None:
    try:
        return src.execute(sql, (cursor, limit)).fetchall()
    except sqlite3.DatabaseError:
        return None


def _next_readable(src: sqlite3.Connection, table: str, cursor: int) -> int | None:
    """The first rowid after a damaged stretch whose row reads again (probing ever further).

    Seeking by rowid walks the table's b-tree from its root, so it jumps over a damaged leaf
    page that a scan would stop at.
    """
    step = 1
    while step < 2**62:
        try:
            row = src.execute(
                f"SELECT rowid FROM {table} WHERE rowid > ? ORDER BY rowid LIMIT 1",
                (cursor + step,),
            ).fetchone()
            if row is None:
                return None
            src.execute(f"SELECT * FROM {table} WHERE rowid = ?", (row[0],)).fetchone()
            return int(row[0])
        except sqlite3.DatabaseError:
            step *= 2
    return None
