"""The in-place parse of lookup answers (``netlink_socket._find_in``), on crafted datagrams.

What the kernel test cannot force: answers to an abandoned earlier batch arriving late,
an attribute that is not first, several answers in one datagram, and the barrier's ACK.
"""

from __future__ import annotations

import struct

from routerd.backends.linux import netlink_codec as nl
from routerd.backends.linux.netlink_socket import _find_in

FIXED = 12  # the answer's fixed header (an rtmsg)
OIF = nl.RTA_OIF


def answer(seq: int, *attrs: tuple[int, bytes]) -> bytes:
    body = bytes(FIXED) + b"".join(nl.attr(kind, value) for kind, value in attrs)
    return nl.pack_message(nl.RTM_NEWROUTE, 0, seq, body)


def error(seq: int, code: int) -> bytes:
    return nl.pack_message(nl.NLMSG_ERROR, 0, seq, struct.pack("=i", -code) + bytes(16))


def parse(datagrams: list[bytes], first: int, n: int) -> tuple[bool, list[bytes | None]]:
    buf = bytearray()
    got = []
    for d in datagrams:
        got.append((len(buf), len(d)))
        buf += d + bytes(8)  # slots hold garbage past each datagram
    out: list[bytes | None] = [None] * n
    return _find_in(buf, got, first, n, nl.NLMSGHDR.size + FIXED, OIF, out), out


def test_each_answer_lands_on_its_own_query_by_sequence_number():
    oif = (nl.RTA_OIF, struct.pack("=I", 7))
    barrier, out = parse(
        [
            answer(12, (nl.RTA_TABLE, b"\xfe\0\0\0"), oif),  # 3rd query; the attribute is second
            answer(10, oif) + answer(11, (nl.RTA_DST, b"\x0a\0\0\x01")),  # two in one datagram
            error(13, 101),
        ],
        first=10,
        n=4,
    )
    assert out == [struct.pack("=I", 7), None, struct.pack("=I", 7), None]
    assert barrier is False


def test_late_answers_of_an_abandoned_batch_are_ignored_and_the_barrier_is_seen():
    late = answer(5, (nl.RTA_OIF, struct.pack("=I", 3)))
    barrier, out = parse(
        [late, answer(20, (nl.RTA_OIF, struct.pack("=I", 9))), error(22, 0)], first=20, n=2
    )
    assert out == [struct.pack("=I", 9), None]
    assert barrier is True


def test_a_broken_attribute_ends_the_search_without_reading_past_it():
    after = nl.attr(nl.RTA_OIF, struct.pack("=I", 4))  # found only by stepping over garbage
    broken = nl.pack_message(nl.RTM_NEWROUTE, 0, 30, bytes(FIXED) + b"\x02\0\x04\0" + after)
    _, out = parse([broken, answer(31, (nl.RTA_OIF, struct.pack("=I", 5)))], first=30, n=2)
    assert out == [None, struct.pack("=I", 5)]
