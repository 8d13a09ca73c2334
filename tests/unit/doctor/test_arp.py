"""The ARP sweep against a simulated segment: grouping, our own echoes, the unicast follow-up.

``Segment`` stands in for the ``AF_PACKET`` socket: every frame the sweep sends is handed
to responder functions, whose replies (and the kernel's copy of our own outgoing frame)
come back through a real socketpair, so ``select`` and non-blocking reads behave as on the
wire. The proxy router below answers only its first three broadcast requests, the way a
Linux proxy's 64-entry ``proxy_qlen`` queue drops the rest, and every unicast one at once.
"""

from __future__ import annotations

import errno
import socket
from collections.abc import Callable

from routerd.doctor.arp import (
    BROADCAST,
    ETH_P_ARP,
    PACKET_OUTGOING,
    Sweep,
    parse_reply,
    request_frame,
    sweep,
)

OURS = bytes.fromhex("020000000001")
HOST = bytes.fromhex("020000000005")
PROXY = bytes.fromhex("0200000000aa")
HOST_IP = "10.0.0.5"
PROXIED = [f"10.0.1.{i}" for i in range(10)]
PACKET_HOST = 0

Answer = Callable[[bytes, str], list[bytes]]


def reply(mac: bytes, ip: str, to_mac: bytes, to_ip: str) -> bytes:
    eth = to_mac + mac + ETH_P_ARP.to_bytes(2, "big")
    arp = (
        bytes.fromhex("0001080006040002")
        + mac
        + socket.inet_aton(ip)
        + to_mac
        + socket.inet_aton(to_ip)
    )
    return eth + arp


def asked(frame: bytes) -> tuple[bytes, str]:
    """(destination MAC, target address) of a request frame."""
    return frame[:6], socket.inet_ntoa(frame[38:42])


class Segment:
    """A socket stand-in for one Ethernet segment (see the module docstring)."""

    def __init__(self, *answers: Answer, mac: bytes = OURS) -> None:
        self.mine, self.wire = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.answers = answers
        self.mac = mac
        self.sent: list[bytes] = []
        self.ifname = ""

    def setsockopt(self, *args: object) -> None:
        pass

    def bind(self, addr: tuple[str, int]) -> None:
        self.ifname = addr[0]

    def getsockname(self) -> tuple[str, int, int, int, bytes]:
        return (self.ifname, ETH_P_ARP, 0, 1, self.mac)

    def send(self, frame: bytes) -> int:
        self.sent.append(frame)
        self.wire.send(bytes([PACKET_OUTGOING]) + frame)  # what an AF_PACKET socket also sees
        for answer in self.answers:
            for out in answer(frame, "10.0.0.1"):
                self.wire.send(bytes([PACKET_HOST]) + out)
        return len(frame)

    def recvfrom(self, size: int, flags: int = 0) -> tuple[bytes, tuple[str, int, int, int, bytes]]:
        data = self.mine.recv(size, flags)
        return data[1:], (self.ifname, ETH_P_ARP, data[0], 1, b"")

    def fileno(self) -> int:
        return self.mine.fileno()

    def __enter__(self) -> Segment:
        return self

    def __exit__(self, *exc: object) -> None:
        self.mine.close()
        self.wire.close()


def host(frame: bytes, src_ip: str) -> list[bytes]:
    dst, target = asked(frame)
    mine = target == HOST_IP and dst in (BROADCAST, HOST)
    return [reply(HOST, HOST_IP, OURS, src_ip)] if mine else []


def queued_proxy(limit: int = 3) -> Answer:
    broadcasts: list[str] = []

    def answer(frame: bytes, src_ip: str) -> list[bytes]:
        dst, target = asked(frame)
        if target not in PROXIED:
            return []
        if dst == BROADCAST:
            broadcasts.append(target)
            if len(broadcasts) > limit:
                return []
        elif dst != PROXY:
            return []
        return [reply(PROXY, target, OURS, src_ip)]

    return answer


def run(segment: Segment, targets: list[str]) -> Sweep:
    return sweep(
        "lan0",
        targets,
        "10.0.0.1",
        opener=lambda: segment,  # type: ignore[arg-type, return-value]
        reply_window=0.05,
        confirm_window=0.05,
    )


def test_request_frames_are_not_replies_and_replies_parse() -> None:
    frame = request_frame(OURS, "10.0.0.1", HOST_IP)
    assert asked(frame) == (BROADCAST, HOST_IP)
    assert parse_reply(frame) is None
    assert parse_reply(reply(HOST, HOST_IP, OURS, "10.0.0.1")) == (HOST_IP, "02:00:00:00:00:05")
    assert parse_reply(b"\x00" * 20) is None


def test_responders_are_grouped_by_address_and_our_echoes_ignored() -> None:
    seg = Segment(host)
    got = run(seg, [HOST_IP, "10.0.2.1", HOST_IP])
    assert got.error == "" and got.mac == "02:00:00:00:00:01"
    assert got.replies == {HOST_IP: ["02:00:00:00:00:05"]}
    assert len(seg.sent) == 2  # asked once per address; a host gets no unicast follow-up


def test_a_proxy_whose_queue_dropped_requests_is_asked_again_by_unicast() -> None:
    seg = Segment(host, queued_proxy())
    got = run(seg, [HOST_IP, *PROXIED])
    assert {ip: got.responders(ip) for ip in PROXIED} == {
        ip: ["02:00:00:00:00:aa"] for ip in PROXIED
    }
    unicast = [asked(f) for f in seg.sent if f[:6] == PROXY]
    assert sorted(ip for _, ip in unicast) == sorted([HOST_IP, *PROXIED[3:]])  # all it missed
    assert not [f for f in seg.sent if f[:6] not in (BROADCAST, PROXY)]


def test_two_devices_answering_for_one_address_are_both_listed() -> None:
    def impostor(frame: bytes, src_ip: str) -> list[bytes]:
        return [reply(PROXY, HOST_IP, OURS, src_ip)] if asked(frame)[1] == HOST_IP else []

    got = run(Segment(host, impostor), [HOST_IP])
    assert got.responders(HOST_IP) == ["02:00:00:00:00:05", "02:00:00:00:00:aa"]


def test_os_errors_become_the_sweeps_error() -> None:
    def denied() -> socket.socket:
        raise PermissionError(errno.EPERM, "Operation not permitted")

    got = sweep("lan0", [HOST_IP], opener=denied)
    assert got.replies == {} and "permission denied" in got.error and "root" in got.error
    no_mac = run(Segment(mac=b""), [HOST_IP])
    assert "no Ethernet address" in no_mac.error
