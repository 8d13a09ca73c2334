"""Overlay probes for ``verify``: ping the peer's overlay address from ours, cached.

A probe answers "does traffic cross the tunnel right now?" for the ``verified`` state. It
must never hold a reconcile pass for long, so results are cached for ``ttl`` seconds and a
stale entry is refreshed in the background while the stale answer is returned; only the
very first probe of a pair waits (at most ``wait`` seconds). ``ping`` is used rather than
a raw ICMP socket because it is everywhere and involves no secret.
"""

from __future__ import annotations

import logging
import subprocess
import threading
import time
from dataclasses import dataclass

LOG = logging.getLogger(__name__)


@dataclass
class _Entry:
    ok: bool | None = None
    at: float = 0.0
    running: threading.Thread | None = None


def ping_once(source: str, target: str, *, timeout: float = 1.0) -> bool:
    """One echo from ``source`` to ``target``; True when it was answered."""
    try:
        proc = subprocess.run(
            [
                "ping",
                "-n",
                "-q",
                "-c",
                "1",
                "-W",
                str(max(1, round(timeout))),
                "-I",
                source,
                target,
            ],
            capture_output=True,
            timeout=timeout + 2,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        LOG.debug("ping %s -> %s failed: %s", source, target, exc)
        return False
    return proc.returncode == 0


class ProbeCache:
    """Cached, mostly non-blocking overlay probes keyed by (source, target)."""

    def __init__(self, *, ttl: float = 5.0, wait: float = 1.5) -> None:
        self.ttl = ttl
        self.wait = wait
        self._lock = threading.Lock()
        self._entries: dict[tuple[str, str], _Entry] = {}

    def _run(self, key: tuple[str, str], entry: _Entry) -> None:
        ok = ping_once(*key)
        with self._lock:
            entry.ok, entry.at, entry.running = ok, time.monotonic(), None

    def _kick(self, key: tuple[str, str]) -> tuple[bool | None, threading.Thread | None]:
        """The usable answer now, or the thread that will produce the first one."""
        with self._lock:
            entry = self._entries.setdefault(key, _Entry())
            if entry.ok is not None and time.monotonic() - entry.at < self.ttl:
                return entry.ok, None
            if entry.running is None:
                entry.running = threading.Thread(
                    target=self._run, args=(key, entry), name="routerd-probe", daemon=True
                )
                entry.running.start()
            return entry.ok, (entry.running if entry.ok is None else None)

    def probe_many(self, pairs: set[tuple[str, str]]) -> dict[tuple[str, str], bool | None]:
        """The latest answer per (source, target) pair; None while a first probe runs.

        First probes run concurrently and are awaited together for at most ``wait``
        seconds; later ones refresh in the background while the previous answer is used.
        """
        kicked = {key: self._kick(key) for key in sorted(pairs)}
        deadline = time.monotonic() + self.wait
        for _, thread in kicked.values():
            if thread is not None:
                thread.join(max(0.0, deadline - time.monotonic()))
        out: dict[tuple[str, str], bool | None] = {}
        with self._lock:
            for key, (value, thread) in kicked.items():
                out[key] = self._entries[key].ok if thread is not None else value
        return out
