"""What the speaker's neighbors sent, after the import rule: accepted paths, refusals, sessions.

Paths are keyed as BGP keys them in an Adj-RIB-In: (neighbor, prefix, add-path identifier).
An announcement replaces the entry under its key, a withdrawal removes it, and a session
leaving ``established`` removes everything learned over it (the speaker drops that
neighbor's Adj-RIB-In without sending a withdrawal per path). Speaker-neutral: every
speaker adapter (gobgpd's in ``routerd.bgp``, the simulator's) feeds it ``Decoded`` paths.
Not thread-safe: the owner holds its lock.

The address -> paths mapping is kept up to date per change and handed out copy-on-write, so
a snapshot costs nothing and a change after one costs one C-level dict copy: a consumer
that looks after every change stays linear in the number of changes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from types import MappingProxyType

from routerd.core.exchange import (
    ImportPolicy,
    LearnedPath,
    ReceivedPath,
    Refusal,
    SessionState,
    judge,
)

PathKey = tuple[str, str, int]


@dataclass(frozen=True, slots=True)
class Decoded:
    """One received path, with the key that identifies it in the neighbor's Adj-RIB-In.

    Attributes:
        key: (neighbor address, prefix, add-path identifier).
        withdrawn: the path is a withdrawal of ``key``.
        path: the path's contents (None for a withdrawal).
    """

    key: tuple[str, str, int]
    withdrawn: bool
    path: ReceivedPath | None


class LearnedTable:
    """Accepted paths by address, current refusals, refusal counts and session states."""

    def __init__(self, policy: ImportPolicy) -> None:
        self.policy = policy
        self.sessions: dict[str, SessionState] = {}
        self.refused_counts: Counter[str] = Counter()
        self._accepted: dict[PathKey, LearnedPath] = {}
        self._refused: dict[PathKey, Refusal] = {}
        self._by_address: dict[str, dict[PathKey, LearnedPath]] = {}
        self._paths: dict[str, tuple[LearnedPath, ...]] = {}
        self._shared = False

    def __len__(self) -> int:
        return len(self._accepted)

    def addresses(self) -> int:
        """How many addresses have at least one accepted path."""
        return len(self._by_address)

    def apply(self, decoded: Decoded) -> bool:
        """Record one announcement or withdrawal; False when it changed nothing (the same
        path again, say after a route refresh), so nobody is woken for it."""
        key = decoded.key
        verdict = None
        if not decoded.withdrawn and decoded.path is not None:
            verdict = judge(decoded.path, self.policy)
        old = self._accepted.get(key) or self._refused.get(key)
        if verdict == old:
            return False
        self._remove(key)
        if verdict is None:
            return True
        if isinstance(verdict, Refusal):
            self._refused[key] = verdict
            self.refused_counts[verdict.reason] += 1
            return True
        self._accepted[key] = verdict
        per = self._by_address.setdefault(verdict.address, {})
        per[key] = verdict
        self._writable()[verdict.address] = tuple(per.values())
        return True

    def _remove(self, key: PathKey) -> None:
        self._refused.pop(key, None)
        old = self._accepted.pop(key, None)
        if old is None:
            return
        per = self._by_address[old.address]
        del per[key]
        if per:
            self._writable()[old.address] = tuple(per.values())
        else:
            del self._by_address[old.address]
            del self._writable()[old.address]

    def _writable(self) -> dict[str, tuple[LearnedPath, ...]]:
        """The paths dict, copied first if a snapshot still shares it (copy on write)."""
        if self._shared:
            self._paths = dict(self._paths)
            self._shared = False
        return self._paths

    def drop_neighbor(self, neighbor: str) -> bool:
        """Forget everything learned over one session; True when something was dropped."""
        keys = [k for k in (*self._accepted, *self._refused) if k[0] == neighbor]
        for key in keys:
            self._remove(key)
        return bool(keys)

    def clear(self) -> None:
        """Forget every path (the speaker is gone or being re-read); counts are kept."""
        self._accepted.clear()
        self._refused.clear()
        self._by_address.clear()
        self._paths, self._shared = {}, False

    def paths(self) -> MappingProxyType[str, tuple[LearnedPath, ...]]:
        """address -> accepted paths, immutable: the next change copies the dict first."""
        self._shared = True
        return MappingProxyType(self._paths)

    def refused(self) -> tuple[Refusal, ...]:
        return tuple(self._refused.values())
