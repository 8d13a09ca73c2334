"""The provider-action journal in the state store: actions, intent counters, holdings.

Three tables (created by the store's migrations, ``PROVIDER_ACTIONS_SQL``):

* ``provider_actions``: every action routerd planned or ran at a cloud, keyed by its
  idempotency key, with the request (never credentials), the result, the undo and a status
  (``STATUSES``). A row is written *before* the provider call (``running``) and again after
  it, so a routerd killed between the two finds the row ``running`` on restart and runs the
  same key again: the executor then finds the address already where it should be, and
  neither loses the action nor repeats the write;
* ``provider_intents``: per address, what routerd wants there now (a NIC, or nothing) and a
  counter that moves forward every time that changes. The counter is part of every key, so
  an action planned for an older intent can never be mistaken for the current one, and it
  fences stale actions without any clock;
* ``provider_holdings``: the addresses routerd itself put on a NIC. Only these are ever
  released when no claim wants them any more: an address someone else assigned is never
  touched.

``ActionTables`` is mixed into ``routerd.state.store.Store``; it uses the store's own
transaction and query helpers, so the same lock and fault tracking apply.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from typing import Any

from routerd.core.action_journal import OPEN_STATUSES, ActionRecord, HeldAddress

ACTION_TABLES = ("provider_actions", "provider_intents", "provider_holdings")

PROVIDER_ACTIONS_SQL = """
    CREATE TABLE provider_actions (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL UNIQUE,
        profile TEXT NOT NULL,
        provider TEXT NOT NULL,
        operation TEXT NOT NULL,
        address TEXT NOT NULL,
        nic TEXT NOT NULL,
        from_nic TEXT NOT NULL DEFAULT '',
        claim TEXT NOT NULL DEFAULT '',
        intent INTEGER NOT NULL,
        origin TEXT NOT NULL DEFAULT 'reconcile',
        undo_of INTEGER,
        status TEXT NOT NULL,
        approved INTEGER NOT NULL DEFAULT 0,
        request_json TEXT NOT NULL DEFAULT '{}',
        result_json TEXT NOT NULL DEFAULT '',
        undo_json TEXT NOT NULL DEFAULT '',
        error TEXT NOT NULL DEFAULT '',
        attempts INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        finished_at REAL
    );
    CREATE INDEX provider_actions_address ON provider_actions (address, id);
    CREATE INDEX provider_actions_status ON provider_actions (status, id);
    CREATE TABLE provider_intents (
        address TEXT PRIMARY KEY,
        counter INTEGER NOT NULL,
        want TEXT NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE TABLE provider_holdings (
        address TEXT PRIMARY KEY,
        profile TEXT NOT NULL,
        nic TEXT NOT NULL,
        action_key TEXT NOT NULL,
        since REAL NOT NULL
    )
"""

_COLUMNS = (
    "key",
    "profile",
    "provider",
    "operation",
    "address",
    "nic",
    "from_nic",
    "claim",
    "intent",
    "origin",
    "undo_of",
    "status",
    "approved",
    "request_json",
    "result_json",
    "undo_json",
    "error",
    "attempts",
    "created_at",
    "updated_at",
    "finished_at",
)


class ActionTables:
    """Store methods for the provider-action tables (mixed into ``Store``)."""

    def _tx(self) -> AbstractContextManager[sqlite3.Connection]:
        raise NotImplementedError

    def _query(self, sql: str, args: Iterable[Any] = ()) -> list[sqlite3.Row]:
        raise NotImplementedError

    # -- intents ------------------------------------------------------------------------------

    def provider_intents(self, wants: Mapping[str, str]) -> dict[str, int]:
        """Record what is wanted per address; returns each address's intent counter.

        The counter of an address moves forward exactly when its ``want`` differs from the
        stored one (one transaction for the whole batch).

        Args:
            wants: address -> the canonical NIC wanted there, or "" for "not on our NIC".
        """
        out: dict[str, int] = {}
        if not wants:
            return out
        now = time.time()
        with self._tx() as db:
            for address, want in wants.items():
                row = db.execute(
                    "SELECT counter, want FROM provider_intents WHERE address=?", (address,)
                ).fetchone()
                if row is not None and row[1] == want:
                    out[address] = int(row[0])
                    continue
                counter = int(row[0]) + 1 if row is not None else 1
                db.execute(
                    "INSERT INTO provider_intents VALUES (?,?,?,?) ON CONFLICT(address) DO "
                    "UPDATE SET counter=excluded.counter, want=excluded.want,"
                    " updated_at=excluded.updated_at",
                    (address, counter, want, now),
                )
                out[address] = counter
        return out

    def renew_provider_intent(self, address: str) -> int:
        """Move an address's counter forward with the same want (the provider drifted)."""
        with self._tx() as db:
            db.execute(
                "UPDATE provider_intents SET counter=counter+1, updated_at=? WHERE address=?",
                (time.time(), address),
            )
            row = db.execute(
                "SELECT counter FROM provider_intents WHERE address=?", (address,)
            ).fetchone()
        return int(row[0]) if row is not None else 0

    # -- actions ------------------------------------------------------------------------------

    def put_action(self, rec: ActionRecord) -> ActionRecord:
        """Insert ``rec`` unless its key is journaled already; returns the stored row."""
        now = time.time()
        values = _row_values(rec, created=rec.created_at or now, updated=now)
        with self._tx() as db:
            added = db.execute(
                f"INSERT INTO provider_actions ({', '.join(_COLUMNS)}) VALUES "
                f"({', '.join('?' * len(_COLUMNS))}) ON CONFLICT(key) DO NOTHING",
                values,
            ).rowcount
        stored = self.action_by_key(rec.key)
        assert stored is not None  # inserted above or already there
        if added:
            self._action_added()
        return stored

    def _action_added(self) -> None:
        """Called after ``put_action`` inserted a row (the store bounds the table here)."""

    def prune_actions(self, keep: int) -> int:
        """Delete finished actions older than the newest ``keep``; returns how many went.

        Only an action nothing can need again goes: one that ``succeeded`` or was
        ``superseded``, whose key is not a holding's (``release`` reads it), and, for the
        planner's own actions, whose intent counter is behind its address's (its key can never
        be planned again, so a replayed key always finds its row). An undo and the action it
        reverts go together or not at all (the "already undone" check reads the undo's row).
        Open actions are never deleted, so the table can keep more than ``keep`` rows.
        """
        with self._tx() as db:
            row = db.execute(
                "SELECT id FROM provider_actions ORDER BY id DESC LIMIT 1 OFFSET ?", (keep,)
            ).fetchone()
            if row is None:
                return 0
            gone = {
                int(r[0])
                for r in db.execute(
                    "SELECT a.id FROM provider_actions a"
                    " LEFT JOIN provider_intents i ON i.address = a.address"
                    " WHERE a.id <= ? AND a.status IN ('succeeded', 'superseded')"
                    " AND a.key NOT IN (SELECT action_key FROM provider_holdings)"
                    " AND (a.origin <> 'reconcile' OR a.intent < COALESCE(i.counter, 0))",
                    (int(row[0]),),
                )
            }
            groups: dict[int, list[int]] = {}  # an undone action (if still there), its undos
            for undo, undone, present in db.execute(
                "SELECT u.id, u.undo_of, o.id FROM provider_actions u"
                " LEFT JOIN provider_actions o ON o.id = u.undo_of WHERE u.undo_of IS NOT NULL"
            ):
                group = groups.setdefault(int(undone), [] if present is None else [int(undone)])
                group.append(int(undo))
            for ids in groups.values():
                if not gone.issuperset(ids):
                    gone.difference_update(ids)
            db.executemany("DELETE FROM provider_actions WHERE id=?", [(i,) for i in gone])
        return len(gone)

    def update_action(self, key: str, **changes: Any) -> ActionRecord | None:
        """Change fields of the action with ``key`` (ActionRecord attribute names)."""
        sets, args = [], []
        for name, value in changes.items():
            column, encoded = _encode(name, value)
            sets.append(f"{column}=?")
            args.append(encoded)
        sets.append("updated_at=?")
        args += [time.time(), key]
        with self._tx() as db:
            db.execute(f"UPDATE provider_actions SET {', '.join(sets)} WHERE key=?", args)
        return self.action_by_key(key)

    def supersede_actions(self, address: str, *, keep: str = "", origin: str = "reconcile") -> int:
        """Mark the open actions of ``address`` superseded, but ``keep`` and running ones.

        Args:
            address: the address.
            keep: the key of the action still wanted ("" when none is).
            origin: only actions of this origin (a person's undo is not the planner's).
        """
        with self._tx() as db:
            cur = db.execute(
                "UPDATE provider_actions SET status='superseded', updated_at=?"
                " WHERE address=? AND key<>? AND origin=? AND status IN"
                " ('planned','awaiting-approval','failed')",
                (time.time(), address, keep, origin),
            )
            return cur.rowcount

    def action_by_key(self, key: str) -> ActionRecord | None:
        rows = self._query("SELECT * FROM provider_actions WHERE key=?", (key,))
        return _record(rows[0]) if rows else None

    def action_by_id(self, action_id: int) -> ActionRecord | None:
        rows = self._query("SELECT * FROM provider_actions WHERE id=?", (action_id,))
        return _record(rows[0]) if rows else None

    def list_actions(
        self,
        *,
        statuses: Iterable[str] = (),
        address: str = "",
        profile: str = "",
        limit: int = 1000,
    ) -> list[ActionRecord]:
        """Actions, newest first, optionally filtered."""
        where, args = _filters(statuses, address, profile)
        rows = self._query(
            f"SELECT * FROM provider_actions{where} ORDER BY id DESC LIMIT ?", [*args, limit]
        )
        return [_record(r) for r in rows]

    def open_actions(self, profile: str) -> list[ActionRecord]:
        """Every action of ``profile`` that may still run, oldest first."""
        marks = ", ".join("?" * len(OPEN_STATUSES))
        rows = self._query(
            f"SELECT * FROM provider_actions WHERE profile=? AND status IN ({marks}) ORDER BY id",
            (profile, *OPEN_STATUSES),
        )
        return [_record(r) for r in rows]

    # -- holdings -----------------------------------------------------------------------------

    def provider_holdings(self, profile: str = "") -> dict[str, HeldAddress]:
        """Addresses routerd put on a NIC (of ``profile``, or of every profile)."""
        sql, args = "SELECT * FROM provider_holdings", []
        if profile:
            sql, args = sql + " WHERE profile=?", [profile]
        return {
            r["address"]: HeldAddress(**{k: r[k] for k in r.keys()}) for r in self._query(sql, args)
        }

    def hold_address(self, address: str, profile: str, nic: str, action_key: str) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO provider_holdings VALUES (?,?,?,?,?) ON CONFLICT(address) DO "
                "UPDATE SET profile=excluded.profile, nic=excluded.nic,"
                " action_key=excluded.action_key, since=excluded.since",
                (address, profile, nic, action_key, time.time()),
            )

    def release_address(self, address: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM provider_holdings WHERE address=?", (address,))


def _filters(statuses: Iterable[str], address: str, profile: str) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    args: list[Any] = []
    wanted = list(statuses)
    if wanted:
        clauses.append(f"status IN ({', '.join('?' * len(wanted))})")
        args += wanted
    if address:
        clauses.append("address=?")
        args.append(address)
    if profile:
        clauses.append("profile=?")
        args.append(profile)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), args


