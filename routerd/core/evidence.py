"""Path evidence per claim, and when each verified claim's path is due for another look.

A claim's path (route lookup, overlay probe; the sim traces a packet) is checked when the
claim is judged at the delivering level or above, unless it is verified and was checked
less than ``verify_interval`` ago. Nothing reports a change of what a check sees (a
route lookup's answer, a probe), so verified claims are judged again when their check is
due: ``due`` lists them oldest first without looking at the others, because checks are
kept in the order they were made.
"""

from __future__ import annotations

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

    def wanted(self, name: str, verified: bool, now: float) -> bool:
        """Whether a claim judged at the delivering level or above needs a check now."""
        last = self._checked.get(name)
        return not (verified and last is not None and now - last < self.verify_interval)

    def record(self, name: str, evidence: PathEvidence, now: float) -> None:
        self.of[name] = evidence
        self._checked.pop(name, None)
        self._checked[name] = now

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
