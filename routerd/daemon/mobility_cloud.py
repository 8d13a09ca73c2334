"""Presence in a cloud site: the provider's inventory says which NIC holds an address.

In a cloud subnet the fabric answers ARP for every address and delivers each one to the NIC
the provider has it assigned to, so nothing a router hears on the wire says where a VM is.
The provider's inventory does: an address held (primary or secondary) by a NIC other than
the router's own is a VM here. ``CloudPresence`` turns that into presence evidence of kind
``inventory`` and feeds the same ``PresenceTracker`` the on-prem sites use:

* an ``InventoryPoller`` thread reads each cloud domain's subnet through the profile's
  executor (``Executor.inventory``: cached, shared with the provider reconciler, at most
  once per ``presence.inventoryInterval``), never on the engine thread: a cloud API answers
  in seconds. Each read wakes the engine;
* on the engine thread every read is one probe round: each address on a VM's NIC is
  evidence at the read's time, and ``absentAfter`` reads in a row without it make it
  absent (one read taken while a provider moves an address is not a departure);
* an arrival is when a holding *began*: the fact the controller reads carries the time of
  the first read that showed the address on that NIC, not of the latest read. A VM that
  left this site while its old NIC still holds the address is therefore never taken for an
  arrival again (its holding began before the other site's home was learned), and a
  holding found by the first read after a start counts as older than anything learned.

An explicit ``routerctl move`` to a cloud site needs none of this: the controller
originates at once. The provider profile must say ``execution: execute`` and name its
``subnet`` for the inventory to be read; otherwise a cloud site learns arrivals only from
explicit moves.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from routerd.core.errors import ProviderError
from routerd.core.mobility import PresenceFact
from routerd.core.mobility.plan import MobileDomain, MobilityPlan
from routerd.core.presence import (
    PRESENT,
    UNKNOWN,
    PresenceEvidence,
    PresenceSource,
    PresenceTracker,
)
from routerd.core.resources import CloudProviderProfile
from routerd.daemon.mobility_presence import MAX_WATCHED, PresenceFeed
from routerd.providers.executor import Executor

LOG = logging.getLogger(__name__)

ExecutorFor = Callable[[CloudProviderProfile], Executor]


@dataclass(frozen=True)
class CloudSite:
    """What one cloud domain's presence reads.

    Attributes:
        domain: the domain's name.
        profile: the executing CloudProviderProfile of the domain's capture.
        subnet: the subnet read (the profile's).
        nic: the router's own NIC (the capture's ``nicRef``): what it holds is no VM.
        interval: seconds between reads.
    """

    domain: str
    profile: CloudProviderProfile
    subnet: str
    nic: str
    interval: float


@dataclass(frozen=True)
class InventoryRead:
    """One read of a cloud domain's subnet, as the poller hands it to the engine thread.

    Attributes:
        site: what was read.
        at: when the provider answered (engine clock; a cached copy counts from its read).
        fetched: the read's identity (two reads of one cached copy are one read).
        others: address -> NIC, for every address on a NIC that is not the router's.
        error: why the read failed ("" when it did not); a failed read proves nothing.
    """

    site: CloudSite
    at: float = 0.0
    fetched: float = 0.0
    others: Mapping[str, str] = field(default_factory=dict)
    error: str = ""


class InventoryPoller:
    """Reads each configured cloud site's inventory on its own thread, every interval.

    Args:
        executor_for: the profile's executor (the daemon shares the provider reconciler's).
        clock: the engine's clock (evidence times).
        on_read: called (on this thread) after each read: the engine should take it.
    """

    def __init__(
        self,
        executor_for: ExecutorFor,
        *,
        clock: Callable[[], float],
        on_read: Callable[[], None] = lambda: None,
    ) -> None:
        self.executor_for = executor_for
        self.clock = clock
        self.on_read = on_read
        self._lock = threading.Lock()
        self._sites: tuple[CloudSite, ...] = ()
        self._reads: list[InventoryRead] = []
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def configure(self, sites: Sequence[CloudSite]) -> None:
        """Read exactly these sites from now on (a new site is read at once)."""
        with self._lock:
            self._sites = tuple(sites)
        self._wake.set()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="cloud-presence", daemon=True)
            self._thread.start()

    def close(self, timeout: float = 5.0) -> None:
        """Stop after the read in flight."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def drain(self) -> list[InventoryRead]:
        """The reads since the last drain, oldest first."""
        with self._lock:
            reads, self._reads = self._reads, []
        return reads

    def _loop(self) -> None:
        due: dict[str, tuple[CloudSite, float]] = {}
        while not self._stop.is_set():
            with self._lock:
                sites = self._sites
            # a site whose settings changed is read at once
            due = {s.domain: (s, _next(due, s)) for s in sites}
            for site in sites:
                if self._stop.is_set():
                    return
                if self.clock() >= due[site.domain][1]:
                    self.read(site)
                    due[site.domain] = (site, self.clock() + site.interval)
            wait = min((t for _, t in due.values()), default=self.clock() + 60.0) - self.clock()
            self._wake.wait(max(0.0, wait))
            self._wake.clear()

    def read(self, site: CloudSite) -> InventoryRead:
        """One read of ``site`` (also callable directly: tests, the lab)."""
        try:
            ex = self.executor_for(site.profile)
            inv = ex.inventory(site.subnet, max_age=site.interval)
            if inv.error is not None:
                raise ProviderError(inv.error)
            at = self.clock() - inv.age_s
            others = {a: nic for a, nic in inv.holders.items() if not ex.same_nic(nic, site.nic)}
            read = InventoryRead(site, at, inv.fetched_at, others)
        except ProviderError as e:
            read = InventoryRead(site, error=e.reason)
        except Exception as e:  # an SDK bug must not end presence: report it, read again
            LOG.exception("cloud presence: reading %s failed", site.subnet)
            read = InventoryRead(site, error=f"{type(e).__name__}: {e}")
        with self._lock:
            self._reads.append(read)
        self.on_read()
        return read


