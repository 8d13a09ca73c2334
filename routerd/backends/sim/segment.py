"""L2 segments (veth-like point-to-point links and bridges) and Linux ARP, proxy-ARP included.

A frame crosses a segment to whichever member answers ARP for the next hop. Answers follow
the Linux rules:

* a host answers for any address configured on *any* of its interfaces (``arp_ignore=0``),
  or, with ``arp_ignore`` 1 or more on the receiving device (the larger of ``all`` and its
  own), only for addresses configured on that device;
* a host answers for a non-local target T on the receiving device D only if ``proxy_arp`` is
  on for D (``conf.D`` or ``conf.all``), the input route for T, looked up from the asker's
  address as if it came in through D (``input_route``), is unicast via a *different* device
  O (that lookup needs forwarding on D and passes D's ``rp_filter``), and D and O are not
  one medium (``medium_id``: 0 on D answers for any O, -1 on either never, else they must
  differ). There is no per-address proxy entry: routerd captures by route
  (``routerd.core.capture``);
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


def input_route(host: Host, dev: str, target: str, source: str) -> tuple[str, str, str]:
    """``ip route get TARGET from SOURCE iif DEV`` as the kernel answers it.

    Args:
        host: the host asked.
        dev: the device the packet would come in through.
        target: the destination looked up.
        source: the sender's address ("" skips the reverse-path check).

    Returns:
        ``(route type, device, error)``; the type is "" when ``error`` says why none.
    """
    if host.is_local(target):
        return "local", "lo", ""
    if not host.forwarding(dev):
        return "", "", "No route to host (forwarding is off on the incoming device)"
    route = host.fib.lookup(target)
    if route is None:
        return "", "", "Network is unreachable"
    mode = host.rp_filter(dev) if source else 0
    if mode:
        back = host.fib.lookup(source)
        if back is None or (mode == 1 and back.dev != dev):
            return "", "", "Invalid argument (rp_filter: the source does not route back here)"
    return route.type, route.dev, ""


def arp_answer(host: Host, dev: str, target: str, sender: str = "") -> str | None:
    """How ``host`` answers an ARP request from ``sender`` for ``target`` arriving on ``dev``.

    Returns:
        "owner" when the address is local, "proxy" when the proxy-ARP rules hold, else None.
    """
    if host.is_local(target):
        if host.arp_ignore(dev) and dev not in host.local_ips[target]:
            return None
        return "owner"
    if sender == "0.0.0.0" or not host.proxy_arp(dev):
        return None  # the kernel proxies no probe (sender 0.0.0.0)
    kind, out, error = input_route(host, dev, target, sender)
    if error or kind != "unicast" or out == dev:
        return None
    return "proxy" if _other_medium(host, dev, out) else None


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
        sender_ip = hosts[sender[0]].interfaces[sender[1]].first_address()
        proxy: Port | None = None
        for port in self.listeners(hosts):
            if port == sender:
                continue
            host = hosts[port[0]]
            iface = host.interfaces.get(port[1])
            if iface is None or not iface.up:
                continue
            answer = arp_answer(host, port[1], nexthop, sender_ip)
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
