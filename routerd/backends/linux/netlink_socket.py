"""One rtnetlink socket that pipelines requests and maps every answer back by sequence number.

A plan of N changes goes out as a few ``send()`` calls of up to ``chunk`` concatenated
messages each; the kernel runs every message of a send in turn. Change requests are sent
without ``NLM_F_ACK``, so the kernel answers only the ones that fail, and a trailing
``NLMSG_NOOP`` with ``NLM_F_ACK`` is the barrier: its ACK arrives after every earlier
answer, so when it is read, each request of the chunk either failed (its error carries its
own sequence number, hence its change) or succeeded. 10,000 claims thus cost ~80 sends and
~80 receives instead of 20,000 round trips (~25k messages/s is the Python floor with one ACK
per message, "Netlink" in docs/background.md; ACK-less batches do better). Lookups are
answered one datagram each: those are received up to 32 per call (``recvmmsg.py``) and
their headers read in place, so a verify of 10,000 addresses is ~300 receive calls.

The socket asks for ``NETLINK_CAP_ACK`` (errors do not echo the request),
``NETLINK_EXT_ACK`` (errors carry the kernel's explanation) and ``NETLINK_GET_STRICT_CHK``
(dumps are filtered in the kernel: routes by protocol, neighbours by the proxy flag). The
receive buffer is large because an overrun silently drops answers.

Not thread-safe by itself; callers hold ``lock``.
"""

from __future__ import annotations

import contextlib
import errno
import socket
import struct
import threading
from collections.abc import Iterator, Sequence
from typing import NamedTuple

from routerd.backends.linux import netlink_codec as nl
from routerd.backends.linux.recvmmsg import DatagramReader

SOL_NETLINK = 270
NETLINK_ADD_MEMBERSHIP = 1
NETLINK_CAP_ACK = 10
NETLINK_EXT_ACK = 11
NETLINK_GET_STRICT_CHK = 12
SO_RCVBUFFORCE = 33

RCVBUF = 8 << 20
RECV_SIZE = 1 << 20
MAX_DATAGRAM = 32 << 10
"""The kernel never sends a netlink datagram longer (dumps are capped below 32 KiB)."""
DEFAULT_CHUNK = 256


class NetlinkError(OSError):
    """A netlink request or dump failed as a whole (not one message of a batch)."""


class Request(NamedTuple):
    """A message to send: type, flags (``NLM_F_REQUEST`` is added) and body.

    A NamedTuple: a cold apply builds one per route and a verify one per lookup.
    """

    type: int
    flags: int
    body: bytes


class Reply(NamedTuple):
    """The kernel's answer to one request: errno 0 and, for lookups, the reply body."""

    errno: int
    text: str = ""
    body: bytes | None = None

    @property
    def ok(self) -> bool:
        return self.errno == 0


OK = Reply(0)


