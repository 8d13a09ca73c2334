"""SQLite state store (stdlib ``sqlite3``, WAL) under ``--state-dir``.

Tables: ``dynamic_config_parts``, ``plugin_runs``, the ``claim_journal``, ``owned_objects``
(backend bookkeeping such as sysctl values to restore), address mobility's state
(``mobility_own``, ``mobility_sequences``, ``mobility_pins``, the move journal
``mobility_moves``; the ``routerd.core.mobility.port.MobilityStore`` methods) and the
provider-action journal (``provider_actions``, ``provider_intents``, ``provider_holdings``;
their methods are in ``routerd.state.actions``). The claim, move and action journals keep
their newest ``journal_keep`` rows. The schema version
lives in ``PRAGMA user_version`` and moves forward through ``MIGRATIONS``. WAL mode lets
readers (``routerctl --local``, doctor) read while the daemon writes, without blocking it.

The journal is written in batches (one transaction per reconcile pass): a per-row commit
would cap the daemon at a few hundred transitions per second on a real disk.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from itertools import chain
from pathlib import Path
from typing import Any

from routerd.core.dynamic import DynamicPart, decode_part_resources
from routerd.core.mobility.port import MobilityBatch, StoredMobility
from routerd.core.mobility.records import MoveRecord, Own, Pin
from routerd.core.resources import Directive
from routerd.core.state_port import JournalEntry, PluginRun, StoreError
from routerd.state.actions import PROVIDER_ACTIONS_SQL, ActionTables

LOG = logging.getLogger(__name__)

DB_NAME = "routerd.db"

MIGRATIONS: tuple[tuple[int, str], ...] = (
    (
        1,
        """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE dynamic_config_parts (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        generation INTEGER NOT NULL,
        observed_at TEXT NOT NULL DEFAULT '',
        received_at REAL NOT NULL,
        ttl_seconds REAL NOT NULL,
        expires_at REAL NOT NULL,
        digest TEXT NOT NULL DEFAULT '',
        resources_json TEXT NOT NULL,
        directives_json TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'active',
        error TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        UNIQUE (source, generation)
    );
    CREATE TABLE plugin_runs (
        id INTEGER PRIMARY KEY,
        plugin TEXT NOT NULL,
        trigger_type TEXT NOT NULL,
        trigger_topic TEXT NOT NULL DEFAULT '',
        started_at REAL NOT NULL,
        completed_at REAL,
        exit_code INTEGER,
        status TEXT NOT NULL,
        stdout_digest TEXT NOT NULL DEFAULT '',
        stderr TEXT NOT NULL DEFAULT '',
        error TEXT NOT NULL DEFAULT '',
        generation INTEGER
    );
    CREATE INDEX plugin_runs_plugin ON plugin_runs (plugin, id);
    CREATE TABLE claim_journal (
        seq INTEGER PRIMARY KEY,
        claim TEXT NOT NULL,
        address TEXT NOT NULL,
        from_state TEXT NOT NULL,
        to_state TEXT NOT NULL,
        trigger TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        message TEXT NOT NULL DEFAULT '',
        at REAL NOT NULL,
        generation INTEGER NOT NULL
    );
    CREATE INDEX claim_journal_claim ON claim_journal (claim, seq);
    CREATE TABLE owned_objects (
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (kind, key)
    );
    """,
    ),
    (
        2,
        """
    CREATE TABLE mobility_own (
        address TEXT PRIMARY KEY,
        domain TEXT NOT NULL,
        sequence INTEGER NOT NULL,
        since REAL NOT NULL,
        cause TEXT NOT NULL
    );
    CREATE TABLE mobility_sequences (address TEXT PRIMARY KEY, high INTEGER NOT NULL);
    CREATE TABLE mobility_pins (
        address TEXT PRIMARY KEY,
        domain TEXT NOT NULL,
        site TEXT NOT NULL,
        since REAL NOT NULL,
        cause TEXT NOT NULL DEFAULT ''
    );
    CREATE TABLE mobility_moves (
        seq INTEGER PRIMARY KEY,
        address TEXT NOT NULL,
        domain TEXT NOT NULL,
        from_site TEXT NOT NULL,
        to_site TEXT NOT NULL,
        sequence INTEGER NOT NULL,
        cause TEXT NOT NULL,
        evidence TEXT NOT NULL DEFAULT '',
        at REAL NOT NULL
    );
    CREATE INDEX mobility_moves_address ON mobility_moves (address, seq);
    """,
    ),
    (3, PROVIDER_ACTIONS_SQL),
    # The journal keeps a bounded number of rows (``JOURNAL_KEEP``) and has no index by
    # claim: a restart's first pass writes a row per transition in claim order, and that
    # index made each one a write in the middle of the tree once the journal held history
    # (300,000 rows onto 300,000: ~0.8 s with it, ~0.4 s without). A claim's history is a
    # scan of the kept rows instead (~0.15 s for 1,200,000).
    (4, "DROP INDEX IF EXISTS claim_journal_claim"),
)
SCHEMA_VERSION = MIGRATIONS[-1][0]


FAULT_CODES = ("SQLITE_CORRUPT", "SQLITE_NOTADB", "SQLITE_IOERR", "SQLITE_FULL", "SQLITE_READONLY")
"""SQLite errors that mean the database is damaged or cannot take writes (not a busy retry)."""


JOURNAL_KEEP = 1_000_000
"""Rows each journal (claim transitions, mobile addresses' moves, provider actions) keeps by
default (``routerd serve --journal-keep``; 0 keeps all).

About 100 MB of claim journal; at 100,000 claims a restart's first pass journals 300,000 rows,
so this keeps the last three restarts and what happened between them. Older rows are deleted
in steps of a tenth of the limit, in a thread of their own (``prune_journal``)."""
JOURNALS = {
    "claim_journal": "claim journal",
    "mobility_moves": "move journal",
    "provider_actions": "action journal",
}
"""The journal tables ``journal_keep`` bounds, and their names in logs."""
JOURNAL_BATCH = 90
"""Journal rows per INSERT: 900 parameters, under SQLite's oldest limit of 999."""
CHECKPOINT_APART = 10_000
"""Journal rows from which a transaction's checkpoint runs in a thread of its own.

A commit that leaves the write-ahead log longer than ``wal_autocheckpoint`` pages copies the
log into the database inside the committing call (with ``synchronous=NORMAL`` the fsyncs are
there too): ~0.15 s of a first pass at 100,000 claims, which journals 300,000 rows. Such a
transaction commits without it and a thread checkpoints at once (one SQLite call, run
without the GIL, while the engine publishes). The rows are committed, and readable, before
``append_journal`` returns either way."""
_JOURNAL_INSERT = "INSERT INTO claim_journal VALUES (?,?,?,?,?,?,?,?,?,?)"
_JOURNAL_INSERT_BATCH = "INSERT INTO claim_journal VALUES " + ",".join(
    ["(?,?,?,?,?,?,?,?,?,?)"] * JOURNAL_BATCH
)


class Store(ActionTables):
    """Thread-safe access to the state database (one connection, serialized).

    Attributes:
        fault: the first damage or write failure seen while running (``""`` when none): the
            daemon shows it in ``routerctl status`` and metrics instead of failing silently.
    """

    def __init__(
        self, path: Path, *, readonly: bool = False, journal_keep: int = JOURNAL_KEEP
    ) -> None:
        if journal_keep < 0:
            raise ValueError(f"journal_keep: must be 0 (keep all) or more, not {journal_keep}")
        self.path = path
        self.readonly = readonly
        self.journal_keep = journal_keep
        self.fault = ""
        self._lock = threading.RLock()
        self._apart: list[threading.Thread] = []
        self._oldest: dict[str, int] = {}  # a journal table's oldest seq, once asked for
        self._actions: tuple[int, int] | None = None  # action rows, and when to prune next
        try:
            version = self._connect(path, readonly)
        except sqlite3.DatabaseError as e:
            raise StoreError(
                f"cannot open the state database {path}: {e}; inspect it with `routerd state "
                f"check --state-dir {path.parent}`"
            ) from None
        stat = os.stat(path)
        self.identity = (stat.st_dev, stat.st_ino)
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{path} has schema version {version}, newer than this routerd "
                f"({SCHEMA_VERSION}); upgrade routerd or use another --state-dir"
            )

    def _connect(self, path: Path, readonly: bool) -> int:
        """Connect (creating and migrating unless read-only); returns the schema version."""
        if readonly:
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        else:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
            if not path.exists():
                _create(path)
            db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db = db
        try:
            if not readonly:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
                self._migrate()
            db.execute("PRAGMA busy_timeout=5000")
            return int(db.execute("PRAGMA user_version").fetchone()[0])
        except BaseException:
            db.close()
            raise

    @classmethod
    def open(
        cls,
        state_dir: str | os.PathLike[str],
        *,
        readonly: bool = False,
        journal_keep: int = JOURNAL_KEEP,
    ) -> Store:
        path = Path(state_dir) / DB_NAME
        if readonly and not path.exists():
            raise StoreError(
                f"no state database at {path}; has routerd run with --state-dir {state_dir}?"
            )
        return cls(path, readonly=readonly, journal_keep=journal_keep)

    def close(self) -> None:
        self.settle()
        with self._lock:
            self._db.close()

    def settle(self) -> None:
        """Wait for the work the journal writes left to threads (checkpoint, pruning)."""
        for thread in list(self._apart):  # they take the lock: joined outside it
            thread.join()

    def _migrate(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        for target, sql in MIGRATIONS:
            if target > version:
                with self._tx():
                    for stmt in sql.split(";"):
                        if stmt.strip():
                            self._db.execute(stmt)
                    self._db.execute(f"PRAGMA user_version={target}")

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._watch():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _query(self, sql: str, args: Iterable[Any] = ()) -> list[sqlite3.Row]:
        with self._lock, self._watch():
            cur = self._db.execute(sql, tuple(args))
            cur.row_factory = sqlite3.Row
            return list(cur.fetchall())

    @contextmanager
    def _watch(self) -> Iterator[None]:
        """Remember the first error that means damage or lost writes (see ``fault``)."""
        try:
            yield
        except sqlite3.DatabaseError as e:
            name = getattr(e, "sqlite_errorname", "")
            if not self.fault and name.startswith(FAULT_CODES):
                self.note_fault(f"{name}: {e}")
            raise

    def note_fault(self, problem: str) -> None:
        """Record damage found while running (kept until restart; the first one wins)."""
        if not self.fault:
            self.fault = (
                f"{problem}; check it with `routerd state check --state-dir {self.path.parent}`"
            )

    # -- meta -----------------------------------------------------------------------------

    def get_meta(self, key: str, default: str = "") -> str:
        rows = self._query("SELECT value FROM meta WHERE key=?", (key,))
        return str(rows[0]["value"]) if rows else default

    def set_meta(self, key: str, value: str) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO meta(key, value) VALUES(?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value=excluded.value",
                (key, value),
            )

    # -- dynamic parts ---------------------------------------------------------------------

    def next_generation(self, source: str) -> int:
        rows = self._query(
            "SELECT MAX(generation) AS g FROM dynamic_config_parts WHERE source=?", (source,)
        )
        return int(rows[0]["g"] or 0) + 1

    def put_part(self, part: DynamicPart) -> DynamicPart:
        """Store a part; generation 0 means "the next one for this source".

        Raises:
            StoreError: the write failed (the transaction is rolled back: nothing stored).
        """
        try:
            return self._put_part(part)
        except sqlite3.Error as e:
            raise StoreError(f"cannot store {part.source}: {e}") from e

    def _put_part(self, part: DynamicPart) -> DynamicPart:
        now = time.time()
        with self._tx() as db:
            gen = part.generation
            if gen <= 0:
                row = db.execute(
                    "SELECT MAX(generation) FROM dynamic_config_parts WHERE source=?",
                    (part.source,),
                ).fetchone()
                gen = int(row[0] or 0) + 1
            db.execute(
                "INSERT INTO dynamic_config_parts(source, generation, observed_at, received_at,"
                " ttl_seconds, expires_at, digest, resources_json, directives_json, status,"
                " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,'active',?,?)"
                " ON CONFLICT(source, generation) DO UPDATE SET observed_at=excluded.observed_at,"
                " received_at=excluded.received_at, ttl_seconds=excluded.ttl_seconds,"
                " expires_at=excluded.expires_at, digest=excluded.digest,"
                " resources_json=excluded.resources_json,"
                " directives_json=excluded.directives_json, updated_at=excluded.updated_at",
                (
                    part.source,
                    gen,
                    part.observed_at,
                    part.received_at,
                    part.ttl,
                    part.expires_at,
                    part.digest,
                    json.dumps(part.resource_docs()),
                    json.dumps(part.directive_docs()),
                    now,
                    now,
                ),
            )
        return DynamicPart(
            part.source,
            gen,
            part.received_at,
            part.ttl,
            part.resources,
            part.directives,
            part.observed_at,
            part.digest,
        )

    def list_parts(self, source: str | None = None) -> list[DynamicPart]:
        sql = "SELECT * FROM dynamic_config_parts"
        args: tuple[Any, ...] = ()
        if source is not None:
            sql += " WHERE source=?"
            args = (source,)
        rows = self._query(sql + " ORDER BY source, generation", args)
        return [_row_part(r) for r in rows]

    def delete_source(self, source: str) -> int:
        with self._tx() as db:
            cur = db.execute("DELETE FROM dynamic_config_parts WHERE source=?", (source,))
            return cur.rowcount

    def prune_parts(self, *, expired_before: float, keep_per_source: int = 5) -> int:
        """Drop long-expired generations, keeping the newest few per source for history."""
        with self._tx() as db:
            cur = db.execute(
                "DELETE FROM dynamic_config_parts WHERE expires_at < ? AND id NOT IN ("
                " SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY source"
                " ORDER BY generation DESC) AS rn FROM dynamic_config_parts) WHERE rn <= ?)",
                (expired_before, keep_per_source),
            )
            return cur.rowcount

    def parts_version(self) -> tuple[int, float]:
        """A cheap fingerprint that changes whenever parts are added, changed or removed."""
        row = self._query(
            "SELECT COUNT(*) AS n, COALESCE(MAX(updated_at), 0) AS u FROM dynamic_config_parts"
        )[0]
        return int(row["n"]), float(row["u"])

    # -- plugin runs ------------------------------------------------------------------------

    def start_run(self, plugin: str, trigger_type: str, trigger_topic: str = "") -> int:
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO plugin_runs(plugin, trigger_type, trigger_topic,"
                " started_at, status) VALUES (?,?,?,?, 'running')",
                (plugin, trigger_type, trigger_topic, time.time()),
            )
            return int(cur.lastrowid or 0)

    def finish_run(
        self,
        run_id: int,
        *,
        status: str,
        exit_code: int | None,
        stdout_digest: str = "",
        stderr: str = "",
        error: str = "",
        generation: int | None = None,
    ) -> None:
        with self._tx() as db:
            db.execute(
                "UPDATE plugin_runs SET completed_at=?, status=?, exit_code=?,"
                " stdout_digest=?, stderr=?, error=?, generation=? WHERE id=?",
                (time.time(), status, exit_code, stdout_digest, stderr, error, generation, run_id),
            )

    def list_runs(self, plugin: str | None = None, limit: int = 50) -> list[PluginRun]:
        sql = "SELECT * FROM plugin_runs"
        args: list[Any] = []
        if plugin is not None:
            sql += " WHERE plugin=?"
            args.append(plugin)
        args.append(limit)
        rows = self._query(sql + " ORDER BY id DESC LIMIT ?", args)
        return [PluginRun(**{k: r[k] for k in r.keys()}) for r in rows]

    # -- claim journal ------------------------------------------------------------------------

    def max_seq(self) -> int:
        return int(self._query("SELECT COALESCE(MAX(seq), 0) AS s FROM claim_journal")[0]["s"])

    def append_journal(self, entries: Iterable[JournalEntry]) -> None:
        """Insert entries in one transaction, ``JOURNAL_BATCH`` rows per statement (half the
        cost of a statement per row: a first pass at 10,000 claims journals 30,000)."""
        rows = entries if isinstance(entries, list) else list(entries)
        if not rows:
            return
        whole = len(rows) - len(rows) % JOURNAL_BATCH
        apart: int | None = None  # the autocheckpoint to restore after a checkpoint apart
        prune = False
        try:
            with self._tx() as db:  # an entry is a tuple in the table's column order
                for i in range(0, whole, JOURNAL_BATCH):
                    db.execute(
                        _JOURNAL_INSERT_BATCH,
                        list(chain.from_iterable(rows[i : i + JOURNAL_BATCH])),
                    )
                if whole < len(rows):
                    db.executemany(_JOURNAL_INSERT, rows[whole:])
                if len(rows) >= CHECKPOINT_APART:
                    apart = int(db.execute("PRAGMA wal_autocheckpoint").fetchone()[0])
                    db.execute("PRAGMA wal_autocheckpoint=0")
                prune = self._over_keep("claim_journal", rows[-1][0])
        finally:
            if apart is not None:
                self._start_apart(self._checkpoint, apart)
        if prune:
            self._start_apart(self._prune_quietly, "claim_journal")

    def _over_keep(self, table: str, head: int) -> bool:
        """Whether journal ``table`` up to ``head`` holds a tenth more rows than it keeps."""
        keep = self.journal_keep
        if not keep:
            return False
        oldest = self._oldest.get(table)
        if oldest is None:
            row = self._db.execute(f"SELECT MIN(seq) FROM {table}").fetchone()
            oldest = self._oldest[table] = int(row[0] or head)
        return head - oldest + 1 > keep + _slack(keep)

    def _action_added(self) -> None:
        """Prune the action journal apart once it holds a tenth more than it keeps (or a
        tenth more than the last pruning had to leave: open actions are never deleted)."""
        keep = self.journal_keep
        if not keep:
            return
        with self._lock:
            if self._actions is None:
                self._actions = (self._count_actions(), keep + _slack(keep))
            else:
                self._actions = (self._actions[0] + 1, self._actions[1])
            rows, limit = self._actions
            if rows <= limit:
                return
            self._actions = (rows, rows + _slack(keep))  # until the pruning has counted again
        self._start_apart(self._prune_quietly, "provider_actions")

    def _count_actions(self) -> int:
        return int(self._query("SELECT COUNT(*) AS n FROM provider_actions")[0]["n"])

    def prune_journal(self, table: str = "claim_journal") -> int:
        """Delete all but the newest ``journal_keep`` rows of a journal; returns how many went.

        Args:
            table: ``claim_journal``, ``mobility_moves`` (the move journal) or
                ``provider_actions`` (see ``prune_actions`` for the actions it never deletes).

        The rows kept are those with ``seq`` above the newest minus ``journal_keep``.
        ``append_journal``, ``mobility_commit`` and ``put_action`` run this in a thread of its
        own once their journal holds a tenth more than it keeps.
        """
        if table not in JOURNALS:
            raise ValueError(f"not a journal: {table!r} (one of {', '.join(JOURNALS)})")
        if not self.journal_keep:
            return 0
        if table == "provider_actions":
            gone = self.prune_actions(self.journal_keep)
            with self._lock:
                rows = self._count_actions()
                self._actions = (rows, max(rows, self.journal_keep) + _slack(self.journal_keep))
            return self._pruned(table, gone)
        with self._tx() as db:
            head = int(db.execute(f"SELECT COALESCE(MAX(seq), 0) FROM {table}").fetchone()[0])
            below = head - self.journal_keep + 1
            gone = int(db.execute(f"DELETE FROM {table} WHERE seq < ?", (below,)).rowcount)
            row = db.execute(f"SELECT MIN(seq) FROM {table}").fetchone()
            if row[0] is None:
                self._oldest.pop(table, None)
            else:
                self._oldest[table] = int(row[0])
        return self._pruned(table, gone)

    def _pruned(self, table: str, gone: int) -> int:
        if gone:
            LOG.info(
                "%s: %d oldest rows deleted, %d kept (--journal-keep)",
                JOURNALS[table],
                gone,
                self.journal_keep,
            )
        return gone

    def _prune_quietly(self, table: str) -> None:
        try:
            self.prune_journal(table)
        except sqlite3.Error as e:  # the next append that finds the journal over tries again
            LOG.warning("%s: pruning failed path=%s error=%s", JOURNALS[table], self.path, e)

    def _start_apart(self, target: Callable[..., None], *args: object) -> None:
        """Run ``target`` in a thread of its own (joined by ``settle`` and ``close``)."""
        thread = threading.Thread(target=target, args=args, name="store-apart", daemon=True)
        with self._lock:
            self._apart = [t for t in self._apart if t.is_alive()]
            self._apart.append(thread)
        thread.start()

    def _checkpoint(self, autocheckpoint: int) -> None:
        with self._lock:
            try:
                with self._watch():
                    self._db.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.Error as e:  # the next commit's autocheckpoint tries again
                LOG.warning("state database checkpoint failed path=%s error=%s", self.path, e)
            finally:
                try:
                    self._db.execute(f"PRAGMA wal_autocheckpoint={autocheckpoint}")
                except sqlite3.Error as e:
                    LOG.warning("state database: autocheckpoint not set again error=%s", e)

    def journal(
        self, *, after_seq: int = 0, claim: str | None = None, limit: int = 10000
    ) -> list[JournalEntry]:
        sql = "SELECT * FROM claim_journal WHERE seq > ?"
        args: list[Any] = [after_seq]
        if claim is not None:
            sql += " AND claim = ?"
            args.append(claim)
        args.append(limit)
        rows = self._query(sql + " ORDER BY seq LIMIT ?", args)
        return [JournalEntry(**{k: r[k] for k in r.keys()}) for r in rows]

    # -- owned objects (backend bookkeeping) ---------------------------------------------------

    def owned(self, kind: str) -> dict[str, str]:
        rows = self._query("SELECT key, value FROM owned_objects WHERE kind=?", (kind,))
        return {r["key"]: r["value"] for r in rows}

    def set_owned(self, kind: str, key: str, value: str) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO owned_objects VALUES (?,?,?) ON CONFLICT(kind, key)"
                " DO UPDATE SET value=excluded.value",
                (kind, key, value),
            )

    def drop_owned(self, kind: str, key: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM owned_objects WHERE kind=? AND key=?", (kind, key))

    # -- address mobility (routerd.core.mobility.port.MobilityStore) --------------------------

    def mobility_load(self) -> StoredMobility:
        """Own originations, sequence high-waters and pins, for a controller's start."""
        own = {
            r["address"]: Own(r["address"], r["domain"], r["sequence"], r["since"], r["cause"])
            for r in self._query("SELECT * FROM mobility_own")
        }
        high = {
            r["address"]: int(r["high"])
            for r in self._query("SELECT address, high FROM mobility_sequences")
        }
        pins = {
            r["address"]: Pin(r["address"], r["domain"], r["site"], r["since"], r["cause"])
            for r in self._query("SELECT * FROM mobility_pins")
        }
        return StoredMobility(own, high, pins)

    def mobility_commit(self, batch: MobilityBatch) -> list[MoveRecord]:
        """One step's changes in one transaction; the moves come back with their ``seq``."""
        with self._tx() as db:
            db.executemany(
                "INSERT INTO mobility_own VALUES (?,?,?,?,?) ON CONFLICT(address) DO UPDATE"
                " SET domain=excluded.domain, sequence=excluded.sequence,"
                " since=excluded.since, cause=excluded.cause",
                [(o.address, o.domain, o.sequence, o.since, o.cause) for o in batch.own_put],
            )
            db.executemany(
                "DELETE FROM mobility_own WHERE address=?", [(a,) for a in batch.own_drop]
            )
            db.executemany(
                "INSERT INTO mobility_sequences VALUES (?,?) ON CONFLICT(address) DO UPDATE"
                " SET high=MAX(high, excluded.high)",
                list(batch.high),
            )
            row = db.execute("SELECT COALESCE(MAX(seq), 0) FROM mobility_moves").fetchone()
            first = int(row[0]) + 1
            stored = [replace(m, seq=first + i) for i, m in enumerate(batch.moves)]
            db.executemany(
                "INSERT INTO mobility_moves VALUES (?,?,?,?,?,?,?,?,?)",
                [
                    (
                        m.seq,
                        m.address,
                        m.domain,
                        m.from_site,
                        m.to_site,
                        m.sequence,
                        m.cause,
                        m.evidence,
                        m.at,
                    )
                    for m in stored
                ],
            )
            prune = bool(stored) and self._over_keep("mobility_moves", stored[-1].seq)
        if prune:
            self._start_apart(self._prune_quietly, "mobility_moves")
        return stored

    def mobility_put_pin(self, pin: Pin) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO mobility_pins VALUES (?,?,?,?,?) ON CONFLICT(address) DO UPDATE"
                " SET domain=excluded.domain, site=excluded.site, since=excluded.since,"
                " cause=excluded.cause",
                (pin.address, pin.domain, pin.site, pin.since, pin.cause),
            )

    def mobility_drop_pin(self, address: str) -> bool:
        with self._tx() as db:
            return db.execute("DELETE FROM mobility_pins WHERE address=?", (address,)).rowcount > 0

    def mobility_moves(
        self, *, address: str | None = None, after: int = 0, limit: int = 1000
    ) -> list[MoveRecord]:
        """The move journal after ``after``, oldest first (of one address, or all)."""
        sql = "SELECT * FROM mobility_moves WHERE seq > ?"
        args: list[Any] = [after]
        if address is not None:
            sql += " AND address = ?"
            args.append(address)
        args.append(limit)
        rows = self._query(sql + " ORDER BY seq LIMIT ?", args)
        return [MoveRecord(**{k: r[k] for k in r.keys()}) for r in rows]

    def mobility_head(self) -> int:
        """The newest move-journal ``seq`` (0 when the journal is empty)."""
        rows = self._query("SELECT COALESCE(MAX(seq), 0) AS head FROM mobility_moves")
        return int(rows[0]["head"])


