"""``SimPresence``: presence evidence from a simulated world's L2 segments.

The presence port (``routerd.core.presence.PresenceSource``) as a router on an on-prem
segment would hear it, with ``routerd.backends.linux.presence.LinuxPresence``'s rules:

* a host that announces an address on the segment — a VM arriving by ``MoveVm`` sends a
  gratuitous ARP (or a RARP naming only its MAC, as hypervisors do for a resumed VM) — is
  ``garp`` (``rarp``) evidence at every router listening on that segment, stamped with the
  virtual time it was sent (``World.record_garp`` calls the listeners);
* ``probe(interface, addresses)`` sends an RFC 5227 probe per address; every host on the
  segment that holds the address answers (``probe-answer``), ``ANSWER_DELAY`` of virtual
  time later. A VM that left the segment does not answer, nor does a router that only
  proxies the address (Linux answers a probe only for a local address);
* what this router sends is never evidence (its own MACs are dropped), nor is anything from
  a MAC the caller ignores (the anycast gateway, a redundant partner), nor an address not
  watched on that interface (a RARP, which names no address, excepted);
* a provider fabric carries no broadcast and answers no probe: cloud presence comes from
  the provider's inventory, not from here. A router interface that is down hears nothing.

Evidence waits in a bounded queue until ``drain``; ``on_event`` is called when some waits.
Nothing is lost unless the queue overflows (then ``lost`` is true once).
"""

from __future__ import annotations

import ipaddress
import threading
from collections import deque
from collections.abc import Callable, Collection
from typing import NamedTuple

from routerd.core.errors import DataplaneError
from routerd.core.presence import PresenceEvidence, normalize_mac

from .segment import Port, Segment, arp_answer
from .world import Garp, World

ANSWER_DELAY = 0.0001
"""Virtual seconds from a probe to its answer (a round trip on a LAN)."""
QUEUE_LIMIT = 65536


