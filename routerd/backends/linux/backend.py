"""``LinuxBackend``: the ``DataplaneBackend`` port on a real Linux router.

Everything acts on the network namespace the process runs in, so ``ip netns exec NS
routerd serve`` (the lab) and the namespace tests need nothing special. The backend owns
one command netlink socket (pipelined batches), one libnftables context, one pyroute2 handle
for links, and one background thread (``events.EventWatcher``) that reports drift, polls
proxy entries (the kernel sends no events for them) and keeps wireguard-go running.

A lock serializes observe, apply, close and the background tick, so the supervisor never
restarts wireguard-go in the middle of an apply. ``close()`` leaves the dataplane in place
(traffic keeps flowing across a restart); ``close(cleanup=True)`` removes everything routerd
owns, through the same diff-and-apply path the engine uses.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from routerd.backends.linux import garp, neighbours, routes
from routerd.backends.linux.applier import Applier
from routerd.backends.linux.events import EventWatcher, Interest
from routerd.backends.linux.host import Host
from routerd.backends.linux.links import LinkTable
from routerd.backends.linux.netlink_socket import DEFAULT_CHUNK, NetlinkSocket
from routerd.backends.linux.nftables import MssTable
from routerd.backends.linux.observer import observe_host
from routerd.backends.linux.probe import ProbeCache
from routerd.backends.linux.sysctl import PROC_SYS, SysctlKeeper
from routerd.backends.linux.wgdevice import WireGuardDevices
from routerd.backends.linux.wguapi import RUN_DIR
from routerd.core.desired import (
    Address,
    DesiredState,
    Observed,
    ObserveScope,
    ProxyNeighbour,
    Route,
)
from routerd.core.plan import diff
from routerd.core.port import Change, ChangeResult, PathCheck, PathEvidence
from routerd.core.store import Store

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
        self.applier = Applier(self.host)
        self.probes = ProbeCache(ttl=probe_ttl)
        self._lock = threading.RLock()
        self._tick_interval = tick_interval
        self._debounce = debounce
        self._watcher: EventWatcher | None = None
        self._pneigh_alarm: set[tuple[str, str]] | None = None
        self._next_proxy_poll = 0.0

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
            )
            self._watcher.interest = Interest(proto=routes.ROUTERD_PROTO)
            self._watcher.start()

    def observe(self, scope: ObserveScope) -> Observed:
        with self._lock:
            obs = observe_host(self.host, scope)
            self._update_interest(scope, obs)
            return obs

    def apply(self, changes: Sequence[Change]) -> list[ChangeResult]:
        with self._lock:
            results = self.applier.apply(changes)
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
        """Route lookups (one pipelined batch) and cached overlay probes."""
        with self._lock:
            self.host.links.refresh()
            devs = routes.lookup_devices(
                self.host.sock, sorted({c.address for c in checks}), self.host.links.name
            )
        pairs = {
            (c.local_overlay, c.peer_overlay) for c in checks if c.local_overlay and c.peer_overlay
        }
        probes = self.probes.probe_many(pairs)
        out = {}
        for c in checks:
            pair = (c.local_overlay, c.peer_overlay)
            ok = probes.get(pair) if pair in pairs else None
            detail = (
                "" if ok is not False else f"no answer from {c.peer_overlay} via {c.local_overlay}"
            )
            out[c.claim] = PathEvidence(route_dev=devs.get(c.address), probe_ok=ok, detail=detail)
        return out

    def send_garp(self, address: str, dev: str) -> None:
        """Gratuitous ARP for ``address`` on ``dev``.

        Raises:
            DataplaneError: the frame could not be sent.
        """
        garp.send_garp(address, dev)

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
        """Counters for metrics and tests: netlink requests sent, event handling."""
        out = {"netlink_requests": self.host.sock.sent_requests}
        if self._watcher is not None:
            out.update({f"events_{k}": v for k, v in self._watcher.stats.items()})
            out["events_nft_own"] = self._watcher.nft_own
        return out

    # -- internals -------------------------------------------------------------------------------

    def _remove_everything(self) -> None:
        obs = observe_host(self.host, ObserveScope())
        self.host.wg.wanted.clear()
        for r in self.applier.apply(diff(DesiredState(), obs)):
            if not r.ok:
                LOG.warning("cleanup: %s", r.error)

    def _update_interest(self, scope: ObserveScope, obs: Observed) -> None:
        if self._watcher is None:
            return
        objs = list(obs.objects.values())
        if scope.desired is not None:
            objs += scope.desired.objects.values()
        dsts = {o.dst for o in objs if isinstance(o, Route)}
        addrs = {o.cidr.split("/")[0] for o in objs if isinstance(o, Address)}
        devs = {o.dev for o in objs if isinstance(o, Route | ProxyNeighbour) and o.dev}
        self._watcher.interest = Interest(
            proto=routes.ROUTERD_PROTO,
            route_dsts=frozenset(dsts),
            addresses=frozenset(addrs | scope.absent_addresses),
            links=frozenset(devs | scope.links | scope.wireguard | set(self.host.wg.owned())),
        )

    def _tick(self) -> bool:
        """Background check: wireguard-go alive, proxy entries as routerd left them."""
        if not self._lock.acquire(blocking=False):
            return False  # an apply is running; the next tick will look
        try:
            restarted = self.host.wg.supervise()
            return bool(restarted) or self._proxy_drift()
        finally:
            self._lock.release()

    def _proxy_drift(self) -> bool:
        """Compare the kernel's routerd-owned proxy entries with what routerd left there.

        The poll costs ~2 µs per entry (20 ms at 10,000), so its period stretches to keep it
        under ~5% of a core on large tables.
        """
        expected = self.host.pneigh_expected
        started = time.monotonic()
        if not expected or started < self._next_proxy_poll:
            return False
        try:
            return self._proxy_compare(expected)
        finally:
            spent = time.monotonic() - started
            self._next_proxy_poll = started + max(0.0, PROXY_POLL_COST_FACTOR * spent)

    def _proxy_compare(self, expected: set[tuple[str, str]]) -> bool:
        records = self.host.pneigh_records()
        now = set()
        for entry in neighbours.dump(self.host.sock):
            dev = self.host.links.name(entry.ifindex)
            if self.host.pneigh_is_ours(entry, dev, records):
                now.add((entry.address, dev))
        if now == expected:
            self._pneigh_alarm = None
            return False
        if now == self._pneigh_alarm:
            return False  # already reported this state; the engine's resync takes over
        self._pneigh_alarm = now
        return True
