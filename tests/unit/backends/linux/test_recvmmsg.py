"""recvmmsg through ctypes: several datagrams per call, each in its own slot, in order."""

from __future__ import annotations

import errno
import socket

import pytest

from routerd.backends.linux.recvmmsg import DatagramReader


@pytest.fixture
def pair():
    a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
    b.settimeout(1.0)  # non-blocking underneath, as the netlink socket is
    yield a, b
    a.close()
    b.close()


def test_queued_datagrams_come_back_in_order_one_slot_each(pair):
    a, b = pair
    reader = DatagramReader.open(b, 4, 64)
    assert reader is not None
    sent = [bytes([i]) * (i * 9 + 1) for i in range(6)]
    for d in sent:
        a.send(d)
    got = reader.read(1.0)
    assert [(off, n) for off, n in got] == [(i * 64, len(sent[i])) for i in range(4)]
    assert [bytes(reader.buf[off : off + n]) for off, n in got] == sent[:4]
    rest = reader.read(1.0)
    assert [bytes(reader.buf[off : off + n]) for off, n in rest] == sent[4:]


def test_nothing_queued_times_out_and_an_oversized_datagram_is_an_error(pair):
    a, b = pair
    reader = DatagramReader.open(b, 2, 16)
    assert reader is not None
    with pytest.raises(TimeoutError):
        reader.read(0.05)
    a.send(b"x" * 17)
    with pytest.raises(OSError) as exc:
        reader.read(1.0)
    assert exc.value.errno == errno.EMSGSIZE
