"""The packet walk: how a simulated IPv4 packet moves through hosts, links and tunnels.

One ``Walk`` follows one packet and writes every step into a ``Trace``. The steps mirror the
Linux receive and transmit paths closely enough that SAM's failure modes fall out of them
rather than being special-cased:

* local delivery comes first: an address on *any* interface of a host is consumed there, so
  a captured address an agent put back on the router's NIC swallows the traffic;
* forwarding needs ``forwarding`` on the incoming device, passes ``rp_filter``, the FORWARD
  filter and the MSS clamp table, then a longest-prefix route lookup;
* every egress checks the interface MTU and every link its hop MTU, with DF semantics:
  too big with DF is dropped (ICMP "fragmentation needed" reaches the sender unless the hop
  black-holes it), without DF it is fragmented;
* a partition (``World.cut_underlay``) drops what a host forwards between two hosts cut
  apart: the internet between two sites' routers, tunnels and handshakes included;
* a WireGuard device picks its peer by allowed IPs, needs an endpoint and a live session
  (``handshake``), wraps the packet in a 60-byte-larger UDP packet and sends *that* through
  the underlay; the receiver checks the inner source against the sender's allowed IPs.

The outer UDP packet is sent with DF, as wireguard-go's socket does (IP_PMTUDISC_WANT): when
the hop's ICMP reaches the router it learns the path MTU and fragments, when the hop
black-holes ICMP the packet is simply gone — the OCI symptom.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import handshake
from .fib import RouteEntry
from .host import Host, Interface
from .packet import WIREGUARD_OVERHEAD_V4, Drop, Packet, Trace
from .wireguard import split_endpoint

if TYPE_CHECKING:
    from .world import World


class Walk:
    """Follows one packet from its sender until it is delivered or dropped."""

    def __init__(self, world: World, trace: Trace) -> None:
        self.world = world
        self.trace = trace

    # -- sending -----------------------------------------------------------------------

    def originate(self, host: Host, pkt: Packet) -> None:
        """A packet created by ``host`` itself (OUTPUT path: no forwarding checks)."""
        self.trace.current = pkt
        if host.is_local(pkt.dst):
            pkt = pkt if pkt.src else pkt.with_(src=pkt.dst)
            self.trace.current = pkt
            self._note_source(pkt)
            self.local_in(host, "lo", pkt)
            return
        route = host.fib.lookup(pkt.dst)
        if route is None:
            self.trace.drop(host.name, "", Drop.NO_ROUTE, f"no route to {pkt.dst}")
            return
        if not pkt.src:
            pkt = pkt.with_(src=host.source_for(route))
        self.trace.current = pkt
        self._note_source(pkt)
        self.trace.hop(host.name, route.dev, "send", _describe(pkt))
        self.egress(host, route, pkt)

    def _note_source(self, pkt: Packet) -> None:
        if not self.trace.src_ip:
            self.trace.src_ip = pkt.src

    def egress(self, host: Host, route: RouteEntry, pkt: Packet) -> None:
        self.trace.current = pkt
        iface = host.interfaces.get(route.dev)
        if iface is None or not iface.up:
            self.trace.drop(
                host.name, route.dev, Drop.INTERFACE_DOWN, f"{route.dev} missing or down"
            )
            return
        fitted = self._fit(host.name, iface.name, iface.mtu, pkt, black_hole=False)
        if fitted is None:
            return
        if iface.kind == "wireguard":
            self.wg_send(host, iface, fitted)
        else:
            self.transmit(host, iface, route.gateway or fitted.dst, fitted)

    def transmit(self, host: Host, iface: Interface, nexthop: str, pkt: Packet) -> None:
        """Put ``pkt`` on the link behind ``iface`` toward ``nexthop``."""
        self.trace.current = pkt
        port = (host.name, iface.name)
        medium = self.world.medium_of(port)
        if medium is None:
            self.trace.drop(host.name, iface.name, Drop.NO_CARRIER)
            return
        target = medium.resolve(self.world.hosts, port, pkt, nexthop, self.trace)
        if target is None:
            return
        fitted = self._fit(medium.name, "", medium.mtu, pkt, black_hole=medium.icmp_blackhole)
        if fitted is not None:
            self.ingress(self.world.hosts[target[0]], target[1], fitted)

    def _fit(
        self, where: str, ifname: str, mtu: int, pkt: Packet, *, black_hole: bool
    ) -> Packet | None:
        """Apply an MTU: pass, fragment, or drop (recording whether ICMP got back)."""
        if not mtu or pkt.size <= mtu:
            return pkt
        detail = f"{pkt.size} > mtu {mtu}"
        if not pkt.df or (pkt.inner is not None and not black_hole):
            self.trace.hop(where, ifname, "fragment", detail)
            return pkt.with_(size=mtu)
        if black_hole:
            self.trace.drop(where, ifname, Drop.PMTU_BLACK_HOLE, detail + ", no ICMP comes back")
        else:
            self.trace.drop(where, ifname, Drop.FRAG_NEEDED, detail + ", ICMP sent to sender")
            if pkt.inner is None:
                self.trace.frag_needed_mtu = mtu
        return None

    # -- receiving ---------------------------------------------------------------------

    def ingress(self, host: Host, ifname: str, pkt: Packet) -> None:
        self.trace.current = pkt
        if host.is_local(pkt.dst):
            self.local_in(host, ifname, pkt)
        else:
            self.forward(host, ifname, pkt)

    def local_in(self, host: Host, ifname: str, pkt: Packet) -> None:
        if ifname != "lo" and not self._rp_ok(host, ifname, pkt):
            return
        if ifname != "lo" and not host.firewall.allows("INPUT", pkt, ifname):
            self.trace.drop(host.name, ifname, Drop.FIREWALL_INPUT, _describe(pkt))
            return
        if pkt.inner is not None:
            self.wg_receive(host, ifname, pkt)
        else:
            self.trace.deliver(host.name, ifname, pkt)

    def forward(self, host: Host, ifname: str, pkt: Packet) -> None:
        self.trace.current = pkt
        if not host.forwarding(ifname):
            self.trace.drop(host.name, ifname, Drop.FORWARDING_DISABLED, f"to {pkt.dst}")
            return
        cut = self.world.underlay_cut(pkt.src, pkt.dst)
        if cut is not None:
            self.trace.drop(
                host.name, ifname, Drop.PARTITION, f"{cut[0]} and {cut[1]} are cut apart"
            )
            return
        if pkt.ttl <= 1:
            self.trace.drop(host.name, ifname, Drop.TTL_EXCEEDED)
            return
        if not self._rp_ok(host, ifname, pkt):
            return
        route = host.fib.lookup(pkt.dst)
        if route is None or route.type == "blackhole":
            reason = Drop.NO_ROUTE if route is None else Drop.BLACKHOLE_ROUTE
            self.trace.drop(host.name, ifname, reason, f"to {pkt.dst}")
            return
        if not host.firewall.allows("FORWARD", pkt, ifname, route.dev):
            self.trace.drop(host.name, ifname, Drop.FIREWALL_FORWARD, f"{ifname} -> {route.dev}")
            return
        pkt = self._clamp(host, ifname, route.dev, pkt)
        self.trace.current = pkt
        self.trace.hop(host.name, ifname, "forward", f"-> {route.dev}")
        self.egress(host, route, pkt.with_(ttl=pkt.ttl - 1))

    def _rp_ok(self, host: Host, ifname: str, pkt: Packet) -> bool:
        mode = host.rp_filter(ifname)
        if mode == 0:
            return True
        back = host.fib.lookup(pkt.src)
        if back is not None and (mode == 2 or back.dev == ifname):
            return True
        self.trace.drop(host.name, ifname, Drop.RP_FILTER, f"source {pkt.src} (mode {mode})")
        return False

    def _clamp(self, host: Host, iif: str, oif: str, pkt: Packet) -> Packet:
        if pkt.proto != "tcp" or not pkt.syn or pkt.mss is None:
            return pkt
        limit = host.clamp_for(iif, oif)
        if limit is None or pkt.mss <= limit:
            return pkt
        self.trace.hop(host.name, iif, "clamp mss", f"{pkt.mss} -> {limit} ({iif} -> {oif})")
        return pkt.with_(mss=limit)

    # -- WireGuard ---------------------------------------------------------------------

    def wg_send(self, host: Host, iface: Interface, pkt: Packet) -> None:
        self.trace.current = pkt
        dev = host.wireguard.get(iface.name)
        peer = dev.peer_for(pkt.dst) if dev is not None else None
        if dev is None or peer is None:
            self.trace.drop(host.name, iface.name, Drop.NO_WG_PEER, f"dst {pkt.dst}")
            return
        failure = handshake.ensure_session(self.world, host, dev, peer)
        if failure is not None:
            reason = Drop.WG_HANDSHAKE if peer.endpoint else Drop.WG_NO_ENDPOINT
            self.trace.drop(host.name, iface.name, reason, failure)
            return
        ep_ip, ep_port = split_endpoint(peer.endpoint)
        outer = Packet(
            src="",
            dst=ep_ip,
            size=pkt.size + WIREGUARD_OVERHEAD_V4,
            proto="udp",
            sport=dev.listen_port,
            dport=ep_port,
            inner=pkt,
            wg_from=(host.name, dev.ifname),
        )
        self.trace.hop(host.name, iface.name, "encap", f"to {peer.endpoint}, {outer.size}B")
        self.originate(host, outer)

    def wg_receive(self, host: Host, ifname: str, outer: Packet) -> None:
        self.trace.current = outer
        dev = next((d for d in host.wireguard.values() if d.listen_port == outer.dport), None)
        if dev is None or outer.inner is None or outer.wg_from is None:
            self.trace.drop(host.name, ifname, Drop.WG_NO_LISTENER, f"udp/{outer.dport}")
            return
        sender = self.world.hosts[outer.wg_from[0]].wireguard.get(outer.wg_from[1])
        peer = dev.peers.get(sender.public_key) if sender is not None else None
        iface = host.interfaces.get(dev.ifname)
        if peer is None or iface is None or not iface.up:
            self.trace.drop(host.name, dev.ifname, Drop.WG_HANDSHAKE, "no session with sender")
            return
        inner = outer.inner
        if not dev.allows_source(peer, inner.src):
            self.trace.drop(host.name, dev.ifname, Drop.WG_SOURCE, f"src {inner.src}")
            return
        self.trace.hop(host.name, dev.ifname, "decap", _describe(inner))
        self.ingress(host, dev.ifname, inner)


def _describe(pkt: Packet) -> str:
    ports = f":{pkt.dport}" if pkt.dport else ""
    flags = f" syn mss {pkt.mss}" if pkt.syn else ""
    return f"{pkt.src} -> {pkt.dst}{ports} {pkt.proto} {pkt.size}B{' DF' if pkt.df else ''}{flags}"