class SimPresence:
    """The presence listener and prober of one router of a world.

    Args:
        world: the world.
        host_name: the router's host.
        queue_limit: evidence kept until ``drain``; more is dropped and counted.
    """

    def __init__(self, world: World, host_name: str, *, queue_limit: int = QUEUE_LIMIT) -> None:
        self.world = world
        self.host_name = host_name
        self.queue_limit = queue_limit
        self._lock = threading.Lock()
        self._watches: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
        self._queue: deque[PresenceEvidence] = deque()
        self._lost = False
        self._signalled = False
        self._started = False
        self._on_event: Callable[[], None] = lambda: None
        self.stats = dict.fromkeys(
            ("evidence", "own-mac", "ignored-mac", "unwatched", "queue-drops", "probes"), 0
        )
        """Counters: evidence queued, probes sent, and every reason something was dropped."""

    # -- PresenceSource --------------------------------------------------------------------

    def start(self, on_event: Callable[[], None]) -> None:
        """Listen on the world's segments; ``on_event`` is called when evidence waits."""
        if self._started:
            raise RuntimeError("presence listener already started")
        self._on_event, self._started = on_event, True
        with self.world.lock:
            self.world.listeners.append(self._heard)

    def watch(
        self, interface: str, addresses: Collection[str], *, ignore_macs: Collection[str] = ()
    ) -> None:
        """Listen on ``interface`` for exactly ``addresses``; never for ``ignore_macs``.

        Raises:
            ValueError: an address or MAC is malformed (nothing changed).
            DataplaneError: the router has no such interface.
        """
        wanted = frozenset(str(ipaddress.IPv4Address(a)) for a in addresses)
        ignore = frozenset(_mac(m) for m in ignore_macs)
        if not wanted:
            with self._lock:
                self._watches.pop(interface, None)
            return
        if interface not in self.world.hosts[self.host_name].interfaces:
            raise DataplaneError(f"presence watch dev {interface}", "no such device")
        with self._lock:
            self._watches[interface] = (wanted, ignore)

    def drain(self) -> list[PresenceEvidence]:
        """Evidence heard since the last call, oldest first."""
        self.world.timers.catch_up(self.world.clock())
        with self._lock:
            out = list(self._queue)
            self._queue.clear()
            self._signalled = False
        return out

    def lost(self) -> bool:
        """Whether evidence was dropped since the last call (then reset)."""
        with self._lock:
            lost, self._lost = self._lost, False
        return lost

    def probe(self, interface: str, addresses: Collection[str]) -> None:
        """Send one RFC 5227 probe per address on a watched interface; answers arrive as
        ``probe-answer`` evidence ``ANSWER_DELAY`` later.

        Raises:
            DataplaneError: the interface is not watched.
        """
        with self._lock:
            watched = interface in self._watches
        if not watched:
            raise DataplaneError(
                f"presence probe dev {interface}",
                "not listening on this interface (watch it first)",
            )
        with self.world.lock:
            answers = [a for address in addresses for a in self._answers(interface, address)]
            at = self.world.clock() + ANSWER_DELAY
        self.stats["probes"] += len(addresses)
        if answers:
            self.world.timers.at(at, lambda: self._answered(interface, answers, at))

    def _answered(self, interface: str, answers: list[tuple[str, str]], at: float) -> None:
        self._take(interface, answers, at, "probe-answer")

    def close(self) -> None:
        """Stop listening."""
        with self.world.lock:
            if self._heard in self.world.listeners:
                self.world.listeners.remove(self._heard)
        with self._lock:
            self._watches.clear()
            self._started = False

    # -- the segment -----------------------------------------------------------------------

    def own_macs(self) -> frozenset[str]:
        return frozenset(i.mac for i in self.world.hosts[self.host_name].interfaces.values())

    def _listening(self, interface: str) -> bool:
        iface = self.world.hosts[self.host_name].interfaces.get(interface)
        return iface is not None and iface.up

    def _answers(self, interface: str, address: str) -> list[tuple[str, str]]:
        """(address, MAC) of every host on ``interface``'s segment that answers a probe."""
        port = (self.host_name, interface)
        if not self._listening(interface) or not isinstance(self.world.medium_of(port), Segment):
            return []
        out = []
        for host_name, ifname in self.world.segment_peers(*port):
            host = self.world.hosts[host_name]
            iface = host.interfaces.get(ifname)
            if iface is not None and iface.up and arp_answer(host, ifname, address) == "owner":
                out.append((address, iface.mac))
        return out

    def _heard(self, garp: Garp, ports: list[Port]) -> str:
        """A world listener (called under the world lock): an announcement on a link.
        Returns this router's name when it became evidence here, else ""."""
        took = False
        for host_name, ifname in ports:
            if host_name == self.host_name and self._listening(ifname):
                took = self._take(ifname, [(garp.address, garp.mac)], garp.at, garp.kind) or took
        return self.host_name if took else ""

    def _take(self, interface: str, sightings: list[tuple[str, str]], at: float, kind: str) -> bool:
        """Queue what of ``sightings`` is evidence; wake the engine. True when any was."""
        own = self.own_macs()
        with self._lock:
            watch = self._watches.get(interface)
            if watch is None:
                return False
            before = self.stats["evidence"]
            for address, mac in sightings:
                self._offer(_Sighting(interface, address, mac, at, kind), own, *watch)
            took = self.stats["evidence"] > before
            wake = bool(self._queue or self._lost) and not self._signalled
            self._signalled = self._signalled or wake
        if wake:
            self._on_event()
        return took

    def _offer(
        self,
        s: _Sighting,
        own: frozenset[str],
        addresses: frozenset[str],
        ignore: frozenset[str],
    ) -> None:
        """Under the lock: queue one sighting if it is evidence (module docstring)."""
        if s.mac in own:
            self.stats["own-mac"] += 1
        elif s.mac in ignore:
            self.stats["ignored-mac"] += 1
        elif s.address not in addresses and not (s.kind == "rarp" and not s.address):
            self.stats["unwatched"] += 1
        elif len(self._queue) >= self.queue_limit:
            self.stats["queue-drops"] += 1
            self._lost = True
        else:
            self._queue.append(PresenceEvidence(s.address, s.kind, s.mac, s.interface, s.at))
            self.stats["evidence"] += 1


class _Sighting(NamedTuple):
    interface: str
    address: str
    mac: str
    at: float
    kind: str


def _mac(text: str) -> str:
    mac = normalize_mac(text)
    parts = mac.split(":")
    if len(parts) != 6 or not all(
        len(p) == 2 and all(c in "0123456789abcdef" for c in p) for p in parts
    ):
        raise ValueError(f"{text!r} is not a MAC address (for example 02:00:00:28:08:fe)")
    return mac
