"""The claims the engine reconciles: their pieces, state machines and published views.

``ClaimTable.sync`` brings the composition (``routerd.core.composition``) and the state
machines (``routerd.core.lifecycle``) in line with the inputs (``routerd.core.inputs``)
and says what moved, for the pass to handle exactly that:

* incrementally: only the claim names the inputs report changed are lowered again (all of
  them when the context changed), each put into or removed from the one composition;
* as the reference (``EngineSettings.reference``): a new composition of every effective
  claim, lowered from scratch with ``lower_claim``, on every pass. Same results, slower:
  what to run when the incremental path is in doubt.

A claim whose piece changed is *dirty* (judged this pass, its keys looked at); one that is
new or whose intent changed is also *fresh* (it starts its history over, and is not judged
before the apply: there is no drift to show for it yet). A claim that left the effective
config is released: its state machine takes the ``release`` transition and its objects'
keys are handed to the pass for removal.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field

from routerd.core.composition import CLAIM_LABEL, Composition
from routerd.core.desired import Key
from routerd.core.evidence import Evidence
from routerd.core.inputs import ConfigInputs
from routerd.core.lifecycle import Lifecycle
from routerd.core.lowering import ClaimLowerer, ClaimPiece, Lowered, lower_claim
from routerd.core.persistent import Map
from routerd.core.snapshot import ClaimView, first_views, view_of

LOG = logging.getLogger(__name__)


@dataclass
class Sync:
    """What one ``ClaimTable.sync`` changed.

    Attributes:
        dirty: claims whose piece changed (added ones included).
        fresh: claims added or given another intent.
        released: the pieces of the claims that went.
        keys: desired keys whose object appeared, changed or went.
        config: the effective config changed (a new generation).
        context: the context changed (every claim was lowered again).
        origins: claims whose origin changed.
    """

    dirty: set[str] = field(default_factory=set)
    fresh: set[str] = field(default_factory=set)
    released: list[ClaimPiece] = field(default_factory=list)
    keys: set[Key] = field(default_factory=set)
    config: bool = False
    context: bool = False
    origins: set[str] = field(default_factory=set)


class ClaimTable:
    """Pieces, machines, origins and views of every effective claim (engine thread).

    Args:
        inputs: where the effective claims come from.
        lifecycle: the claims' state machines.
        evidence: path evidence (forgotten for released claims, stale for respecified ones).
        reference: rebuild everything on every pass (see the module docstring).
    """

    def __init__(
        self,
        inputs: ConfigInputs,
        lifecycle: Lifecycle,
        evidence: Evidence,
        *,
        reference: bool = False,
    ) -> None:
        self.inputs = inputs
        self.lifecycle = lifecycle
        self.evidence = evidence
        self.reference = reference
        context = inputs.current.context
        self.comp = Composition(context)
        self._lowerer = ClaimLowerer(context)
        self._started = False
        self.origins: dict[str, str] = {}
        self.views: Map[str, ClaimView] = Map()

    def sync(self, now: float) -> Sync:
        """Take the inputs' changes (see the module docstring); the caller then sets the
        tail's inputs, publishes, and takes the changed keys (``changed_keys``)."""
        r = self.inputs.refresh(now)
        first = not self._started  # the first pass starts a generation, as a reload does
        out = Sync(config=r.config or first, context=r.context or first, origins=r.origins)
        reported = list(r.origins)  # origin changes of claims that may not be synced below
        if self.reference:
            self._rebuild(out)
        else:
            self._update(r.claims, out)
        self._started = True
        for name in reported:
            got = self.inputs.claim(name)
            if got is not None:
                self.origins[name] = got[1]
        return out

    def _update(self, changed: set[str], out: Sync) -> None:
        """Lower the claims ``changed`` names (every one when the context changed) and put
        them into the composition; release those that went."""
        if out.context:
            context = self.inputs.current.context
            self._lowerer = ClaimLowerer(context)
            self.comp.set_context(context)
            names = list(self.inputs.names())  # distinct, in config order: often nearly sorted
            if self.comp.pieces:  # and the claims that may have gone
                names = list(dict.fromkeys([*names, *self.comp.pieces]))
            names.sort()
        else:
            names = sorted(changed)
        shadowed = self.inputs.shadowed(names)
        lower, pieces, origins = self._lowerer.lower, self.comp.pieces, self.origins
        lowered: list[ClaimPiece] = []
        before: dict[str, ClaimPiece] = {}
        for name, claim, origin in self.inputs.claims_of(names):
            if claim is None:
                piece = self.comp.remove(name)
                if piece is not None:
                    self._release(piece, out)
                continue
            if name in shadowed:
                LOG.warning(
                    "claim %s from %s ignored: the config has a claim of that name",
                    name,
                    shadowed[name],
                )
            if origins.get(name) != origin:
                origins[name] = origin
                out.origins.add(name)
            lowered.append(lower(claim))
            old = pieces.get(name)
            if old is not None:
                before[name] = old
        self._changed(self.comp.put_all(lowered), before, out)

    def _rebuild(self, out: Sync) -> None:
        """The reference: every effective claim lowered from scratch into a new composition."""
        context = self.inputs.current.context
        old = self.comp
        self.comp = Composition(context)
        pieces: list[ClaimPiece] = []
        for name in sorted(self.inputs.names()):
            got = self.inputs.claim(name)
            assert got is not None
            claim, origin = got
            if self.origins.get(name) != origin:
                self.origins[name] = origin
                out.origins.add(name)
            pieces.append(lower_claim(claim, context))
        self.comp.put_all(pieces)
        self._changed([p for p in pieces if old.pieces.get(p.name) != p], old.pieces, out)
        for name in sorted(old.pieces.keys() - self.comp.pieces.keys()):
            self._release(old.pieces[name], out)

    def _changed(
        self, pieces: Sequence[ClaimPiece], before: Mapping[str, ClaimPiece], out: Sync
    ) -> None:
        """Mark ``pieces`` dirty; start the machines of new claims and the history of
        respecified ones (``before``: their previous pieces, where they had one)."""
        models, add = self.lifecycle.claims, self.lifecycle.add
        fresh: list[str] = []
        for piece in pieces:
            name = piece.name
            if name not in models:
                add(name, piece.intent.address)
                fresh.append(name)
                continue
            old = before.get(name)
            if old is None or old.intent != piece.intent:
                self.lifecycle.respecified(name, piece.intent.address)
                self.evidence.stale(name)
                fresh.append(name)
        out.dirty.update(p.name for p in pieces)
        out.fresh.update(fresh)

    def _release(self, piece: ClaimPiece, out: Sync) -> None:
        name = piece.name
        out.released.append(piece)
        self.lifecycle.release(name, "claim-removed", "no longer in the effective config")
        self.evidence.forget(name)
        self.origins.pop(name, None)

    # -- what the pass reads -----------------------------------------------------------------

    def published(self) -> Lowered:
        return self.comp.publish()

    def changed_keys(self) -> set[Key]:
        """Desired keys whose object appeared, changed or went since the last call."""
        self.comp.publish()
        return self.comp.take_changed_keys()

    def claims_needing(self, keys: Iterable[Key]) -> set[str]:
        """Claims among the owners of ``keys``."""
        owners = self.comp.publish().desired.owners
        n = len(CLAIM_LABEL)
        out: set[str] = set()
        for k in keys:
            for o in owners.get(k, ()):
                if o.startswith(CLAIM_LABEL):
                    out.add(o[n:])
        return out

    def update_views(self, touched: Sequence[Set[str]], released: Iterable[ClaimPiece]) -> None:
        """Views of the claims in any of ``touched`` made again from their machines; released
        claims' views go."""
        intents = self.comp.publish().claims
        models = self.lifecycle.claims
        if not self.views and sum(map(len, touched)) >= len(intents):
            self.views = first_views(touched, intents, models, self.origins)
            return
        with self.views.mutate() as views:
            for piece in released:
                if piece.name not in intents:
                    views.pop(piece.name, None)
            for name in set().union(*touched):
                if name in intents:
                    views[name] = view_of(models[name], intents[name], self.origins[name])
            self.views = views.finish()

    def rebuild_views(self) -> None:
        """Every view made again (the reference path)."""
        intents = self.comp.publish().claims
        models = self.lifecycle.claims
        self.views = Map((n, view_of(models[n], intents[n], self.origins[n])) for n in intents)
