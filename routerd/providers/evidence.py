"""The engine's view of the provider: instance-metadata reads behind the ``ProviderEvidence`` port.

``captured`` on the cloud side needs the provider to have the claimed address on the
router's NIC, and only the instance-metadata service shows that from inside the VM. The
doctor reads it once per run; the engine must keep looking, and a reconcile pass must never
wait on the network. So each provider's metadata is read here in a background thread, at
most once per ``interval`` seconds (the services rate-limit, and an assignment changes only
when a person runs a provider command), and every pass gets the answers of the last read.
Only a provider's very first read is waited for, briefly; until it finishes its claims are
``pending`` (an unfinished read is no evidence).

Where no metadata is to be had (DMI says this is not that cloud, the service does not
answer, or it does not list secondary IPs) the answer is ``unknown`` with the reason, and
the engine treats the capture as declared. ``ROUTERD_IMDS_URL`` points every reader at
another base URL (a fake in tests, a proxy in odd networks), as for the doctor; with it set
the DMI check is skipped.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from routerd.core.assignment import Assignment, AssignmentQuery, AssignmentStatus
from routerd.core.errors import ProviderError
from routerd.providers.assignment import check_address_assigned
from routerd.providers.base import InstanceMetadata, Provider
from routerd.providers.registry import NAME_TO_PROVIDER

LOG = logging.getLogger(__name__)

IMDS_ENV = "ROUTERD_IMDS_URL"
READ_INTERVAL = 30.0
"""Seconds between two metadata reads of one provider (success or failure alike)."""
FIRST_READ_WAIT = 1.0
"""How long a pass waits for a provider's first read before reporting ``pending``."""
REQUEST_TIMEOUT = 2.0
STATUS: dict[str, AssignmentStatus] = {
    "pass": "assigned",
    "fail": "not-assigned",
    "warn": "unknown",
    "skip": "unknown",
}


@dataclass
class _Read:
    """The state of one provider's metadata."""

    done: bool = False
    metadata: InstanceMetadata | None = None
    why: str = ""
    at: float = -math.inf
    running: threading.Thread | None = None
    version: int = 0
    again: bool = False


