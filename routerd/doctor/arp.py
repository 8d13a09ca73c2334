"""ARP sweep of one capture segment: who answers for each of many addresses, in ~1.5 s.

The split-brain check needs every MAC that answers ARP for each captured address. Running
``arping -b -c 3 -w 2`` per address costs two seconds and a process each, most of an hour at
10,000 claims. A sweep asks for all of a segment's addresses at once on one
``AF_PACKET`` socket bound to the capture interface: broadcast requests in paced bursts,
replies collected while sending and for a fixed window after, responders grouped by
address. The cost is bounded by the window, not by the number of addresses.

Linux specifics the shape follows (net/ipv4/arp.c, net/core/neighbour.c):

* A router answers a *broadcast* request for an address it proxies only after a random
  delay of up to ``proxy_delay`` (0.8 s by default), and queues at most ``proxy_qlen`` (64)
  such requests; the rest are dropped. ``REPLY_WINDOW`` outlasts the delay, and every MAC
  that answered for more than one address (a proxy, not a host) is asked again for the
  addresses it did not answer with *unicast* requests, which it answers at once, unqueued.
* A proxying router ignores requests whose sender address is 0.0.0.0, so requests carry the
  capture interface's own IPv4 address when it has one.
* A host never hears its own answers, and our own requests are not looped back into our
  stack, so this router's proxy-ARP never shows up here (``responder`` counts it instead).

Frame layout as in ``routerd.backends.linux.garp`` (the 9-field ARP struct); it is repeated
here rather than imported so the doctor keeps eyes independent of the backend it checks.
``python -m routerd.doctor.arp IFNAME [--source IP] ADDRESS...`` prints one sweep as JSON.
"""

from __future__ import annotations

import argparse
import errno
import json
import select
import socket
import struct
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field

ETH_P_ARP = 0x0806
BROADCAST = b"\xff" * 6
_ARP = struct.Struct("!HHBBH6s4s6s4s")
_ETH = struct.Struct("!6s6sH")
SOL_PACKET = 263
PACKET_IGNORE_OUTGOING = 23  # Linux >= 4.20; without it outgoing copies are filtered by type
PACKET_OUTGOING = 4
SO_RCVBUFFORCE = 33
RCVBUF = 8 << 20
"""Room for 10,000+ replies while we are still sending (the default holds ~300 frames)."""
BURST = 128
BURST_GAP = 0.01
REPLY_WINDOW = 1.0
CONFIRM_WINDOW = 0.3
CONFIRM_MACS = 8

ArpProber = Callable[[str, Sequence[str], str], "Sweep"]
"""``(ifname, addresses, source address) -> Sweep``: the real sweep or a recorded one."""


@dataclass(frozen=True)
class Sweep:
    """One sweep of a segment.

    Attributes:
        ifname: the capture interface.
        mac: this interface's MAC (lower case), "" when unknown.
        replies: address -> MACs that answered for it (lower case, first answer first).
        error: why there was no sweep ("" when it ran).
        sent: request frames sent.
    """

    ifname: str
    mac: str = ""
    replies: dict[str, list[str]] = field(default_factory=dict)
    error: str = ""
    sent: int = 0

    def responders(self, ip: str) -> list[str]:
        return list(self.replies.get(ip, ()))


def request_frame(src_mac: bytes, src_ip: str, target: str, dst_mac: bytes = BROADCAST) -> bytes:
    """An ARP request "who has ``target``? tell ``src_ip``" addressed to ``dst_mac``."""
    eth = _ETH.pack(dst_mac, src_mac, ETH_P_ARP)
    arp = _ARP.pack(
        1, 0x0800, 6, 4, 1, src_mac, socket.inet_aton(src_ip), b"\0" * 6, socket.inet_aton(target)
    )
    return eth + arp


def parse_reply(frame: bytes) -> tuple[str, str] | None:
    """``(sender address, sender MAC)`` of an Ethernet/IPv4 ARP reply, else None."""
    if len(frame) < _ETH.size + _ARP.size:
        return None
    if _ETH.unpack_from(frame)[2] != ETH_P_ARP:
        return None
    htype, ptype, hlen, plen, op, sha, spa, _, _ = _ARP.unpack_from(frame, _ETH.size)
    if (htype, ptype, hlen, plen, op) != (1, 0x0800, 6, 4, 2):
        return None
    return socket.inet_ntoa(spa), sha.hex(":")


