"""What the engine reconciles toward, as deltas: startup config, dynamic parts, claim sources.

The effective claim set is the effective config's claims (startup + active dynamic parts
- masks, ``routerd.core.effective``) plus the claims of every ``ClaimSource``; the
*context* (what a claim's lowering reads) is the effective config without its claims.
``ConfigInputs.refresh`` tells the engine which claim names changed since the last pass
and whether the context did, so a pass lowers only those claims:

* a new startup config is compared with the previous one where it is handed over
  (``set_startup``, any thread: ``routerd serve`` does it on its reload thread), claim by
  claim, by identity first (a reload that shares resource objects costs a dict walk);
* dynamic parts are merged again when the store says they changed, when one expires, or
  when asked (``mark_dirty``): the one place that still validates a whole trial config
  (D3 in docs/decisions.md needs it), and compares the resulting claims with the previous ones;
* a claim source's changes are exactly the names it reports.

Invariant of the one thing kept between merges: ``_baseline`` holds the validation
findings of the startup config object it names (``effective.startup_findings``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from routerd.core.claim_source import ClaimSource
from routerd.core.config import RouterConfig
from routerd.core.effective import EffectiveResult, build_effective, startup_findings
from routerd.core.lowering import claim_context
from routerd.core.resources import HYBRID_API, RemoteAddressClaim
from routerd.core.state_port import PartStore
from routerd.core.validation import ExtraCheck

LOG = logging.getLogger(__name__)

Claims = Mapping[str, RemoteAddressClaim]


@dataclass(frozen=True)
class ConfigState:
    """One effective config, split the way lowering reads it."""

    config: RouterConfig
    context: RouterConfig
    claims: Claims


def split(config: RouterConfig, before: ConfigState | None = None) -> ConfigState:
    """``config`` as context and claims; ``before``'s context object is kept when equal."""
    context = claim_context(config)
    if before is not None and context.resources == before.context.resources:
        context = before.context
    return ConfigState(config, context, {c.name: c for c in config.of(RemoteAddressClaim)})


def _differs(a: RemoteAddressClaim | None, b: RemoteAddressClaim | None) -> bool:
    return a is not b and a != b


def changed_claims(before: Claims, after: Claims) -> set[str]:
    """Names added, removed or given another resource (compared by identity, then value)."""
    out = {name for name in before if name not in after}
    get = before.get
    for name, c in after.items():
        old = get(name)
        if old is not c and old != c:
            out.add(name)
    return out


@dataclass
class Refresh:
    """What changed since the last refresh.

    Attributes:
        claims: names whose effective claim appeared, went or changed.
        context: the context changed (every claim must be lowered again).
        config: the effective config changed (a new generation).
        origins: names whose origin changed although the claim did not.
    """

    claims: set[str] = field(default_factory=set)
    context: bool = False
    config: bool = False
    origins: set[str] = field(default_factory=set)


