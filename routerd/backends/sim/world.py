"""The simulated world: hosts, the links between them, a clock, and the oracle questions.

``World`` is the single object tests, the demo and ``SimBackend`` share. It owns

* the topology — hosts, L2 segments and provider fabrics, and which interface plugs into
  which (``connect``);
* an injectable clock (WireGuard handshake times come from it) and the queue of things due
  later in it (``timers``: BGP updates in flight, hold timers, answers to probes);
* the oracle: ``trace``/``ping``/``tcp_transfer``/``reaches`` answer whether packets arrive;
* fault injection (``routerd.backends.sim.faults``): changes made "behind the engine's back",
  each of which calls the host's watchers the way a netlink event would;
* what address mobility reads: link-layer announcements (gratuitous ARP, RARP) heard by the
  routers' presence sources (``listeners``), the BGP fabric of the routers' speakers
  (``bgp``, built on first use), and underlay partitions between hosts (``cut_underlay``).

One re-entrant lock guards the state, so a test thread may inject faults while a daemon
thread applies changes. Watcher callbacks run after the lock is released.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from . import tcp
from .fabric import ProviderFabric
from .faults import FaultInjection
from .forwarding import Walk
from .host import Host, Interface
from .packet import Packet, Proto, Trace
from .segment import Port, Segment
from .timers import TimerQueue
from .wireguard import WgDevice

if TYPE_CHECKING:
    from .bgp.fabric import BgpFabric

Medium = Segment | ProviderFabric


class ManualClock:
    """A clock tests move by hand (``advance``); the world calls it for the time."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass(frozen=True, slots=True)
class Garp:
    """A gratuitous ARP that was sent: who announced which address on which device.

    ``kind`` is ``garp``, or ``rarp`` for a RARP request (``address`` then empty: a
    hypervisor announcing a resumed VM names only its MAC); ``heard_by`` the hosts whose
    presence source took it as evidence.
    """

    host: str
    dev: str
    address: str
    mac: str
    kind: str = "garp"
    at: float = 0.0
    heard_by: tuple[str, ...] = ()
    to: str = ""
    """The MAC of the one host it was sent to ("" : broadcast)."""


