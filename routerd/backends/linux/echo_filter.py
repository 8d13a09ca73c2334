"""A socket filter that has the kernel drop the echoes of routerd's own route writes.

Why: a cold apply of 10,000 claims writes 10,000 routes, and the event socket would
receive (one datagram each), decode and patch every one of their notifications back into
the observation cache, which then learns nothing it did not know from the acknowledged
writes. The filter runs in the kernel before a notification is queued; everything else
(foreign route writes, routerd's own address and link changes) still arrives.
"""

from __future__ import annotations

import ctypes
import socket
import struct

from routerd.backends.linux import netlink_codec as nl

SO_ATTACH_FILTER = 26
BPF_LD_H_ABS, BPF_LD_W_ABS, BPF_JEQ_K, BPF_RET_K = 0x28, 0x20, 0x15, 0x06
SOCK_FILTER = struct.Struct("=HBBI")


def own_route_echo_filter(portid: int) -> list[bytes]:
    """A classic BPF program that drops route notifications caused by port ``portid``.

    rtnetlink sends every notification in its own datagram, stamped with the port id of
    the socket whose request caused it: the kernel drops the echoes of routerd's own route
    writes (10,000 on a cold apply) before they are queued, and the backend patches its
    cache from its acknowledged writes instead. Every other notification (a foreign route
    write, routerd's own address or link changes) passes. BPF absolute loads read
    big-endian, the netlink header is host order: the constants are swapped to match.
    """

    def be(fmt: str, value: int) -> int:
        return int.from_bytes(struct.pack(fmt, value), "big")

    new, delete = be("=H", nl.RTM_NEWROUTE), be("=H", nl.RTM_DELROUTE)
    return [
        SOCK_FILTER.pack(BPF_LD_H_ABS, 0, 0, 4),  # nlmsg_type
        SOCK_FILTER.pack(BPF_JEQ_K, 1, 0, new),
        SOCK_FILTER.pack(BPF_JEQ_K, 0, 3, delete),
        SOCK_FILTER.pack(BPF_LD_W_ABS, 0, 0, 12),  # nlmsg_pid
        SOCK_FILTER.pack(BPF_JEQ_K, 0, 1, be("=I", portid)),
        SOCK_FILTER.pack(BPF_RET_K, 0, 0, 0),  # drop
        SOCK_FILTER.pack(BPF_RET_K, 0, 0, 0xFFFFFFFF),  # keep
    ]


def attach_filter(sock: socket.socket, program: list[bytes]) -> None:
    """``SO_ATTACH_FILTER``: the kernel copies the program, the buffer may go after."""
    code = ctypes.create_string_buffer(b"".join(program))
    fprog = struct.pack("HP", len(program), ctypes.addressof(code))
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)
