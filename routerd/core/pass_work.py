"""One reconcile pass after the claims were synced: scope, observe, diff, apply, judge.

Scope (see ``routerd.core.engine`` for why it is enough): a scoped pass observes and diffs
the keys config deltas, drift and backoff name, the keys of the claims it judges, and what
claims share; it judges the claims those touch, the claims whose provider answer changed,
the claims not yet verified, those whose path check is due and those a claim source
touched (what holds them back from ``verified`` may have changed). It turns into a full pass
(everything observed, every claim judged) when the backend cannot say what drifted, when
drift names something claims share, or when what claims share moved since the last pass
(``PassScope.moved``). Before the apply it judges the claims needing a changed object
(their drift shows as ``degraded`` even when this pass heals it); after it, it drains drift
again (what changed while applying), observes and judges; new proxy-ARP captures that ask
for it get a gratuitous ARP as an ``announce``: hosts on the segment that cached the
address's old MAC (a VM that just left) repoint at once, which is most of a handover to
another site. So a new capture is announced as soon as it is known: right after the apply
when the objects it applied, over what this pass observed before, already make the claim
captured (the same judgement, on the observation the apply is about to produce), else as
soon as the observation after the apply shows it (before the judgement's path checks). A
claim whose capture the later judgement does not confirm is announced again when it is.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from itertools import compress

from routerd.core.assess import (
    Verdict,
    assess,
    assess_path,
    held_back,
)
from routerd.core.assignment_watch import AssignmentWatch
from routerd.core.backoff import Backoff
from routerd.core.claim_source import Hold
from routerd.core.claim_table import ClaimTable, Sync
from routerd.core.desired import Garp, Key, Observed, ObserveScope
from routerd.core.evidence import Evidence
from routerd.core.frozen import maker
from routerd.core.judgement import Judgement
from routerd.core.lifecycle import LEVEL, ClaimFSM, ClaimState, Lifecycle
from routerd.core.lowering import ClaimIntent, Lowered
from routerd.core.pass_scope import PassScope
from routerd.core.phases import PassPhases
from routerd.core.plan import diff
from routerd.core.port import Change, ChangeResult, DataplaneBackend, PathCheck

LOG = logging.getLogger(__name__)

_garp, _change = maker(Garp), maker(Change)  # a first pass announces every new capture


@dataclass
class PassParts:
    """What every pass works with (owned by the engine, one thread).

    Attributes:
        answers: the provider's answers for provider-side claims, and which ones changed.
        unverified: claims not ``verified`` after their last judgement: judged every pass.
    """

    backend: DataplaneBackend
    claims: ClaimTable
    scope: PassScope
    lifecycle: Lifecycle
    evidence: Evidence
    backoff: Backoff
    handshake_max_age: float
    answers: AssignmentWatch
    unverified: set[str] = field(default_factory=set)


class PassWork:
    """One pass after the sync (see the module docstring)."""

    def __init__(
        self,
        parts: PassParts,
        lowered: Lowered,
        sync: Sync,
        now: float,
        full: bool,
        phases: PassPhases,
    ):
        self.e = parts
        self.phases = phases
        self.lowered = lowered
        self.sync = sync
        self.now = now
        self.full = full
        self.keys: set[Key] = set()
        self.judged: set[str] = set()
        self.changes: list[Change] = []
        self.results: list[ChangeResult] = []
        self.observed = Observed()
        self._captured: list[str] = []
        self._announced: set[str] = set()
        self._whole_scope: ObserveScope | None = None
        self._woken: frozenset[str] = frozenset()
        self._gateways: list[tuple[Garp, str]] = []
        self._paired: frozenset[str] = frozenset()

    def takeover(
        self,
        woken: frozenset[str],
        gateways: list[tuple[Garp, str]],
        paired: frozenset[str] = frozenset(),
    ) -> None:
        """Capture came back on ``woken`` (proxy-ARP interfaces) and these gateways leave
        standby in this pass: announce all of it once the pass has applied.

        Args:
            woken: capture interfaces whose standby ended.
            gateways: (gratuitous ARP, owner) for every gateway address leaving standby.
            paired: capture interfaces that were ever in standby (a pair's): every capture
                there is announced, also one completing in a later pass than the switch
                (its tunnel or route was not ready yet), since the partner may have
                answered for it before.
        """
        self._woken, self._gateways, self._paired = woken, gateways, paired

    def _whole(self) -> ObserveScope:
        """Everything the pass's lowered state needs observed (made once a pass: the
        lowered state it is made from never changes)."""
        if self._whole_scope is None:
            self._whole_scope = self.e.scope.whole(self.lowered)
        return self._whole_scope

    def run(self) -> None:
        e, sync, timed = self.e, self.sync, self.phases.timed
        drift = timed("observe", e.backend.drain)
        answered = timed("observe", e.answers.read)
        touched = self._take_touched()
        shared = e.claims.comp.shared_keys()
        self.full = self.full or drift.everything or not shared.isdisjoint(drift.keys)
        judge: set[str] = set()
        if not self.full:
            judge = sync.dirty | e.unverified | answered | touched
            judge |= set(e.evidence.due(self.now))
            judge |= e.claims.claims_needing((drift.keys | e.backoff.keys()) - shared)
            self.keys = self._keys_for(judge, shared, drift.keys)
            self._observe(self._scoped())
            if e.scope.moved(self.observed, shared):
                self.full = True
        if self.full:
            self._observe(self._whole())
            judge = set(self.lowered.claims)
        self._reconcile(judge, shared)

    def _take_touched(self) -> set[str]:
        """Claims the claim sources asked to have judged again (their hold may differ)."""
        out: set[str] = set()
        for source in self.e.claims.inputs.sources:
            out |= source.take_touched()
        return out

    def _holds(self) -> dict[str, Hold]:
        """Origin -> what keeps that source's claims from ``verified``."""
        return {s.name: s.hold for s in self.e.claims.inputs.sources if s.hold is not None}

    def _observe(self, scope: ObserveScope) -> None:
        """The backend's observation plus the provider's answers of this pass."""
        self.observed = self.phases.timed("observe", self.e.backend.observe, scope)
        self.observed.assignments = self.e.answers.answers

    def _keys_for(self, judge: Iterable[str], shared: set[Key], drift: Iterable[Key]) -> set[Key]:
        keys = shared | self.sync.keys | self.e.backoff.keys()
        keys.update(drift)
        pieces = self.e.claims.comp.pieces
        for name in judge:
            piece = pieces.get(name)
            if piece is not None:
                keys.update(piece.keys)
        for piece in self.sync.released:
            keys.update(piece.keys)
        return keys

    def _reconcile(self, judge: set[str], shared: set[Key]) -> None:
        e, now, timed = self.e, self.now, self.phases.timed
        backoff = e.backoff
        skip = (lambda k: backoff.waiting(k, now)) if backoff else None
        keys = None if self.full else self.keys
        desired, observed = self.lowered.desired, self.observed
        self.changes = timed("diff", diff, desired, observed, keys=keys, skip=skip)
        if self.changes:
            touched = {c.key for c in self.changes}
            before = self._before_apply(touched, judge, shared)
            if not self.full:
                touched -= shared
            self._judge(self._known(before), verify=False)
            self.results = timed("apply", e.backend.apply, self.changes)
            backoff.note(self.results, now)
            self._announce_applied(touched - shared)
            drift = timed("observe", e.backend.drain)
            if not self.full and (drift.everything or not shared.isdisjoint(drift.keys)):
                self.full = True
            if self.full:
                self._observe(self._whole())
                judge = set(self.lowered.claims)
            else:
                later = e.claims.claims_needing(drift.keys | (touched - shared))
                extra = later - judge
                judge |= later
                self.keys |= self._keys_for(extra, shared, drift.keys)
                self._observe(self._scoped())
        self._judge(self._known(judge), verify=True)
        e.scope.record(self.observed, shared, now)
        self._announce()

    def _before_apply(self, touched: set[Key], judge: set[str], shared: set[Key]) -> set[str]:
        """Claims to judge before the apply: those needing a changed object (not new ones).

        A full pass takes every owner of every changed key. A scoped pass cannot take the
        owners of a changed shared key (every claim), and need not: a claim's verdict before
        the apply differs from its last one only if something it reads moved, and then it is
        among the claims this pass judges anyway. So it takes the owners of changed keys of
        their own, plus the claims it judges that need a changed shared key.
        """
        claims, fresh = self.e.claims, self.sync.fresh
        if len(fresh) == len(self.lowered.claims):  # every claim is new (a first pass)
            return set()
        if self.full:
            return claims.claims_needing(touched) - fresh
        out = claims.claims_needing(touched - shared)
        shared_touched = touched & shared
        if shared_touched:
            pieces = claims.comp.pieces
            for name in judge - out:
                piece = pieces.get(name)
                if piece is not None and not shared_touched.isdisjoint(piece.keys):
                    out.add(name)
        return out - fresh

    def _scoped(self) -> ObserveScope:
        return self.e.scope.scoped(self.lowered, self.keys, self.e.claims.comp.links())

    def _known(self, names: Iterable[str]) -> list[str]:
        """``names`` that are claims of this pass, sorted (the journal follows this order)."""
        return sorted(filter(self.lowered.claims.__contains__, names))

    def _judge(self, names: list[str], *, verify: bool) -> None:
        """Judge ``names`` (sorted: the journal follows this order) and walk their machines."""
        if names:
            self.phases.timed("judge", self._judge_all, names, verify=verify)

    def _judge_all(self, names: list[str], *, verify: bool) -> None:
        e = self.e
        self.judged.update(names)
        verdicts = self._verdicts(names, verify=verify)
        holds = self._holds()
        origins = e.claims.origins
        error = e.backoff.error
        judged = [verdicts[n] for n in names]
        for i, verdict in enumerate(judged):
            key = verdict.key
            failed = error(key) if key is not None else ""
            if failed:
                verdict = judged[i] = Verdict(
                    verdict.level,
                    verdict.reason,
                    f"{verdict.message}; apply failed: {failed}",
                    key,
                    True,
                )
            if holds and verdict.level == 3:
                name = names[i]
                hold = holds.get(origins.get(name, ""))
                if hold is not None:
                    judged[i] = held_back(verdict, hold(name))
        models = e.lifecycle.claims
        machines = [models[n] for n in names]
        self._captured.extend(compress(names, e.lifecycle.judge_many(machines, judged)))
        verified = ClaimState.VERIFIED.value
        done = {n for n, m in zip(names, machines, strict=True) if m.state == verified}
        e.unverified.difference_update(done)
        e.unverified.update(set(names).difference(done))

    def _verdicts(self, names: list[str], *, verify: bool) -> dict[str, Verdict]:
        """Each claim's verdict on this observation, after its path check when one is due.

        One judgement a claim: capture and delivery read no path evidence, so they are
        judged once, before the checks; ``assess_path`` is worked out once, after them,
        and for a claim nobody checked that is what it was before. Only a new capture that
        asks for a gratuitous ARP needs its whole verdict before the checks (it is announced
        then) and again after a check gave it new evidence.
        """
        e, observed = self.e, self.observed
        max_age = e.handshake_max_age
        intents = self.lowered.claims
        evidence = e.evidence.of
        standby = e.claims.comp.standby
        verdicts: dict[str, Verdict] = {}
        reached: list[str] = []  # capture and delivery hold: the path decides
        below: list[str] = []
        judgement = Judgement(observed, standby, max_age)
        delivery = judgement.delivery
        for n in names:
            early = delivery(intents[n])
            if early is None:
                reached.append(n)
            else:
                verdicts[n] = early
                below.append(n)
        refreshed: set[str] = set()
        if verify:  # the capture is what the path checks will not change: announce it now
            self._announce_captured(names, verdicts)
            refreshed = self._verify(reached, below, judgement)
        path = judgement.path
        for n in reached:
            if n in refreshed or n not in verdicts:
                verdicts[n] = path(intents[n], evidence.get(n))
        return verdicts

    def _announce_captured(self, names: list[str], verdicts: dict[str, Verdict]) -> None:
        """Announce the claims this judgement captures that ask for a gratuitous ARP and
        were not announced yet (their whole verdict is worked out into ``verdicts``)."""
        e, observed = self.e, self.observed
        intents, models, evidence = self.lowered.claims, e.lifecycle.claims, e.evidence.of
        ready = []
        for n in names:
            c = intents[n]
            if n in self._announced or not c.gratuitous_arp or c.capture_type != "proxy-arp":
                continue
            verdict = verdicts.get(n)
            if verdict is None:
                verdict = verdicts[n] = assess_path(
                    c, observed, evidence.get(n), max_handshake_age=e.handshake_max_age
                )
            if self._captures(models[n], verdict):
                ready.append(n)
        self._announced |= self._send_garps(ready)

    def _verify(self, reached: list[str], below: Iterable[str], judgement: Judgement) -> set[str]:
        """Path checks for claims that are due; returns the claims given new evidence.

        Args:
            reached: claims whose capture and delivery hold, in judging order.
            below: claims judged below delivering (checked as soon as they are back).
            judgement: this observation's (makes the checks).
        """
        e, now = self.e, self.now
        intents = self.lowered.claims
        models = e.lifecycle.claims
        evidence = e.evidence
        for name in below:
            evidence.stale(name)
        verified = ClaimState.VERIFIED.value
        due = evidence.wanted(reached, lambda n: models[n].state == verified, now)
        if not due:
            return set()
        path_check = judgement.path_check
        checks: list[PathCheck] = [path_check(intents[n]) for n in due]
        return evidence.record(due, self.phases.timed("verify", e.backend.verify, checks), now)

    def _announce_applied(self, own: set[Key]) -> None:
        """Announce the claims not yet captured whose own objects (``own``: changed keys no
        other claim shares) this apply programmed, when the observation before the apply
        with what it applied makes them captured (see the module docstring)."""
        e = self.e
        models = e.lifecycle.claims
        intents = self.lowered.claims
        pending = ClaimState.PENDING.value

        def asking(candidates: Iterable[tuple[str, ClaimIntent]]) -> set[str]:
            get = models.get  # one walk, no call per claim: a first pass offers every claim
            return {
                n
                for n, c in candidates
                if c.gratuitous_arp
                and c.capture_type == "proxy-arp"
                and (m := get(n)) is not None
                and m.state == pending
            }

        if self.full:  # every key applied: finding the claims of each costs more than a scan
            wanted = asking(intents.items())
            due = list(e.claims.claims_needing(own) & wanted) if wanted else []
        else:  # a scoped pass applied a few keys: never walk every claim
            needing = e.claims.claims_needing(own)
            due = list(asking((n, c) for n in needing if (c := intents.get(n)) is not None))
        if not due:
            return
        failed = {o for r in self.results if not r.ok for o in r.change.owners}
        objects = dict(self.observed.objects)
        for r in self.results:
            if r.ok and r.change.op == "remove":
                objects.pop(r.change.key, None)
            elif r.ok and r.change.new is not None:
                objects[r.change.key] = r.change.new
        after = replace(self.observed, objects=objects)
        standby = e.claims.comp.standby
        ready = []
        for name in due:
            if f"RemoteAddressClaim/{name}" in failed:
                continue
            verdict = assess(
                intents[name],
                after,
                e.evidence.of.get(name),
                max_handshake_age=e.handshake_max_age,
                standby=standby,
            )
            if self._captures(models[name], verdict):
                ready.append(name)
        self._announced = self._send_garps(ready)

    def _captures(self, model: ClaimFSM, verdict: Verdict) -> bool:
        """Whether judging ``verdict`` will capture the claim (``Lifecycle.captures``)."""
        failed = bool(verdict.key is not None and self.e.backoff.error(verdict.key))
        return self.e.lifecycle.captures(
            model, verdict.level, apply_failed=verdict.apply_failed or failed
        )

    def _announce(self) -> None:
        """Gratuitous ARP for new proxy-ARP captures that ask for it and were not announced
        before the path checks, as changes.

        D9 in docs/decisions.md: ``gratuitousARP: true`` announces a new capture. A
        takeover (``takeover``) announces every address captured on the interfaces whose
        standby ended and every gateway leaving standby, whatever ``gratuitousARP`` says:
        the segment's hosts cached the failed router's MAC for them. For the same reason a
        capture completing later on an interface of a pair is announced too.
        """
        self._send_garps(set(self._captured) - self._announced, takeover=True)

    def _send_garps(self, names: Iterable[str], *, takeover: bool = False) -> set[str]:
        """Send the gratuitous ARPs of these claims that ask for one (or capture on an
        interface of a pair), and with ``takeover`` those of the takeover (``takeover``);
        returns the claims announced."""
        intents = self.lowered.claims
        garps: dict[Key, tuple[Garp, str]] = {}
        if takeover:
            garps.update({g.key: (g, owner) for g, owner in self._gateways})
        sent = set()
        paired = self._paired
        asking = []  # ordered after the filter: a first pass offers every capture to it
        for name in names:
            c = intents.get(name)
            if (
                c is not None
                and c.capture_type == "proxy-arp"
                and (c.gratuitous_arp or c.capture_interface in paired)
            ):
                asking.append(name)
        for name in sorted(asking):
            c = intents[name]
            garp = _garp(c.ip, c.capture_interface, "")
            garps[garp.key] = (garp, f"RemoteAddressClaim/{name}")
            sent.add(name)
        if takeover and self._woken:
            machines = self.e.lifecycle.claims
            for name, c in sorted(intents.items()):
                m = machines.get(name)
                if (
                    name not in self._announced  # announced already in this pass
                    and c.capture_type == "proxy-arp"
                    and c.capture_interface in self._woken
                    and m is not None
                    and LEVEL.get(ClaimState(m.state), 0) >= 1
                ):
                    garp = Garp(c.ip, c.capture_interface)
                    garps[garp.key] = (garp, f"RemoteAddressClaim/{name}")
        actions = [
            _change("announce", key, garp, None, (owner,)) for key, (garp, owner) in garps.items()
        ]
        if not actions:
            return sent
        for r in self.phases.timed("apply", self.e.backend.apply, actions):
            if not r.ok:  # best effort: the capture works without it
                LOG.warning("gratuitous ARP failed claim=%s error=%s", r.change.owners[0], r.error)
        return sent

    def touched(self) -> tuple[set[str], ...]:
        """Claims whose view may have changed this pass: those in any of these sets (not
        joined into one: a first pass's are 100,000 claims each)."""
        return (self.judged, self.sync.dirty, self.sync.origins)
