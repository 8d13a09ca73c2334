"""The provider-neutral executor port: assign, unassign and find secondary addresses at a cloud.

A cloud router captures an address by holding it as a secondary private IP on its NIC, and
a cloud hands one address to one NIC at a time. This module owns the rules every cloud
shares, so each cloud's executor (``routerd.providers.<cloud>.executor``) only says how to
read and write its own API:

* every call is **idempotent by state**: before acting, the executor reads who holds the
  address; "already on this NIC" is success without a call. After a failed call it reads
  again, so a call that happened but whose answer was lost (the connection dropped, or
  routerd died between the API call and its journal) converges instead of failing or
  acting twice;
* every call carries an **idempotency key**. A key repeated with the same request returns
  the earlier success without touching the provider; a key reused for a different request
  is refused. Clouds that accept a client token get one derived from the key;
* failures are **classified** retryable (throttling, 5xx, timeouts, a lost connection,
  optimistic-concurrency conflicts) or not (permission denied, bad request), retried with
  bounded exponential backoff, and a permission failure says what to grant;
* results are typed (``ActionResult``) with the request (nothing secret ever enters it),
  a response summary and the undo; ``check_access`` findings and ``Inventory`` carry what
  the doctor shows.

SDKs are imported only by the per-cloud modules, and only when an executor is built.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from routerd.core.errors import ProviderError
from routerd.providers.base import ASSIGN, UNASSIGN, NicRefError, Provider
from routerd.providers.execution import (
    AccessFinding,
    ActionRequest,
    ActionResult,
    CallFailure,
    ExecutorConfig,
    Holding,
    Inventory,
    Outcome,
    bare_ip,
    failure_text,
    quiet_sdk_loggers,
)

__all__ = [
    "AccessFinding",
    "ActionRequest",
    "ActionResult",
    "CallFailure",
    "Executor",
    "ExecutorConfig",
    "Holding",
    "Inventory",
]

_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@+=-]{0,127}")
_REMEMBERED_KEYS = 4096


@dataclass
class _CacheEntry:
    holders: dict[str, str]
    primary: frozenset[str]
    fetched_at: float
    fetched_mono: float
    error: str | None = None


@dataclass
class _Run:
    """Mutable bookkeeping of one action while it runs."""

    action: str
    key: str
    request: dict[str, Any]
    started: float
    calls: list[str] = field(default_factory=list)
    attempts: int = 0
    nic: str = ""
    ip: str = ""
    reassign: bool = False
    fingerprint: tuple[Any, ...] = ()


class Executor:
    """Base of every cloud executor: the shared semantics over four cloud hooks.

    Subclasses set ``provider`` and implement ``_read_holder``, ``_read_subnet``,
    ``_write_assign``, ``_write_unassign``, ``_classify`` and ``_check_access``. A cloud
    whose API takes many addresses of one NIC in one call also sets ``batch_limit`` above
    1 and implements ``_write_assign_many`` and ``_write_unassign_many`` (and may answer
    ``_read_holders`` in one read); ``run_many`` then makes one call per NIC.

    Args:
        config: endpoint, region, default subnet, retry and cache settings.
        sleep: how to wait between attempts (tests pass a recorder).
        clock: monotonic clock for rate limits and deadlines.
    """

    provider: Provider
    sdk_loggers: tuple[str, ...] = ()
    batch_limit: int = 1
    """Most addresses one write call carries; 1: the cloud has no batch call."""

    def __init__(
        self,
        config: ExecutorConfig,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        self._done: OrderedDict[str, tuple[tuple[Any, ...], ActionResult]] = OrderedDict()
        self._inventory: dict[str, _CacheEntry] = {}
        quiet_sdk_loggers(self.sdk_loggers)

    # -- cloud hooks ------------------------------------------------------------------

    def _read_holder(self, address: str) -> Holding | None:
        """Who holds ``address`` now (a fresh read, never cached)."""
        raise NotImplementedError

    def _read_subnet(self, subnet: str) -> tuple[dict[str, str], frozenset[str]]:
        """Every address in ``subnet`` -> its NIC, and the set of primary addresses."""
        raise NotImplementedError

    def _write_assign(self, nic: str, address: str, moving_from: Holding | None, key: str) -> str:
        """Put ``address`` on ``nic`` (taking it from ``moving_from``); returns a call summary."""
        raise NotImplementedError

    def _write_unassign(self, nic: str, address: str, holding: Holding, key: str) -> str:
        """Take ``address`` off ``nic``; returns a call summary."""
        raise NotImplementedError

    def _classify(self, exc: BaseException, operation: str) -> CallFailure:
        """Turn an SDK exception into a classified failure."""
        raise NotImplementedError

    def _read_holders(self, addresses: Sequence[str]) -> dict[str, Holding | None]:
        """Who holds each of ``addresses`` now; one read per address unless overridden."""
        return {ip: self._read_holder(ip) for ip in addresses}

    def _write_assign_many(self, nic: str, moving_from: Mapping[str, Holding | None]) -> str:
        """Put every address of ``moving_from`` on ``nic`` in one call, taking each from the
        NIC it maps to (None: held nowhere; a call never mixes moves and plain assigns);
        returns a call summary. Only when ``batch_limit`` > 1."""
        raise NotImplementedError

    def _write_unassign_many(self, nic: str, addresses: Sequence[str]) -> str:
        """Take all of ``addresses`` off ``nic`` in one call; returns a call summary."""
        raise NotImplementedError

    def _check_access(self, nic: str | None) -> list[AccessFinding]:
        raise NotImplementedError

    # -- public API ---------------------------------------------------------------------

    def assign(self, nic: str, address: str, *, reassign: bool, key: str) -> ActionResult:
        """Make ``nic`` hold ``address`` as a secondary private IP.

        Args:
            nic: the NIC in this provider's nicRef form.
            address: bare IPv4 (``/32`` accepted and stripped).
            reassign: the address may be taken from another NIC (a move). Without it, an
                address held elsewhere is refused, not moved.
            key: the idempotency key (1-128 of letters, digits and ``._:/@+=-``).

        Returns:
            The typed result; failures are results too, never exceptions.
        """
        return self._run(ASSIGN, nic, address, key, reassign=reassign)

    def unassign(self, nic: str, address: str, *, key: str) -> ActionResult:
        """Make ``nic`` no longer hold ``address``; success when it already does not.

        Args:
            nic: the NIC in this provider's nicRef form.
            address: bare IPv4.
            key: the idempotency key.
        """
        return self._run(UNASSIGN, nic, address, key, reassign=False)

    def run_many(self, requests: Sequence[ActionRequest]) -> list[ActionResult]:
        """Run many assigns and unassigns, one provider call per NIC where the cloud batches.

        Each request keeps its own key, result, undo and idempotency: the outcome of every
        address is exactly what ``assign`` or ``unassign`` alone would have given, only the
        number of calls differs. Requests of one NIC, one operation and one move flag share
        a call (at most ``batch_limit`` addresses); a failed call is re-read per address,
        and the addresses it did not place fall back to their own single calls. A cloud
        without a batch call runs each request alone, in order.

        Args:
            requests: the actions; order matters only between addresses of no batch.

        Returns:
            One result per request, in the same order.
        """
        if self.batch_limit <= 1 or len(requests) <= 1:
            return [
                self._run(r.action, r.nic, r.address, r.key, reassign=r.reassign) for r in requests
            ]
        from routerd.providers.executor_batch import BatchFlow

        return BatchFlow(self).run(requests)

    def holder(self, address: str) -> str | None:
        """The NIC that holds ``address`` now (fresh read), or None.

        Raises:
            ProviderError: the read failed after retries (``retryable`` says whether later
                may work).
        """
        ip = bare_ip(address)
        held = self._read_with_retry("read holder", lambda: self._read_holder(ip))
        return None if held is None else held.nic

    def holding(self, address: str) -> Holding | None:
        """Who holds ``address`` now, and whether as a primary IP (fresh read), or None.

        Raises:
            ProviderError: the read failed after retries.
        """
        ip = bare_ip(address)
        held: Holding | None = self._read_with_retry("read holder", lambda: self._read_holder(ip))
        return held

    def canonical(self, nic: str) -> str:
        """The NIC's canonical form (the same NIC always gives the same string)."""
        try:
            return self.provider.parse_nic_ref(nic)["canonical"]
        except NicRefError:
            return nic

    def same_nic(self, a: str, b: str) -> bool:
        """Whether two nicRefs name the same NIC."""
        return self.canonical(a) == self.canonical(b)

    def forget_inventory(self) -> None:
        """Drop the cached inventories: the next ``inventory`` reads the provider.

        Called after routerd's own write, so its next look is not an older copy.
        """
        with self._lock:
            self._inventory.clear()

    def inventory(self, subnet: str | None = None, *, max_age: float | None = None) -> Inventory:
        """Which NIC holds which address in ``subnet``, read at most once per interval.

        Within ``config.inventory_min_interval`` of the last successful read the cached
        copy is returned (``cached=True``, with its age). When a new read fails and a copy
        exists, the copy is returned with ``error`` set rather than raising.

        Args:
            subnet: the provider's subnet ID; defaults to ``config.subnet``.
            max_age: accept a cached copy only this young (seconds), when shorter than the
                configured interval: cloud presence reads every few seconds, and every
                other reader shares what it read.

        Raises:
            ProviderError: no subnet given or configured, or the read failed and nothing
                is cached.
        """
        sub = subnet or self.config.subnet
        if not sub:
            raise ProviderError(
                f"{self.provider.title} inventory needs a subnet: pass one or set the "
                "executor's subnet",
                supporting_data={"provider": self.provider.name},
            )
        now = self._clock()
        with self._lock:
            entry = self._inventory.get(sub)
            limit = self.config.inventory_min_interval
            if max_age is not None:
                limit = min(limit, max_age)
            fresh = entry is not None and now - entry.fetched_mono < limit
        if entry is not None and fresh:
            return _inventory_of(sub, entry, now, cached=True)
        try:
            holders, primary = self._read_with_retry(
                "read inventory", lambda: self._read_subnet(sub)
            )
        except ProviderError as e:
            if entry is None:
                raise
            entry.error = e.reason
            return _inventory_of(sub, entry, self._clock(), cached=True)
        entry = _CacheEntry(dict(holders), primary, time.time(), self._clock())
        with self._lock:
            self._inventory[sub] = entry
        return _inventory_of(sub, entry, entry.fetched_mono, cached=False)

    def check_access(self, nic: str | None = None) -> list[AccessFinding]:
        """Credentials present, read permission, write permission (dry run where possible).

        Args:
            nic: the router's NIC; write checks that need one are skipped without it.

        Returns:
            Findings in a fixed order: ``credentials`` first; later checks are skipped when
            no credentials were found.
        """
        try:
            return self._check_access(nic)
        except Exception as e:  # a finding, never a crash: the doctor must show something
            failure = self._classify(e, "check access")
            return [AccessFinding("credentials", "fail", failure.message, failure.grant)]

    # -- the shared flow ----------------------------------------------------------------

    def _run(
        self, action: str, nic: str, address: str, key: str, *, reassign: bool
    ) -> ActionResult:
        run, early = self._begin(action, nic, address, key, reassign=reassign)
        if early is not None:
            return early
        try:
            before = self._read_with_retry("read holder", lambda: self._read_holder(run.ip))
        except ProviderError as e:
            return self._remember(run, Outcome(False, retryable=e.retryable, error=e.reason))
        outcome = self._decide(run, before)
        if outcome is None:
            outcome = self._write_one(run, before)
        return self._remember(run, outcome)

    def _begin(
        self, action: str, nic: str, address: str, key: str, *, reassign: bool
    ) -> tuple[_Run, ActionResult | None]:
        """Validate one request and look its key up; a result when no call is needed."""
        request: dict[str, str | bool] = {
            "provider": self.provider.name,
            "nic": nic,
            "address": address,
        }
        if action == ASSIGN:
            request["reassign"] = reassign
        run = _Run(action, key, request, self._clock(), nic=nic, reassign=reassign)
        problem = self._validate(nic, address, key)
        if problem is not None:
            return run, self._result(run, Outcome(False, error=problem))
        run.ip = bare_ip(address)
        run.request["address"] = run.ip
        canonical = self.provider.parse_nic_ref(nic)["canonical"]
        run.fingerprint = (action, canonical, run.ip, reassign)
        with self._lock:
            earlier = self._done.get(key)
        if earlier is None:
            return run, None
        if earlier[0] != run.fingerprint:
            return run, self._result(
                run,
                Outcome(
                    False,
                    error=(
                        f"idempotency key {key!r} was used for a different request "
                        f"({earlier[1].action} {earlier[1].request.get('address')} on "
                        f"{earlier[1].request.get('nic')}): use a new key for a new action"
                    ),
                ),
            )
        return run, (_replay(earlier[1]) if earlier[1].ok else None)

    def _remember(self, run: _Run, outcome: Outcome) -> ActionResult:
        """The result of a request that reached the provider, kept under its key."""
        result = self._result(run, outcome)
        with self._lock:
            self._done[run.key] = (run.fingerprint, result)
            self._done.move_to_end(run.key)
            while len(self._done) > _REMEMBERED_KEYS:
                self._done.popitem(last=False)
        return result

    def _decide(self, run: _Run, before: Holding | None) -> Outcome | None:
        """The outcome when the holder alone decides (done already, or refused); else None."""
        if run.action == ASSIGN:
            return self._assign_refusal(run.nic, run.ip, before, reassign=run.reassign)
        return self._unassign_refusal(run.nic, run.ip, before)

    def _write_one(self, run: _Run, before: Holding | None) -> Outcome:
        """The single-address write of ``run``, with its retries and its settle."""
        nic, ip = run.nic, run.ip
        if run.action == ASSIGN:
            return self._write_until(
                run,
                lambda moving: self._write_assign(nic, ip, moving, run.key),
                before,
                done=lambda held: self._same_nic(held, nic),
                ip=ip,
                operation="assign",
            )
        assert before is not None  # _unassign_refusal answered when nothing is held here
        held_before = before
        return self._write_until(
            run,
            lambda held: self._write_unassign(nic, ip, held or held_before, run.key),
            before,
            done=lambda held: not self._same_nic(held, nic),
            ip=ip,
            operation="unassign",
        )

    def _validate(self, nic: str, address: str, key: str) -> str | None:
        if not _KEY.fullmatch(key or ""):
            return (
                f"idempotency key {key!r} is not 1-128 characters of letters, digits and "
                "'._:/@+=-' starting with a letter or digit"
            )
        try:
            self.provider.parse_nic_ref(nic)
        except NicRefError as e:
            return f"nic: {e}"
        try:
            bare_ip(address)
        except ProviderError as e:
            return e.reason
        return None

    def _assign_refusal(
        self, nic: str, ip: str, before: Holding | None, *, reassign: bool
    ) -> Outcome | None:
        mine = self._same_nic(before, nic)
        if mine:
            return Outcome(True, before=before, after=before, note=f"{ip} already on {nic}")
        if before is not None and before.primary:
            return Outcome(
                False,
                before=before,
                error=(
                    f"{ip} is the primary IP of {before.nic}; a primary address never moves: "
                    "the VM that owns it is in this cloud, so this router must not capture it"
                ),
            )
        if before is not None and not reassign:
            return Outcome(
                False,
                before=before,
                error=(
                    f"{ip} is held by {before.nic}; assigning it to {nic} moves it: call again "
                    "with reassign once that NIC must lose it"
                ),
            )
        if before is not None and before.partial:
            return Outcome(
                False,
                before=before,
                error=(
                    f"{ip} lies inside a wider range on {before.nic}; routerd moves single "
                    "addresses only: remove the range there first"
                ),
            )
        return None

    def _unassign_refusal(self, nic: str, ip: str, before: Holding | None) -> Outcome | None:
        if before is None or not self._same_nic(before, nic):
            where = "no NIC" if before is None else before.nic
            return Outcome(
                True, before=before, after=before, note=f"{ip} not on {nic} (on {where})"
            )
        if before.primary:
            return Outcome(
                False,
                before=before,
                error=(f"{ip} is the primary IP of {nic}; it cannot be unassigned"),
            )
        return None

    def _write_until(
        self,
        run: _Run,
        write: Callable[[Holding | None], str],
        before: Holding | None,
        *,
        done: Callable[[Holding | None], bool],
        ip: str,
        operation: str,
    ) -> Outcome:
        """Write, and after every failure re-read: converge, retry with backoff, or stop."""
        policy = self.config.retry
        deadline = self._clock() + policy.deadline
        current = before
        while True:
            run.attempts += 1
            try:
                run.calls.append(write(current))
                break
            except Exception as e:
                failure = self._classify(e, operation)
            run.calls.append(f"{operation} failed: {failure.code}")
            try:
                current = self._read_holder(ip)
            except Exception:
                pass
            else:
                if done(current):
                    run.calls.append("converged: the write had taken effect")
                    return Outcome(True, changed=True, before=before, after=current)
            delay = policy.delay(run.attempts, failure.retry_after)
            if (
                not failure.retryable
                or run.attempts >= policy.attempts
                or (self._clock() + delay > deadline)
            ):
                return Outcome(
                    False,
                    changed=not self._same(current, before),
                    before=before,
                    after=current,
                    retryable=failure.retryable,
                    error=failure_text(failure, run.attempts),
                )
            self._sleep(delay)
        return self._settle(before, done, ip)

    def _settle(
        self, before: Holding | None, done: Callable[[Holding | None], bool], ip: str
    ) -> Outcome:
        """Wait (bounded) until a read shows the write: AWS moves asynchronously."""
        deadline = self._clock() + self.config.settle_timeout
        delay = 0.05
        while True:
            try:
                now = self._read_holder(ip)
            except Exception as e:
                failure = self._classify(e, "verify")
                return Outcome(
                    True,
                    changed=True,
                    before=before,
                    after=None,
                    note=f"write accepted; verification read failed: {failure.message}",
                )
            if done(now):
                return Outcome(True, changed=True, before=before, after=now)
            if self._clock() + delay > deadline:
                return unsettled(ip, before, now, self.config.settle_timeout)
            self._sleep(delay)
            delay = min(delay * 2, 1.0)

    def _read_with_retry(self, operation: str, read: Callable[[], Any]) -> Any:
        policy = self.config.retry
        attempt = 0
        while True:
            attempt += 1
            try:
                return read()
            except Exception as e:
                failure = self._classify(e, operation)
            if not failure.retryable or attempt >= policy.attempts:
                raise ProviderError(
                    failure_text(failure, attempt),
                    supporting_data={"provider": self.provider.name, "code": failure.code},
                    retryable=failure.retryable,
                )
            self._sleep(policy.delay(attempt, failure.retry_after))

    # -- helpers -------------------------------------------------------------------------

    def _same_nic(self, held: Holding | None, nic: str) -> bool:
        if held is None:
            return False
        canon = self.provider.parse_nic_ref
        try:
            return canon(held.nic)["canonical"] == canon(nic)["canonical"]
        except NicRefError:
            return held.nic == nic

    def _same(self, a: Holding | None, b: Holding | None) -> bool:
        return (a is None and b is None) or (a is not None and b is not None and a.nic == b.nic)

    def _result(self, run: _Run, out: Outcome) -> ActionResult:
        response: dict[str, Any] = {
            "previousHolder": None if out.before is None else out.before.nic,
            "holder": None if out.after is None else out.after.nic,
            "calls": list(run.calls),
        }
        if out.note:
            response["note"] = out.note
        return ActionResult(
            ok=out.ok,
            action=run.action,
            key=run.key,
            request=MappingProxyType(dict(run.request)),
            response=MappingProxyType(response),
            undo=self._undo(run, out),
            changed=out.changed,
            retryable=out.retryable,
            error=out.error,
            attempts=run.attempts,
            elapsed_ms=(self._clock() - run.started) * 1000.0,
        )

    def _undo(self, run: _Run, out: Outcome) -> Mapping[str, Any] | None:
        if not out.changed:
            return None
        nic, ip = run.request["nic"], run.request["address"]
        if run.action == UNASSIGN:
            return MappingProxyType(
                {"action": ASSIGN, "nic": nic, "address": ip, "reassign": False}
            )
        if out.before is not None:
            return MappingProxyType(
                {"action": ASSIGN, "nic": out.before.nic, "address": ip, "reassign": True}
            )
        return MappingProxyType({"action": UNASSIGN, "nic": nic, "address": ip})


def unsettled(ip: str, before: Holding | None, now: Holding | None, waited: float) -> Outcome:
    """A write the provider accepted that no read showed within ``waited`` seconds."""
    where = "no NIC" if now is None else now.nic
    return Outcome(
        False,
        changed=True,
        before=before,
        after=now,
        retryable=True,
        error=(
            f"the provider accepted the write but {ip} is still on {where} after "
            f"{waited:g}s; retry with the same key to re-check"
        ),
    )


def _inventory_of(sub: str, entry: _CacheEntry, now: float, *, cached: bool) -> Inventory:
    return Inventory(
        subnet=sub,
        holders=MappingProxyType(dict(entry.holders)),
        primary=entry.primary,
        fetched_at=entry.fetched_at,
        age_s=max(0.0, now - entry.fetched_mono),
        cached=cached,
        error=entry.error,
    )


def _replay(earlier: ActionResult) -> ActionResult:
    return ActionResult(
        ok=earlier.ok,
        action=earlier.action,
        key=earlier.key,
        request=earlier.request,
        response=earlier.response,
        undo=earlier.undo,
        changed=earlier.changed,
        retryable=earlier.retryable,
        error=earlier.error,
        attempts=0,
        elapsed_ms=0.0,
        replayed=True,
    )
