"""Parsing what keepalived and the wire tell routerd: FIFO lines and VRRP advert frames."""

from __future__ import annotations

import os
import socket
import struct

import pytest

from routerd.redundancy.adverts import (
    PACKET_OUTGOING,
    SO_TIMESTAMPNS,
    Advert,
    _stamp,
    parse_frame,
)
from routerd.redundancy.notify import Notice, NotifyFifo, parse_line


@pytest.mark.parametrize(
    ("line", "notice"),
    [
        ('INSTANCE "site-a" MASTER 150', Notice("INSTANCE", "site-a", "MASTER", 150)),
        ('INSTANCE "a b" BACKUP 100', Notice("INSTANCE", "a b", "BACKUP", 100)),
        ('INSTANCE "site-a" FAULT 0', Notice("INSTANCE", "site-a", "FAULT", 0)),
        ('GROUP "g" STOP', Notice("GROUP", "g", "STOP", None)),
        ('INSTANCE "site-a" MASTER_RX_LOWER_PRI 150', None),
        ("VS [10.0.0.1]:tcp:80 UP", None),
        ("INSTANCE site-a MASTER 150", None),
        ("", None),
    ],
)
def test_parse_line(line, notice):
    assert parse_line(line) == notice


def test_fifo_reads_whole_lines_only_and_never_blocks(tmp_path):
    fifo = NotifyFifo(tmp_path / "notify.fifo")
    try:
        assert fifo.read() == []  # nothing written: returns at once
        writer = os.open(fifo.path, os.O_WRONLY | os.O_NONBLOCK)
        os.write(writer, b'INSTANCE "a" BACKUP 100\nINSTANCE "a" MAS')
        assert fifo.read() == [Notice("INSTANCE", "a", "BACKUP", 100)]
        os.write(writer, b"TER 100\n")
        os.close(writer)  # a writer going away is no end of file for a read-write holder
        assert fifo.read() == [Notice("INSTANCE", "a", "MASTER", 100)]
        assert fifo.read() == []
    finally:
        fifo.close()


def test_fifo_path_taken_by_a_file_is_refused(tmp_path):
    (tmp_path / "notify.fifo").write_text("not a fifo")
    with pytest.raises(OSError, match="exists and is not a FIFO"):
        NotifyFifo(tmp_path / "notify.fifo")


def _frame(version: int, vrid: int, priority: int, *, kind: int = 1, proto: int = 112) -> bytes:
    eth = b"\x01\x00\x5e\x00\x00\x12" + b"\x02" * 6 + struct.pack("!H", 0x0800)
    vrrp = bytes([(version << 4) | kind, vrid, priority, 1]) + struct.pack("!HH", 10, 0)
    vrrp += socket.inet_aton("10.40.8.254")
    ip = struct.pack(
        "!BBHHHBBH4s4s",
        0x45,
        0xC0,
        20 + len(vrrp),
        0,
        0,
        255,
        proto,
        0,
        socket.inet_aton("10.40.8.3"),
        socket.inet_aton("10.40.8.2"),
    )
    return eth + ip + vrrp


def test_parse_vrrpv3_advert():
    assert parse_frame(_frame(3, 42, 100), outgoing=True) == Advert("10.40.8.3", 42, 100, 0.1, True)
    assert PACKET_OUTGOING == 4


@pytest.mark.parametrize(
    "frame",
    [
        _frame(3, 42, 100, proto=6),  # not VRRP
        _frame(3, 42, 100, kind=2),  # not an advertisement
        _frame(1, 42, 100),  # no such version
        _frame(3, 42, 100)[:40],  # truncated
        b"\xff" * 12 + b"\x08\x06" + b"\x00" * 40,  # ARP
    ],
)
def test_anything_else_is_ignored(frame):
    assert parse_frame(frame) is None


def test_vrrpv2_has_no_centisecond_interval():
    advert = parse_frame(_frame(2, 7, 0))
    assert advert is not None and (advert.vrid, advert.priority, advert.interval) == (7, 0, 0.0)


def test_the_kernel_timestamp_is_read_from_the_control_data() -> None:
    stamp = struct.pack("@qq", 1_800_000_000, 250_000_000)
    assert _stamp([(socket.SOL_SOCKET, SO_TIMESTAMPNS, stamp)]) == 1_800_000_000.25
    assert _stamp([(socket.SOL_SOCKET, 99, stamp)]) == 0.0  # not ours: unknown
    assert _stamp([]) == 0.0
