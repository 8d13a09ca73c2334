"""Which claims a reconcile pass must judge, and which it may leave as they are.

The engine judges claims with ``routerd.core.assess``, a pure function of the claim's
intent, the observation and the claim's path evidence. At 10,000 claims judging all of
them costs ~50 ms a pass although, at steady state, every claim is ``verified`` and its
part of the host did not move. Reconcile stays level-triggered: every pass still observes
the whole host; what is skipped is re-deriving a verdict whose inputs are unchanged.

A claim is *settled* when the last pass judged it ``verified`` (its verdict is then
``Verdict(3)``: no reason, no key, and a message that depends only on the provider's
answers) against the observation kept here as the *reference*. A settled claim is judged
again as soon as:

* something it reads differs from the reference: its own route, proxy-neighbour or
  address-absence object (found through the desired owners), or anything shared (any
  other changed object, a link's existence or state, a handshake crossing its age
  limit, any provider answer): ``assess`` reads nothing else;
* its path is due for another check (``verify_interval``);
* its intent changed or it was judged into another state (the engine calls ``forget``).

Everything else would be judged ``verified`` again and walk nowhere, so skipping it is
observably the same. ``touching`` picks the claims for the pre-apply judgement: those
that need an object the pass is about to change (their drift is what it exists to show).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence

from routerd.core.desired import DataplaneObject, Key, Observed
from routerd.core.lowering import Lowered
from routerd.core.port import Change

CLAIM_OWNER = "RemoteAddressClaim/"
OWN_KINDS = frozenset({"route", "pneigh", "absent"})
"""Kinds of object a claim reads only for itself (every other kind is shared)."""

_MISSING = object()


def claim_names(owners: Iterable[str]) -> Iterable[str]:
    """The claims among ``Kind/name`` owner labels."""
    n = len(CLAIM_OWNER)
    return (o[n:] for o in owners if o.startswith(CLAIM_OWNER))


def touching(changes: Sequence[Change], lowered: Lowered) -> set[str]:
    """Claims with a changed key among their ``claim_keys``.

    Outside sysctls, a key in a claim's ``claim_keys`` is always desired with the claim
    among its owners (lowering adds both together); a claim may list a sysctl that a user
    Sysctl owns instead, so sysctl keys are looked up in ``claim_keys`` themselves.
    """
    desired = lowered.desired
    out: set[str] = set()
    sysctls: set[Key] = set()
    for change in changes:
        if change.key[0] == "sysctl":
            sysctls.add(change.key)
        else:
            out.update(claim_names(desired.owners.get(change.key, ())))
    if sysctls:
        out.update(n for n, keys in desired.claim_keys.items() if not sysctls.isdisjoint(keys))
    return out


class Triage:
    """The settled claims and the reference observation they were judged against.

    Args:
        handshake_max_age: the age beyond which ``assess`` calls a handshake stale.
        verify_interval: seconds before a verified claim's path is checked again.
    """

    def __init__(self, *, handshake_max_age: float, verify_interval: float) -> None:
        self.max_age = handshake_max_age
        self.verify_interval = verify_interval
        self.settled: set[str] = set()
        self._objects: dict[Key, DataplaneObject] = {}
        self._links: dict[str, tuple[bool, bool]] = {}
        self._handshakes: dict[tuple[str, str], bool] = {}
        self._assignments: object = None
        self._oldest_check = math.inf

    def forget(self, names: Iterable[str]) -> None:
        """These claims must be judged next time (intent changed, state moved, released)."""
        self.settled.difference_update(names)

    def to_judge(
        self,
        lowered: Lowered,
        observed: Observed,
        verified_at: Mapping[str, float],
        now: float,
        *,
        applied: Collection[Key] = (),
    ) -> list[str]:
        """Claims to judge against ``observed``, in ``lowered`` order.

        Args:
            lowered: the claims.
            observed: the observation to judge them against.
            verified_at: when each claim's path was last checked.
            now: epoch seconds.
            applied: keys this pass changed (likely to differ from the reference; a hint
                only: the result is the same without it).
        """
        if self.settled:
            self._unsettle_changed(lowered, observed, applied)
        limit = self.verify_interval
        if self.settled and now - self._oldest_check >= limit:  # the engine's own test
            due = [n for n in self.settled if now - verified_at.get(n, -math.inf) >= limit]
            self.settled.difference_update(due)
        settled = self.settled
        if not settled:
            return list(lowered.claims)
        return [n for n in lowered.claims if n not in settled]

    def record(
        self,
        observed: Observed,
        verified: Iterable[str],
        unverified: Iterable[str],
        verified_at: Mapping[str, float],
    ) -> None:
        """After judging ``observed``, which becomes the reference.

        Args:
            observed: what the claims were judged against.
            verified: judged claims now ``verified``; they settle once their path was
                checked (a claim never checked is checked on every pass).
            unverified: judged claims in any other state.
            verified_at: when each claim's path was last checked.
        """
        self.settled.difference_update(unverified)
        for name in verified:
            if name in verified_at:
                self.settled.add(name)
            else:
                self.settled.discard(name)
        self._objects = dict(observed.objects)  # the backend may reuse its dict
        self._links = _links(observed)
        self._handshakes = self._handshake_ok(observed)
        self._assignments = observed.assignments
        self._oldest_check = min(verified_at.values(), default=math.inf)

    def _unsettle_changed(
        self, lowered: Lowered, observed: Observed, applied: Collection[Key]
    ) -> None:
        if (
            _links(observed) != self._links
            or self._handshake_ok(observed) != self._handshakes
            or _differs(observed.assignments, self._assignments)
        ):
            self.settled.clear()
            return
        owners = lowered.desired.owners
        moved: set[str] = set()
        for key in _changed_keys(observed.objects, self._objects, applied):
            if key[0] not in OWN_KINDS:
                self.settled.clear()
                return
            moved.update(claim_names(owners.get(key, ())))
        self.settled.difference_update(moved)

    def _handshake_ok(self, observed: Observed) -> dict[tuple[str, str], bool]:
        return {peer: age <= self.max_age for peer, age in observed.handshakes.items()}


def _links(observed: Observed) -> dict[str, tuple[bool, bool]]:
    return {name: (st.exists, st.up) for name, st in observed.links.items()}


def _changed_keys(
    now: dict[Key, DataplaneObject], before: dict[Key, DataplaneObject], likely: Collection[Key]
) -> list[Key]:
    """Keys whose object appeared, disappeared or differs between two observations.

    The common cases run at C speed: nothing changed, or only ``likely`` keys did.
    """
    if len(now) == len(before) and now == before:
        return []
    if likely:
        rest_now, rest_before = dict(now), dict(before)
        for key in likely:
            rest_now.pop(key, None)
            rest_before.pop(key, None)
        if rest_now == rest_before:
            return [k for k in likely if _differs(now.get(k, _MISSING), before.get(k, _MISSING))]
    changed = []
    common = 0
    get = before.get
    for key, obj in now.items():
        old = get(key, _MISSING)
        if old is _MISSING:
            changed.append(key)
            continue
        common += 1
        if old is not obj and old != obj:
            changed.append(key)
    if common != len(before):
        changed.extend(before.keys() - now.keys())
    return changed


def _differs(a: object, b: object) -> bool:
    return a is not b and a != b
