"""L2 segments (veth-like point-to-point links and bridges) and Linux ARP, proxy-ARP included.

A frame crosses a segment to whichever member answers ARP for the next hop. Answers follow
the Linux rules:

* a host answers for any address configured on *any* of its interfaces (``arp_ignore=0``),
  or, with ``arp_ignore`` 1 or more on the receiving device (the larger of ``all`` and its
  own), only for addresses configured on that device;
* a host answers for a non-local target T on the receiving device D only if forwarding is on
  for D, the route to T is unicast via a *different* device O, and a proxy neighbour for T
  on D exists, or ``conf.D.proxy_arp=1`` (or ``conf.all``) and D and O are not one medium
  (``medium_id``: 0 on D answers for any O, -1 on either never, else they must differ);
* a macvlan child of a member port (an anycast-gateway device) hears what its parent hears
  and answers on its own, with its own MAC, by the same rules: the frame then reaches the
  child.

The genuine owner of an address wins over proxies (Linux delays proxy replies by
``proxy_delay``, so the owner's reply is the one that sticks). A segment may also carry a
hop MTU — a narrower link in the middle, optionally black-holing ICMP (OCI's underlay).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .packet import Drop, Packet, Trace

if TYPE_CHECKING:
    from .host import Host

Port = tuple[str, str]  # (host name, interface name)


def arp_answer(host: Host, dev: str, target: str) -> str | None:
    """How ``host`` answers an ARP request for ``target`` arriving on ``dev``.

    Returns:
        "owner" when the address is local, "proxy" when the proxy-ARP rules hold, else None.
    """
    if host.is_local(target):
        if host.arp_ignore(dev) and dev not in host.local_ips[target]:
            return None
        return "owner"
    if not host.forwarding(dev):
        return None
    route = host.fib.lookup(target)
    if route is None or route.type != "unicast" or route.dev == dev:
        return None
    if (target, dev) in host.proxy_neighbours:
        return "proxy"
    if host.proxy_arp(dev) and _other_medium(host, dev, route.dev):
        return "proxy"
    return None


def _other_medium(host: Host, dev: str, out: str) -> bool:
    """The kernel's ``arp_fwd_proxy`` medium rule for a route from ``dev`` out of ``out``."""
    mine = host.medium_id(dev)
    if mine in (0, -1):
        return mine == 0
    theirs = host.medium_id(out)
    return theirs not in (mine, -1)


@dataclass
class Segment:
    """A broadcast domain: a veth pair (two members) or a bridge (many).

    Attributes:
        mtu: hop MTU inside the segment (0 = no narrower hop).
        icmp_blackhole: a DF packet over ``mtu`` vanishes without "fragmentation needed".
    """

    name: str
    mtu: int = 0
    icmp_blackhole: bool = False
    members: list[Port] = field(default_factory=list)

    def attach(self, port: Port) -> None:
        self.members.append(port)

    def detach(self, port: Port) -> None:
        if port in self.members:
            self.members.remove(port)

    def listeners(self, hosts: dict[str, Host]) -> list[Port]:
        """Every port that hears the segment: members, and each member's macvlan children
        (right after their parent)."""
        out: list[Port] = []
        for port in self.members:
            out.append(port)
            host = hosts.get(port[0])
            if host is not None:
                out += [(port[0], child.name) for child in host.children(port[1])]
        return out

    def resolve(
        self, hosts: dict[str, Host], sender: Port, pkt: Packet, nexthop: str, trace: Trace
    ) -> Port | None:
        """The member port a frame for ``nexthop`` reaches, or None (drop recorded)."""
        del pkt  # L2 delivery depends only on the next hop
        proxy: Port | None = None
        for port in self.listeners(hosts):
            if port == sender:
                continue
            host = hosts[port[0]]
            iface = host.interfaces.get(port[1])
            if iface is None or not iface.up:
                continue
            answer = arp_answer(host, port[1], nexthop)
            if answer == "owner":
                trace.hop(sender[0], sender[1], "arp", f"{nexthop} is-at {iface.mac} ({port[0]})")
                return port
            if answer == "proxy" and proxy is None:
                proxy = port
        if proxy is not None:
            mac = hosts[proxy[0]].interfaces[proxy[1]].mac
            trace.hop(sender[0], sender[1], "arp", f"{nexthop} is-at {mac} (proxy {proxy[0]})")
            return proxy
        trace.drop(
            sender[0], sender[1], Drop.ARP_UNRESOLVED, f"no reply for {nexthop} on {self.name}"
        )
        return None
