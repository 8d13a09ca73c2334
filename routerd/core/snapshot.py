"""What the engine publishes after each pass, for API threads: the snapshot and claim views.

A snapshot is replaced as a whole, never changed, so readers need no lock. At 10,000 claims
building every claim's view on every pass cost ~12 ms; a view only changes when its claim
was judged (which every added or re-specified claim is) or its origin changed, so
``claim_views`` reuses the others (views are immutable: sharing one between snapshots is
safe).
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from dataclasses import dataclass, field

from routerd.core.config import RouterConfig
from routerd.core.effective import EffectiveResult, Identity
from routerd.core.lifecycle import ClaimFSM, ClaimState
from routerd.core.lowering import ClaimIntent, Lowered
from routerd.core.resources import HYBRID_API


@dataclass(frozen=True)
class ClaimView:
    """A claim as the API shows it (immutable snapshot)."""

    name: str
    address: str
    state: str
    reason: str
    message: str
    since: float
    origin: str
    intent: ClaimIntent


@dataclass(frozen=True)
class Snapshot:
    """What the engine knows after a pass; replaced atomically, read by API threads."""

    generation: int
    claims: dict[str, ClaimView]
    effective: EffectiveResult | None
    lowered: Lowered | None
    pass_count: int
    last_pass_at: float
    last_pass_seconds: float
    last_changes: int
    apply_errors: dict[str, str]
    startup: RouterConfig
    handshakes: dict[tuple[str, str], float] = field(default_factory=dict)
    """(wg ifname, peer public key) -> seconds since the latest handshake, as last observed."""

    def counts(self) -> dict[str, int]:
        out = {s.value: 0 for s in ClaimState}
        for c in self.claims.values():
            out[c.state] += 1
        return out


def claim_views(
    previous: Snapshot,
    *,
    eff: EffectiveResult,
    lowered: Lowered,
    models: Mapping[str, ClaimFSM],
    judged: Set[str],
) -> dict[str, ClaimView]:
    """Every claim's view, in config order, reusing ``previous`` ones where nothing changed.

    Args:
        previous: the last snapshot.
        eff: the effective config result (claim origins).
        lowered: the claims and their intents.
        models: the claims' state machines.
        judged: claims judged since ``previous`` (their state may have moved). A claim
            added or given another intent is always judged in the pass that does it.
    """
    origins = eff.dynamic_origin

    def view(name: str) -> ClaimView:
        m, intent = models[name], lowered.claims[name]
        origin = "startup"
        if origins:
            origin = origins.get((HYBRID_API, "RemoteAddressClaim", name), "startup")
        return ClaimView(name, m.address, m.state, m.reason, m.message, m.since, origin, intent)

    views = previous.claims
    if previous.lowered is lowered:
        out = dict(views)
    elif previous.effective is not None:
        get = views.get
        out = {name: get(name) for name in lowered.claims}  # type: ignore[misc]
        moved = _origin_changes(previous.effective.dynamic_origin, origins)
        judged = judged | {n for n in moved if n in out}
    else:
        return {name: view(name) for name in lowered.claims}
    for name in judged:
        out[name] = view(name)
    return out


def _origin_changes(before: Mapping[Identity, str], now: Mapping[Identity, str]) -> set[str]:
    """Claims whose origin (startup or a part) differs between two effective configs."""
    if before == now:
        return set()
    return {
        i[2]
        for i in before.keys() | now.keys()
        if i[1] == "RemoteAddressClaim" and i[0] == HYBRID_API and before.get(i) != now.get(i)
    }
