"""Pipelined route lookups (``routes.lookup_devices``) against a real kernel.

The answers are read in place, one attribute each, so these check what a per-answer
parse used to guarantee: every address gets the device of its own answer across chunk
boundaries, and an address the kernel cannot route (an error answer) or routes to a
blackhole (an answer without an output device) reads as no device, never as a neighbour's.
"""

from __future__ import annotations

import pytest

from tests.support.netns import Netns

pytestmark = pytest.mark.netns


def lookups(addresses: list[str], chunk: int) -> dict[str, str | None]:
    """In the worker: a fresh socket with a small chunk, so the lookups span many sends."""
    from routerd.backends.linux import routes
    from routerd.backends.linux.links import LinkTable
    from routerd.backends.linux.netlink_socket import NetlinkSocket

    links = LinkTable()
    links.refresh()
    sock = NetlinkSocket(chunk=chunk)
    try:
        first = routes.lookup_devices(sock, addresses, links.name)
        again = routes.lookup_devices(sock, addresses, links.name)  # sequence numbers move on
        assert again == first
        return first
    finally:
        sock.close()
        links.close()


def setup(lab) -> tuple[Netns, str, str]:
    ns = lab.netns("lk")
    a, b = lab.name("a"), lab.name("b")
    ns.ip("link", "add", a, "type", "veth", "peer", "name", b)
    ns.ip("link", "set", a, "up")
    ns.ip("link", "set", b, "up")
    ns.ip("route", "add", "10.61.0.0/24", "dev", a)
    ns.ip("route", "add", "10.62.0.0/24", "dev", b)
    ns.ip("route", "add", "blackhole", "10.63.0.0/24")
    return ns, a, b


def test_each_address_gets_its_own_answer_across_chunks(lab):
    ns, a, b = setup(lab)
    want: dict[str, str | None] = {}
    for i in range(1, 60):
        want[f"10.61.0.{i}"] = a
        want[f"10.62.0.{i}"] = b
        if i % 7 == 0:
            want[f"10.64.0.{i}"] = None  # no route at all: the kernel answers an error
        if i % 5 == 0:
            want[f"10.63.0.{i}"] = None  # blackhole: no output device in the answer
    got = lab.worker(ns).call(lookups, list(want), 16)
    assert got == want
    assert list(got) == list(want)