class World(FaultInjection):
    """Hosts, links, clock and oracle of one simulation."""

    def __init__(self, *, clock: Callable[[], float] | None = None) -> None:
        super().__init__()
        self.clock: Callable[[], float] = clock or time.monotonic
        self.lock = threading.RLock()
        self.hosts: dict[str, Host] = {}
        self.media: dict[str, Medium] = {}
        self.garps: list[Garp] = []
        self.handshake_blocked: set[Port] = set()
        """WireGuard devices ``(host, ifname)`` whose handshake packets are lost (a fault)."""
        self.timers = TimerQueue()
        self.listeners: list[Callable[[Garp, list[Port]], str]] = []
        """Presence sources: called with each announcement and the ports on its link that
        hear it; each returns its host's name when it took it as evidence, else ""."""
        self.underlay_cuts: dict[frozenset[str], int] = {}
        """Pairs of hosts between which the underlay forwards nothing (partitions)."""
        self._attached: dict[Port, Medium] = {}
        self._bgp: BgpFabric | None = None

    @property
    def bgp(self) -> BgpFabric:
        """The BGP fabric of the routers' speakers (built on first use)."""
        with self.lock:
            if self._bgp is None:
                from .bgp.fabric import BgpFabric

                self._bgp = BgpFabric(self.clock, self.timers)
            return self._bgp

    @property
    def has_bgp(self) -> bool:
        return self._bgp is not None

    # -- topology --------------------------------------------------------------------------

    def add_host(self, name: str) -> Host:
        host = Host(name, mac_prefix=len(self.hosts) + 1)
        self.hosts[name] = host
        return host

    def host(self, name: str) -> Host:
        return self.hosts[name]

    def add_segment(self, name: str, *, mtu: int = 0, icmp_blackhole: bool = False) -> Segment:
        """A veth pair or bridge; ``mtu``/``icmp_blackhole`` model a narrower hop inside it."""
        seg = Segment(name, mtu=mtu, icmp_blackhole=icmp_blackhole)
        self.media[name] = seg
        return seg

    def add_fabric(self, name: str, subnet: str, gateway: str) -> ProviderFabric:
        fabric = ProviderFabric(name, subnet, gateway)
        self.media[name] = fabric
        return fabric

    def connect(
        self,
        host: str,
        ifname: str,
        medium: str,
        *,
        address: str = "",
        mtu: int = 1500,
        forwarding: bool = False,
    ) -> Interface:
        """Create ``ifname`` on ``host`` and plug it into ``medium``.

        Args:
            address: interface-form CIDR to configure; on a fabric it is also the NIC's
                primary private IP.
            forwarding: the provider's forwarding flag (fabric NICs only).
        """
        h = self.hosts[host]
        iface = h.add_interface(ifname, mtu=mtu)
        if address:
            h.add_address(ifname, address)
        m = self.media[medium]
        if isinstance(m, ProviderFabric):
            m.attach((host, ifname), address=address.split("/")[0], forwarding=forwarding)
        else:
            m.attach((host, ifname))
        self._attached[(host, ifname)] = m
        return iface

    def medium_of(self, port: Port) -> Medium | None:
        """The medium ``port`` is plugged into (a macvlan child: its parent's)."""
        medium = self._attached.get(port)
        if medium is None:
            iface = self.hosts[port[0]].interfaces.get(port[1]) if port[0] in self.hosts else None
            if iface is not None and iface.parent:
                return self._attached.get((port[0], iface.parent))
        return medium

    def move_port(self, host: str, ifname: str, medium: str) -> Medium | None:
        """Unplug ``host/ifname`` and plug it into ``medium``; the interface keeps its addresses.

        Leaving a provider fabric releases the NIC's private IPs there; joining one assigns
        the interface's addresses to it, taking each from whichever NIC held it (one address,
        one NIC: a router's secondary IP moves to the arriving VM).

        Returns:
            The medium the port was plugged into before (None: it was not plugged in).
        """
        port = (host, ifname)
        with self.lock:
            iface = self.hosts[host].iface(ifname)
            target = self.media[medium]
            old = self._attached.pop(port, None)
            if old is not None:
                old.detach(port)
            if isinstance(target, ProviderFabric):
                target.attach(port)
                for cidr in iface.addresses:
                    target.assign(port, cidr.split("/")[0])
            else:
                target.attach(port)
            self._attached[port] = target
            return old

    def segment_peers(self, host: str, ifname: str) -> list[Port]:
        """Other ports on the link behind ``host/ifname`` (fabric: every other NIC)."""
        m = self.medium_of((host, ifname))
        if m is None:
            return []
        ports = m.nics if isinstance(m, ProviderFabric) else m.members
        iface = self.hosts[host].interfaces.get(ifname)
        own = {(host, ifname), (host, iface.parent if iface is not None else ifname)}
        return [p for p in ports if p not in own]

    def wireguard_by_key(self, public_key: str) -> tuple[Host, WgDevice] | None:
        """The device whose public key is ``public_key`` (a handful of hosts: a scan)."""
        for host in self.hosts.values():
            for dev in host.wireguard.values():
                if dev.public_key == public_key:
                    return host, dev
        return None

    def record_garp(
        self, host: str, dev: str, address: str, *, kind: str = "garp", to: str = ""
    ) -> Garp:
        """Send a gratuitous ARP (or, ``kind="rarp"``, a RARP request naming only the MAC):
        every neighbour on the link updates its cache, and presence sources listening on
        an L2 segment hear it (``listeners``). A provider fabric carries no broadcast.
        ``to`` sends it to the one host with that MAC instead (only it hears it)."""
        with self.lock:
            iface = self.hosts[host].iface(dev)
            garp = Garp(
                host, dev, "" if kind == "rarp" else address, iface.mac, kind, self.clock(), to=to
            )
            heard: list[Port] = []
            if iface.up and isinstance(self.medium_of((host, dev)), Segment):
                heard = self.segment_peers(host, dev)
            if to:
                heard = [p for p in heard if self.hosts[p[0]].interfaces[p[1]].mac == to]
            for peer_host, peer_if in heard:
                if garp.address:
                    self.hosts[peer_host].neighbours[(peer_if, address)] = iface.mac
            names = [listener(garp, heard) for listener in list(self.listeners)]
            garp = replace(garp, heard_by=tuple(dict.fromkeys(n for n in names if n)))
            self.garps.append(garp)
            return garp

    # -- partitions of the underlay --------------------------------------------------------

    def cut_underlay(self, pairs: list[frozenset[str]], *, heal: bool = False) -> None:
        """Stop (or, ``heal``, restore) forwarding between each pair of hosts' addresses.

        Cuts are counted: two partitions over one pair need two heals.
        """
        with self.lock:
            for pair in pairs:
                count = self.underlay_cuts.get(pair, 0) + (-1 if heal else 1)
                if count > 0:
                    self.underlay_cuts[pair] = count
                else:
                    self.underlay_cuts.pop(pair, None)

    def underlay_cut(self, src: str, dst: str) -> tuple[str, str] | None:
        """The hosts a packet from ``src`` to ``dst`` travels between, if a partition cuts
        them apart (None when nothing does)."""
        if not self.underlay_cuts:
            return None
        a = next((h.name for h in self.hosts.values() if h.is_local(src)), None)
        b = next((h.name for h in self.hosts.values() if h.is_local(dst)), None)
        if a is None or b is None or frozenset((a, b)) not in self.underlay_cuts:
            return None
        return a, b

    # -- oracle ----------------------------------------------------------------------------

    def trace(
        self,
        src_host: str,
        dst_ip: str,
        size: int = 84,
        *,
        df: bool = True,
        proto: Proto = "icmp",
        src_ip: str = "",
        sport: int = 0,
        dport: int = 0,
        syn: bool = False,
        mss: int | None = None,
    ) -> Trace:
        """Send one packet from ``src_host`` and report what became of it.

        Args:
            src_host: sending host.
            dst_ip: destination address.
            size: total IPv4 length in bytes.
            df: Don't-Fragment bit.
            proto: icmp, tcp or udp.
            src_ip: source address; "" lets the host pick as Linux would.
            sport / dport: transport ports.
            syn / mss: a TCP SYN carrying this MSS option (clamps may rewrite it).

        Returns:
            The trace: hops, delivery, destination host, source seen, drop reason.
        """
        pkt = Packet(src_ip, dst_ip, size, df, proto, sport, dport, syn, mss)
        trace = Trace(src_host, dst_ip, src_ip=src_ip)
        with self.lock:
            Walk(self, trace).originate(self.hosts[src_host], pkt)
        return trace

    def ping(self, src_host: str, dst_ip: str, size: int = 56, *, src_ip: str = "") -> tcp.Ping:
        """ICMP echo request and reply (each over its own path); see ``tcp.ping``."""
        return tcp.ping(self, src_host, dst_ip, size, src_ip=src_ip)

    def tcp_transfer(
        self, src_host: str, dst_ip: str, nbytes: int, *, dport: int = 22
    ) -> tcp.Transfer:
        """A bulk TCP transfer with MSS negotiation and PMTU discovery; see ``tcp.transfer``."""
        return tcp.transfer(self, src_host, dst_ip, nbytes, dport=dport)

    def reaches(self, src_host: str, dst_ip: str, *, dst_host: str | None = None) -> bool:
        """Whether a ping from ``src_host`` to ``dst_ip`` succeeds (optionally at ``dst_host``)."""
        result = self.ping(src_host, dst_ip)
        return result.ok and (dst_host is None or result.request.dst_host == dst_host)
