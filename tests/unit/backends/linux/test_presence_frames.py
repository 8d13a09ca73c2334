"""Presence frame decoding with recorded frames, the probe format, and the kernel filter.

The ARP frames below were captured with ``tcpdump -xx`` on a veth between two namespaces
(host 10.40.8.10 at 02:00:00:00:0a:01, peer 10.40.8.20 at 02:00:00:00:0b:01, Linux 6.x,
iputils arping): ``arping -U`` / ``-A`` (gratuitous request / reply), ``arping -D`` (a probe
by someone else) and the kernel's answer to it, a ping's ARP request and its reply, and a
proxy-ARP router's reply for a captured 10.40.8.50. The RARP frame is the format QEMU and
DPDK's vhost-user send for a resumed VM (opcode 3, sender and target MAC the VM's, both
addresses zero, padded to 60 bytes); no hypervisor was at hand to capture one.
"""

from __future__ import annotations

import socket
import struct

import pytest

from routerd.backends.linux import presence_frames as pf

HOST_MAC = bytes.fromhex("02000000 0a01")
PEER_MAC = bytes.fromhex("02000000 0b01")
HOST_IP = socket.inet_aton("10.40.8.10")
PEER_IP = socket.inet_aton("10.40.8.20")


def frame(text: str) -> bytes:
    return bytes.fromhex("".join(text.split()))


GARP_REQUEST = frame("""
    ffff ffff ffff 0200 0000 0a01 0806 0001 0800 0604 0001 0200 0000 0a01 0a28 080a
    ffff ffff ffff 0a28 080a""")
GARP_REPLY = frame("""
    ffff ffff ffff 0200 0000 0a01 0806 0001 0800 0604 0002 0200 0000 0a01 0a28 080a
    0200 0000 0a01 0a28 080a""")
FOREIGN_PROBE = frame("""
    ffff ffff ffff 0200 0000 0a01 0806 0001 0800 0604 0001 0200 0000 0a01 0000 0000
    ffff ffff ffff 0a28 0814""")
PROBE_ANSWER = frame("""
    0200 0000 0a01 0200 0000 0b01 0806 0001 0800 0604 0002 0200 0000 0b01 0a28 0814
    0200 0000 0a01 0000 0000""")
REQUEST = frame("""
    ffff ffff ffff 0200 0000 0a01 0806 0001 0800 0604 0001 0200 0000 0a01 0a28 080a
    0000 0000 0000 0a28 0814""")
REPLY = frame("""
    0200 0000 0a01 0200 0000 0b01 0806 0001 0800 0604 0002 0200 0000 0b01 0a28 0814
    0200 0000 0a01 0a28 080a""")
PROXY_REPLY = frame("""
    0200 0000 0a01 0200 0000 0b01 0806 0001 0800 0604 0002 0200 0000 0b01 0a28 0832
    0200 0000 0a01 0a28 080a""")
RARP = frame("""
    ffff ffff ffff 0200 0000 0a01 8035 0001 0800 0604 0003 0200 0000 0a01 0000 0000
    0200 0000 0a01 0000 0000""") + bytes(18)


@pytest.mark.parametrize(
    ("raw", "kind", "ip", "mac"),
    [
        (GARP_REQUEST, "garp", HOST_IP, HOST_MAC),
        (GARP_REPLY, "garp", HOST_IP, HOST_MAC),
        (PROBE_ANSWER, "probe-answer", PEER_IP, PEER_MAC),
        (REQUEST, "arp-request", HOST_IP, HOST_MAC),
        (REPLY, "arp-reply", PEER_IP, PEER_MAC),
        (RARP, "rarp", pf.ZERO_IP, HOST_MAC),
        # what a proxy-ARP router says looks like presence: only its MAC tells it apart
        (PROXY_REPLY, "arp-reply", socket.inet_aton("10.40.8.50"), PEER_MAC),
    ],
)
def test_recorded_frames_say_who_holds_which_address(
    raw: bytes, kind: str, ip: bytes, mac: bytes
) -> None:
    s = pf.classify(raw)
    assert s is not None
    assert (s.kind, s.ip, s.mac, s.source) == (kind, ip, mac, raw[6:12])


