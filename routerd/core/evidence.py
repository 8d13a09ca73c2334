"""Path evidence per claim, and when each verified claim's path is due for another look.

A claim's path (route lookup, overlay probe; the sim traces a packet) is checked when the
claim is judged at the delivering level or above, unless it is verified and was checked
less than ``verify_interval`` ago. Nothing reports a change of what a check sees (a
route lookup's answer, a probe), so verified claims are judged again when their check is
due: ``due`` lists them oldest first without looking at the others, because checks are
kept in the order they were made.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from routerd.core.port import PathEvidence


class Evidence:
    """Last evidence and check time per claim (one thread).

    Args:
        verify_interval: seconds before a verified claim's path is checked again.
    """

    def __init__(self, verify_interval: float) -> None:
        self.verify_interval = verify_interval
        self.of: dict[str, PathEvidence] = {}
        self._checked: dict[str, float] = {}  # in the order the checks were made

    def wanted(self, names: list[str], verified: Callable[[str], bool], now: float) -> list[str]:
        """Of claims judged at the delivering level or above (in order), those needing a
        check now: all but the verified ones checked less than ``verify_interval`` ago."""
        checked = self._checked
        if not checked:  # nothing checked yet (a first pass): every claim
            return list(names)
        interval = self.verify_interval
        out = []
        for name in names:
            last = checked.get(name)
            if last is None or not (now - last < interval and verified(name)):
                out.append(name)
        return out

    def record(self, names: list[str], found: Mapping[str, PathEvidence], now: float) -> set[str]:
        """Keep what the checks of ``names`` (in the order made) found; returns the claims
        given evidence (a check can find nothing: the claim keeps what it had)."""
        of, checked = self.of, self._checked
        out = set()
        for name in names:
            evidence = found.get(name)
            if evidence is not None:
                of[name] = evidence
                checked.pop(name, None)
                checked[name] = now
                out.add(name)
        return out

    def stale(self, name: str) -> None:
        """The claim dropped below the delivering level: check it as soon as it is back."""
        self._checked.pop(name, None)

    def forget(self, name: str) -> None:
        """The claim went: nothing of it is kept."""
        self._checked.pop(name, None)
        self.of.pop(name, None)

    def due(self, now: float) -> list[str]:
        """Claims whose last check is at least ``verify_interval`` old, oldest first."""
        out = []
        limit = now - self.verify_interval
        for name, at in self._checked.items():
            if at > limit:
                break
            out.append(name)
        return out

    def next_due(self) -> float | None:
        for at in self._checked.values():
            return at + self.verify_interval
        return None
