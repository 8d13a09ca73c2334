"""Proxy-ARP neighbour entries (``ip neigh add proxy ADDR dev DEV``): encoding and dump.

routerd marks its entries with the same protocol number as its routes (``NDA_PROTOCOL``,
Linux 5.0+). The kernel sends no netlink notification when a proxy entry is added or
deleted (verified on 6.18: ``ip monitor`` stays silent), so drift on these entries is found
by the backend's periodic compare against ``dump`` instead of by events.

Note that the kernel's proxy add never fails with EEXIST: it overwrites the flags and the
protocol of an existing entry. The backend therefore never sends an add for an entry it
saw present (whoever owns it), so a foreign entry is never relabelled as routerd's.
"""

from __future__ import annotations

import os
import socket
import struct
from dataclasses import dataclass

from routerd.backends.linux import netlink_codec as nl
from routerd.backends.linux.netlink_socket import NetlinkSocket, Request
from routerd.backends.linux.routes import ROUTERD_PROTO

ADD_FLAGS = nl.NLM_F_ACK | nl.NLM_F_CREATE | nl.NLM_F_REPLACE


@dataclass(frozen=True, slots=True)
class ProxyEntry:
    address: str
    ifindex: int
    protocol: int  # 0 when the kernel does not report one


def kernel_supports_protocol(release: str | None = None) -> bool:
    """Whether proxy entries carry ``NDA_PROTOCOL`` (added in Linux 5.0)."""
    rel = release if release is not None else os.uname().release
    try:
        major, minor = (int(x) for x in rel.split("-", 1)[0].split(".")[:2])
    except ValueError:
        return True
    return (major, minor) >= (5, 0)


def _body(address: str, ifindex: int, *, protocol: bool) -> bytes:
    body = nl.NDMSG.pack(nl.AF_INET, ifindex, nl.NUD_PERMANENT, nl.NTF_PROXY, 0)
    body += nl.attr_ip4(nl.NDA_DST, address)
    if protocol:
        body += nl.attr_u8(nl.NDA_PROTOCOL, ROUTERD_PROTO)
    return body


def encode_add(address: str, ifindex: int) -> Request:
    return Request(nl.RTM_NEWNEIGH, ADD_FLAGS, _body(address, ifindex, protocol=True))


def encode_delete(address: str, ifindex: int) -> Request:
    return Request(nl.RTM_DELNEIGH, nl.NLM_F_ACK, _body(address, ifindex, protocol=False))


_FAST = struct.Struct("=BxxxiHBBHH4sHHB")  # ndmsg, NDA_DST(4), NDA_PROTOCOL(u8)
_DST_HDR = (8, nl.NDA_DST)
_PROTO_HDR = (5, nl.NDA_PROTOCOL)


def decode(body: bytes) -> ProxyEntry | None:
    """One proxy entry; the kernel's fixed layout (dst, then protocol) is read directly.

    The direct read keeps a 10,000-entry drift poll cheap; any other layout falls back to
    the generic attribute parser.
    """
    if len(body) >= _FAST.size:
        fam, ifindex, _, flags, _, dlen, dtype, dst, plen, ptype, proto = _FAST.unpack_from(body)
        if (dlen, dtype) == _DST_HDR and (plen, ptype) == _PROTO_HDR:
            if fam != nl.AF_INET or not flags & nl.NTF_PROXY:
                return None
            return ProxyEntry(socket.inet_ntoa(dst), ifindex, proto)
    return _decode_generic(body)


def _decode_generic(body: bytes) -> ProxyEntry | None:
    family, ifindex, _, flags, _ = nl.NDMSG.unpack_from(body, 0)
    if family != nl.AF_INET or not flags & nl.NTF_PROXY:
        return None
    attrs = nl.parse_attrs(body, nl.NDMSG.size)
    dst = attrs.get(nl.NDA_DST)
    if dst is None:
        return None
    proto = attrs.get(nl.NDA_PROTOCOL)
    return ProxyEntry(nl.ip4(dst), ifindex, proto[0] if proto else 0)


def confirm(sock: NetlinkSocket, wanted: list[tuple[str, int]]) -> list[ProxyEntry]:
    """Exact lookups (``ip neigh get proxy``) for entries a dump did not show.

    All namespaces' proxy entries live in one kernel hash, so a dump that races another
    namespace adding or deleting its own entries can skip some of ours (measured: 9,974 of
    10,000 under churn). An entry is reported missing only when the kernel says so here.
    """
    if not wanted:
        return []
    # A get header must carry no state or type (the kernel answers EINVAL otherwise).
    reqs = [
        Request(
            nl.RTM_GETNEIGH,
            0,
            nl.NDMSG.pack(nl.AF_INET, ifindex, 0, nl.NTF_PROXY, 0)
            + nl.attr_ip4(nl.NDA_DST, address),
        )
        for address, ifindex in wanted
    ]
    with sock.lock:
        replies = sock.transact(reqs)
    out = []
    for reply in replies:
        if reply.ok and reply.body is not None:
            entry = decode(reply.body)
            if entry is not None:
                out.append(entry)
    return out


def dump(sock: NetlinkSocket) -> list[ProxyEntry]:
    """Every IPv4 proxy entry (the kernel dumps only proxies when asked with NTF_PROXY)."""
    body = nl.NDMSG.pack(nl.AF_INET, 0, 0, nl.NTF_PROXY, 0)
    with sock.lock:
        msgs = sock.dump(nl.RTM_GETNEIGH, body)
    out = []
    for msg in msgs:
        if msg.type == nl.RTM_NEWNEIGH:
            entry = decode(msg.body)
            if entry is not None:
                out.append(entry)
    return out