def _next(due: Mapping[str, tuple[CloudSite, float]], site: CloudSite) -> float:
    known = due.get(site.domain)
    return known[1] if known is not None and known[0] == site else 0.0


@dataclass
class _Site:
    """One cloud domain on the engine thread: its tracker and what the reads showed."""

    site: CloudSite
    tracker: PresenceTracker
    addresses: list[str]
    index: frozenset[str]
    holders: dict[str, str] = field(default_factory=dict)
    began: dict[str, float] = field(default_factory=dict)
    probing: frozenset[str] = frozenset()
    present: set[str] = field(default_factory=set)
    last_fetch: float | None = None
    reads: int = 0
    error: str = ""


def cloud_site(dom: MobileDomain) -> CloudSite | None:
    """What presence reads for a domain, None when it reads nothing (on-prem, or a cloud
    capture whose profile only plans or names no subnet)."""
    profile = dom.provider
    if dom.local.kind != "cloud" or profile is None or not dom.capture.nic_ref:
        return None
    if profile.spec.execution != "execute" or not profile.spec.subnet:
        return None
    return CloudSite(
        dom.name, profile, profile.spec.subnet, dom.capture.nic_ref, dom.inventory_interval
    )


class CloudPresence:
    """Presence of every cloud domain of a plan (see the module docstring).

    Args:
        poller: reads the inventories (not started).
    """

    def __init__(self, poller: InventoryPoller) -> None:
        self.poller = poller
        self._sites: dict[str, _Site] = {}
        self._plan: MobilityPlan | None = None
        self._held: Mapping[str, tuple[str, float]] = {}
        self.errors: list[str] = []

    def start(self, on_event: Callable[[], None]) -> None:
        self.poller.on_read = on_event
        self.poller.start()

    def close(self) -> None:
        self.poller.close()

    def configure(self, plan: MobilityPlan) -> None:
        """Read ``plan``'s cloud domains (an unchanged site keeps what it knows)."""
        self._plan = plan
        wanted = {s.domain: s for d in plan.domains if (s := cloud_site(d)) is not None}
        for name in list(self._sites):
            if wanted.get(name) != self._sites[name].site:
                del self._sites[name]
        for name, site in wanted.items():
            if name in self._sites:
                continue
            dom = plan.by_name[name]
            addresses = list(_limited(plan, dom))
            tracker = PresenceTracker(absent_after=dom.absent_after)
            tracker.track(addresses, probe=())
            self._sites[name] = _Site(site, tracker, addresses, frozenset(addresses))
        for dom in plan.domains:
            if dom.local.kind == "cloud" and dom.name not in wanted:
                LOG.warning(
                    "cloud presence: AddressMobilityDomain/%s reads no inventory (its "
                    "capture's CloudProviderProfile needs execution: execute and a subnet); "
                    "arrivals here come only from explicit moves",
                    dom.name,
                )
        self.poller.configure([s.site for s in self._sites.values()])
        self._publish()

    def covers(self, domain: str) -> bool:
        """Whether presence reads the inventory for that domain."""
        return domain in self._sites

    # -- every pass (engine thread) ---------------------------------------------------------

    def take(self, now: float) -> set[str]:
        """Take the reads that arrived; the addresses whose presence moved."""
        del now  # each read carries its own time
        touched: set[str] = set()
        changed = False
        for read in self.poller.drain():
            s = self._sites.get(read.site.domain)
            if s is None or s.site != read.site:
                continue  # read under a config that has changed since
            if read.error:
                if read.error != s.error:
                    LOG.warning("cloud presence %s: %s", s.site.domain, read.error)
                    self.errors = [*self.errors[-9:], f"{s.site.domain}: {read.error}"]
                s.error = read.error
                continue
            if read.fetched == s.last_fetch:
                continue  # the same cached copy again: no new round
            s.last_fetch, s.error = read.fetched, ""
            changed |= self._round(s, read, touched)
        if changed:
            self._publish()
        return touched

    def _round(self, s: _Site, read: InventoryRead, touched: set[str]) -> bool:
        first, s.reads = s.reads == 0, s.reads + 1
        holders = {a: nic for a, nic in read.others.items() if a in s.index}
        moved = holders != s.holders
        evidence = []
        for address, nic in holders.items():
            if s.holders.get(address) != nic:
                # found by the first read after a start: held since before routerd looked
                s.began[address] = 0.0 if first else read.at
            evidence.append(PresenceEvidence(address, "inventory", "", nic, read.at))
        s.holders = holders
        for t in s.tracker.observe(evidence):
            touched.add(t.address)
            (s.present.add if t.new == PRESENT else s.present.discard)(t.address)
        probing = frozenset(holders) | frozenset(s.present)
        if probing != s.probing:
            s.probing = probing
            s.tracker.track(s.addresses, probe=probing)
        for t in s.tracker.due_probes(read.at, 0.0).transitions:
            touched.add(t.address)
            s.present.discard(t.address)
            s.began.pop(t.address, None)
        return moved

    def _publish(self) -> None:
        """The holdings other threads read (the reconciler's ``may_take``), swapped whole."""
        self._held = {
            a: (nic, s.began.get(a, 0.0))
            for s in self._sites.values()
            for a, nic in s.holders.items()
        }

    # -- what the controller and others read ------------------------------------------------

    def held(self, address: str) -> tuple[str, float] | None:
        """The VM NIC holding ``address`` at the last read and since when (0.0: since before
        routerd's first read); None when no VM's NIC held it. Any thread."""
        return self._held.get(address)

    def _site_of(self, address: str) -> _Site | None:
        dom = self._plan.domain_of(address) if self._plan is not None else None
        return self._sites.get(dom.name) if dom is not None else None

    def fact(self, address: str) -> PresenceFact | None:
        """The address's presence here; ``last_at`` is when its holding began."""
        s = self._site_of(address)
        p = s.tracker.get(address) if s is not None else None
        if s is None or p is None or (p.state == UNKNOWN and p.evidence is None):
            return None
        ev = p.evidence
        heard = ev.at if ev is not None else 0.0
        return PresenceFact(p.state, p.since or 0.0, s.began.get(address, heard), "inventory")

    def evidence(self, address: str) -> PresenceEvidence | None:
        """The last inventory evidence (its ``interface`` is the holding NIC)."""
        s = self._site_of(address)
        p = s.tracker.get(address) if s is not None else None
        return p.evidence if p is not None else None

    def present(self) -> list[str]:
        return [a for s in self._sites.values() for a in s.present]


