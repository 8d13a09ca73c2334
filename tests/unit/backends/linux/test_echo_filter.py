"""The own-route-echo socket filter, run by a tiny classic-BPF interpreter.

The netns event tests show the kernel running it; this pins what it decides for each kind
of header (big-endian loads against the host-order netlink header included).
"""

from __future__ import annotations

import struct

from routerd.backends.linux import netlink_codec as nl
from routerd.backends.linux.echo_filter import (
    BPF_JEQ_K,
    BPF_LD_H_ABS,
    BPF_LD_W_ABS,
    BPF_RET_K,
    SOCK_FILTER,
    own_route_echo_filter,
)

PORT = 0x12345678


def run(program: list[bytes], packet: bytes) -> int:
    """What the kernel would keep of ``packet`` (0: dropped)."""
    acc, pc = 0, 0
    while True:
        code, jt, jf, k = SOCK_FILTER.unpack(program[pc])
        if code == BPF_LD_H_ABS:
            acc = int.from_bytes(packet[k : k + 2], "big")
        elif code == BPF_LD_W_ABS:
            acc = int.from_bytes(packet[k : k + 4], "big")
        elif code == BPF_JEQ_K:
            pc += jt if acc == k else jf
        elif code == BPF_RET_K:
            return k
        else:
            raise AssertionError(f"unexpected opcode {code:#x}")
        pc += 1


def header(kind: int, pid: int) -> bytes:
    return nl.NLMSGHDR.pack(60, kind, 0, 7, pid) + b"\0" * 44


def test_only_route_echoes_of_our_own_port_are_dropped():
    program = own_route_echo_filter(PORT)
    assert run(program, header(nl.RTM_NEWROUTE, PORT)) == 0
    assert run(program, header(nl.RTM_DELROUTE, PORT)) == 0
    assert run(program, header(nl.RTM_NEWROUTE, PORT + 1))  # an operator's `ip route`
    assert run(program, header(nl.RTM_DELROUTE, 0))  # the kernel's own (a link went down)
    assert run(program, header(nl.RTM_NEWADDR, PORT))  # our address echoes still arrive
    assert run(program, header(nl.RTM_NEWLINK, PORT))
    assert run(program, struct.pack("=IHHII", 60, nl.RTM_NEWROUTE << 8, 0, 7, PORT) + b"\0" * 44)