class ConfigInputs:
    """The engine's inputs and how they changed (see the module docstring).

    Args:
        startup: the validated startup config.
        store: dynamic parts (None: none).
        extra_checks: provider rules used when merging dynamic parts.
    """

    def __init__(
        self,
        startup: RouterConfig,
        *,
        store: PartStore | None = None,
        extra_checks: Sequence[ExtraCheck] = (),
    ) -> None:
        self.store = store
        self.extra_checks = tuple(extra_checks)
        self.sources: list[ClaimSource] = []
        self._lock = threading.Lock()
        self._handed = split(startup)  # the startup config last handed over (any thread)
        self._queue: list[tuple[ConfigState, set[str], bool]] = []
        self.startup = self._handed
        self.current = self._handed
        self.effective = EffectiveResult(config=RouterConfig.sharing(startup))
        self._parts_version: tuple[int, float] | None = None
        self._merge = True
        self._baseline: tuple[RouterConfig, set[str]] | None = None

    # -- any thread ------------------------------------------------------------------------

    def set_startup(self, config: RouterConfig) -> None:
        """Hand over a new startup config; compared with the last one here, in this thread."""
        with self._lock:
            before = self._handed
            after = split(config, before)
            changed = changed_claims(before.claims, after.claims)
            self._queue.append((after, changed, after.context is not before.context))
            self._handed = after

    def mark_dirty(self) -> None:
        """Merge the dynamic parts again at the next refresh."""
        self._merge = True

    # -- the engine thread -----------------------------------------------------------------

    def refresh(self, now: float) -> Refresh:
        """Take every change since the last call (see ``Refresh``)."""
        out = Refresh()
        with self._lock:
            queued, self._queue = self._queue, []
        before = self.startup
        delta: set[str] = set()
        if queued:  # several reloads since the last pass: only where they ended counts
            final = queued[-1][0]
            named = set().union(*(changed for _, changed, _ in queued))
            delta = {n for n in named if _differs(before.claims.get(n), final.claims.get(n))}
            self.startup, self._merge = final, True
        version = self.store.parts_version() if self.store else (0, 0.0)
        expiry = self.effective.next_change_at
        if self._merge or version != self._parts_version or (expiry is not None and now >= expiry):
            self._parts_version = version
            self._merge = False
            self._remerge(now, out, before, delta)
        for source in self.sources:
            out.claims |= source.take_changes()
        return out

    def _remerge(self, now: float, out: Refresh, before: ConfigState, delta: set[str]) -> None:
        startup = self.startup.config
        parts = self.store.list_parts() if self.store else []
        eff = build_effective(
            startup, parts, now, extra_checks=self.extra_checks, baseline=self._findings
        )
        for rej in eff.rejected:
            LOG.warning(
                "dynamic part rejected source=%s generation=%d reasons=%s",
                rej.source,
                rej.generation,
                "; ".join(rej.reasons),
            )
        current = self.current
        if eff.config.resources is startup.resources:
            state = self.startup  # no part took part: the startup split as it is
        else:
            state = split(eff.config, current)
        if state is self.startup and current is before:
            changed = delta  # startup to startup: what the reloads changed, nothing to walk
        else:
            changed = changed_claims(current.claims, state.claims)
        out.context = state.context is not current.context
        out.config = bool(changed) or out.context
        out.claims |= changed
        out.origins |= _origin_changes(self.effective, eff)
        self.current, self.effective = state, eff

    def _findings(self) -> set[str]:
        startup = self.startup.config
        if self._baseline is None or self._baseline[0] is not startup:
            self._baseline = (startup, startup_findings(startup, self.extra_checks))
        return self._baseline[1]

    # -- the effective claim set -----------------------------------------------------------

    def claim(self, name: str) -> tuple[RemoteAddressClaim, str] | None:
        """The effective claim of that name and its origin, if any."""
        c = self.current.claims.get(name)
        if c is not None:
            return c, self.effective.dynamic_origin.get(c.identity, "startup")
        for source in self.sources:
            c = source.get(name)
            if c is not None:
                return c, source.name
        return None

    def names(self) -> Iterable[str]:
        """Every effective claim name, once: the config's in config order (callers sort
        them, and a config usually lists its claims nearly sorted: sorting 100,000 names
        in that order costs a twentieth of sorting them in a set's order), then the
        sources' others."""
        config = self.current.claims
        yield from config
        if not self.sources:
            return
        seen = set(config)
        for source in self.sources:
            for name in source.names():
                if name not in seen:
                    seen.add(name)
                    yield name

    def claims_of(
        self, names: Iterable[str]
    ) -> Iterator[tuple[str, RemoteAddressClaim | None, str]]:
        """``(name, claim, origin)`` for each of ``names``, as ``claim`` gives them (claim
        None and origin "" for a name with no effective claim): one walk for many names."""
        config = self.current.claims.get
        dynamic = self.effective.dynamic_origin
        for name in names:
            c = config(name)
            if c is None:
                got = self.claim(name)
                yield (name, None, "") if got is None else (name, *got)
            elif dynamic:
                yield name, c, dynamic.get(c.identity, "startup")
            else:
                yield name, c, "startup"

    def shadowed(self, names: Iterable[str]) -> dict[str, str]:
        """Of ``names``, those whose config claim hides a source's claim of that name, each
        with the first such source's name."""
        if not self.sources:
            return {}
        config = self.current.claims
        out: dict[str, str] = {}
        for name in names:
            if name in config:
                found = next((s.name for s in self.sources if s.get(name) is not None), None)
                if found is not None:
                    out[name] = found
        return out


def _origin_changes(before: EffectiveResult, after: EffectiveResult) -> set[str]:
    """Claims whose origin (startup or a part) differs between two merges."""
    a, b = before.dynamic_origin, after.dynamic_origin
    if a == b:
        return set()
    return {
        i[2]
        for i in a.keys() | b.keys()
        if i[1] == RemoteAddressClaim.KIND and i[0] == HYBRID_API and a.get(i) != b.get(i)
    }
