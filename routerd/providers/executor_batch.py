"""Many addresses of one NIC in one provider call, with every address's result its own.

``Executor.run_many`` hands its requests here when the cloud has a batch call
(``batch_limit`` > 1). The flow keeps every rule of the single-address path, per address:

* each request is validated and its idempotency key looked up on its own (a replay, a key
  reused for another request or a bad input is answered without a call);
* one read finds every address's holder; an address already where it should be, or
  refused (a primary IP, held elsewhere without reassign, inside a wider range), gets the
  same answer it would alone;
* the rest are grouped by operation, NIC and move flag (a move takes addresses from other
  NICs, so plain assigns never ride in a call that may take) and written in calls of at
  most ``batch_limit`` addresses;
* after a failed call every address is read again: those the call placed anyway succeed
  (the answer was lost, not the write); for the others a retryable failure retries the
  call with just them, a permission failure fails them all (the same NIC and operation
  would be refused again), and any other refusal (one bad address spoils a whole call)
  sends each to its own single-address write, so one address's error stays its own;
* after an accepted call one read per poll waits until each address shows where it
  should (AWS moves asynchronously); one never shown fails retryably, as alone.

Nothing is reported done that a read has not shown or the provider did not accept.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from routerd.core.errors import ProviderError
from routerd.providers.base import ASSIGN
from routerd.providers.execution import (
    ActionRequest,
    ActionResult,
    CallFailure,
    Holding,
    Outcome,
    failure_text,
)
from routerd.providers.executor import unsettled

if TYPE_CHECKING:
    from routerd.providers.executor import Executor, _Run


@dataclass(eq=False)
class _Member:
    """One address of a batch call: its position in the request list and its run."""

    index: int
    run: _Run
    before: Holding | None


class BatchFlow:
    """One ``run_many`` over an executor that batches (see the module docstring).

    Args:
        ex: the executor; this flow uses its per-address steps and its cloud hooks.
    """

    def __init__(self, ex: Executor) -> None:
        self.ex = ex

    def run(self, requests: Sequence[ActionRequest]) -> list[ActionResult]:
        """Results in request order (see ``Executor.run_many``)."""
        ex = self.ex
        results: dict[int, ActionResult] = {}
        runs: list[tuple[int, _Run]] = []
        later: list[int] = []
        seen: set[str] = set()
        for i, r in enumerate(requests):
            run, early = ex._begin(r.action, r.nic, r.address, r.key, reassign=r.reassign)
            if early is not None:
                results[i] = early
            elif run.ip in seen or run.key in seen:
                later.append(i)  # a second request for one address or key: after the batch
            else:
                seen.update((run.ip, run.key))
                runs.append((i, run))
        if runs:
            self._run_all(runs, results)
        for i in later:
            r = requests[i]
            results[i] = ex._run(r.action, r.nic, r.address, r.key, reassign=r.reassign)
        return [results[i] for i in range(len(requests))]

    def _run_all(self, runs: list[tuple[int, _Run]], results: dict[int, ActionResult]) -> None:
        ex = self.ex
        ips = [run.ip for _, run in runs]
        try:
            before = ex._read_with_retry("read holder", lambda: ex._read_holders(ips))
        except ProviderError as e:
            failed = Outcome(False, retryable=e.retryable, error=e.reason)
            for i, run in runs:
                results[i] = ex._remember(run, failed)
            return
        groups: dict[tuple[str, str, bool], list[_Member]] = {}
        for i, run in runs:
            held = before.get(run.ip)
            decided = ex._decide(run, held)
            if decided is not None:
                results[i] = ex._remember(run, decided)
                continue
            move = run.action == ASSIGN and held is not None
            groups.setdefault((run.action, ex.canonical(run.nic), move), []).append(
                _Member(i, run, held)
            )
        limit = max(1, ex.batch_limit)
        for members in groups.values():
            for start in range(0, len(members), limit):
                chunk = members[start : start + limit]
                if len(chunk) == 1:
                    m = chunk[0]
                    results[m.index] = ex._remember(m.run, ex._write_one(m.run, m.before))
                    continue
                for m, out in self._write(chunk).items():
                    results[m.index] = ex._remember(m.run, out)

    # -- one batch call ---------------------------------------------------------------

    def _done(self, m: _Member, held: Holding | None) -> bool:
        on_nic = self.ex._same_nic(held, m.run.nic)
        return on_nic if m.run.action == ASSIGN else not on_nic

    def _call(self, chunk: list[_Member]) -> Callable[[], str]:
        ex = self.ex
        nic = chunk[0].run.nic
        ips = [m.run.ip for m in chunk]
        if chunk[0].run.action == ASSIGN:
            moving_from = {m.run.ip: m.before for m in chunk}
            return lambda: ex._write_assign_many(nic, moving_from)
        return lambda: ex._write_unassign_many(nic, ips)

    def _write(self, chunk: list[_Member]) -> dict[_Member, Outcome]:
        """One call for ``chunk`` (retried with what is still pending), then the settle."""
        ex = self.ex
        policy = ex.config.retry
        operation = "assign" if chunk[0].run.action == ASSIGN else "unassign"
        deadline = ex._clock() + policy.deadline
        out: dict[_Member, Outcome] = {}
        pending = list(chunk)
        attempts = 0
        while True:
            attempts += 1
            for m in pending:
                m.run.attempts += 1
            try:
                summary = self._call(pending)()
            except Exception as e:
                failure = ex._classify(e, operation)
            else:
                for m in pending:
                    m.run.calls.append(summary)
                break
            for m in pending:
                m.run.calls.append(f"{operation} batch of {len(pending)} failed: {failure.code}")
            now = self._reread(pending)
            pending = self._converged(pending, now, out)
            if not pending:
                return out
            delay = policy.delay(attempts, failure.retry_after)
            if failure.grant or (
                failure.retryable
                and (attempts >= policy.attempts or ex._clock() + delay > deadline)
            ):
                self._fail(pending, now, failure, out)
                return out
            if not failure.retryable:
                for m in pending:  # one bad address spoils the call: each on its own
                    out[m] = ex._write_one(m.run, m.before)
                return out
            ex._sleep(delay)
        self._settle(pending, out)
        return out

    def _reread(self, pending: list[_Member]) -> dict[str, Holding | None] | None:
        try:
            return self.ex._read_holders([m.run.ip for m in pending])
        except Exception:
            return None

    def _converged(
        self,
        pending: list[_Member],
        now: dict[str, Holding | None] | None,
        out: dict[_Member, Outcome],
    ) -> list[_Member]:
        if now is None:
            return pending
        still = []
        for m in pending:
            held = now.get(m.run.ip)
            if self._done(m, held):
                m.run.calls.append("converged: the write had taken effect")
                out[m] = Outcome(True, changed=True, before=m.before, after=held)
            else:
                still.append(m)
        return still

    def _fail(
        self,
        pending: list[_Member],
        now: dict[str, Holding | None] | None,
        failure: CallFailure,
        out: dict[_Member, Outcome],
    ) -> None:
        for m in pending:
            after = m.before if now is None else now.get(m.run.ip)
            out[m] = Outcome(
                False,
                changed=not self.ex._same(after, m.before),
                before=m.before,
                after=after,
                retryable=failure.retryable,
                error=failure_text(failure, m.run.attempts),
            )

    def _settle(self, pending: list[_Member], out: dict[_Member, Outcome]) -> None:
        """Wait (bounded) until one read shows every address of the accepted call."""
        ex = self.ex
        waited = ex.config.settle_timeout
        deadline = ex._clock() + waited
        delay = 0.05
        while pending:
            try:
                now = ex._read_holders([m.run.ip for m in pending])
            except Exception as e:
                failure = ex._classify(e, "verify")
                for m in pending:
                    out[m] = Outcome(
                        True,
                        changed=True,
                        before=m.before,
                        note=f"write accepted; verification read failed: {failure.message}",
                    )
                return
            still = [m for m in pending if not self._done(m, now.get(m.run.ip))]
            for m in pending:
                if m not in still:
                    out[m] = Outcome(True, changed=True, before=m.before, after=now.get(m.run.ip))
            pending = still
            if pending and ex._clock() + delay > deadline:
                for m in pending:
                    out[m] = unsettled(m.run.ip, m.before, now.get(m.run.ip), waited)
                return
            if pending:
                ex._sleep(delay)
                delay = min(delay * 2, 1.0)
