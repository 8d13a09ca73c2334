"""One reconciler run: observe the provider, plan, journal, execute within the policy.

Per executing profile (``ProfileTargets``), a run:

1. re-runs every action the journal shows ``running``: only a routerd killed between the
   provider call and its journal leaves one, and the same key makes the executor find the
   address already where it should be (so the action is neither lost nor repeated);
2. observes who holds each wanted or held address (the subnet inventory when the profile
   names a subnet, else one fresh read per address);
3. plans (``reconcile_plan``), moves each address's intent counter when what is wanted
   there changed, and journals every step under its idempotency key; open actions that
   are no longer what is wanted become ``superseded`` (nothing is cancelled: a running call
   finishes, and the next run looks at the provider again);
4. executes planned and approved actions (``approval: none``, or approved by a person),
   releases first, at most ``maxActionsPerRun``; a failed action is retried with the same
   key after a bounded backoff while it is still wanted. The actions of one kind (release,
   move, assign) go to the executor together, so a cloud with a batch call makes one call
   per NIC (``Executor.run_many``); policy, journal, key and result stay per address.

Each action is journaled ``running`` *before* its call (in a batch: every action of the
batch before the one call; assignments also record the holding first: routerd may then
release the address even if it dies right after the call) and ``succeeded`` or ``failed``
after it, with the redacted request, result and undo.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from routerd.core.action_journal import ActionRecord
from routerd.core.errors import ProviderError
from routerd.core.resources.provider_policy import ACTION_REASSIGN, ACTION_UNASSIGN
from routerd.providers.base import ASSIGN, UNASSIGN
from routerd.providers.execution import ActionRequest, ActionResult, Holding
from routerd.providers.executor import Executor
from routerd.providers.reconcile_plan import (
    MayTake,
    ProfilePlan,
    Step,
    action_key,
    plan_profile,
    static_may_take,
)
from routerd.providers.redact import redact, redact_text
from routerd.providers.targets import ProfileTargets
from routerd.state.store import Store

LOG = logging.getLogger(__name__)

RETRY_DELAYS = (5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 300.0)
"""Seconds before a failed action's key runs again (per failure, capped)."""
ExecutorFor = Callable[[ProfileTargets], Executor]
Hook = Callable[[str, ActionRecord], None]


@dataclass
class ProfileReport:
    """What one run did for one profile (for logs, the doctor and tests).

    Attributes:
        profile: the profile's name.
        executed: keys of actions that reached the provider path this run.
        waiting: keys awaiting approval.
        left: actions that would have run but hit ``maxActionsPerRun`` or a retry backoff.
        blocked: address -> why routerd does not act on it.
        error: why the profile could not be handled this run ("" when it was).
    """

    profile: str
    executed: list[str] = field(default_factory=list)
    waiting: list[str] = field(default_factory=list)
    left: int = 0
    blocked: dict[str, str] = field(default_factory=dict)
    error: str = ""
    changed: bool = False


@dataclass
class _Retry:
    count: int
    due: float


