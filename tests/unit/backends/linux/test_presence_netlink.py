"""Which neighbour notifications are presence, and link MACs from link notifications."""

from __future__ import annotations

import socket

import pytest

from routerd.backends.linux import netlink_codec as nl
from routerd.backends.linux import presence_netlink as pn

IP = socket.inet_aton("10.40.8.10")
MAC = bytes.fromhex("02000000 0a01")
NUD_INCOMPLETE, NUD_STALE, NUD_DELAY, NUD_PROBE, NUD_FAILED = 0x01, 0x04, 0x08, 0x10, 0x20


def neigh(
    state: int,
    *,
    kind: int = nl.RTM_NEWNEIGH,
    family: int = nl.AF_INET,
    flags: int = 0,
    lladdr: bytes | None = MAC,
) -> nl.Message:
    body = nl.NDMSG.pack(family, 7, state, flags, 1) + nl.attr(nl.NDA_DST, IP)
    if lladdr is not None:
        body += nl.attr(pn.NDA_LLADDR, lladdr)
    return nl.Message(kind, 0, 0, 0, body)


def test_a_reachable_entry_is_presence() -> None:
    assert pn.reachable(neigh(pn.NUD_REACHABLE)) == pn.Reachable(7, IP, MAC)


@pytest.mark.parametrize(
    ("msg", "why"),
    [
        (neigh(NUD_STALE), "an entry decays to STALE after the host went quiet (or away)"),
        (neigh(NUD_DELAY), "the kernel doubts it"),
        (neigh(NUD_PROBE), "the kernel is checking"),
        (neigh(NUD_FAILED), "gone"),
        (neigh(NUD_INCOMPLETE, lladdr=None), "never answered"),
        (neigh(nl.NUD_PERMANENT), "configured, not heard"),
        (neigh(pn.NUD_REACHABLE, kind=nl.RTM_DELNEIGH), "deleted"),
        (neigh(pn.NUD_REACHABLE, flags=nl.NTF_PROXY), "a proxy entry is this router's"),
        (neigh(pn.NUD_REACHABLE, family=socket.AF_INET6), "not IPv4"),
        (neigh(pn.NUD_REACHABLE, lladdr=b"\x01\x02"), "not an Ethernet address"),
        (nl.Message(nl.RTM_NEWNEIGH, 0, 0, 0, b"\x02"), "truncated"),
    ],
)
def test_everything_else_is_not(msg: nl.Message, why: str) -> None:
    assert pn.reachable(msg) is None, why


def link(kind: int, mac: bytes | None) -> nl.Message:
    body = nl.IFINFOMSG.pack(0, 1, 9, 1, 0) + nl.attr(nl.IFLA_IFNAME, b"lan\0")
    if mac is not None:
        body += nl.attr(nl.IFLA_ADDRESS, mac)
    return nl.Message(kind, 0, 0, 0, body)


def test_link_macs() -> None:
    assert pn.link_mac(link(nl.RTM_NEWLINK, MAC)) == pn.LinkMac(9, "lan", MAC, False)
    assert pn.link_mac(link(nl.RTM_DELLINK, MAC)) == pn.LinkMac(9, "lan", b"", True)
    assert pn.link_mac(link(nl.RTM_NEWLINK, None)) == pn.LinkMac(9, "lan", b"", False)
    assert pn.link_mac(neigh(pn.NUD_REACHABLE)) is None
