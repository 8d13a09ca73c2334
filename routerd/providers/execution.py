"""The executor's vocabulary: settings, retry policy, classified failures, typed results.

``executor`` holds the flow every cloud shares; this module holds the plain data it passes
around, so per-cloud executors and the doctor can import the types without the flow, and
nothing here imports an SDK or does I/O (``quiet_sdk_loggers`` only adjusts log levels).
"""

from __future__ import annotations

import ipaddress
import logging
import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from routerd.core.errors import ProviderError
from routerd.providers.base import CheckStatus


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff with jitter for retryable provider failures.

    Attributes:
        attempts: tries per provider call, the first included.
        base: the first delay in seconds; it doubles per attempt.
        cap: no single delay exceeds this, whatever a ``Retry-After`` asks.
        deadline: the whole write loop of one action gives up after this many seconds.
    """

    attempts: int = 5
    base: float = 0.2
    cap: float = 5.0
    deadline: float = 60.0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        if retry_after is not None and retry_after > 0:
            return min(self.cap, retry_after)
        step: float = min(self.cap, self.base * (2 ** (attempt - 1)))
        return step * (0.5 + random.random() / 2)  # jitter, not crypto


@dataclass(frozen=True)
class ExecutorConfig:
    """Where and how an executor talks to its cloud. Never holds credentials.

    Attributes:
        region: the provider region (AWS, OCI) when the SDK needs one.
        subnet: the default subnet for ``inventory`` and, where the API looks addresses
            up per subnet (OCI), for ``holder``.
        endpoint: an API endpoint override (a private endpoint, or a local test double).
        auth_endpoint: OCI: the federation (auth service) endpoint override.
        allow_http: accept a plain ``http://`` endpoint (SDKs refuse to send bearer tokens
            over it otherwise); only for local test doubles and labs.
        timeout: per-request socket timeout in seconds.
        retry: the retry policy for writes and reads.
        inventory_min_interval: ``inventory`` reads the provider at most this often
            (seconds); calls in between get the cached copy with its age.
        settle_timeout: after a write, how long to wait for a read to show it (AWS moves
            an address asynchronously).
        poll_interval: Azure long-running operations: seconds between status polls when
            the service sends no ``Retry-After``.
    """

    region: str = ""
    subnet: str = ""
    endpoint: str | None = None
    auth_endpoint: str | None = None
    allow_http: bool = False
    timeout: float = 10.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    inventory_min_interval: float = 30.0
    settle_timeout: float = 15.0
    poll_interval: float = 1.0

    def checked_endpoint(self, what: str) -> str | None:
        """The endpoint override, refusing plain HTTP unless ``allow_http`` says so.

        Raises:
            ProviderError: an ``http://`` endpoint without ``allow_http``.
        """
        ep = self.endpoint
        if ep and ep.lower().startswith("http://") and not self.allow_http:
            raise ProviderError(
                f"{what} endpoint {ep} is plain HTTP: credentials would cross it unencrypted; "
                "use https, or allow_http for a local test double",
                supporting_data={"endpoint": ep},
            )
        return ep


@dataclass(frozen=True)
class Holding:
    """Who holds an address at the provider.

    Attributes:
        nic: the NIC in nicRef form.
        primary: it is that NIC's primary IP (never movable).
        ref: the provider's own handle for the assignment (OCI private-IP OCID).
        partial: the address sits inside a wider alias range (GCP), not as itself.
    """

    nic: str
    primary: bool = False
    ref: str = ""
    partial: bool = False


@dataclass(frozen=True)
class CallFailure(Exception):
    """An SDK failure, classified.

    Attributes:
        code: the provider's error code (``UnauthorizedOperation``) or a transport name.
        message: what happened, without credentials.
        retryable: throttling, 5xx, timeouts, lost connections, concurrency conflicts.
        grant: for permission failures, what to grant.
        retry_after: seconds the provider asked to wait, when it said.
    """

    code: str
    message: str
    retryable: bool
    grant: str = ""
    retry_after: float | None = None


@dataclass(frozen=True)
class Outcome:
    """How one action ended, before it becomes an ``ActionResult``."""

    ok: bool
    changed: bool = False
    before: Holding | None = None
    after: Holding | None = None
    retryable: bool = False
    error: str | None = None
    note: str = ""


def quiet_sdk_loggers(names: tuple[str, ...]) -> None:
    """Hold SDK wire loggers at INFO: their DEBUG output carries tokens and signed headers.

    A logger someone already set above DEBUG is left alone.
    """
    for name in names:
        log = logging.getLogger(name)
        if log.level < logging.INFO:
            log.setLevel(logging.INFO)


def bare_ip(address: str) -> str:
    """``10.0.0.5`` or ``10.0.0.5/32`` -> ``10.0.0.5``.

    Raises:
        ProviderError: anything else.
    """
    text = address.strip()
    if text.endswith("/32"):
        text = text[:-3]
    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError:
        raise ProviderError(
            f"address {address!r} is not an IPv4 address (a bare address or /32)",
            supporting_data={"address": address},
        ) from None


def failure_text(failure: CallFailure, attempts: int) -> str:
    """One sentence for a failure: code, message, attempts, what to grant."""
    tries = f" after {attempts} attempt{'s' if attempts != 1 else ''}" if failure.retryable else ""
    grant = f"; grant {failure.grant}" if failure.grant else ""
    return f"{failure.code}: {failure.message}{tries}{grant}"


@dataclass(frozen=True)
class ActionResult:
    """What one ``assign`` or ``unassign`` did, ready for a journal.

    Attributes:
        ok: the address is where the action wanted it.
        action: ``assign-secondary-ip`` or ``unassign-secondary-ip``.
        key: the idempotency key the caller gave.
        request: provider, NIC, address and options; never credentials.
        response: summary: ``previousHolder``, ``holder`` (after), provider ``calls`` made.
        undo: the action that reverts this one (``action``, ``nic``, ``address``,
            ``reassign``), or None when nothing changed or the action failed before acting.
        changed: a provider call changed state (False: it already was so, or a replay).
        retryable: for a failure, whether trying again later may succeed.
        error: for a failure, what happened and what to do.
        attempts: provider write attempts made (0 when nothing needed doing).
        elapsed_ms: wall time of the whole action, reads included.
        replayed: the result of an earlier call with the same key, returned unchanged.
    """

    ok: bool
    action: str
    key: str
    request: Mapping[str, Any]
    response: Mapping[str, Any]
    undo: Mapping[str, Any] | None
    changed: bool
    retryable: bool = False
    error: str | None = None
    attempts: int = 0
    elapsed_ms: float = 0.0
    replayed: bool = False

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form for the journal and ``-o json``."""
        return {
            "ok": self.ok,
            "action": self.action,
            "key": self.key,
            "request": dict(self.request),
            "response": dict(self.response),
            "undo": None if self.undo is None else dict(self.undo),
            "changed": self.changed,
            "retryable": self.retryable,
            "error": self.error,
            "attempts": self.attempts,
            "elapsedMs": round(self.elapsed_ms, 3),
            "replayed": self.replayed,
        }