class ActionRunner:
    """Runs the per-profile steps of the module docstring against a store and executors.

    Args:
        store: the state store (journal, intents, holdings).
        executor_for: the executor of a profile (``ExecutorFactory`` bound to profiles).
        may_take: the homing hook (``reconcile_plan.static_may_take``).
        clock: monotonic seconds for retry backoff.
        hook: called as ``hook(point, record)`` at ``before-call`` and ``after-call`` (tests
            kill the process there to prove crash safety).
    """

    def __init__(
        self,
        store: Store,
        executor_for: ExecutorFor,
        *,
        may_take: MayTake = static_may_take,
        clock: Callable[[], float] = time.monotonic,
        hook: Hook | None = None,
    ) -> None:
        self.store = store
        self.executor_for = executor_for
        self.may_take = may_take
        self.clock = clock
        self.hook = hook
        self._retry: dict[str, _Retry] = {}

    def run(
        self, wanted: Mapping[str, ProfileTargets], *, fresh: bool = False
    ) -> list[ProfileReport]:
        """One run over every executing profile (see the module docstring).

        Args:
            wanted: the desired state per executing profile.
            fresh: read the provider anew instead of a cached inventory.
        """
        return [self.run_profile(pt, fresh=fresh) for pt in wanted.values()]

    def run_profile(self, pt: ProfileTargets, *, fresh: bool = False) -> ProfileReport:
        report = ProfileReport(pt.name, blocked=dict(pt.blocked))
        if not pt.active:
            report.error = "no enabled ProviderActionPolicy: nothing runs"
            return report
        try:
            ex = self.executor_for(pt)
        except ProviderError as e:
            report.error = e.reason
            return report
        assert pt.policy is not None  # active
        if fresh:
            ex.forget_inventory()
        budget = pt.policy.spec.max_actions_per_run
        rerun = [r for r in self.store.open_actions(pt.name) if r.status == "running"]
        self._execute(ex, pt, rerun[: max(0, budget)], report)
        budget -= min(len(rerun), max(0, budget))
        try:
            plan = self._plan(ex, pt)
        except ProviderError as e:
            report.error = f"cannot read the provider: {e.reason}"
            return report
        report.blocked.update(plan.blocked)
        for ip in plan.forget:
            self.store.release_address(ip)
        todo = self._journal(ex, pt, plan, report)
        todo += self._undos(pt)
        due: list[ActionRecord] = []
        for rec in sorted(todo, key=_order):
            if budget <= 0:
                report.left += 1
                continue
            retry = self._retry.get(rec.key)
            if retry is not None and self.clock() < retry.due:
                report.left += 1
                continue
            budget -= 1
            due.append(rec)
        self._execute(ex, pt, due, report)
        return report

    # -- planning and journaling ---------------------------------------------------------

    def _plan(self, ex: Executor, pt: ProfileTargets) -> ProfilePlan:
        holdings = self.store.provider_holdings(pt.name)
        addresses = set(pt.targets) | set(holdings)
        holders = self._observe(ex, pt, addresses)
        return plan_profile(
            pt,
            holders,
            holdings,
            may_take=self.may_take,
            same_nic=ex.same_nic,
            canonical=ex.canonical,
        )

    def _observe(
        self, ex: Executor, pt: ProfileTargets, addresses: Iterable[str]
    ) -> dict[str, Holding | None]:
        wanted = sorted(addresses)
        if pt.profile.spec.subnet and wanted:
            inv = ex.inventory(pt.profile.spec.subnet)
            if inv.error is None:
                return {
                    ip: (
                        Holding(inv.holders[ip], primary=ip in inv.primary)
                        if ip in inv.holders
                        else None
                    )
                    for ip in wanted
                }
        return {ip: ex.holding(ip) for ip in wanted}

    def _journal(
        self, ex: Executor, pt: ProfileTargets, plan: ProfilePlan, report: ProfileReport
    ) -> list[ActionRecord]:
        counters = self.store.provider_intents(plan.wants)
        keep: dict[str, str] = {}
        todo: list[ActionRecord] = []
        for step in plan.steps:
            rec = self._record(ex, pt, step, counters[step.address])
            keep[step.address] = rec.key
            if rec.status == "awaiting-approval":
                report.waiting.append(rec.key)
            elif rec.status in ("planned", "failed"):
                todo.append(rec)
        for rec in self.store.open_actions(pt.name):
            stale = keep.get(rec.address) != rec.key
            if rec.origin == "reconcile" and rec.status != "running" and stale:
                self.store.supersede_actions(rec.address, keep=keep.get(rec.address, ""))
                self._retry.pop(rec.key, None)
        return todo

    def _record(self, ex: Executor, pt: ProfileTargets, step: Step, intent: int) -> ActionRecord:
        key = action_key(step, ex.canonical(step.nic), intent)
        old = self.store.action_by_key(key)
        if old is not None and old.status in ("succeeded", "superseded"):
            # The same intent was done (or dropped) before, yet the provider differs now:
            # it drifted. A new intent counter gives the repair its own key.
            intent = self.store.renew_provider_intent(step.address)
            key = action_key(step, ex.canonical(step.nic), intent)
            old = self.store.action_by_key(key)
        if old is not None:
            return old
        assert pt.policy is not None
        approval = pt.policy.spec.approval == "required"
        request = {
            "provider": pt.profile.spec.provider,
            "nic": step.nic,
            "address": step.address,
            "operation": step.operation,
        }
        if step.from_nic:
            request["fromNic"] = step.from_nic
        return self.store.put_action(
            ActionRecord(
                id=0,
                key=key,
                profile=pt.name,
                provider=pt.profile.spec.provider,
                operation=step.operation,
                address=step.address,
                nic=step.nic,
                from_nic=step.from_nic,
                claim=step.claim,
                intent=intent,
                status="awaiting-approval" if approval else "planned",
                request=request,
            )
        )

    def _undos(self, pt: ProfileTargets) -> list[ActionRecord]:
        """Undo actions a person asked for (``routerctl action undo``), still to run.

        One whose address a claim wants again is superseded: it would fight the claim.
        """
        out = []
        for r in self.store.open_actions(pt.name):
            if r.origin != "undo" or r.status not in ("planned", "failed"):
                continue
            if r.address in pt.targets:
                self.store.supersede_actions(r.address, origin="undo")
                continue
            out.append(r)
        return out

    # -- execution -----------------------------------------------------------------------

    def _execute(
        self, ex: Executor, pt: ProfileTargets, recs: list[ActionRecord], report: ProfileReport
    ) -> None:
        """Run ``recs``: releases, then moves, then assigns, each kind in one ``run_many``.

        A cloud that batches makes one call per NIC of each kind; every action is still
        journaled ``running`` (and an assignment's holding recorded) before any call, and
        gets its own result after.
        """
        kinds: dict[int, list[ActionRecord]] = {}
        for rec in recs:
            kinds.setdefault(_order(rec)[0], []).append(rec)
        for kind in sorted(kinds):
            self._execute_kind(ex, pt, kinds[kind], report)

    def _execute_kind(
        self, ex: Executor, pt: ProfileTargets, recs: list[ActionRecord], report: ProfileReport
    ) -> None:
        for rec in recs:
            report.executed.append(rec.key)
            self.store.update_action(rec.key, status="running")
            if rec.origin == "reconcile" and rec.operation != ACTION_UNASSIGN:
                self.store.hold_address(rec.address, pt.name, rec.nic, rec.key)
        if self.hook is not None:
            for rec in recs:
                self.hook("before-call", rec)
        results = ex.run_many([_request(rec) for rec in recs])
        if self.hook is not None:
            for rec in recs:
                self.hook("after-call", rec)
        for rec, result in zip(recs, results, strict=True):
            self._finish(ex, rec, result, report)

    def _finish(
        self, ex: Executor, rec: ActionRecord, result: ActionResult, report: ProfileReport
    ) -> None:
        data = redact(result.as_dict())
        self.store.update_action(
            rec.key,
            status="succeeded" if result.ok else "failed",
            result=data,
            undo=data.get("undo"),
            error=redact_text(result.error or ""),
            attempts=rec.attempts + result.attempts,
            finished_at=time.time(),
        )
        if result.changed:
            report.changed = True
            ex.forget_inventory()
        if result.ok:
            self._retry.pop(rec.key, None)
            if rec.operation == ACTION_UNASSIGN or rec.origin == "undo":
                self.store.release_address(rec.address)
            LOG.info(
                "provider action %s %s %s on %s: %s",
                rec.operation,
                rec.address,
                "done" if result.changed else "already so",
                rec.nic,
                rec.key,
            )
            return
        holder = result.response.get("holder")
        owning = rec.origin == "reconcile" and rec.operation != ACTION_UNASSIGN
        elsewhere = holder is None or not ex.same_nic(str(holder), rec.nic)
        if owning and elsewhere and not result.retryable:
            # A refusal (permission, bad request) put nothing here; a retryable failure
            # may have, unseen, so its holding stays until a run knows better.
            self.store.release_address(rec.address)
        retry = self._retry.get(rec.key)
        count = retry.count + 1 if retry else 1
        delay = RETRY_DELAYS[min(count, len(RETRY_DELAYS)) - 1]
        if not result.retryable:
            delay = max(delay, 60.0)
        self._retry[rec.key] = _Retry(count, self.clock() + delay)
        LOG.warning(
            "provider action %s %s on %s failed (retry in %.0fs): %s",
            rec.operation,
            rec.address,
            rec.nic,
            delay,
            redact_text(result.error or ""),
        )

    def next_retry(self) -> float | None:
        """When the earliest failed action may run again (monotonic), or None."""
        return min((r.due for r in self._retry.values()), default=None)


def _request(rec: ActionRecord) -> ActionRequest:
    if rec.operation == ACTION_UNASSIGN:
        return ActionRequest(UNASSIGN, rec.nic, rec.address, rec.key)
    return ActionRequest(
        ASSIGN, rec.nic, rec.address, rec.key, reassign=rec.operation == ACTION_REASSIGN
    )


def _order(rec: ActionRecord) -> tuple[int, int]:
    rank = {ACTION_UNASSIGN: 0, ACTION_REASSIGN: 1}.get(rec.operation, 2)
    return rank, rec.id
