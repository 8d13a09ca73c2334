"""The startup config file on disk: reading it within limits, and whether it is what runs.

``load_file`` reads a Router YAML file (bounded, UTF-8) and validates it; an unreadable,
oversized or non-UTF-8 file is one error naming the file, never an exception.

Is the file the config that is running, and if not, why?

A rejected reload keeps the running config, which is right for the dataplane and easy to
miss: the file an operator just edited is not what routerd runs. So the daemon keeps this
small record and ``routerctl status`` (``config_file``, a health warning) and the metrics
(``routerd_config_last_reload_successful``, ``routerd_config_file_differs``) show it.

Two things make the file differ from the running config: the last reload was rejected (we
keep its errors), or the file changed after it was last read and nobody reloaded. The second
is seen by comparing the file's stat (inode, size, mtime) with the one taken just before the
running config was read: a status call costs one ``stat``, never a parse. Touching the file
without changing it counts as a change until the next reload says "no changes".
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from routerd.core.errors import ConfigIssue
from routerd.core.input_limits import (
    LIMITS,
    InputLimitError,
    InputLimits,
    NotUtf8Error,
    check_size,
    decode_utf8,
)
from routerd.core.loader import LoadResult, load_text
from routerd.core.validation import ExtraCheck

Stamp = tuple[int, int, int, int] | None


def stamp(path: str) -> Stamp:
    """(device, inode, size, mtime_ns) of ``path``, or None when it cannot be read."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


@dataclass(frozen=True)
class ReloadOutcome:
    """One reload attempt.

    Attributes:
        at: when it finished (Unix time).
        outcome: ``accepted``, ``unchanged`` or ``rejected``.
        errors: every error of a rejected reload.
    """

    at: float
    outcome: str
    errors: tuple[ConfigIssue, ...] = ()


@dataclass(frozen=True)
class FileState:
    """What ``status`` says about the config file.

    Attributes:
        differs: the file on disk is not the running config.
        reason: why, in words (empty when it does not differ).
        last: the last reload attempt, None before the first.
        last_success_at: when a config was last loaded (start-up or reload).
    """

    differs: bool
    reason: str
    last: ReloadOutcome | None
    last_success_at: float


class ConfigFileTracker:
    """The record of the startup config file versus the running config.

    Args:
        path: the ``-c`` file.
        loaded: its stamp taken before the running config was read.
        clock: Unix time (injected by tests).
    """

    def __init__(self, path: str, loaded: Stamp, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self._clock = clock
        self._lock = threading.Lock()
        self._loaded = loaded
        self._last: ReloadOutcome | None = None
        self._success_at = clock()

    def accepted(self, before: Stamp, *, unchanged: bool) -> None:
        """A reload was accepted; ``before`` is the stamp taken before reading the file."""
        with self._lock:
            self._loaded = before
            self._success_at = self._clock()
            self._last = ReloadOutcome(self._success_at, "unchanged" if unchanged else "accepted")

    def rejected(self, errors: Sequence[ConfigIssue]) -> None:
        with self._lock:
            self._last = ReloadOutcome(self._clock(), "rejected", tuple(errors))

    def state(self) -> FileState:
        """Compare now (one ``stat``)."""
        with self._lock:
            last, loaded, success_at = self._last, self._loaded, self._success_at
        reason = ""
        if last is not None and last.outcome == "rejected":
            first = last.errors[0].render() if last.errors else "no details"
            more = f" (and {len(last.errors) - 1} more)" if len(last.errors) > 1 else ""
            reason = (
                f"the last reload was rejected: {first}{more}; the running config is the one "
                "loaded before. Fix the file and reload (`routerd validate -c FILE` checks it)"
            )
        else:
            now = stamp(self.path)
            if now is None:
                reason = f"{self.path} cannot be read any more; the running config is kept"
            elif now != loaded:
                reason = (
                    f"{self.path} changed after it was loaded and has not been reloaded; "
                    "`routerctl reload` (or SIGHUP) applies it"
                )
        return FileState(bool(reason), reason, last, success_at)


def load_file(path: str | Path, *, extra_checks: Sequence[ExtraCheck] = ()) -> LoadResult:
    """Read and validate a Router YAML file.

    An unreadable, oversized or non-UTF-8 file is one error naming the file (and the byte
    offset of the first bad byte), never an exception.
    """
    p = Path(path)
    try:
        text = read_text_file(p)
    except OSError as e:
        return LoadResult(None, [_file_issue(f"cannot read config: {e.strerror}", None, str(p))])
    except (InputLimitError, NotUtf8Error) as e:
        line = e.line if isinstance(e, NotUtf8Error) else None
        return LoadResult(None, [_file_issue(str(e), line, str(p))])
    return load_text(text, str(p), extra_checks=extra_checks)


def read_text_file(path: Path, limits: InputLimits = LIMITS) -> str:
    """Read a UTF-8 text file of at most ``limits.max_bytes``.

    Raises:
        OSError: the file cannot be read.
        InputLimitError: it is larger than the limit (only the limit is read).
        NotUtf8Error: it is not UTF-8 (with the byte offset).
    """
    with path.open("rb") as f:
        check_size(os.fstat(f.fileno()).st_size, limits)
        data = f.read(limits.max_bytes + 1)  # a pipe or /proc file has no size up front
    check_size(len(data), limits)
    return decode_utf8(data)


def _file_issue(message: str, line: int | None, file: str | None) -> ConfigIssue:
    return ConfigIssue("Router", "", message, line, file)
