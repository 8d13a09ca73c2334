"""Listen to a segment's VRRP adverts for a moment: which routers claim to be master.

In VRRP only the master advertises, so the adverts on the wire name every router that
acts as master right now, whatever each router's own software reports. Two routers of a
pair advertising at once is a split brain (each captures the site's addresses); nobody
advertising means no router serves the site. A firewall that drops protocol 112 between
the partners causes exactly the first case, and a packet socket still sees both streams
there: it reads frames before netfilter does.

One ``AF_PACKET`` socket bound to the VRRP interface, with a classic BPF filter that
passes IPv4 protocol 112 only (a router forwards far more than Python could read), reads
every advert in both directions for a fixed window; outgoing frames are this router's own.
The frame layout is decoded here rather than imported from ``routerd.redundancy`` so the
doctor keeps eyes independent of the code it checks. ``python -m routerd.doctor.vrrp
IFNAME [--window SECONDS]`` prints one listen as JSON.
"""

from __future__ import annotations

import argparse
import ctypes
import errno
import json
import select
import socket
import struct
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
IPPROTO_VRRP = 112
PACKET_OUTGOING = 4
SO_ATTACH_FILTER = 26
VRRP_ADVERT = 1
# ldh [12]; jeq 0x800 else drop; ldb [23]; jeq 112 else drop; accept 512 bytes; drop
_FILTER = (
    (0x28, 0, 0, 12),
    (0x15, 0, 3, ETH_P_IP),
    (0x30, 0, 0, 23),
    (0x15, 0, 1, IPPROTO_VRRP),
    (0x06, 0, 0, 512),
    (0x06, 0, 0, 0),
)

VrrpListener = Callable[[str, float], "Listen"]
"""``(ifname, window seconds) -> Listen``: the real listener or a recorded one."""


@dataclass(frozen=True)
class Heard:
    """One advert.

    Attributes:
        source: the sender's IPv4 address.
        vrid: the virtual router it speaks for.
        priority: the sender's priority (0: it is giving mastership up).
        at: seconds after the listen began.
        outgoing: sent by this host.
    """

    source: str
    vrid: int
    priority: int
    at: float
    outgoing: bool = False


@dataclass(frozen=True)
class Listen:
    """What one listen heard.

    Attributes:
        ifname: the interface listened on.
        window: how long it listened, in seconds.
        adverts: every advert, oldest first.
        error: why there was no listen ("" when it ran).
    """

    ifname: str
    window: float
    adverts: tuple[Heard, ...] = ()
    error: str = ""


def parse(frame: bytes, at: float, *, outgoing: bool = False) -> Heard | None:
    """Decode an Ethernet frame holding a VRRP v2/v3 advertisement (None for anything else)."""
    if len(frame) < 14 + 20 + 8 or struct.unpack_from("!H", frame, 12)[0] != ETH_P_IP:
        return None
    ip = frame[14:]
    ihl = (ip[0] & 0x0F) * 4
    if ip[0] >> 4 != 4 or ip[9] != IPPROTO_VRRP or len(ip) < ihl + 8:
        return None
    version, kind = ip[ihl] >> 4, ip[ihl] & 0x0F
    if kind != VRRP_ADVERT or version not in (2, 3):
        return None
    return Heard(socket.inet_ntoa(ip[12:16]), ip[ihl + 1], ip[ihl + 2], at, outgoing)


def packet_socket() -> socket.socket:
    """A packet socket for every protocol (needs CAP_NET_RAW); the filter narrows it."""
    return socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))


def _attach_filter(sock: socket.socket) -> None:
    program = b"".join(struct.pack("HBBI", *insn) for insn in _FILTER)
    buf = ctypes.create_string_buffer(program, len(program))  # the kernel copies it
    sock.setsockopt(
        socket.SOL_SOCKET, SO_ATTACH_FILTER, struct.pack("HL", len(_FILTER), ctypes.addressof(buf))
    )


def listen(
    ifname: str, window: float, *, opener: Callable[[], socket.socket] = packet_socket
) -> Listen:
    """Collect the VRRP adverts seen on ``ifname`` for ``window`` seconds.

    Args:
        ifname: the VRRP interface.
        window: seconds to listen.
        opener: makes the socket (tests pass a simulated segment).

    Returns:
        What was heard; an OS error (no privilege, no such device) is its ``error``.
    """
    try:
        sock = opener()
    except OSError as e:
        return Listen(ifname, window, error=_why(e, ifname))
    heard: list[Heard] = []
    with sock:
        try:
            _attach_filter(sock)
            sock.bind((ifname, ETH_P_ALL))
            _discard_queued(sock)  # frames queued before bind() may come from elsewhere
            start = time.monotonic()
            while (left := start + window - time.monotonic()) > 0:
                if not select.select([sock], [], [], left)[0]:
                    break
                frame, addr = sock.recvfrom(2048)
                got = parse(frame, time.monotonic() - start, outgoing=addr[2] == PACKET_OUTGOING)
                if got is not None:
                    heard.append(got)
        except OSError as e:
            return Listen(ifname, window, error=_why(e, ifname))
    return Listen(ifname, window, tuple(heard))


def _discard_queued(sock: socket.socket) -> None:
    while True:
        try:
            sock.recv(2048, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return


def _why(e: OSError, ifname: str) -> str:
    if e.errno in (errno.EPERM, errno.EACCES):
        return "permission denied opening a packet socket (run the doctor as root)"
    if e.errno in (errno.ENODEV, errno.ENXIO):
        return f"{ifname} does not exist: no VRRP listen"
    return f"listening for VRRP on {ifname} failed: {e.strerror or e}"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Print the VRRP adverts seen on an interface.")
    ap.add_argument("ifname")
    ap.add_argument("--window", type=float, default=1.0, help="seconds to listen (default 1)")
    args = ap.parse_args(argv)
    result = listen(args.ifname, args.window)
    print(json.dumps(asdict(result), indent=1, sort_keys=True))
    return 1 if result.error else 0


if __name__ == "__main__":
    raise SystemExit(main())
