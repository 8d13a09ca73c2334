"""Route what native code writes to file descriptor 2 through routerd's log formatter.

Why it is shaped this way: gRPC's C core logs with absl straight to fd 2
(``E1206 21:41:55.965343 20795 add_port.cc:83] Failed to add port ...``), bypassing Python
logging, so a daemon started with ``--log-format json`` would still write non-JSON lines
that break a log shipper. Python-level hooks cannot see those writes; only the descriptor
can. So, for JSON logs, fd 2 becomes a pipe read by a thread that turns each line into a log
record (absl lines keep their level and source as fields; anything else is logged at
WARNING under ``stderr``). The log handler moves to a duplicate of the original descriptor;
``sys.stderr`` writes into the pipe too, so a library's ``print(..., file=sys.stderr)`` is
wrapped like everything else.

The pipe's write end is non-blocking and enlarged: if the reader ever falls behind, a native
writer loses a line instead of blocking, because a blocked writer holding the GIL would
stop the very thread that drains the pipe.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import sys
import threading
from typing import IO

NATIVE = logging.getLogger("grpc.core")
OTHER = logging.getLogger("stderr")
ABSL_LINE = re.compile(r"^([IWEF])\d{4} [\d:.]+\s+(\d+) ([^\]\s]+)\] ?(.*)$")
LEVELS = {"I": logging.INFO, "W": logging.WARNING, "E": logging.ERROR, "F": logging.CRITICAL}
PIPE_SIZE = 1024 * 1024
MAX_LINE = 16 * 1024


def log_line(line: str) -> None:
    """Log one line that native code wrote to stderr."""
    if not line.strip():
        return
    m = ABSL_LINE.match(line)
    if m is None:
        OTHER.warning("%s", line)
        return
    level, thread, source, message = m.groups()
    NATIVE.log(
        LEVELS[level], "%s", message, extra={"kv_source": source, "kv_native_thread": thread}
    )


class NativeStderr:
    """The running redirection (``start`` once per process)."""

    def __init__(self) -> None:
        self.stream: IO[str] | None = None
        self._read_fd = -1
        self._thread = threading.Thread(target=self._drain, name="native-stderr", daemon=True)

    def start(self) -> IO[str]:
        """Redirect fd 2 into the pipe; returns the stream that now reaches the real stderr."""
        sys.stderr.flush()
        saved = os.dup(2)
        read_fd, write_fd = os.pipe()
        with contextlib.suppress(OSError):  # above the system limit: keep the default size
            fcntl.fcntl(write_fd, fcntl.F_SETPIPE_SZ, PIPE_SIZE)
        # Python's own writers get a blocking descriptor of the same pipe (its own open file
        # description, so its own flags): print() must not fail when the pipe is full, and
        # Python releases the GIL while it waits, so the drain thread keeps running.
        py_fd = os.open(f"/proc/self/fd/{write_fd}", os.O_WRONLY | os.O_CLOEXEC)
        os.set_blocking(write_fd, False)
        os.dup2(write_fd, 2)
        os.close(write_fd)
        self._read_fd = read_fd
        self.stream = os.fdopen(saved, "w", buffering=1, errors="backslashreplace")
        old = sys.stderr
        sys.stderr = os.fdopen(py_fd, "w", buffering=1, errors="backslashreplace")
        for handler in logging.getLogger().handlers:
            if isinstance(handler, logging.StreamHandler) and handler.stream is old:
                handler.setStream(self.stream)
        self._thread.start()
        return self.stream

    def _drain(self) -> None:
        pending = b""
        while True:
            try:
                chunk = os.read(self._read_fd, 65536)
            except OSError:
                return
            if not chunk:
                return
            pending += chunk
            *lines, pending = pending.split(b"\n")
            if len(pending) > MAX_LINE:
                lines.append(pending)
                pending = b""
            for raw in lines:
                try:
                    log_line(raw.decode(errors="backslashreplace"))
                except Exception:  # never let a bad line end the drain
                    continue


def redirect() -> NativeStderr:
    """Start routing fd 2 through the log handler (call after ``setup_logging``)."""
    capture = NativeStderr()
    capture.start()
    return capture