def _create(path: Path) -> None:
    """Create an empty WAL database under a temporary name, then rename it into place.

    A crash while creating leaves no half-made ``routerd.db``, so an empty or headless
    ``routerd.db`` found later is always damage, never an interrupted first start.
    """
    tmp = path.with_name(path.name + ".new")
    for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):  # an interrupted create
        leftover.unlink(missing_ok=True)
    db = sqlite3.connect(str(tmp), isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")  # writes the header page
    finally:
        db.close()
    _fsync(tmp)
    os.replace(tmp, path)
    _fsync(path.parent)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _row_part(r: sqlite3.Row) -> DynamicPart:
    resources, problems = decode_part_resources(json.loads(r["resources_json"]))
    directives = [Directive.model_validate(d) for d in json.loads(r["directives_json"])]
    meta = {"decode_error": "; ".join(m for _, m in problems)} if problems else {}
    return DynamicPart(
        r["source"],
        int(r["generation"]),
        float(r["received_at"]),
        float(r["ttl_seconds"]),
        tuple(resources),
        tuple(directives),
        r["observed_at"],
        r["digest"],
        meta,
    )


def _slack(keep: int) -> int:
    """Rows a journal may hold over ``keep`` before it is pruned: a tenth (at least one)."""
    return max(1, keep // 10)