class NetlinkSocket:
    """A bound ``NETLINK_ROUTE`` (or other protocol) socket."""

    def __init__(
        self,
        protocol: int = socket.NETLINK_ROUTE,
        *,
        groups: int = 0,
        chunk: int = DEFAULT_CHUNK,
        timeout: float = 10.0,
    ) -> None:
        self.sock = socket.socket(
            socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, protocol
        )
        self.chunk = chunk
        self.lock = threading.Lock()
        for opt in (NETLINK_CAP_ACK, NETLINK_EXT_ACK, NETLINK_GET_STRICT_CHK):
            # Older kernels lack some options: still correct, only less precise.
            with contextlib.suppress(OSError):
                self.sock.setsockopt(SOL_NETLINK, opt, 1)
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, RCVBUF)
        except OSError:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
        self.sock.bind((0, groups))
        self.sock.settimeout(timeout)
        self.portid: int = self.sock.getsockname()[0]
        self._seq = 0
        self._reader = DatagramReader.open(self.sock, RECV_SIZE // MAX_DATAGRAM, MAX_DATAGRAM)
        """Many answers per receive call (None: libc lacks ``recvmmsg``, one per call)."""
        self._buf = self._reader.buf if self._reader is not None else bytearray(RECV_SIZE)
        self.sent_requests = 0
        """Requests sent through ``transact`` (changes and lookups; dumps not counted)."""

    def close(self) -> None:
        self.sock.close()

    def _next_seqs(self, n: int) -> int:
        first = self._seq + 1
        self._seq = (self._seq + n) & 0x7FFFFFFF
        if self._seq < first:  # wrapped: restart low so ranges stay contiguous
            first, self._seq = 1, n
        return first

    def _recv(self) -> list[nl.Message]:
        n = self.sock.recv_into(self._buf)  # the whole buffer: several slots of the reader
        return list(nl.iter_messages(memoryview(self._buf), n))

    def transact(self, requests: Sequence[Request]) -> list[Reply]:
        """Send requests pipelined; one Reply per request, in order.

        Change requests (``NLM_F_ACK`` asked) go out *without* the ACK flag: the kernel then
        answers only failures, and a trailing ``NLMSG_NOOP`` with ``NLM_F_ACK`` acts as a
        barrier (its ACK comes after every earlier answer), so a batch of 256 successes costs
        one receive instead of 256. Lookups (no ``NLM_F_ACK``) resolve on their reply.
        """
        replies: list[Reply] = []
        self.sent_requests += len(requests)
        for start in range(0, len(requests), self.chunk):
            replies.extend(self._transact_chunk(requests[start : start + self.chunk]))
        return replies

    def _transact_chunk(self, chunk: Sequence[Request]) -> list[Reply]:
        n = len(chunk)
        quiet = nl.NLM_F_REQUEST
        not_ack = ~nl.NLM_F_ACK
        first = self._send_with_barrier(
            [(kind, (flags & not_ack) | quiet, body) for kind, flags, body in chunk]
        )
        out: list[Reply | None] = [None] * n
        lookups = sum(1 for r in chunk if not r.flags & nl.NLM_F_ACK)
        barrier = False
        while not barrier or lookups:
            got = self._receive_or_lost()
            if isinstance(got, Reply):
                return self._fill(out, chunk, barrier, got)
            buf = self._buf
            for start, size in got:
                barrier, lookups = self._answers(
                    buf, start, start + size, first, chunk, out, barrier, lookups
                )
        return self._fill(out, chunk, True, Reply(errno.EIO, "no answer"))

    def change_all(self, kind: int, flags: int, bodies: Sequence[bytes]) -> dict[int, Reply]:
        """``transact`` for change requests of one type and flags: only the failures, by
        position (a position not in the result succeeded).

        Sent as ``transact`` sends them (the same chunks, each with its barrier), but with no
        ``Request`` or ``Reply`` per message: a cold apply sends 100,000 route adds and the
        kernel answers only the ones that fail. A request its chunk's barrier did not vouch
        for (a timeout, or answers lost to an overrun) gets that reason, as in ``transact``.
        """
        out: dict[int, Reply] = {}
        self.sent_requests += len(bodies)
        flags = (flags & ~nl.NLM_F_ACK) | nl.NLM_F_REQUEST
        for start in range(0, len(bodies), self.chunk):
            chunk = bodies[start : start + self.chunk]
            n = len(chunk)
            first = self._send_bodies(kind, flags, chunk)
            failed: dict[int, Reply] = {}
            barrier = False
            while not barrier:
                got = self._receive_or_lost()
                if isinstance(got, Reply):  # the rest of the chunk will not be answered
                    failed.update({i: got for i in range(n) if i not in failed})
                    break
                barrier = _errors_in(self._buf, got, first, n, failed) or barrier
            out.update({start + i: reply for i, reply in failed.items() if reply.errno})
        return out

    def _receive(self) -> list[tuple[int, int]]:
        """The datagrams queued, as (offset, length) in the reader's (or our) buffer."""
        if self._reader is not None:
            return self._reader.read(self.sock.gettimeout())
        return [(0, self.sock.recv_into(self._buf))]

    def _send_with_barrier(self, messages: Sequence[tuple[int, int, bytes]]) -> int:
        """Send ``(kind, flags, body)`` messages in one datagram, then the barrier: a
        ``NLMSG_NOOP`` asking for an ACK, which the kernel answers after every earlier
        answer. Returns the first message's sequence number (the barrier's is ``+ n``)."""
        n = len(messages)
        first = self._next_seqs(n + 1)
        pack = nl.NLMSGHDR.pack
        hdr = nl.NLMSGHDR.size
        parts = [
            pack(hdr + len(body), kind, flags, seq, 0) + body
            for seq, (kind, flags, body) in enumerate(messages, first)
        ]
        self._send_parts(parts, first + n)
        return first

    def _send_bodies(self, kind: int, flags: int, bodies: Sequence[bytes]) -> int:
        """``_send_with_barrier`` for messages of one type and flags, given their bodies
        (no tuple per message: a cold apply and its verify send 100,000 each)."""
        n = len(bodies)
        first = self._next_seqs(n + 1)
        pack = nl.NLMSGHDR.pack
        hdr = nl.NLMSGHDR.size
        parts = [
            pack(hdr + len(body), kind, flags, seq, 0) + body
            for seq, body in enumerate(bodies, first)
        ]
        self._send_parts(parts, first + n)
        return first

    def _send_parts(self, parts: list[bytes], barrier: int) -> None:
        """Send packed messages, then the barrier (sequence number ``barrier``), in one
        datagram."""
        parts.append(nl.pack_message(nl.NLMSG_NOOP, nl.NLM_F_REQUEST | nl.NLM_F_ACK, barrier, b""))
        self.sock.sendto(b"".join(parts), (0, 0))

    def _receive_or_lost(self) -> list[tuple[int, int]] | Reply:
        """``_receive``, or why the answers still missing will not come (a timeout, or the
        kernel dropping answers on a full receive queue)."""
        try:
            return self._receive()
        except TimeoutError:
            return Reply(errno.ETIMEDOUT, "no answer")
        except OSError as exc:
            if exc.errno != errno.ENOBUFS:
                raise
            return Reply(errno.ENOBUFS, "answers lost")

    @staticmethod
    def _answers(
        buf: bytearray,
        off: int,
        end: int,
        first: int,
        chunk: Sequence[Request],
        out: list[Reply | None],
        barrier: bool,
        lookups: int,
    ) -> tuple[bool, int]:
        """File the answers of one datagram (``buf[off:end]``); returns barrier and lookups.

        Headers are read straight from the receive buffer: a verify of 10,000 addresses
        receives 10,000 datagrams, and only the lookup replies' bodies are copied out.
        """
        n = len(chunk)
        for at, length, kind, flags, seq, pid in _headers(buf, off, end):
            i = seq - first
            if i == n:
                barrier = True
            elif 0 <= i < n and out[i] is None:  # else: late answer to an abandoned batch
                out[i] = _reply_at(buf, at, length, kind, flags, seq, pid)
                lookups -= not chunk[i].flags & nl.NLM_F_ACK
        return barrier, lookups

    def lookup(
        self, kind: int, bodies: Sequence[bytes], start: int, attr: int
    ) -> list[bytes | None]:
        """Pipelined queries that each get one answer; per query, one attribute of its answer.

        Sent like ``transact``'s lookups (chunks, then the ``NLMSG_NOOP`` barrier), but the
        answers are read in place: no ``Reply`` and no body copy per answer, only the
        payload of ``attr`` (the first flat attribute of that type at ``start`` in the
        answer's body). A verify of 10,000 addresses spends far more time in Python
        per answer than in the kernel's route lookups.

        Args:
            kind: the request type (``RTM_GETROUTE``).
            bodies: one request body per query.
            start: where the attributes of an answer's body begin (its fixed header size).
            attr: the attribute to return.

        Returns:
            Per query, in order: the attribute's payload; None when the kernel refused the
            query, its answer lacks the attribute, or no answer came (timeout, overrun).
        """
        out: list[bytes | None] = []
        self.sent_requests += len(bodies)
        for first in range(0, len(bodies), self.chunk):
            out.extend(self._lookup_chunk(kind, bodies[first : first + self.chunk], start, attr))
        return out

    def _lookup_chunk(
        self, kind: int, bodies: Sequence[bytes], start: int, attr: int
    ) -> list[bytes | None]:
        n = len(bodies)
        request = nl.NLM_F_REQUEST
        first = self._send_bodies(kind, request, bodies)
        out: list[bytes | None] = [None] * n
        at = start + nl.NLMSGHDR.size
        barrier = False
        while not barrier:  # the barrier's ACK comes after every earlier answer
            got = self._receive_or_lost()
            if isinstance(got, Reply):  # the rest stay None: no answer
                return out
            barrier = _find_in(self._buf, got, first, n, at, attr, out) or barrier
        return out

    @staticmethod
    def _fill(
        out: list[Reply | None], chunk: Sequence[Request], barrier: bool, missing: Reply
    ) -> list[Reply]:
        """Unanswered changes succeeded once the barrier was seen; anything else is ``missing``."""
        ack = nl.NLM_F_ACK
        if barrier and all(req.flags & ack for req in chunk):  # a batch of changes
            return [OK if r is None else r for r in out]
        done = OK if barrier else missing
        return [
            r if r is not None else (done if req.flags & ack else missing)
            for r, req in zip(out, chunk, strict=True)
        ]

    def dump(self, kind: int, body: bytes, *, attempts: int = 3) -> list[nl.Message]:
        """All messages of a dump; retried when the kernel flags it as interrupted.

        Raises:
            NetlinkError: the kernel rejected the dump request.
        """
        for _ in range(attempts):
            msgs, interrupted = self._dump_once(kind, body)
            if not interrupted:
                return msgs
        return msgs

    def _dump_once(self, kind: int, body: bytes) -> tuple[list[nl.Message], bool]:
        seq = self._next_seqs(1)
        self.sock.sendto(nl.pack_message(kind, nl.NLM_F_REQUEST | nl.NLM_F_DUMP, seq, body), (0, 0))
        out: list[nl.Message] = []
        interrupted = False
        while True:
            for msg in self._recv():
                if msg.seq != seq:
                    continue
                interrupted = interrupted or bool(msg.flags & nl.NLM_F_DUMP_INTR)
                if msg.type == nl.NLMSG_DONE:
                    if len(msg.body) >= 4 and nl.I32.unpack_from(msg.body, 0)[0] < 0:
                        err = -nl.I32.unpack_from(msg.body, 0)[0]
                        raise NetlinkError(err, f"netlink dump {kind} failed")
                    return out, interrupted
                if msg.type == nl.NLMSG_ERROR:
                    err, text = nl.parse_error(msg)
                    if err:
                        raise NetlinkError(
                            err, f"netlink dump {kind}: {text or errno.errorcode.get(err, err)}"
                        )
                    continue
                out.append(msg)


_THIRD = struct.Struct("=HH4xHH4xHH")
"""The headers of three attributes, the first two of 4-byte payloads: how the kernel
answers a route lookup (table, destination, then the output interface)."""


def _find_in(
    buf: bytearray,
    got: list[tuple[int, int]],
    first: int,
    n: int,
    start: int,
    attr: int,
    out: list[bytes | None],
) -> bool:
    """File ``attr`` of each answer in the datagrams ``got`` (offset, length) into ``out``.

    Returns whether one held the barrier's ACK (sequence ``first + n``). An error answer
    leaves its query's None; ``start`` counts from the message header.
    """
    unpack = nl.NLMSGHDR.unpack_from
    unpack_nla = nl.NLA.unpack_from
    unpack_third = _THIRD.unpack_from
    error = nl.NLMSG_ERROR
    barrier = False
    for off, end in got:
        end += off
        while off + 16 <= end:
            length, kind, _, seq, _ = unpack(buf, off)
            if length < 16 or off + length > end:
                break
            i = seq - first
            if i == n:
                barrier = True
            elif 0 <= i < n and kind != error:
                pos, stop = off + start, off + length
                if pos + 20 <= stop:  # the walk below, in one read when ``attr`` is third
                    size1, type1, size2, type2, size3, type3 = unpack_third(buf, pos)
                    if (
                        size1 == 8
                        and size2 == 8
                        and size3 >= 4
                        and type3 & 0x3FFF == attr
                        and type1 & 0x3FFF != attr
                        and type2 & 0x3FFF != attr
                    ):
                        out[i] = bytes(buf[pos + 20 : pos + 16 + size3])
                        off += (length + 3) & ~3
                        continue
                while pos + 4 <= stop:
                    size, found = unpack_nla(buf, pos)
                    if size < 4:
                        break
                    if found & 0x3FFF == attr:
                        out[i] = bytes(buf[pos + 4 : pos + size])
                        break
                    pos += (size + 3) & ~3
            off += (length + 3) & ~3
    return barrier


def _errors_in(
    buf: bytearray, got: list[tuple[int, int]], first: int, n: int, out: dict[int, Reply]
) -> bool:
    """File the failures among the answers in the datagrams ``got`` (offset, length) into
    ``out`` by position; returns whether one held the barrier's ACK (sequence ``first + n``).

    A request's first answer is its result, as in ``_answers``: a plain ACK (errno 0)
    is filed too, so the caller drops the successes.
    """
    barrier = False
    for start, size in got:
        for at, length, kind, flags, seq, pid in _headers(buf, start, start + size):
            i = seq - first
            if i == n:
                barrier = True
            elif 0 <= i < n and i not in out:  # else: late answer to an abandoned batch
                out[i] = _reply_at(buf, at, length, kind, flags, seq, pid)
    return barrier


def _headers(buf: bytearray, off: int, end: int) -> Iterator[tuple[int, int, int, int, int, int]]:
    """(offset, length, type, flags, sequence, port) of each whole message in
    ``buf[off:end]``, read straight from the buffer; stops at a malformed header."""
    unpack = nl.NLMSGHDR.unpack_from
    hdr = nl.NLMSGHDR.size
    while off + hdr <= end:
        length, kind, flags, seq, pid = unpack(buf, off)
        if length < hdr or off + length > end:
            return
        yield off, length, kind, flags, seq, pid
        off += (length + 3) & ~3


def _reply_at(
    buf: bytearray, off: int, length: int, kind: int, flags: int, seq: int, pid: int
) -> Reply:
    """The answer whose header (already unpacked) starts at ``buf[off]``: the kernel's
    error or ACK, or a reply carrying its body."""
    body = bytes(buf[off + nl.NLMSGHDR.size : off + length])
    if kind == nl.NLMSG_ERROR:
        return Reply(*nl.parse_error(nl.Message(kind, flags, seq, pid, body)))
    return Reply(0, "", body)
