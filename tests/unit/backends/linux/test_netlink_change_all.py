"""``NetlinkSocket.change_all`` (bare bodies, failures only) against ``transact``.

Both are fed the same scripted kernel answers: failures anywhere in a chunk, several
answers in one datagram, a plain ACK, late answers of an abandoned batch, and a chunk
whose answers are lost before its barrier. Any request the bulk form attributes
differently from ``transact`` would land a kernel error on the wrong change.
"""

from __future__ import annotations

import errno
import random
import struct
from collections.abc import Callable

from routerd.backends.linux import netlink_codec as nl
from routerd.backends.linux.netlink_socket import NetlinkSocket, Reply, Request

Script = Callable[[int, int], list[list[bytes] | Reply]]


def error(seq: int, code: int) -> bytes:
    return nl.pack_message(nl.NLMSG_ERROR, 0, seq, struct.pack("=i", -code) + bytes(16))


class Scripted(NetlinkSocket):
    """A socket whose kernel is a script: per chunk sent, the datagrams (or loss) it gets."""

    def __init__(self, script: Script, chunk: int) -> None:  # no real socket
        self.chunk = chunk
        self.sent_requests = 0
        self._seq = 0
        self._buf = bytearray(1 << 16)
        self.script = script
        self.queue: list[list[bytes] | Reply] = []

    def _send_parts(self, parts, barrier):  # type: ignore[no-untyped-def]
        self.queue = self.script(barrier - len(parts), len(parts))

    def _receive_or_lost(self):  # type: ignore[no-untyped-def]
        item = self.queue.pop(0)
        if isinstance(item, Reply):
            return item
        got, off = [], 0
        for datagram in item:
            self._buf[off : off + len(datagram)] = datagram
            got.append((off, len(datagram)))
            off += len(datagram) + 8  # slots hold garbage past each datagram
        return got


def script(seed: int) -> Script:
    rng = random.Random(seed)

    def answers(first: int, n: int) -> list[list[bytes] | Reply]:
        msgs = [error(first - 3, errno.EEXIST)] if first > 3 else []  # an abandoned batch's
        for i in range(n):
            roll = rng.random()
            if roll < 0.2:
                msgs.append(error(first + i, rng.choice((errno.EEXIST, errno.ENETUNREACH))))
            elif roll < 0.25:
                msgs.append(error(first + i, 0))  # a plain ACK: success
        out: list[list[bytes] | Reply] = []
        while msgs:
            take = rng.randint(1, 3)
            out.append(msgs[:take])
            msgs = msgs[take:]
        if rng.random() < 0.3:  # the rest of the chunk is lost
            out = out[: rng.randint(0, len(out))]
            out.append(Reply(rng.choice((errno.ETIMEDOUT, errno.ENOBUFS)), "lost"))
        else:
            out.append([error(first + n, 0)])  # the barrier's ACK
        return out

    return answers


def test_change_all_files_each_failure_where_transact_does():
    bodies = [struct.pack("=I", i) for i in range(150)]
    for seed in range(40):
        requests = [Request(nl.RTM_NEWROUTE, nl.NLM_F_ACK | nl.NLM_F_CREATE, b) for b in bodies]
        replies = Scripted(script(seed), chunk=16).transact(requests)
        want = {pos: reply for pos, reply in enumerate(replies) if reply.errno}
        sock = Scripted(script(seed), chunk=16)
        got = sock.change_all(nl.RTM_NEWROUTE, nl.NLM_F_ACK | nl.NLM_F_CREATE, bodies)
        assert got == want, seed
        assert sock.sent_requests == len(bodies)
    assert want  # the script does fail requests


class Recorder(NetlinkSocket):
    """A socket that only records the datagrams it would send."""

    def __init__(self) -> None:  # no real socket
        self._seq = 0
        self.sock = self  # type: ignore[assignment]
        self.sent: list[bytes] = []

    def sendto(self, data: bytes, address: object) -> int:
        self.sent.append(data)
        return len(data)


def test_bodies_of_one_type_are_sent_as_the_general_form_sends_them():
    bodies = [struct.pack("=I", i) * (i % 5) for i in range(40)]
    flags = nl.NLM_F_REQUEST | nl.NLM_F_CREATE
    general, bulk = Recorder(), Recorder()
    for _ in range(3):
        first = general._send_with_barrier([(nl.RTM_NEWROUTE, flags, b) for b in bodies])
        assert bulk._send_bodies(nl.RTM_NEWROUTE, flags, bodies) == first
    assert bulk.sent == general.sent
