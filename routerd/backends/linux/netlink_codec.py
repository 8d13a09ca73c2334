"""A small rtnetlink wire codec packed with ``struct``: why routerd does not use pyroute2 here.

pyroute2 0.9.7 costs ~0.5 ms of CPU per message (1.3k-1.8k routes/s, a 50k-route dump in
9 s) while struct-packed messages on a plain ``AF_NETLINK`` socket reach ~25k/s ("Netlink"
in docs/background.md; D21 in docs/decisions.md). Cold apply of 10,000 claims must stay within
3x of ``ip -batch``, so the bulk paths (route, proxy-neighbour and address add/del, filtered
dumps, route lookups) encode and decode here, by hand. pyroute2 is still used where it is cheap
and convenient (link state and MTU, see ``links.py``).

Only what routerd sends and reads is covered: message headers, the ``rtmsg``, ``ndmsg``,
``ifaddrmsg`` and ``ifinfomsg`` bodies, flat attributes and the extended-ACK error form.
Everything is host byte order, as rtnetlink is.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Iterator
from typing import NamedTuple

# Message header: length, type, flags, sequence, port id.
NLMSGHDR = struct.Struct("=IHHII")
NLA = struct.Struct("=HH")
RTMSG = struct.Struct("=BBBBBBBBI")  # family dst_len src_len tos table proto scope type flags
NDMSG = struct.Struct("=BxxxiHBB")  # family ifindex state flags type
IFADDRMSG = struct.Struct("=BBBBI")  # family prefixlen flags scope index
IFINFOMSG = struct.Struct("=BxHiII")  # family type index flags change
U32 = struct.Struct("=I")
I32 = struct.Struct("=i")

NLMSG_NOOP = 1
NLMSG_ERROR = 2
NLMSG_DONE = 3

NLM_F_REQUEST = 0x1
NLM_F_MULTI = 0x2
NLM_F_ACK = 0x4
NLM_F_DUMP_INTR = 0x10
NLM_F_DUMP = 0x300
NLM_F_REPLACE = 0x100
NLM_F_EXCL = 0x200
NLM_F_CREATE = 0x400
NLM_F_ACK_TLVS = 0x200  # on NLMSG_ERROR: extended-ACK attributes follow

NLMSGERR_ATTR_MSG = 1

RTM_NEWLINK, RTM_DELLINK, RTM_GETLINK = 16, 17, 18
RTM_NEWADDR, RTM_DELADDR, RTM_GETADDR = 20, 21, 22
RTM_NEWROUTE, RTM_DELROUTE, RTM_GETROUTE = 24, 25, 26
RTM_NEWNEIGH, RTM_DELNEIGH, RTM_GETNEIGH = 28, 29, 30

RTA_DST, RTA_SRC, RTA_IIF, RTA_OIF, RTA_GATEWAY, RTA_PRIORITY, RTA_TABLE = 1, 2, 3, 4, 5, 6, 15
RTN_UNSPEC, RTN_UNICAST, RTN_LOCAL, RTN_BLACKHOLE = 0, 1, 2, 6
RT_SCOPE_UNIVERSE, RT_SCOPE_LINK, RT_SCOPE_NOWHERE = 0, 253, 255
RT_TABLE_UNSPEC = 0

NDA_DST, NDA_PROTOCOL = 1, 12
NTF_PROXY = 0x08
NUD_PERMANENT = 0x80

IFA_ADDRESS, IFA_LOCAL = 1, 2
IFLA_ADDRESS, IFLA_IFNAME = 1, 3

AF_INET = socket.AF_INET


class Message(NamedTuple):
    """One decoded netlink message (header fields plus the raw body).

    A NamedTuple rather than a frozen dataclass: dumps create one per route or proxy entry
    and tuple construction is several times cheaper.
    """

    type: int
    flags: int
    seq: int
    pid: int
    body: bytes


def align(n: int) -> int:
    return (n + 3) & ~3


def attr(kind: int, payload: bytes) -> bytes:
    """One netlink attribute, padded to 4 bytes."""
    length = NLA.size + len(payload)
    return NLA.pack(length, kind) + payload + b"\0" * (align(length) - length)


def attr_u32(kind: int, value: int) -> bytes:
    return attr(kind, U32.pack(value))


def attr_u8(kind: int, value: int) -> bytes:
    return attr(kind, bytes((value,)))


def attr_ip4(kind: int, address: str) -> bytes:
    return attr(kind, socket.inet_aton(address))


def pack_message(kind: int, flags: int, seq: int, body: bytes) -> bytes:
    """A complete message; the port id is 0 so the kernel fills in ours."""
    return NLMSGHDR.pack(NLMSGHDR.size + len(body), kind, flags, seq, 0) + body


def iter_messages(buf: bytes | memoryview, length: int | None = None) -> Iterator[Message]:
    """Split a buffer received from the kernel into messages."""
    end = len(buf) if length is None else length
    off = 0
    unpack = NLMSGHDR.unpack_from
    hdr = NLMSGHDR.size
    while off + hdr <= end:
        size, kind, flags, seq, pid = unpack(buf, off)
        if size < hdr or off + size > end:
            break
        yield Message(kind, flags, seq, pid, bytes(buf[off + hdr : off + size]))
        off += (size + 3) & ~3


def parse_attrs(body: bytes, offset: int) -> dict[int, bytes]:
    """Flat attributes after a fixed-size header; nested ones stay as raw bytes."""
    out: dict[int, bytes] = {}
    end = len(body)
    while offset + NLA.size <= end:
        length, kind = NLA.unpack_from(body, offset)
        if length < NLA.size:
            break
        out[kind & 0x3FFF] = body[offset + NLA.size : offset + length]
        offset += align(length)
    return out


def parse_error(msg: Message) -> tuple[int, str]:
    """``(errno, extended-ack text)`` of an NLMSG_ERROR; errno 0 is a plain ACK.

    With NETLINK_CAP_ACK the echoed request is only its header, so the extended-ACK
    attributes start right after it.
    """
    (err,) = I32.unpack_from(msg.body, 0)
    text = ""
    if msg.flags & NLM_F_ACK_TLVS:
        tlvs = parse_attrs(msg.body, 4 + NLMSGHDR.size)
        raw = tlvs.get(NLMSGERR_ATTR_MSG, b"")
        text = raw.rstrip(b"\0").decode(errors="replace")
    return -err, text


def ip4(raw: bytes) -> str:
    return socket.inet_ntoa(raw[:4])


def u32(raw: bytes) -> int:
    value: int = U32.unpack_from(raw, 0)[0]
    return value


def cstr(raw: bytes) -> str:
    return raw.split(b"\0", 1)[0].decode(errors="replace")
