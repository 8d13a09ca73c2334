"""What a pass asks the backend to observe, and whether what claims share has moved.

A scoped pass observes the keys it handles plus everything claims share: the shared
sysctls, WireGuard devices and clamp table, every tail object, the links claims use and
the WireGuard handshakes (``Composition.shared_keys`` / ``links``). That is a handful of
objects however many claims there are, and it is what no per-claim drift names: nothing
reports a sysctl write, a handshake ageing past its limit flips a verdict without any
event, and a link going down changes every claim on it. So the shared part is compared
with what the previous pass ended with (``record``); when it moved (``moved``), the pass
becomes a full one. Only what the previous pass recorded and claims still share is
compared: a key or link that appears with a new claim is judged with that claim, and one
that left with the last claim needing it concerns no claim any more.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from routerd.core.desired import DataplaneObject, Key, Observed, ObserveScope
from routerd.core.lowering import Lowered, observe_scope

_MISSING: object = object()
_UNRECORDED: object = object()


class PassScope:
    """The shared part of the last observation, and the observe scopes of a pass.

    Args:
        handshake_max_age: the age beyond which ``assess`` calls a handshake stale.
    """

    def __init__(self, handshake_max_age: float) -> None:
        self.max_age = handshake_max_age
        self._objects: dict[Key, DataplaneObject | object] = {}
        self._links: dict[str, tuple[bool, bool]] = {}
        self._fresh: dict[tuple[str, str], bool] = {}
        self._stale_at = math.inf

    def scoped(self, lowered: Lowered, keys: Iterable[Key], links: Iterable[str]) -> ObserveScope:
        """Observe only ``keys`` (they include what claims share) and ``links``."""
        wanted = frozenset(keys)
        return ObserveScope(
            sysctls={k[1] for k in wanted if k[0] == "sysctl"},
            absent_addresses={k[1] for k in wanted if k[0] == "absent"},
            links=set(links),
            wireguard={k[1] for k in wanted if k[0] == "wg"},
            desired=lowered.desired,
            keys=wanted,
        )

    def whole(self, lowered: Lowered) -> ObserveScope:
        """Observe everything routerd owns and everything the claims read."""
        return observe_scope(lowered)

    def moved(self, observed: Observed, shared: Iterable[Key]) -> bool:
        """Whether anything the last pass recorded, and claims still share, differs now."""
        get = observed.objects.get
        recorded = self._objects
        for key in shared:
            before = recorded.get(key, _UNRECORDED)
            if before is _UNRECORDED:
                continue
            now = get(key, _MISSING)
            if now is not before and now != before:
                return True
        links = observed.links
        for name, before_link in self._links.items():
            st = links.get(name)
            if st is not None and (st.exists, st.up) != before_link:
                return True
        ages = observed.handshakes
        for pair, fresh in self._fresh.items():
            age = ages.get(pair)
            if pair[0] in links and (age is None or (age <= self.max_age) != fresh):
                return True
        return False

    def record(self, observed: Observed, shared: Iterable[Key], now: float) -> None:
        """What the pass ended with: the baseline of the next ``moved``."""
        get = observed.objects.get
        self._objects = {k: get(k, _MISSING) for k in shared}
        self._links = {name: (st.exists, st.up) for name, st in observed.links.items()}
        self._fresh = {pair: age <= self.max_age for pair, age in observed.handshakes.items()}
        self._stale_at = min(
            (
                now + self.max_age - age
                for age in observed.handshakes.values()
                if age <= self.max_age
            ),
            default=math.inf,
        )

    def next_handshake_change(self) -> float | None:
        """When the freshest recorded handshake would go stale, if none happens before."""
        return None if self._stale_at == math.inf else self._stale_at
