"""keepalived's notify FIFO: the VRRP state, pushed by keepalived on every transition.

keepalived writes one line per transition, ``INSTANCE "name" MASTER 150``, in order, from
the same event loop that adds the virtual addresses (measured: the MASTER line arrives
within a millisecond of the address, before it in most runs). The FIFO is the state
source rather than the addresses seen through netlink because it also says BACKUP, FAULT
and STOP (an address only says "master or not") and works for groups whose only address
is a token.

routerd creates the FIFO before keepalived starts and holds it open read-write: a reader
that also counts as a writer never sees end-of-file when keepalived restarts or reloads
(keepalived closes and reopens it then), and keepalived (which opens it non-blocking)
never blocks on it. Lines written while routerd was not reading wait in the pipe; an
adopting routerd drops them and asks keepalived for its current state instead.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from dataclasses import dataclass
from pathlib import Path

STATES = frozenset({"MASTER", "BACKUP", "FAULT", "STOP"})


@dataclass(frozen=True)
class Notice:
    """One transition keepalived reported."""

    kind: str
    name: str
    state: str
    priority: int | None


def parse_line(line: str) -> Notice | None:
    """Parse ``INSTANCE "name" STATE PRIORITY`` (None for anything else).

    Args:
        line: one line from the FIFO, without the newline.

    Returns:
        The notice, or None when the line is not a VRRP instance or group state.
    """
    head, quote, rest = line.partition('"')
    name, quote2, tail = rest.partition('"')
    kind = head.strip()
    if not quote or not quote2 or kind not in ("INSTANCE", "GROUP"):
        return None
    fields = tail.split()
    if not fields or fields[0] not in STATES:
        return None
    priority = int(fields[1]) if len(fields) > 1 and fields[1].isdigit() else None
    return Notice(kind, name, fields[0], priority)


class NotifyFifo:
    """The FIFO, created if missing and held open read-write and non-blocking."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._buf = b""
        with contextlib.suppress(FileExistsError):
            os.mkfifo(path, 0o600)
        if not stat.S_ISFIFO(os.stat(path).st_mode):
            raise OSError(errno.EEXIST, f"{path} exists and is not a FIFO")
        self.fd = os.open(path, os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)

    def fileno(self) -> int:
        return self.fd

    def read(self) -> list[Notice]:
        """Every complete notice available now (never blocks)."""
        while True:
            try:
                chunk = os.read(self.fd, 65536)
            except BlockingIOError:
                break
            if not chunk:
                break
            self._buf += chunk
        *lines, self._buf = self._buf.split(b"\n")
        out = []
        for raw in lines:
            notice = parse_line(raw.decode(errors="replace"))
            if notice is not None:
                out.append(notice)
        return out

    def drain(self) -> int:
        """Drop whatever is waiting (stale lines); returns how many notices were dropped."""
        return len(self.read())

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1
