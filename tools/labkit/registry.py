"""A LIFO undo log written to disk: everything a lab run creates, released in reverse.

The in-process ``Cleanup`` of ``tests/support/netns`` holds closures, which die with the
process; ``tools/lab up --keep`` must be torn down later by ``tools/lab down``, a different
process. So every created thing is recorded as data (``{"kind": ..., ...}``) in
``<run dir>/manifest.json`` the moment it exists, and one ``undo`` function knows how to
release each kind. The same log serves both paths: ``close()`` in the running lab, and
``Registry.load(run_dir).close()`` from ``down``.

Processes are recorded with their start time, so a PID reused by someone else after our
process ended is never signalled. Namespaces are destroyed with ``Netns.destroy``, which
first kills every process still inside (wireguard-go included) by PID, never by name.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from routerd.backends.linux.wgsupervisor import process_start_time
from tests.support.netns import Netns

MANIFEST = "manifest.json"
STOP_TIMEOUT = 10.0
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}
"""Processes this process started (reaped through their Popen, never left as zombies)."""


def stop_process(pid: int, start: int | None, *, sig: int = signal.SIGTERM) -> None:
    """Signal one process (by PID, only if it is still the same process) and reap it.

    Waits up to ``STOP_TIMEOUT`` seconds, then SIGKILLs.
    """
    if start is None or process_start_time(pid) != start:
        _reap(pid)
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)
    deadline = time.monotonic() + STOP_TIMEOUT
    while process_start_time(pid) == start:
        _reap(pid)
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + STOP_TIMEOUT
        time.sleep(0.05)
    _reap(pid, wait=STOP_TIMEOUT)


def _reap(pid: int, *, wait: float = 0.0) -> None:
    """Collect the exit status when the process is our child (no zombie left behind).

    ``wait``: how long to wait for a child that has ended. A multi-threaded process's first
    thread shows as a zombie while its other threads are still exiting, and cannot be
    reaped until they have: a single poll at that moment left it a zombie until the end of
    the run (the AWS double, with its server threads, did this at every teardown).
    """
    child = _CHILDREN.get(pid)
    if child is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(wait) if wait else child.poll()
        if child.returncode is not None:
            del _CHILDREN[pid]
        return
    deadline = time.monotonic() + wait
    with contextlib.suppress(ChildProcessError, OSError):
        while os.waitpid(pid, os.WNOHANG) == (0, 0) and time.monotonic() < deadline:
            time.sleep(0.01)


def undo(record: dict[str, Any]) -> None:
    """Release one recorded thing."""
    kind = record["kind"]
    if kind == "netns":
        Netns(record["name"]).destroy()
    elif kind == "process":
        stop_process(record["pid"], record.get("start"))
    elif kind == "path":
        path = Path(record["path"])
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    else:
        raise ValueError(f"unknown registry record kind {kind!r}")


@dataclass
class Registry:
    """The undo log of one run (see the module docstring)."""

    path: Path
    records: list[dict[str, Any]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def create(cls, run_dir: Path, **meta: Any) -> Registry:
        """A new log; the creating process is recorded as the run's owner."""
        owner = {"owner_pid": os.getpid(), "owner_start": process_start_time(os.getpid())}
        reg = cls(run_dir / MANIFEST, meta={**meta, **owner})
        reg._save()
        return reg

    @classmethod
    def load(cls, run_dir: Path) -> Registry:
        data = json.loads((run_dir / MANIFEST).read_text())
        return cls(run_dir / MANIFEST, list(data["records"]), dict(data["meta"]))

    def owner_alive(self) -> bool:
        """Whether the process that created the run still runs (the run is in use)."""
        pid = self.meta.get("owner_pid")
        if not isinstance(pid, int) or pid == os.getpid():
            return False
        start = process_start_time(pid)
        return start is not None and start == self.meta.get("owner_start")

    def push(self, kind: str, **data: Any) -> None:
        self.records.append({"kind": kind, **data})
        self._save()

    def push_process(self, proc: subprocess.Popen[bytes], what: str) -> None:
        """Record a process we started (and keep its Popen to reap it)."""
        _CHILDREN[proc.pid] = proc
        self.push("process", pid=proc.pid, start=process_start_time(proc.pid), what=what)

    def close(self) -> list[str]:
        """Undo every record, newest first; every record is tried even when one fails."""
        errors = []
        while self.records:
            record = self.records.pop()
            try:
                undo(record)
            except Exception as exc:
                errors.append(f"{record}: {exc}")
            if self.path.parent.exists():
                self._save()
        return errors

    def _save(self) -> None:
        if not self.path.parent.exists():
            return
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"meta": self.meta, "records": self.records}, indent=1))
        tmp.replace(self.path)
