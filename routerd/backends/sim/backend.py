"""``SimBackend``: the dataplane port (``routerd.core.port.DataplaneBackend``) on a sim host.

The engine drives this exactly as it drives the Linux backend; the difference is only where
the effects land — on one ``Host`` of a shared ``World``, whose packets tests can then trace.
The backend itself keeps no ownership state (the host's marks are the record), so closing it
without cleanup and starting a new one on the same host is a faithful "routerd restart".

``verify`` gathers the evidence ``verified`` needs in the sim: the host's route lookup for
the address (and, for a proxy-ARP claim, the input-route lookup from its capture segment
that decides whether the kernel answers ARP for it), a ping between the overlay addresses
when both are set, and a traced packet
from a neighbour on the capture link to the claimed address, which must be forwarded by this
router and arrive beyond it with its source preserved (a packet that reaches the address
without crossing this router proves the address is not captured here: its VM moved in).
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable, Sequence

from routerd.core.desired import Garp, Observed, ObserveScope
from routerd.core.port import Change, ChangeResult, Drift, InputRoute, PathCheck, PathEvidence

from . import handshake
from .changes import apply_change
from .host import Host
from .observation import observe_host
from .segment import input_route
from .world import World

LOG = logging.getLogger(__name__)


class SimBackend:
    """The simulated dataplane of one host in ``world``.

    Args:
        world: the shared simulation.
        host_name: which host this backend programs (as routerd on that machine would).
    """

    name = "sim"

    def __init__(self, world: World, host_name: str) -> None:
        if host_name not in world.hosts:
            raise KeyError(f"no host {host_name!r} in the simulation")
        self.world = world
        self.host_name = host_name
        self._on_change: Callable[[], None] | None = None

    @property
    def host(self) -> Host:
        return self.world.hosts[self.host_name]

    def start(self, on_change: Callable[[], None]) -> None:
        """Register ``on_change``; the world calls it on every out-of-band change."""
        if self._on_change is not None:
            self.world.unwatch(self.host_name, self._on_change)
        self._on_change = on_change
        self.world.watch(self.host_name, on_change)

    def drain(self) -> Drift:
        """What the world's fault injections changed on this host since the last call."""
        return self.world.drain_drift(self.host_name)

    def observe(self, scope: ObserveScope) -> Observed:
        """Owned objects plus the scope's sysctls, absences, links, devices and handshakes."""
        with self.world.lock:
            host = self.host
            handshake.keepalive(self.world, host)
            return observe_host(host, scope, self.world.clock())

    def apply(self, changes: Sequence[Change]) -> list[ChangeResult]:
        """Apply every change in order, one result each; failures never stop the batch."""
        results: list[ChangeResult] = []
        with self.world.lock:
            host = self.host
            for change in changes:
                armed = self.world.take_failure(self.host_name, change.key)
                if armed is not None:
                    results.append(
                        ChangeResult(change, False, armed.error, armed.errno, armed.retryable)
                    )
                    continue
                if change.op == "announce":
                    results.append(self._announce(change))
                    continue
                result = apply_change(host, change)
                if not result.ok:
                    LOG.debug("%s: %s failed: %s", self.host_name, change.describe(), result.error)
                results.append(result)
        return results

    def verify(self, checks: Sequence[PathCheck]) -> dict[str, PathEvidence]:
        """Route lookup, overlay probe and a traced packet from the capture link, per claim."""
        evidence: dict[str, PathEvidence] = {}
        probes: dict[tuple[str, str], bool] = {}
        with self.world.lock:
            for check in checks:
                evidence[check.claim] = self._verify_one(check, probes)
        return evidence

    def _verify_one(self, check: PathCheck, probes: dict[tuple[str, str], bool]) -> PathEvidence:
        host = self.host
        probe_ok: bool | None = None
        if check.local_overlay and check.peer_overlay:
            pair = (check.local_overlay, check.peer_overlay)
            if pair not in probes:
                probes[pair] = self._probe(*pair)
            probe_ok = probes[pair]
        path_ok, detail = self._capture_path(check)
        if path_ok is False:
            probe_ok = False
        captured = None
        if check.capture_source and check.capture_interface in host.interfaces:
            kind, dev, error = input_route(
                host, check.capture_interface, check.address, check.capture_source
            )
            captured = InputRoute(check.capture_source, kind, dev, error)
        if host.is_local(check.address):
            return PathEvidence("lo", probe_ok, detail, capture=captured)
        route = host.fib.lookup(check.address)
        dev_seen = route.dev or None if route else None
        return PathEvidence(dev_seen, probe_ok, detail, capture=captured)

    def _probe(self, local: str, peer: str) -> bool:
        result = self.world.ping(self.host_name, peer, src_ip=local)
        return result.ok and result.request.dst_host != self.host_name

    def _capture_path(self, check: PathCheck) -> tuple[bool | None, str]:
        """Trace from each neighbour on the capture link until one gets through."""
        if not check.capture_interface:
            return None, "no capture interface to trace from"
        sources = []
        for host_name, ifname in sorted(
            self.world.segment_peers(self.host_name, check.capture_interface)
        ):
            neighbour = self.world.hosts[host_name]
            address = neighbour.interfaces[ifname].first_address()
            if address and not neighbour.is_local(check.address):
                sources.append((host_name, address))
        if not sources:
            return None, f"no host on the {check.capture_interface} link to trace from"
        first_failure = ""
        for host_name, address in sources:
            trace = self.world.trace(host_name, check.address, src_ip=address)
            beyond = trace.dst_host not in (None, self.host_name, host_name)
            through = any(h.host == self.host_name and h.event == "forward" for h in trace.hops)
            if trace.delivered and beyond and through and trace.source_preserved:
                return True, (
                    f"{address} ({host_name}) -> {check.address}: delivered to "
                    f"{trace.dst_host}, source {trace.source_seen} preserved"
                )
            if not first_failure:
                first_failure = f"{address} ({host_name}) -> {check.address}: " + (
                    f"consumed by {trace.dst_host}, not forwarded"
                    if trace.delivered and trace.dst_host == self.host_name
                    else f"delivered to {trace.dst_host} without crossing {self.host_name}: "
                    "the address is not captured here"
                    if trace.delivered and beyond and not through
                    else trace.summary()
                )
        return False, first_failure

    def _announce(self, change: Change) -> ChangeResult:
        """A gratuitous ARP: neighbours on the capture link update their caches."""
        garp = change.new
        if not isinstance(garp, Garp):
            return ChangeResult(change, False, "announce without a Garp", errno.EINVAL, False)
        if garp.dev not in self.host.interfaces:
            return ChangeResult(
                change,
                False,
                f"garp {garp.address} dev {garp.dev}: no such device",
                errno.ENODEV,
                True,
            )
        self.world.record_garp(self.host_name, garp.dev, garp.address, to=garp.to)
        return ChangeResult(change, True)

    def close(self, *, cleanup: bool = False) -> None:
        """Stop watching; with ``cleanup`` remove everything routerd owns on the host."""
        if self._on_change is not None:
            self.world.unwatch(self.host_name, self._on_change)
            self._on_change = None
        if not cleanup:
            return
        with self.world.lock:
            observed = observe_host(self.host, ObserveScope(), self.world.clock())
            removals = [Change("remove", k, old=observed.objects.get(k)) for k in observed.owned]
            for result in self.apply(removals):
                if not result.ok:
                    LOG.warning(
                        "%s: cleanup: %s: %s",
                        self.host_name,
                        result.change.describe(),
                        result.error,
                    )