class _Collector:
    """Replies for the swept addresses, read off the socket whenever we wait."""

    def __init__(self, sock: socket.socket, targets: set[str]) -> None:
        self.sock = sock
        self.targets = targets
        self.replies: dict[str, dict[str, None]] = {}

    def drain(self, until: float) -> None:
        while (left := until - time.monotonic()) > 0:
            if not select.select([self.sock], [], [], left)[0]:
                return
            self._read_ready()

    def _read_ready(self) -> None:
        while True:
            try:
                frame, addr = self.sock.recvfrom(2048, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return
            got = parse_reply(frame) if addr[2] != PACKET_OUTGOING else None
            if got and got[0] in self.targets:
                self.replies.setdefault(got[0], {}).setdefault(got[1], None)

    def proxies(self, own: str) -> list[str]:
        """Foreign MACs that answered for more than one address (proxy-ARP, not a host)."""
        count: dict[str, int] = {}
        for macs in self.replies.values():
            for m in macs:
                count[m] = count.get(m, 0) + 1
        return [m for m, n in count.items() if n > 1 and m != own][:CONFIRM_MACS]


def _send_all(sock: socket.socket, frames: list[bytes], got: _Collector) -> int:
    for i in range(0, len(frames), BURST):
        for frame in frames[i : i + BURST]:
            try:
                sock.send(frame)
            except OSError as e:  # a full device queue: let it drain once, then go on
                if e.errno not in (errno.ENOBUFS, errno.EAGAIN):
                    raise
                got.drain(time.monotonic() + BURST_GAP)
        got.drain(time.monotonic() + BURST_GAP)
    return len(frames)


def raw_socket() -> socket.socket:
    """An ``AF_PACKET`` socket for ARP frames (needs CAP_NET_RAW)."""
    return socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP))


def sweep(
    ifname: str,
    targets: Sequence[str],
    source: str = "0.0.0.0",
    *,
    opener: Callable[[], socket.socket] = raw_socket,
    reply_window: float = REPLY_WINDOW,
    confirm_window: float = CONFIRM_WINDOW,
) -> Sweep:
    """Ask the segment behind ``ifname`` who has each of ``targets``.

    Args:
        ifname: the capture interface.
        targets: IPv4 addresses to ask for (duplicates asked once).
        source: the sender address of the requests (the interface's own; see above).
        opener: makes the socket (tests pass a simulated segment).
        reply_window: how long to keep listening after the last broadcast request.
        confirm_window: the same after the unicast follow-up, when there is one.

    Returns:
        The sweep; an OS error (no privilege, no such device) is its ``error``, not raised.
    """
    order = list(dict.fromkeys(targets))
    try:
        sock = opener()
    except OSError as e:
        return Sweep(ifname, error=_why(e, ifname))
    with sock:
        try:
            _tune(sock)
            sock.bind((ifname, ETH_P_ARP))
            mac = sock.getsockname()[4]
            if len(mac) != 6:
                return Sweep(ifname, error=f"{ifname} has no Ethernet address: ARP does not apply")
            got = _Collector(sock, set(order))
            sent = _send_all(sock, [request_frame(mac, source, ip) for ip in order], got)
            got.drain(time.monotonic() + reply_window)
            own = mac.hex(":")
            for proxy in got.proxies(own):
                dst = bytes.fromhex(proxy.replace(":", ""))
                rest = [ip for ip in order if proxy not in got.replies.get(ip, {})]
                sent += _send_all(sock, [request_frame(mac, source, ip, dst) for ip in rest], got)
            if sent > len(order):
                got.drain(time.monotonic() + confirm_window)
        except OSError as e:
            return Sweep(ifname, error=_why(e, ifname))
    replies = {ip: list(got.replies[ip]) for ip in order if ip in got.replies}
    return Sweep(ifname, own, replies, sent=sent)


def _tune(sock: socket.socket) -> None:
    for level, opt, value in (
        (socket.SOL_SOCKET, SO_RCVBUFFORCE, RCVBUF),
        (SOL_PACKET, PACKET_IGNORE_OUTGOING, 1),
    ):
        try:
            sock.setsockopt(level, opt, value)
        except OSError:
            continue  # best effort: a smaller buffer, or outgoing copies filtered on read


def _why(e: OSError, ifname: str) -> str:
    if e.errno in (errno.EPERM, errno.EACCES):
        return "permission denied opening a raw ARP socket (run the doctor as root)"
    if e.errno in (errno.ENODEV, errno.ENXIO):
        return f"{ifname} does not exist: no ARP sweep"
    return f"ARP sweep on {ifname} failed: {e.strerror or e}"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Sweep a segment with ARP requests; print JSON.")
    ap.add_argument("ifname")
    ap.add_argument("addresses", nargs="+")
    ap.add_argument("--source", default="0.0.0.0")
    args = ap.parse_args(argv)
    result = sweep(args.ifname, args.addresses, args.source)
    print(json.dumps(asdict(result), indent=1, sort_keys=True))
    return 1 if result.error else 0


if __name__ == "__main__":
    raise SystemExit(main())