_JSON_FIELDS = {"request": "request_json", "result": "result_json", "undo": "undo_json"}


def _encode(name: str, value: Any) -> tuple[str, Any]:
    if name in _JSON_FIELDS:
        return _JSON_FIELDS[name], "" if value is None else json.dumps(dict(value))
    if name == "approved":
        return name, int(bool(value))
    if name not in _COLUMNS:
        raise KeyError(f"provider_actions has no field {name!r}")
    return name, value


def _row_values(rec: ActionRecord, *, created: float, updated: float) -> tuple[Any, ...]:
    return (
        rec.key,
        rec.profile,
        rec.provider,
        rec.operation,
        rec.address,
        rec.nic,
        rec.from_nic,
        rec.claim,
        rec.intent,
        rec.origin,
        rec.undo_of,
        rec.status,
        int(rec.approved),
        json.dumps(dict(rec.request)),
        json.dumps(dict(rec.result)) if rec.result else "",
        json.dumps(dict(rec.undo)) if rec.undo is not None else "",
        rec.error,
        rec.attempts,
        created,
        updated,
        rec.finished_at,
    )


def _json(text: str) -> dict[str, Any]:
    if not text:
        return {}
    value = json.loads(text)
    return value if isinstance(value, dict) else {}


def _record(r: sqlite3.Row) -> ActionRecord:
    return ActionRecord(
        id=int(r["id"]),
        key=r["key"],
        profile=r["profile"],
        provider=r["provider"],
        operation=r["operation"],
        address=r["address"],
        nic=r["nic"],
        from_nic=r["from_nic"],
        claim=r["claim"],
        intent=int(r["intent"]),
        origin=r["origin"],
        undo_of=None if r["undo_of"] is None else int(r["undo_of"]),
        status=r["status"],
        approved=bool(r["approved"]),
        request=_json(r["request_json"]),
        result=_json(r["result_json"]),
        undo=_json(r["undo_json"]) if r["undo_json"] else None,
        error=r["error"],
        attempts=int(r["attempts"]),
        created_at=float(r["created_at"]),
        updated_at=float(r["updated_at"]),
        finished_at=None if r["finished_at"] is None else float(r["finished_at"]),
    )
