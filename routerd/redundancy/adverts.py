"""VRRP adverts seen on the wire, ours and the partners', through a filtered packet socket.

Why routerd looks at adverts at all: a *hung* keepalived (stopped, wedged) says
nothing. Its partner stops hearing adverts and becomes master after ~0.3 s, but the hung
router still holds the virtual addresses, and its last report was MASTER: the segment would
have two responders and the engine two capturers. The wire tells the truth: a partner
advertising as master while our own adverts have stopped means ours is not serving, and
routerd then removes the addresses and restarts keepalived. Adverts also name the current
master and its priority for ``why``.

The socket sees both directions (``ETH_P_ALL``; outgoing frames carry ``PACKET_OUTGOING``)
and a classic BPF filter passes IPv4 protocol 112 only, so the traffic a router forwards
never reaches Python: about twenty adverts a second do, at 0.1 s intervals.

Each advert carries the kernel's timestamp of when it crossed the interface
(``SO_TIMESTAMPNS``), so adverts read late are still judged in wire order and at wire time.
That matters when the whole router was paused (SIGSTOP of routerd and keepalived alike):
on resuming, the partner's adverts sent meanwhile wait in the socket, and keepalived may
advertise again before routerd reads them; by read time ours look recent, by wire time
they prove two masters while ours was silent.
"""

from __future__ import annotations

import contextlib
import ctypes
import socket
import struct
from dataclasses import dataclass, replace

ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
IPPROTO_VRRP = 112
SO_TIMESTAMPNS = 35
_TIMESPEC = struct.Struct("@qq")
PACKET_OUTGOING = 4
SO_ATTACH_FILTER = 26
VRRP_ADVERT = 1

# BPF: ldh [12]; jeq 0x800 else drop; ldb [23]; jeq 112 (VRRP) else drop; ret 512; drop: ret 0
_FILTER = (
    (0x28, 0, 0, 12),
    (0x15, 0, 3, ETH_P_IP),
    (0x30, 0, 0, 23),
    (0x15, 0, 1, IPPROTO_VRRP),
    (0x06, 0, 0, 512),
    (0x06, 0, 0, 0),
)


@dataclass(frozen=True)
class Advert:
    """One VRRP advertisement.

    Attributes:
        source: the sender's IPv4 address.
        vrid: the virtual router it speaks for.
        priority: the sender's priority (0 = the sender is giving mastership up).
        interval: the advert interval it announces, in seconds (VRRPv3 only, else 0).
        outgoing: sent by this host.
        at: when the kernel saw it on the interface (seconds since the epoch; 0: unknown).
    """

    source: str
    vrid: int
    priority: int
    interval: float
    outgoing: bool
    at: float = 0.0


def parse_frame(frame: bytes, *, outgoing: bool = False) -> Advert | None:
    """Decode an Ethernet frame holding a VRRP advert (None for anything else).

    Args:
        frame: the frame from the packet socket, Ethernet header included.
        outgoing: whether the socket marked it as sent by this host.

    Returns:
        The advert, or None when the frame is not an IPv4 VRRP advertisement.
    """
    if len(frame) < 14 + 20 + 8 or struct.unpack_from("!H", frame, 12)[0] != ETH_P_IP:
        return None
    ip = frame[14:]
    ihl = (ip[0] & 0x0F) * 4
    if ip[0] >> 4 != 4 or ip[9] != IPPROTO_VRRP or len(ip) < ihl + 8:
        return None
    vrrp = ip[ihl:]
    version, kind = vrrp[0] >> 4, vrrp[0] & 0x0F
    if kind != VRRP_ADVERT or version not in (2, 3):
        return None
    interval = (((vrrp[4] & 0x0F) << 8) | vrrp[5]) / 100 if version == 3 else 0.0
    return Advert(socket.inet_ntoa(ip[12:16]), vrrp[1], vrrp[2], interval, outgoing)


class AdvertSocket:
    """A non-blocking packet socket on one interface that yields only VRRP adverts."""

    def __init__(self, ifname: str) -> None:
        self.ifname = ifname
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        try:
            program = b"".join(struct.pack("HBBI", *insn) for insn in _FILTER)
            buf = ctypes.create_string_buffer(program, len(program))
            fprog = struct.pack("HL", len(_FILTER), ctypes.addressof(buf))
            self.sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)
            self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            self.sock.bind((ifname, ETH_P_ALL))
            self.sock.setblocking(False)
        except OSError:
            self.sock.close()
            raise
        self.read()  # frames queued before bind() may come from other interfaces

    def fileno(self) -> int:
        return self.sock.fileno()

    def read(self) -> list[Advert]:
        """Every advert waiting now, in the order the kernel saw them (never blocks)."""
        out: list[Advert] = []
        while True:
            try:
                frame, anc, _flags, addr = self.sock.recvmsg(2048, socket.CMSG_SPACE(16))
            except (BlockingIOError, InterruptedError):
                return out
            advert = parse_frame(frame, outgoing=addr[2] == PACKET_OUTGOING)
            if advert is not None:
                out.append(replace(advert, at=_stamp(anc)))

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


def _stamp(ancillary: list[tuple[int, int, bytes]]) -> float:
    """The kernel's receive timestamp among a message's control data (0.0 when absent)."""
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(data) >= 16:
            sec, nsec = _TIMESPEC.unpack_from(data)
            return float(sec) + float(nsec) / 1e9
    return 0.0
