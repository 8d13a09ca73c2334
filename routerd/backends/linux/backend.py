"""``LinuxBackend``: the ``DataplaneBackend`` port on a real Linux router.

Everything acts on the network namespace the process runs in, so ``ip netns exec NS
routerd serve`` (the lab) and the namespace tests need nothing special. The backend owns
one command netlink socket (pipelined batches), one libnftables context, one pyroute2 handle
for links, and one background thread (``events.EventWatcher``) that reports drift, polls
proxy entries while routerd owns any (an earlier version's, until they are removed; the
kernel sends no events for them) and keeps wireguard-go running.

Observation goes through ``cache.ObservationCache``: the event thread feeds it every
notification, ``observe`` first drains what is queued and then re-reads only the kinds an
event (or an apply) made dirty, so a steady-state pass costs a few milliseconds instead of
a full dump. ``observe_uncached`` is the full read the cache must always equal.

A lock serializes observe, apply, close and the background tick, so the supervisor never
restarts wireguard-go in the middle of an apply. ``close()`` leaves the dataplane in place
(traffic keeps flowing across a restart); ``close(cleanup=True)`` removes everything routerd
owns, through the same diff-and-apply path the engine uses.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from routerd.backends.linux import garp, neighbours, routes
from routerd.backends.linux import netlink_codec as nl
from routerd.backends.linux.announce import MacWatch
from routerd.backends.linux.applier import Applier
from routerd.backends.linux.cache import ObservationCache
from routerd.backends.linux.events import EventWatcher, Interest, LazySet
from routerd.backends.linux.host import Host
from routerd.backends.linux.links import LinkTable
from routerd.backends.linux.netlink_socket import DEFAULT_CHUNK, NetlinkSocket
from routerd.backends.linux.nftables import MssTable
from routerd.backends.linux.observer import observe_host
from routerd.backends.linux.probe import ProbeCache
from routerd.backends.linux.sysctl import PROC_SYS, SysctlKeeper
from routerd.backends.linux.wgdevice import WireGuardDevices
from routerd.backends.linux.wguapi import RUN_DIR
from routerd.core.capture import captured_on
from routerd.core.desired import (
    Address,
    DataplaneObject,
    DesiredState,
    GatewayDevice,
    Observed,
    ObserveScope,
    ProxyNeighbour,
    Route,
)
from routerd.core.errors import DataplaneError
from routerd.core.plan import diff
from routerd.core.port import Change, ChangeResult, Drift, InputRoute, PathCheck, PathEvidence
from routerd.state.store import Store

LOG = logging.getLogger(__name__)

AUTO = "auto"
PROXY_POLL_COST_FACTOR = 20
"""The proxy-entry poll waits at least this many times its own duration before the next."""


class LinuxBackend:
    """The Linux dataplane (see the module docstring)."""

    name = "linux"

    def __init__(
        self,
        store: Store,
        *,
        state_dir: Path,
        wireguard_go: str | None = AUTO,
        run_dir: Path = RUN_DIR,
        proc_sys: Path = PROC_SYS,
        chunk: int = DEFAULT_CHUNK,
        probe_ttl: float = 5.0,
        tick_interval: float = 0.5,
        debounce: float = 0.1,
        full_read_interval: float = 60.0,
    ) -> None:
        """Open the netlink socket and load bookkeeping; nothing on the host changes yet.

        Args:
            store: the state store (owned_objects holds sysctl values to restore, added
                addresses, wireguard-go PIDs).
            state_dir: where wireguard-go logs go (``<state_dir>/wireguard-go/IF.log``).
            wireguard_go: path of wireguard-go, ``"auto"`` to look it up on PATH, None to
                require the kernel module.
            run_dir: wireguard-go's UAPI socket directory.
            proc_sys: the sysctl tree (tests point it elsewhere only in unit tests).
            chunk: netlink messages per ``send()``.
            probe_ttl: how long an overlay probe result is reused.
            tick_interval: proxy-entry polling and wireguard-go supervision period.
            debounce: delay that folds a burst of events into one ``on_change``.
            full_read_interval: seconds after which ``observe`` reads every kind again
                even when no event said anything changed (the cache's safety net).
        """
        binary = shutil.which("wireguard-go") if wireguard_go == AUTO else wireguard_go
        links = LinkTable()
        self.host = Host(
            store=store,
            sock=NetlinkSocket(chunk=chunk),
            links=links,
            sysctls=SysctlKeeper(store, proc_sys),
            nft=MssTable(),
            wg=WireGuardDevices(
                store, links, wireguard_go=binary, state_dir=Path(state_dir), run_dir=run_dir
            ),
            pneigh_labels=neighbours.kernel_supports_protocol(),
        )
        self.cache = ObservationCache(self.host, full_interval=full_read_interval)
        self.applier = Applier(self.host, refresh_links=self._fresh_links)
        self.probes = ProbeCache(ttl=probe_ttl)
        self._lock = threading.RLock()
        self._tick_interval = tick_interval
        self._debounce = debounce
        self._watcher: EventWatcher | None = None
        self._next_proxy_poll = 0.0
        self.macs = MacWatch()
        self._desired = DesiredState()
        self.reannounced: list[tuple[str, str, int]] = []
        """(device, new MAC, addresses announced) per link-address change, for tests."""

    # -- DataplaneBackend ----------------------------------------------------------------------

    def start(self, on_change: Callable[[], None]) -> None:
        """Start the event thread (idempotent); ``on_change`` is called from that thread."""
        with self._lock:
            if self._watcher is not None:
                return
            self._watcher = EventWatcher(
                on_change,
                own_portid=self.host.sock.portid,
                tick=self._tick,
                debounce=self._debounce,
                tick_interval=self._tick_interval,
                feed=self._feed,
                nft_touched=self.cache.nft_touched,
                lost=self.cache.invalidate,
                drop_own_routes=True,
            )
            self._watcher.interest = Interest(proto=routes.ROUTERD_PROTO)
            # Whatever was read before the subscription cannot be patched from events.
            self.cache.invalidate()
            self.host.links.refresh()
            self.macs.seed(self.host.links.by_index.values())
            self._watcher.start()

    def drain(self) -> Drift:
        """Keys that drifted since the last call (see ``cache.ObservationCache.drain``)."""
        with self._lock:
            return self.cache.drain(trusted=self._synced())

    def observe(self, scope: ObserveScope) -> Observed:
        with self._lock:
            obs = self.cache.observe(scope, trusted=self._synced())
            if scope.keys is None:  # a full observation: the whole desired state is known
                self._update_interest(scope, obs)
            # A scoped observation carries the whole desired state too.
            self._desired = scope.desired if scope.desired is not None else DesiredState()
            return obs

    def observe_uncached(self, scope: ObserveScope) -> Observed:
        """A full read that neither uses nor updates the cache (what it must always equal)."""
        with self._lock:
            return observe_host(self.host, scope)

    def apply(self, changes: Sequence[Change]) -> list[ChangeResult]:
        watcher = self._watcher
        with self._lock, watcher.held() if watcher is not None else contextlib.nullcontext():
            self.applier.route_writes = []
            results = self.applier.apply(changes)
            dropped = watcher is not None and watcher.drops_own_routes
            self.cache.applied(results, self.applier.route_writes if dropped else ())
            self.applier.route_writes = []
        failed = [r for r in results if not r.ok]
        if failed:
            LOG.info(
                "applied %d changes, %d failed; first: %s",
                len(results),
                len(failed),
                failed[0].error,
            )
        elif results:
            LOG.info("applied %d changes", len(results))
        return results

    def verify(self, checks: Sequence[PathCheck]) -> dict[str, PathEvidence]:
        """Route lookups (pipelined batches) and cached overlay probes.

        Every address is looked up as this router would send to it, and a proxy-ARP claim
        with a ``capture_source`` also as an input route from its capture segment: the
        lookup the kernel's ARP code makes before it answers for the address there.
        A pair whose first probe is still running is reported ``probe_pending``, never as
        a success; its answer is there on a later pass (the engine looks again soon).
        """
        with self._lock:
            self._fresh_links()
            devs = routes.lookup_devices(
                self.host.sock, list(dict.fromkeys(c.address for c in checks)), self.host.links.name
            )
            captured = self._capture_lookups(checks)
        pairs = {
            (c.local_overlay, c.peer_overlay) for c in checks if c.local_overlay and c.peer_overlay
        }
        probes = self.probes.probe_many(pairs)
        found: dict[tuple[str, str], tuple[bool | None, str, bool]] = {}
        for pair in pairs:
            ok = probes.get(pair)
            if ok is False:
                found[pair] = (ok, f"no answer from {pair[1]} via {pair[0]}", False)
            elif ok is None:
                found[pair] = (ok, f"the first probe of {pair[1]} from {pair[0]} is running", True)
            else:
                found[pair] = (ok, "", False)
        unprobed = (None, "", False)
        out = {}
        same: dict[tuple[object, ...], PathEvidence] = {}
        get_dev, get_capture = devs.get, captured.get
        for c in checks:
            pair = (c.local_overlay, c.peer_overlay)
            fields = (get_dev(c.address), pair, get_capture(c.claim))
            evidence = same.get(fields)
            if evidence is None:  # claims with equal evidence share one (immutable) object
                ok, detail, pending = found.get(pair, unprobed)
                capture = InputRoute(*fields[2]) if fields[2] is not None else None
                evidence = same[fields] = PathEvidence(
                    fields[0], ok, detail, probe_pending=pending, capture=capture
                )
            out[c.claim] = evidence
        return out

    def _capture_lookups(self, checks: Sequence[PathCheck]) -> dict[str, tuple[str, str, str, str]]:
        """The input-route lookup of every check that asks for one, by claim, as the fields
        of its ``InputRoute`` (a plain tuple: the evidence of equal lookups is made once)."""
        asks, claims, out = [], [], {}
        index = self.host.links.index
        for c in checks:
            if not c.capture_source:
                continue
            iif = index(c.capture_interface)
            if iif is None:
                out[c.claim] = (c.capture_source, "", "", f"{c.capture_interface} missing")
                continue
            asks.append((c.address, c.capture_source, iif))
            claims.append(c)
        found = routes.input_lookups(self.host.sock, asks, self.host.links.name) if asks else []
        for c, (kind, dev, error) in zip(claims, found, strict=True):
            out[c.claim] = (c.capture_source, kind, dev, error)
        return out

    def close(self, *, cleanup: bool = False) -> None:
        """Stop watching; with ``cleanup`` remove every object routerd owns first."""
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            watcher.stop()
        with self._lock:
            if cleanup:
                self._remove_everything()
            self.host.sock.close()
            self.host.links.close()

    def stats(self) -> dict[str, int]:
        """Counters for metrics and tests: netlink requests, observation cache, events.

        ``observe_full`` / ``observe_partial`` count observes that read every kind or only
        the dirty ones; ``reread_<kind>`` counts kinds re-read by partial observes.
        """
        out = {"netlink_requests": self.host.sock.sent_requests, **self.cache.stats}
        if self._watcher is not None:
            out.update({f"events_{k}": v for k, v in self._watcher.stats.items()})
            out["events_nft_own"] = self._watcher.nft_own
        return out

    # -- internals -------------------------------------------------------------------------------

    def _feed(self, msg: nl.Message) -> None:
        """Every rtnetlink notification: to the cache, and link-address changes announced."""
        self.cache.feed(msg)
        changed = self.macs.feed(msg)
        if changed is not None:
            self._reannounce(*changed)

    def _reannounce(self, dev: str, old: str, new: str) -> None:
        """Gratuitous ARP for every address captured on ``dev``, now answered with ``new``.

        What is captured there is what the desired state captures by route on ``dev``,
        plus any proxy entry routerd still owns there (an earlier version's).
        """
        with self.cache.lock:
            kinds = self.cache.kinds
            keys = list(kinds.pneigh.owned) if kinds is not None else []
        addresses = sorted(
            {k[1] for k in keys if k[2] == dev} | set(captured_on(self._desired, dev))
        )
        if not addresses:
            return
        try:
            sent = garp.send_many(addresses, dev)
        except DataplaneError as exc:
            LOG.warning("re-announcing captures on %s after its MAC changed failed: %s", dev, exc)
            return
        self.reannounced.append((dev, new, sent))
        LOG.warning(
            "capture interface %s changed its MAC %s -> %s; re-announced %d captured "
            "addresses (pin the MAC to avoid this: see `routerctl doctor hybrid`)",
            dev,
            old,
            new,
            sent,
        )

    def _remove_everything(self) -> None:
        obs = observe_host(self.host, ObserveScope())
        self.host.wg.wanted.clear()
        for r in self.applier.apply(diff(DesiredState(), obs)):
            if not r.ok:
                LOG.warning("cleanup: %s", r.error)

    def _synced(self) -> bool:
        """Drain queued events into the cache; False when the event stream is incomplete."""
        watcher = self._watcher
        if watcher is None or not watcher.healthy:
            return False
        try:
            watcher.sync()
        except (OSError, ValueError):
            return False
        return watcher.healthy

    def _fresh_links(self) -> None:
        """The link table as of now: refreshed only when an event (or doubt) says so."""
        self.cache.fresh_links(trusted=self._synced())

    def _update_interest(self, scope: ObserveScope, obs: Observed) -> None:
        """What drift matters, built lazily: only foreign events ever ask (see LazySet)."""
        if self._watcher is None:
            return
        objs: tuple[DataplaneObject, ...] = tuple(obs.objects.values())
        if scope.desired is not None:
            objs += tuple(scope.desired.objects.values())
        extra_links = scope.links | scope.wireguard | set(self.host.wg.owned())

        def gateways() -> list[GatewayDevice]:
            return [o for o in objs if isinstance(o, GatewayDevice)]

        def addresses() -> set[str]:
            out = {o.cidr.split("/")[0] for o in objs if isinstance(o, Address)}
            out |= {c.split("/")[0] for g in gateways() for c in g.addresses}
            return out | scope.absent_addresses

        def links() -> set[str]:
            out = {o.dev for o in objs if isinstance(o, Route | ProxyNeighbour) and o.dev}
            out |= {name for g in gateways() for name in (g.ifname, g.parent)}
            return out | extra_links

        self._watcher.interest = Interest(
            proto=routes.ROUTERD_PROTO,
            route_dsts=LazySet(lambda: {o.dst for o in objs if isinstance(o, Route)}),
            addresses=LazySet(addresses),
            links=LazySet(links),
        )

    def _tick(self) -> bool:
        """Background check: wireguard-go alive, proxy entries as routerd last saw them."""
        if not self._lock.acquire(blocking=False):
            return False  # an apply is running; the next tick will look
        try:
            restarted = self.host.wg.supervise()
            return bool(restarted) or self._proxy_drift()
        finally:
            self._lock.release()

    def _proxy_drift(self) -> bool:
        """Re-read proxy entries into the cache; True when they changed since it last knew.

        The poll costs ~2-4 µs per entry (20-40 ms at 10,000), so its period stretches to
        keep it under ~5% of a core on large tables.
        """
        started = time.monotonic()
        if started < self._next_proxy_poll or not self.cache.owns_proxies():
            return False
        try:
            return self.cache.poll_proxies()
        finally:
            spent = time.monotonic() - started
            self._next_proxy_poll = started + max(0.0, PROXY_POLL_COST_FACTOR * spent)