class MetadataEvidence:
    """``ProviderEvidence`` from the clouds' instance-metadata services.

    Args:
        env: where ``ROUTERD_IMDS_URL`` is looked up.
        dmi_root: filesystem root for the providers' DMI checks.
        interval: seconds between reads of one provider.
        wait: how long ``assignments`` waits for a provider's first read.
        timeout: per-request timeout of a read.
        clock: monotonic seconds (injected for tests).
        providers: provider name -> descriptor (tests pass fakes).
    """

    def __init__(
        self,
        *,
        env: Mapping[str, str] | None = None,
        dmi_root: str = "/",
        interval: float = READ_INTERVAL,
        wait: float = FIRST_READ_WAIT,
        timeout: float = REQUEST_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
        providers: Mapping[str, Provider] = NAME_TO_PROVIDER,
    ) -> None:
        self.url = (os.environ if env is None else env).get(IMDS_ENV, "")
        self.dmi_root = dmi_root
        self.interval = interval
        self.wait = wait
        self.timeout = timeout
        self.clock = clock
        self.providers = providers
        self.reads = 0
        """Metadata reads started (tests check the rate limit with it)."""
        self._lock = threading.Lock()
        self._state: dict[str, _Read] = {}
        self._on_change: Callable[[], None] | None = None
        self._closed = False
        self._memo: tuple[object, dict[str, Assignment]] | None = None

    # -- the port ------------------------------------------------------------------------------

    def start(self, on_change: Callable[[], None]) -> None:
        self._on_change = on_change

    def close(self) -> None:
        self._closed = True

    def refresh(self) -> None:
        """Read every provider again now, whatever the interval says.

        The provider reconciler calls this after it changed an assignment, so the claim
        does not wait up to ``interval`` for evidence of routerd's own action. A read
        already running is followed by another one (it may predate the change).
        """
        with self._lock:
            names = list(self._state)
            for read in self._state.values():
                read.at = -math.inf
                read.again = read.running is not None
        for name in names:
            self._kick(name)

    def assignments(self, queries: frozenset[AssignmentQuery]) -> Mapping[str, Assignment]:
        """The latest answer per queried address (the same dict while nothing changed)."""
        names = sorted({q.provider for q in queries if q.provider in self.providers})
        first = [t for t in (self._kick(n) for n in names) if t is not None]
        deadline = time.monotonic() + self.wait
        for thread in first:
            thread.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            reads = {n: (r.done, r.metadata, r.why) for n, r in self._state.items()}
            key = (queries, tuple((n, self._state[n].version) for n in names))
        if self._memo is not None and self._memo[0] == key:
            return self._memo[1]
        answers = {q.address: self._answer(q, reads.get(q.provider)) for q in queries}
        self._memo = (key, answers)
        return answers

    # -- reading -------------------------------------------------------------------------------

    def _kick(self, name: str) -> threading.Thread | None:
        """Start a read when one is due; returns the thread when it is the first read."""
        with self._lock:
            read = self._state.setdefault(name, _Read())
            due = self.clock() - read.at >= self.interval
            if read.running is None and due and not self._closed:
                read.running = threading.Thread(
                    target=self._run, args=(name,), name="routerd-imds", daemon=True
                )
                self.reads += 1
                read.running.start()
            return read.running if not read.done else None

    def _run(self, name: str) -> None:
        metadata, why = self._read(self.providers[name])
        with self._lock:
            read = self._state[name]
            changed = not read.done or (metadata, why) != (read.metadata, read.why)
            read.done, read.metadata, read.why = True, metadata, why
            read.at, read.running = self.clock(), None
            again, read.again = read.again, False
            if again:
                read.at = -math.inf
            if changed:
                read.version += 1
        if changed:
            LOG.info("provider metadata %s: %s", name, why or "read")
            if self._on_change is not None:
                self._on_change()
        if again:
            self._kick(name)

    def _read(self, provider: Provider) -> tuple[InstanceMetadata | None, str]:
        if not self.url and not provider.detect(root=self.dmi_root):
            return None, (
                f"this host is not on {provider.title} according to DMI, so its instance "
                f"metadata was not read (set {IMDS_ENV} to read one anyway)"
            )
        kwargs: dict[str, object] = {"timeout": self.timeout}
        if self.url:
            kwargs["base_url"] = self.url
        try:
            metadata = provider.read_instance_metadata(**kwargs)
        except ProviderError as e:
            return None, f"{provider.title} instance metadata unreachable: {e.reason}"
        except Exception as e:  # a reader bug must not stop the engine; say what happened
            LOG.exception("reading %s instance metadata failed", provider.title)
            return None, f"{provider.title} instance metadata unreadable: {e}"
        if metadata is None:
            where = self.url or "its default address"
            return None, f"no {provider.title} metadata service answers at {where}"
        return metadata, ""

    def _answer(
        self, q: AssignmentQuery, read: tuple[bool, InstanceMetadata | None, str] | None
    ) -> Assignment:
        provider = self.providers.get(q.provider)
        if provider is None:
            return Assignment("unknown", f"provider {q.provider!r} has no metadata reader")
        if read is None or not read[0]:
            return Assignment(
                "pending", f"the first {provider.title} instance-metadata read is running"
            )
        _, metadata, why = read
        if metadata is None:
            return Assignment("unknown", why)
        if not q.nic_ref:
            return Assignment("unknown", "spec.capture.nicRef is empty: nothing to compare")
        status, detail = check_address_assigned(metadata, q.nic_ref, q.address)
        return Assignment(STATUS[status], f"{provider.title} instance metadata: {detail}")
