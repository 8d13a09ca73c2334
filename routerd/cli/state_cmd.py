"""``routerd state check`` and ``routerd state repair``: the way out of a damaged state database.

``serve`` and ``apply --once`` refuse to start on a database that fails its check (an empty
file, not SQLite, ``quick_check`` findings, a write-ahead log without its database) rather
than start a fresh journal over it. ``check`` shows what is wrong and what is still readable,
and is safe while routerd runs. ``repair`` needs routerd stopped: it moves the damaged files
aside (nothing is deleted), creates a new database and copies every row it can still read.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from routerd.cli.common import EXIT_FAIL, EXIT_OK, add_output, add_state_dir, die, emit
from routerd.core.state_port import StoreError
from routerd.state.guard import Health, RepairReport, holder, inspect, repair


def _check_doc(state_dir: Path, health: Health) -> dict[str, Any]:
    pid = holder(state_dir)
    return {
        "database": str(health.path),
        "exists": health.exists,
        "healthy": health.ok,
        "problems": health.problems,
        "schemaVersion": health.schema_version,
        "sizeBytes": health.size,
        "rows": health.rows,
        "lockedBy": pid,
    }


def cmd_check(args: argparse.Namespace) -> int:
    state_dir = Path(args.state_dir)
    health = inspect(state_dir, count_rows=True)
    doc = _check_doc(state_dir, health)
    if args.output != "text":
        emit(doc, args.output)
        return EXIT_OK if health.ok else EXIT_FAIL
    pid = doc["lockedBy"]
    print(f"state directory {state_dir}: " + (f"in use by PID {pid}" if pid else "not in use"))
    if not health.exists and health.ok:
        print(f"{health.path}: does not exist yet (routerd creates it on its first start)")
        return EXIT_OK
    if health.ok:
        rows = ", ".join(f"{t} {n}" for t, n in health.rows.items())
        print(
            f"{health.path}: healthy (schema {health.schema_version}, "
            f"{health.size} bytes; rows: {rows})"
        )
        return EXIT_OK
    print(f"{health.path}: DAMAGED")
    for p in health.problems:
        print(f"  - {p}")
    print(
        f"routerd will not start on it. Stop routerd, then `routerd state repair --state-dir "
        f"{state_dir}` keeps the damaged files aside and starts a new database with every "
        "row that can still be read (or restore a backup)."
    )
    return EXIT_FAIL


def _repair_doc(report: RepairReport) -> dict[str, Any]:
    return {
        "repaired": report.needed,
        "problems": report.problems,
        "movedTo": [str(p) for p in report.moved],
        "copied": report.copied,
        "lost": report.lost,
    }


def cmd_repair(args: argparse.Namespace) -> int:
    state_dir = Path(args.state_dir)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    try:
        report = repair(state_dir, stamp=stamp)
    except (StoreError, OSError) as e:
        return die(str(e))
    if args.output != "text":
        emit(_repair_doc(report), args.output)
        return EXIT_OK
    if not report.needed:
        print(f"{state_dir / 'routerd.db'}: healthy; nothing to repair")
        return EXIT_OK
    print("found: " + "; ".join(report.problems))
    print("damaged files kept as: " + ", ".join(str(p) for p in report.moved))
    copied = ", ".join(f"{t} {n}" for t, n in report.copied.items())
    print(
        f"new database {state_dir / 'routerd.db'}; "
        + (f"rows copied: {copied}" if copied else "nothing in the damaged file was readable")
    )
    for table, ranges in report.lost.items():
        what = "all rows" if ranges == ["all"] else "rowids " + ", ".join(ranges)
        print(f"  unreadable in {table}: {what}")
    print("routerd can start again; dynamic parts that were lost return on their plugins' next run")
    return EXIT_OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "state",
        help="check or repair the state database",
        description="Inspect the state database (routerd.db) and get out of a damaged one.",
    )
    cmds = p.add_subparsers(dest="state_command", metavar="COMMAND", required=True)
    c = cmds.add_parser(
        "check",
        help="check the state database; exit 0 healthy, 1 damaged",
        description="Check routerd.db (SQLite quick_check, header, write-ahead log) and count "
        "its rows; name the process holding the state directory. Read-only; safe while "
        "routerd runs.",
    )
    add_state_dir(c)
    add_output(c, ("text", "json", "yaml"), "text")
    c.set_defaults(func=cmd_check)
    r = cmds.add_parser(
        "repair",
        help="move a damaged database aside and start a new one with every readable row",
        description="With routerd stopped: move a damaged routerd.db (and its -wal/-shm) to "
        "routerd.db.broken-<time>, create a new database and copy every row that can still be "
        "read, table by table. A healthy database is left untouched.",
    )
    add_state_dir(r)
    add_output(r, ("text", "json", "yaml"), "text")
    r.set_defaults(func=cmd_repair)
