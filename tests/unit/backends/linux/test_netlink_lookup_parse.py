"""The in-place parse of lookup answers (``netlink_socket._find_in``), on crafted datagrams.

What the kernel test cannot force: answers to an abandoned earlier batch arriving late,
an attribute that is not first, several answers in one datagram, and the barrier's ACK.
"""

from __future__ import annotations

import random
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


def walk(body: bytes, attr: int) -> bytes | None:
    """The first flat attribute of type ``attr`` after the fixed header, stepping attribute
    by attribute (what ``_find_in`` returns, however it gets there)."""
    pos = FIXED
    while pos + 4 <= len(body):
        size, kind = struct.unpack_from("=HH", body, pos)
        if size < 4:
            return None
        if kind & 0x3FFF == attr:
            return (body + bytes(8))[pos + 4 : pos + size]  # what follows is as in parse()
        pos += (size + 3) & ~3
    return None


def test_answers_of_every_layout_give_what_an_attribute_walk_gives():
    rng = random.Random(3)
    kinds = (nl.RTA_TABLE, nl.RTA_DST, OIF, OIF | 0x8000, 25, 12)
    for _ in range(2000):
        attrs = b""
        for _ in range(rng.randint(0, 5)):
            size = rng.choice((8, 8, 8, 4, 5, 12, 36, 3, 0))
            payload = bytes(rng.randrange(256) for _ in range(max(size - 4, 0)))
            attrs += struct.pack("=HH", size, rng.choice(kinds)) + payload
            attrs += bytes(-len(attrs) % 4)
        if rng.random() < 0.2:
            attrs = attrs[: rng.randint(0, len(attrs))]  # cut short
        body = bytes(FIXED) + attrs
        message = nl.pack_message(nl.RTM_NEWROUTE, 0, 40, body)
        _, out = parse([message], first=40, n=1)
        assert out == [walk(body, OIF)], body.hex()
