"""Claim sources: claims another component derives, handed to the engine as deltas.

Address mobility derives claims (where an address lives now decides what this router must
capture or deliver) by the thousand at start and one at a time when a presence or BGP
event moves an address. It owns a ``ClaimSource``, registered with the engine; ``put`` and
``remove`` record the names that changed, and the engine's next pass takes exactly those:
the cost of a handover is the claims it changes, never the claims that exist.

A source may also run code on the engine thread at the start of every pass (``on_pass``,
e.g. a controller applying the events it queued) and ask for a pass at a given time
(``wake_at``). Claims of a source carry the source's name as their origin; a name the
effective config already uses belongs to the config (the source's claim is ignored,
with a warning, while the config has it).

A source's claim may rest on more than the dataplane shows: a derived claim delivers to the
site where its VM lives, which only that site's announcement confirms. ``hold`` says what
is missing for such a claim: the engine then keeps it from ``verified`` (at ``delivering``,
with the hold's reason) however well the dataplane checks out. When what ``hold`` answers
changes without the claim itself changing, ``touch`` has the engine judge those claims
again on its next pass.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from routerd.core.resources import RemoteAddressClaim

Hold = Callable[[str], tuple[str, str] | None]
"""Claim name -> (reason code, message) while the claim must not be ``verified``, else None
(called on the engine thread, while it judges the claim)."""


class ClaimSource:
    """One component's derived claims (thread-safe; cheap per change).

    Args:
        name: the origin the engine shows for these claims (``mobility`` ...).
        on_pass: run on the engine thread at the start of every pass with the pass's time.
        hold: what keeps a claim of this source from ``verified`` (see the module docstring).
    """

    def __init__(
        self,
        name: str,
        on_pass: Callable[[float], None] | None = None,
        *,
        hold: Hold | None = None,
    ) -> None:
        self.name = name
        self.on_pass = on_pass
        self.hold = hold
        self._lock = threading.Lock()
        self._claims: dict[str, RemoteAddressClaim] = {}
        self._changed: set[str] = set()
        self._touched: set[str] = set()
        self._wake: Callable[[], None] = lambda: None
        self._wake_at: float | None = None

    def attach(self, wake: Callable[[], None]) -> None:
        """Called by the engine: how to wake it when claims change."""
        self._wake = wake

    def put(self, *claims: RemoteAddressClaim) -> None:
        """Add claims, or replace the claims of those names."""
        with self._lock:
            for c in claims:
                self._claims[c.name] = c
                self._changed.add(c.name)
        self._wake()

    def remove(self, *names: str) -> None:
        """Withdraw claims by name (unknown names are ignored)."""
        with self._lock:
            for name in names:
                if self._claims.pop(name, None) is not None:
                    self._changed.add(name)
        self._wake()

    def replace_all(self, claims: Iterable[RemoteAddressClaim]) -> None:
        """Make the source hold exactly ``claims`` (only the differences count as changes)."""
        wanted = {c.name: c for c in claims}
        with self._lock:
            for name in self._claims.keys() - wanted.keys():
                del self._claims[name]
                self._changed.add(name)
            for name, c in wanted.items():
                if self._claims.get(name) is not c:
                    self._claims[name] = c
                    self._changed.add(name)
        self._wake()

    def touch(self, *names: str) -> None:
        """Judge these claims again on the next pass (their ``hold`` may answer otherwise)."""
        if not names:
            return
        with self._lock:
            self._touched.update(names)
        self._wake()

    def wake_at(self, when: float) -> None:
        """Ask for a pass at ``when`` (epoch seconds; the earliest request wins). The engine
        is woken only when this moves the earliest request (so a waiting engine sleeps less),
        never for a request it already has."""
        with self._lock:
            earlier = self._wake_at is None or when < self._wake_at
            if earlier:
                self._wake_at = when
        if earlier:
            self._wake()

    # -- the engine's side -------------------------------------------------------------------

    def get(self, name: str) -> RemoteAddressClaim | None:
        with self._lock:
            return self._claims.get(name)

    def names(self) -> list[str]:
        with self._lock:
            return list(self._claims)

    def take_changes(self) -> set[str]:
        """Names put or removed since the last call."""
        with self._lock:
            out, self._changed = self._changed, set()
            return out

    def take_touched(self) -> set[str]:
        """Names touched since the last call."""
        with self._lock:
            out, self._touched = self._touched, set()
            return out

    def next_wake(self, now: float) -> float | None:
        """The pass time asked for, if still ahead; a request that is due is consumed."""
        with self._lock:
            if self._wake_at is not None and self._wake_at <= now:
                self._wake_at = None
            return self._wake_at