@dataclass(frozen=True)
class AccessFinding:
    """One ``check_access`` result, in the doctor's terms.

    Attributes:
        check: ``credentials``, ``read``, ``write`` (stable names the doctor can key on).
        status: ``pass`` | ``warn`` | ``fail`` | ``skip``.
        detail: what was tried and what came back.
        grant: for a failure or an unprovable permission, what to grant, in the
            provider's own terms (IAM actions, Azure role, OCI policy, GCP permissions).
    """

    check: str
    status: CheckStatus
    detail: str
    grant: str = ""

    def as_dict(self) -> dict[str, str]:
        return {
            "check": self.check,
            "status": self.status,
            "detail": self.detail,
            "grant": self.grant,
        }


@dataclass(frozen=True)
class Inventory:
    """Which NIC holds which address in one subnet, as of one (possibly cached) read.

    Attributes:
        subnet: the subnet read.
        holders: address -> NIC (primary and secondary addresses alike).
        primary: the addresses that are some NIC's primary IP (they never move).
        fetched_at: wall-clock time of the read (``time.time()``).
        age_s: seconds since that read when this object was returned.
        cached: True when served from the cache (rate limit) instead of a new read.
        error: the latest read failed and this is the older cache; what failed.
    """

    subnet: str
    holders: Mapping[str, str]
    primary: frozenset[str]
    fetched_at: float
    age_s: float
    cached: bool
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "subnet": self.subnet,
            "holders": dict(self.holders),
            "primary": sorted(self.primary),
            "fetchedAt": self.fetched_at,
            "ageSeconds": round(self.age_s, 3),
            "cached": self.cached,
            "error": self.error,
        }


@dataclass(frozen=True)
class ActionRequest:
    """One address's assign or unassign, as handed to ``Executor.run_many``.

    Attributes:
        action: ``assign-secondary-ip`` or ``unassign-secondary-ip``.
        nic: the NIC in the provider's nicRef form.
        address: bare IPv4 (``/32`` accepted).
        key: this address's own idempotency key.
        reassign: an assign may take the address from another NIC (a move).
    """

    action: str
    nic: str
    address: str
    key: str
    reassign: bool = False
