"""Stop within seconds of SIGTERM, whatever another thread is busy with.

Why it is shaped this way: the orderly stop (API grace, engine close, store close) is quick,
but the interpreter then waits for every non-daemon thread, and gRPC's worker threads are
non-daemon: one busy with a long request would hold the process forever after it said it was
stopping. Under systemd that ends in SIGKILL after ``TimeoutStopSec``; by hand it looks like
a daemon ignoring SIGTERM. So stopping arms a deadline:

* at ``DEADLINE`` seconds a timer thread logs which threads are still busy, with their
  stacks (through the log formatter, so JSON logs stay JSON), and exits the process;
* ``faulthandler`` backs it up ``BACKSTOP`` seconds later from a C thread that needs no GIL,
  for the case where a C extension holds the GIL and no Python thread can run; its stack
  dump goes to ``shutdown-stall.log`` in the state directory;
* a second SIGTERM/SIGINT while stopping exits at once.

The dataplane is left in place either way (unless ``--cleanup-on-exit`` got to run): a
forced exit skips only the daemon's own bookkeeping, and the next start adopts what is there.
"""

from __future__ import annotations

import atexit
import contextlib
import faulthandler
import logging
import os
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import IO

LOG = logging.getLogger(__name__)

DEADLINE = 10.0
BACKSTOP = 5.0
EXIT_FORCED = 1
STALL_LOG = "shutdown-stall.log"


def busy_threads() -> list[str]:
    """Name and innermost frames of every live thread but the caller, for the stall log."""
    frames = sys._current_frames()
    out = []
    for t in threading.enumerate():
        if t is threading.current_thread() or t.ident not in frames:
            continue
        stack = "".join(traceback.format_stack(frames[t.ident], limit=6))
        out.append(f"thread {t.name} (daemon={t.daemon}):\n{stack}")
    return out


class ShutdownDeadline:
    """Forces the process out if stopping takes longer than ``seconds``.

    Args:
        seconds: the budget for an orderly stop.
        stall_dir: where the GIL-free backstop writes its stack dump (None: nowhere).
        exit: how to leave (``os._exit``; tests inject a recorder).
    """

    def __init__(
        self,
        seconds: float = DEADLINE,
        *,
        stall_dir: Path | None = None,
        exit: Callable[[int], None] = os._exit,
    ) -> None:
        self.seconds = seconds
        self.stall_dir = stall_dir
        self._exit = exit
        self._timer: threading.Timer | None = None
        self._stall_file: IO[str] | None = None
        self._lock = threading.Lock()

    @property
    def armed(self) -> bool:
        return self._timer is not None

    def arm(self) -> None:
        """Start the countdown (again calls do nothing)."""
        with self._lock:
            if self._timer is not None:
                return
            self._timer = threading.Timer(self.seconds, self._expire)
            self._timer.name = "shutdown-deadline"
            self._timer.daemon = True
            self._timer.start()
            self._arm_backstop()

    def _arm_backstop(self) -> None:
        if self.stall_dir is None:
            return
        try:
            self._stall_file = (self.stall_dir / STALL_LOG).open("w")
        except OSError:
            return
        faulthandler.dump_traceback_later(self.seconds + BACKSTOP, exit=True, file=self._stall_file)
        atexit.register(self.disarm)  # a normal exit leaves no empty stall log behind

    def disarm(self) -> None:
        """Cancel the countdown (tests; a process that exits normally need not)."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
            if self._stall_file is not None:
                faulthandler.cancel_dump_traceback_later()
                self._stall_file.close()
                path = Path(self._stall_file.name)
                with contextlib.suppress(OSError):
                    if path.stat().st_size == 0:
                        path.unlink()
                self._stall_file = None

    def _expire(self) -> None:
        busy = busy_threads()
        LOG.error(
            "shutdown did not finish within %.0fs; exiting now (dataplane left in place) "
            "busy_threads=%d",
            self.seconds,
            len(busy),
            extra={"kv_stacks": "\n".join(busy)},
        )
        self.force(EXIT_FORCED)

    def force(self, code: int) -> None:
        """Flush the logs and leave now."""
        for handler in logging.getLogger().handlers:
            with contextlib.suppress(Exception):  # leaving anyway
                handler.flush()
        self._exit(code)
