"""ARP and RARP frames for presence: what a frame on the capture segment says, and probes.

A host on the segment shows it holds an address in a few ways, all visible in one ARP or
RARP frame (Ethernet, IPv4 over ARP, 42 bytes before padding):

* gratuitous ARP: a request or a reply whose sender and target protocol addresses are both
  the announced address (``arping -U`` / ``-A``, VMs after migration);
* an ARP request with a sender address: the host asks for someone, and uses its address;
* an ARP reply with a sender address: the host answers for its own address. A reply whose
  target protocol address is ``0.0.0.0`` answers an RFC 5227 probe (routerd's);
* a RARP request (opcode 3): what QEMU and vhost-user send for a VM resumed after live
  migration. It carries the VM's MAC and no IPv4 address (both are ``0.0.0.0``).

A request whose sender address is ``0.0.0.0`` is somebody else's probe (duplicate address
detection): a host wishing to use an address, not holding it, so it is no evidence.

``probe_frame`` builds routerd's own probes the same way: sender address ``0.0.0.0``, so a
host answering updates no ARP cache with routerd's MAC for the probed address.

The kernel-side filter (``FILTER``) passes only ARP and RARP frames and never frames this
host sent (``PACKET_OUTGOING``): proxy-ARP replies by this router are outgoing.
"""

from __future__ import annotations

import ctypes
import socket
import struct
from typing import NamedTuple

ETH_P_ALL = 0x0003
ETH_P_ARP = 0x0806
ETH_P_RARP = 0x8035
SO_ATTACH_FILTER = 26
PACKET_OUTGOING = 4
SOL_PACKET = 263
PACKET_STATISTICS = 6
SNAPLEN = 64
"""Bytes of each frame the filter passes: an ARP frame is 42, padded to 60 on the wire."""

BROADCAST = b"\xff" * 6
ZERO_IP = b"\0\0\0\0"
ZERO_MAC = b"\0" * 6
_ETH = struct.Struct("!6s6sH")
_ARP = struct.Struct("!HHBBH6s4s6s4s")
ARP_LEN = _ETH.size + _ARP.size
_HEAD = (1, 0x0800, 6, 4)  # Ethernet hardware, IPv4 protocol, their address lengths
OP_REQUEST, OP_REPLY, OP_RARP_REQUEST = 1, 2, 3
PAD = b"\0" * (60 - ARP_LEN)

# Classic BPF (struct sock_filter: code u16, jt u8, jf u8, k u32).
_BPF = struct.Struct("=HBBI")
_LD_W_ABS, _LD_H_ABS, _JEQ_K, _RET_K = 0x20, 0x28, 0x15, 0x06
_SKF_AD_PKTTYPE = 0xFFFFF000 + 4  # SKF_AD_OFF + SKF_AD_PKTTYPE
FILTER = (
    (_LD_W_ABS, 0, 0, _SKF_AD_PKTTYPE),  # 0: A = packet type
    (_JEQ_K, 4, 0, PACKET_OUTGOING),  # 1: sent by this host -> 6 (drop)
    (_LD_H_ABS, 0, 0, 12),  # 2: A = EtherType
    (_JEQ_K, 1, 0, ETH_P_ARP),  # 3: ARP -> 5 (pass)
    (_JEQ_K, 0, 1, ETH_P_RARP),  # 4: RARP -> 5 (pass), else 6 (drop)
    (_RET_K, 0, 0, SNAPLEN),  # 5: pass
    (_RET_K, 0, 0, 0),  # 6: drop
)
"""ARP and RARP frames not sent by this host."""


class Sighting(NamedTuple):
    """What one frame says: a host (``mac``) holds ``ip`` (4 bytes; zero for RARP)."""

    kind: str
    ip: bytes
    mac: bytes
    source: bytes  # the Ethernet source address


def classify(frame: bytes | memoryview) -> Sighting | None:
    """What a received ARP or RARP frame says about who holds an address.

    Args:
        frame: the frame from the Ethernet header on.

    Returns:
        The sighting, or None when the frame says nothing about presence (not Ethernet/IPv4
        ARP, a probe by someone else, a RARP reply, truncated).
    """
    if len(frame) < ARP_LEN:
        return None
    _, source, ethertype = _ETH.unpack_from(frame, 0)
    htype, ptype, hlen, plen, op, sha, spa, _, tpa = _ARP.unpack_from(frame, _ETH.size)
    if (htype, ptype, hlen, plen) != _HEAD:
        return None
    if ethertype == ETH_P_RARP:
        return Sighting("rarp", spa, sha, source) if op == OP_RARP_REQUEST else None
    if ethertype != ETH_P_ARP or spa == ZERO_IP:
        return None
    if spa == tpa:
        return Sighting("garp", spa, sha, source) if op in (OP_REQUEST, OP_REPLY) else None
    if op == OP_REQUEST:
        return Sighting("arp-request", spa, sha, source)
    if op == OP_REPLY:
        kind = "probe-answer" if tpa == ZERO_IP else "arp-reply"
        return Sighting(kind, spa, sha, source)
    return None


def probe_frame(mac: bytes, address: bytes) -> bytes:
    """An RFC 5227 ARP probe for ``address`` (4 bytes) from ``mac``, padded to 60 bytes."""
    eth = _ETH.pack(BROADCAST, mac, ETH_P_ARP)
    return eth + _ARP.pack(*_HEAD, OP_REQUEST, mac, ZERO_IP, ZERO_MAC, address) + PAD


def probe_prefix(mac: bytes) -> bytes:
    """Every byte of a probe from ``mac`` before the probed address (append it, then PAD)."""
    return probe_frame(mac, ZERO_IP)[: ARP_LEN - 4]


def attach_filter(sock: socket.socket) -> None:
    """Attach ``FILTER`` to a packet socket (before it is bound, so nothing else slips in)."""
    code = b"".join(_BPF.pack(*insn) for insn in FILTER)
    buf = ctypes.create_string_buffer(code, len(code))
    prog = struct.pack("@HP", len(FILTER), ctypes.addressof(buf))
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, prog)


def kernel_drops(sock: socket.socket) -> int:
    """Frames the kernel dropped for this socket since the last call (full receive buffer)."""
    raw = sock.getsockopt(SOL_PACKET, PACKET_STATISTICS, 8)
    _, drops = struct.unpack("=II", raw)
    return int(drops)