def test_padding_and_memoryviews_decode_the_same() -> None:
    padded = bytearray(GARP_REQUEST + bytes(18))
    assert pf.classify(memoryview(padded)) == pf.classify(GARP_REQUEST)


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (FOREIGN_PROBE, "someone else's probe: a wish for the address, not holding it"),
        (GARP_REQUEST[:41], "truncated"),
        (GARP_REQUEST[:14] + b"\x00\x06" + GARP_REQUEST[16:], "not Ethernet hardware (IEEE 802)"),
        (GARP_REQUEST[:16] + b"\x86\xdd" + GARP_REQUEST[18:], "not IPv4"),
        (GARP_REQUEST[:20] + b"\x00\x08" + GARP_REQUEST[22:], "opcode 8 (InARP)"),
        (RARP[:20] + b"\x00\x04" + RARP[22:], "a RARP reply says nothing about the client"),
        (REQUEST[:12] + b"\x08\x00" + REQUEST[14:], "not an ARP frame at all"),
    ],
)
def test_frames_that_are_no_presence(raw: bytes, why: str) -> None:
    assert pf.classify(raw) is None, why


def test_probe_is_rfc5227_and_decodes_as_nobody() -> None:
    target = socket.inet_aton("10.40.8.77")
    p = pf.probe_frame(HOST_MAC, target)
    assert len(p) == 60
    assert p[:6] == pf.BROADCAST and p[6:12] == HOST_MAC and p[12:14] == b"\x08\x06"
    htype, ptype, hlen, plen, op, sha, spa, tha, tpa = struct.unpack_from("!HHBBH6s4s6s4s", p, 14)
    assert (htype, ptype, hlen, plen, op) == (1, 0x0800, 6, 4, 1)
    assert (sha, spa, tha, tpa) == (HOST_MAC, pf.ZERO_IP, pf.ZERO_MAC, target)
    # a probe on the wire is nobody's presence (another router's probe, say)
    assert pf.classify(p) is None
    assert pf.probe_prefix(HOST_MAC) + target + pf.PAD == p


def run_filter(program: tuple[tuple[int, int, int, int], ...], pkttype: int, raw: bytes) -> int:
    """A tiny classic-BPF interpreter for the opcodes FILTER uses."""
    pc, acc = 0, 0
    while True:
        code, jt, jf, k = program[pc]
        if code == 0x20 and k == 0xFFFFF004:
            acc = pkttype
        elif code == 0x28:
            acc = int.from_bytes(raw[k : k + 2], "big")
        elif code == 0x15:
            pc += jt if acc == k else jf
        elif code == 0x06:
            return k
        else:
            raise AssertionError(f"unexpected opcode {code:#x}")
        pc += 1


@pytest.mark.parametrize(
    ("pkttype", "raw", "passes"),
    [
        (0, REPLY, True),  # PACKET_HOST
        (1, GARP_REQUEST, True),  # PACKET_BROADCAST
        (1, RARP, True),
        (3, REPLY, True),  # PACKET_OTHERHOST (a promiscuous bridge port)
        (pf.PACKET_OUTGOING, PROXY_REPLY, False),  # this router's own answers
        (pf.PACKET_OUTGOING, pf.probe_frame(HOST_MAC, PEER_IP), False),
        (0, REQUEST[:12] + b"\x08\x00" + REQUEST[14:], False),  # IPv4
        (1, REQUEST[:12] + b"\x86\xdd" + REQUEST[14:], False),  # IPv6
    ],
)
def test_kernel_filter_passes_foreign_arp_and_rarp_only(
    pkttype: int, raw: bytes, passes: bool
) -> None:
    assert (run_filter(pf.FILTER, pkttype, raw) >= pf.ARP_LEN) == passes
    assert run_filter(pf.FILTER, pkttype, raw) in (0, pf.SNAPLEN)
