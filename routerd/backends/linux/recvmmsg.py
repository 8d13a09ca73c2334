"""Many datagrams per receive call: ``recvmmsg(2)`` through ctypes, for the command socket.

Why: rtnetlink answers every lookup in its own datagram, and a socket read returns one
datagram, so verifying 10,000 claims cost 10,000 ``recv`` calls (each a system call plus
Python's per-call overhead), more than the kernel's lookups themselves. ``recvmmsg``
fills up to ``slots`` fixed-size slots of one buffer per call; the caller parses each
slot in place. The standard library has no binding for it, hence ctypes; where libc
lacks it, ``DatagramReader.open`` returns None and the caller reads one at a time.
"""

from __future__ import annotations

import ctypes
import errno
import os
import select
import socket
import struct
import time

MSG_DONTWAIT = 0x40
MSG_TRUNC = 0x20


class _IoVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


class _MsgHdr(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_void_p),
        ("namelen", ctypes.c_uint32),
        ("iov", ctypes.POINTER(_IoVec)),
        ("iovlen", ctypes.c_size_t),
        ("control", ctypes.c_void_p),
        ("controllen", ctypes.c_size_t),
        ("flags", ctypes.c_int),
    ]


class _MMsgHdr(ctypes.Structure):
    _fields_ = [("hdr", _MsgHdr), ("len", ctypes.c_uint)]


def _libc_recvmmsg() -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]
    try:
        fn = ctypes.CDLL(None, use_errno=True).recvmmsg
    except (AttributeError, OSError):
        return None
    fn.restype = ctypes.c_int
    fn.argtypes = [
        ctypes.c_int,
        ctypes.POINTER(_MMsgHdr),
        ctypes.c_uint,
        ctypes.c_int,
        ctypes.c_void_p,
    ]
    return fn


_RECVMMSG = _libc_recvmmsg()

_FLAGS_AND_LEN = struct.Struct(
    f"={_MsgHdr.flags.offset}xi"
    f"{_MMsgHdr.len.offset - _MsgHdr.flags.offset - 4}xI"
    f"{ctypes.sizeof(_MMsgHdr) - _MMsgHdr.len.offset - 4}x"
)
"""Each ``mmsghdr``'s flags and length, read from one copy of the array (ctypes field
access per datagram costs more than the datagram's parse)."""


class DatagramReader:
    """Reads up to ``slots`` datagrams of at most ``size`` bytes per call into ``buf``.

    Slot ``i`` starts at ``i * size`` in ``buf``; ``read`` returns ``(offset, length)``
    per datagram received, in arrival order.
    """

    def __init__(self, sock: socket.socket, slots: int, size: int) -> None:
        self.sock = sock
        self.slots = slots
        self.size = size
        self.buf = bytearray(slots * size)
        base = ctypes.addressof((ctypes.c_char * len(self.buf)).from_buffer(self.buf))
        self._iovs = (_IoVec * slots)(*[_IoVec(base + i * size, size) for i in range(slots)])
        self._msgs = (_MMsgHdr * slots)()
        for i in range(slots):
            self._msgs[i].hdr.iov = ctypes.pointer(self._iovs[i])
            self._msgs[i].hdr.iovlen = 1

    @classmethod
    def open(cls, sock: socket.socket, slots: int, size: int) -> DatagramReader | None:
        """A reader for ``sock``, or None where libc has no ``recvmmsg``."""
        return cls(sock, slots, size) if _RECVMMSG is not None else None

    def read(self, timeout: float | None) -> list[tuple[int, int]]:
        """Every datagram queued (up to ``slots``), waiting up to ``timeout`` for the first.

        Raises:
            TimeoutError: nothing arrived in time.
            OSError: the socket failed (``ENOBUFS``: answers were dropped); ``EMSGSIZE``
                when a datagram did not fit its slot.
        """
        assert _RECVMMSG is not None
        fd = self.sock.fileno()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            got = _RECVMMSG(fd, self._msgs, self.slots, MSG_DONTWAIT, None)
            if got > 0:
                break
            err = ctypes.get_errno()
            if got == 0 or err not in (errno.EAGAIN, errno.EINTR):
                raise OSError(err, os.strerror(err))
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise TimeoutError("no answer")
            select.select([fd], [], [], left)
        size = self.size
        raw = ctypes.string_at(self._msgs, got * _FLAGS_AND_LEN.size)
        out = []
        for i, (flags, length) in enumerate(_FLAGS_AND_LEN.iter_unpack(raw)):
            if flags & MSG_TRUNC:
                raise OSError(errno.EMSGSIZE, f"a datagram longer than {size} bytes")
            out.append((i * size, length))
        return out