def _limited(plan: MobilityPlan, dom: MobileDomain) -> list[str]:
    out = []
    for address in plan.addresses(dom):
        out.append(address)
        if len(out) >= MAX_WATCHED:
            break
    return out


class SitePresence(PresenceFeed):
    """The presence the controller reads: on-prem sites from the wire, cloud sites from
    the provider's inventory (one router serves one site per domain, so each address has
    one of the two)."""

    def __init__(self, source: PresenceSource | None, cloud: CloudPresence | None) -> None:
        super().__init__(source)
        self.cloud = cloud

    def start(self, on_event: Callable[[], None]) -> None:
        super().start(on_event)
        if self.cloud is not None:
            self.cloud.start(on_event)

    def configure(self, plan: MobilityPlan) -> None:
        super().configure(plan)
        if self.cloud is not None:
            self.cloud.configure(plan)

    def close(self) -> None:
        super().close()
        if self.cloud is not None:
            self.cloud.close()

    def take(self, now: float) -> set[str]:
        touched = super().take(now)
        if self.cloud is not None:
            touched |= self.cloud.take(now)
        return touched

    def _cloud_for(self, address: str) -> CloudPresence | None:
        cloud, plan = self.cloud, self._plan
        dom = plan.domain_of(address) if plan is not None else None
        if cloud is not None and dom is not None and cloud.covers(dom.name):
            return cloud
        return None

    def fact(self, address: str) -> PresenceFact | None:
        cloud = self._cloud_for(address)
        return cloud.fact(address) if cloud is not None else super().fact(address)

    def evidence(self, address: str) -> PresenceEvidence | None:
        cloud = self._cloud_for(address)
        return cloud.evidence(address) if cloud is not None else super().evidence(address)

    def present(self) -> list[str]:
        cloud = self.cloud.present() if self.cloud is not None else []
        return [*super().present(), *cloud]
