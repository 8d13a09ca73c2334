"""The kernel's side of presence: reachable neighbour entries, and this router's own MACs.

Two things the presence listener learns from rtnetlink notifications:

* **Reachable neighbours.** The kernel marks a neighbour entry ``NUD_REACHABLE`` only when it
  has just confirmed the host: an ARP reply to the kernel's own request, or traffic the host
  acknowledged (TCP). That is presence without any ARP frame for the listener to see (a
  host that only talks to the router). The other valid states are the kernel's doubt, not
  evidence: ``STALE`` is what an entry decays into minutes after the host went silent (an
  entry for a VM that just moved away is STALE, and counting it would claim the address
  back: ping-pong), and ``DELAY``/``PROBE`` mean the kernel is checking whether it is still
  there. A fresh host's ARP request also creates a STALE entry, but the listener sees that
  request itself.
* **This router's MACs.** Evidence carrying one of them is this router answering (proxy-ARP)
  and never presence; a bridge's MAC can change under us, so the set follows link
  notifications.
"""

from __future__ import annotations

import socket
from typing import NamedTuple

from routerd.backends.linux import netlink_codec as nl
from routerd.backends.linux.netlink_socket import RCVBUF, SO_RCVBUFFORCE, NetlinkSocket

RTMGRP_LINK, RTMGRP_NEIGH = 0x1, 0x4
NDA_LLADDR = 2
NUD_REACHABLE = 0x02


class Reachable(NamedTuple):
    """A neighbour the kernel just confirmed: ``ip`` (4 bytes) at ``mac`` on ``ifindex``."""

    ifindex: int
    ip: bytes
    mac: bytes


class LinkMac(NamedTuple):
    """A link's MAC (``b""`` when it has none or was deleted)."""

    # The link index under the name netlink gives it; it shadows tuple.index, which nothing
    # here calls on a LinkMac.
    index: int  # type: ignore[assignment]
    name: str
    mac: bytes
    deleted: bool


def reachable(msg: nl.Message) -> Reachable | None:
    """The confirmed IPv4 neighbour a notification reports, if it reports one."""
    if msg.type != nl.RTM_NEWNEIGH or len(msg.body) < nl.NDMSG.size:
        return None
    family, ifindex, state, flags, _ = nl.NDMSG.unpack_from(msg.body, 0)
    if family != nl.AF_INET or flags & nl.NTF_PROXY or not state & NUD_REACHABLE:
        return None
    attrs = nl.parse_attrs(msg.body, nl.NDMSG.size)
    ip, mac = attrs.get(nl.NDA_DST), attrs.get(NDA_LLADDR)
    if ip is None or mac is None or len(ip) != 4 or len(mac) != 6:
        return None
    return Reachable(ifindex, ip, mac)


def link_mac(msg: nl.Message) -> LinkMac | None:
    """A link notification's index, name and MAC (None for any other message)."""
    if msg.type not in (nl.RTM_NEWLINK, nl.RTM_DELLINK) or len(msg.body) < nl.IFINFOMSG.size:
        return None
    _, _, index, _, _ = nl.IFINFOMSG.unpack_from(msg.body, 0)
    attrs = nl.parse_attrs(msg.body, nl.IFINFOMSG.size)
    name = nl.cstr(attrs.get(nl.IFLA_IFNAME, b""))
    mac = attrs.get(nl.IFLA_ADDRESS, b"")
    deleted = msg.type == nl.RTM_DELLINK
    return LinkMac(index, name, b"" if deleted or len(mac) != 6 else mac, deleted)


def subscribe() -> socket.socket:
    """A socket receiving link and neighbour notifications (subscribe before dumping)."""
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC)
    try:
        s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, RCVBUF)
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
    s.bind((0, RTMGRP_LINK | RTMGRP_NEIGH))
    return s


def dump_links() -> list[LinkMac]:
    """Every link's MAC now (a dump on a socket of its own)."""
    sock = NetlinkSocket()
    try:
        msgs = sock.dump(nl.RTM_GETLINK, nl.IFINFOMSG.pack(socket.AF_UNSPEC, 0, 0, 0, 0))
    finally:
        sock.close()
    return [link for link in map(link_mac, msgs) if link is not None]
