"""Per-object retry after a failed apply: bounded backoff with jitter (kopf-style).

One failing claim never blocks the others: every change has its own result, and a failure
only puts that object's key into backoff, so a pass leaves the key alone until it is due.
The error text stays with the key until it applies: claims needing it show it.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from routerd.core.desired import Key
from routerd.core.port import ChangeResult

LOG = logging.getLogger(__name__)


@dataclass
class _Entry:
    count: int = 0
    next_at: float = 0.0
    last_error: str = ""


class Backoff:
    """Failing keys, when each may be tried again, and the error each failed with.

    Args:
        delays: seconds after 1, 2, ... consecutive failures (the last repeats), ±20% jitter.
    """

    def __init__(self, delays: Sequence[float]) -> None:
        self.delays = tuple(delays)
        self._entries: dict[Key, _Entry] = {}

    def note(self, results: Iterable[ChangeResult], now: float) -> None:
        """Record the results of an apply: successes clear a key, failures push it back."""
        delays = self.delays
        for r in results:
            key = r.change.key
            if r.ok:
                self._entries.pop(key, None)
                continue
            b = self._entries.setdefault(key, _Entry())
            delay = delays[min(b.count, len(delays) - 1)] * random.uniform(0.8, 1.2)
            if b.count == 0 or r.error != b.last_error:
                LOG.warning(
                    "apply failed change=%r error=%s retry_in=%.1fs owners=%s",
                    r.change.describe(),
                    r.error,
                    delay,
                    ",".join(r.change.owners[:10]) + ("..." if len(r.change.owners) > 10 else ""),
                )
            b.count += 1
            b.next_at = now + (delay if r.retryable else delays[-1])
            b.last_error = r.error

    def waiting(self, key: Key, now: float) -> bool:
        """Whether ``key`` must be left alone at ``now``."""
        b = self._entries.get(key)
        return b is not None and now < b.next_at

    def error(self, key: Key) -> str:
        """The error ``key`` last failed with ("" when it is not failing)."""
        b = self._entries.get(key)
        return b.last_error if b is not None else ""

    def keys(self) -> set[Key]:
        return set(self._entries)

    def next_at(self, now: float) -> float | None:
        """The earliest time a waiting key is due."""
        return min((b.next_at for b in self._entries.values() if b.next_at > now), default=None)

    def errors(self) -> dict[str, str]:
        """``kind/.../name`` -> error, for the snapshot."""
        return {"/".join(k): b.last_error for k, b in self._entries.items() if b.last_error}

    def __bool__(self) -> bool:
        return bool(self._entries)
