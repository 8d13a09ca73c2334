"""What the speaker's neighbors sent, after the import rule: accepted paths, refusals, sessions.

Paths are keyed as BGP keys them in an Adj-RIB-In: (neighbor, prefix, add-path identifier).
An announcement replaces the entry under its key, a withdrawal removes it, and a session
leaving ``established`` removes everything learned over it (the speaker drops that
neighbor's Adj-RIB-In without sending a withdrawal per path). Speaker-neutral: any adapter
in ``routerd.bgp`` feeds it ``Decoded`` paths. Not thread-safe: the owner holds its lock.
"""

from __future__ import annotations

from collections import Counter
from types import MappingProxyType

from routerd.bgp.codec import Decoded
from routerd.core.exchange import ImportPolicy, LearnedPath, Refusal, SessionState, judge

PathKey = tuple[str, str, int]


class LearnedTable:
    """Accepted paths by address, current refusals, refusal counts and session states."""

    def __init__(self, policy: ImportPolicy) -> None:
        self.policy = policy
        self.sessions: dict[str, SessionState] = {}
        self.refused_counts: Counter[str] = Counter()
        self._accepted: dict[PathKey, LearnedPath] = {}
        self._refused: dict[PathKey, Refusal] = {}
        self._by_address: dict[str, dict[PathKey, LearnedPath]] = {}
        self._paths: MappingProxyType[str, tuple[LearnedPath, ...]] | None = None

    def __len__(self) -> int:
        return len(self._accepted)

    def addresses(self) -> int:
        """How many addresses have at least one accepted path."""
        return len(self._by_address)

    def apply(self, decoded: Decoded) -> None:
        """Record one announcement or withdrawal."""
        self._remove(decoded.key)
        if decoded.withdrawn or decoded.path is None:
            return
        verdict = judge(decoded.path, self.policy)
        if isinstance(verdict, Refusal):
            self._refused[decoded.key] = verdict
            self.refused_counts[verdict.reason] += 1
            return
        self._accepted[decoded.key] = verdict
        self._by_address.setdefault(verdict.address, {})[decoded.key] = verdict
        self._paths = None

    def _remove(self, key: PathKey) -> None:
        self._refused.pop(key, None)
        old = self._accepted.pop(key, None)
        if old is None:
            return
        per = self._by_address[old.address]
        del per[key]
        if not per:
            del self._by_address[old.address]
        self._paths = None

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
        self._paths = None

    def paths(self) -> MappingProxyType[str, tuple[LearnedPath, ...]]:
        """address -> accepted paths, immutable, rebuilt only after a change."""
        if self._paths is None:
            self._paths = MappingProxyType(
                {a: tuple(per.values()) for a, per in self._by_address.items()}
            )
        return self._paths

    def refused(self) -> tuple[Refusal, ...]:
        return tuple(self._refused.values())
