"""MacWatch: which link notifications are a capture interface changing its MAC."""

from __future__ import annotations

from routerd.backends.linux import netlink_codec as nl
from routerd.backends.linux.announce import MacWatch
from routerd.backends.linux.links import LinkInfo


def link_msg(kind: int, index: int, name: str, mac: str | None) -> nl.Message:
    body = nl.IFINFOMSG.pack(0, 0, index, 1, 0) + nl.attr(nl.IFLA_IFNAME, name.encode() + b"\0")
    if mac is not None:
        body += nl.attr(nl.IFLA_ADDRESS, bytes.fromhex(mac.replace(":", "")))
    return nl.Message(kind, 0, 0, 0, body)


def test_a_change_from_the_seeded_mac_is_reported_once() -> None:
    w = MacWatch()
    w.seed([LinkInfo(7, "br0", True, 1500, "bridge", "02:00:00:00:00:50")])
    assert w.feed(link_msg(nl.RTM_NEWLINK, 7, "br0", "02:00:00:00:00:50")) is None  # same
    changed = w.feed(link_msg(nl.RTM_NEWLINK, 7, "br0", "02:00:00:00:00:01"))
    assert changed == ("br0", "02:00:00:00:00:50", "02:00:00:00:00:01")
    assert w.feed(link_msg(nl.RTM_NEWLINK, 7, "br0", "02:00:00:00:00:01")) is None  # repeat


def test_first_sighting_deleted_links_and_addressless_links_are_not_changes() -> None:
    w = MacWatch()
    assert w.feed(link_msg(nl.RTM_NEWLINK, 8, "br1", "02:00:00:00:00:09")) is None
    assert w.feed(link_msg(nl.RTM_DELLINK, 8, "br1", "02:00:00:00:00:09")) is None
    assert w.feed(link_msg(nl.RTM_NEWLINK, 8, "br1", "02:00:00:00:00:08")) is None  # new link
    assert w.feed(link_msg(nl.RTM_NEWLINK, 9, "wg0", None)) is None  # no link-layer address
    assert w.feed(nl.Message(nl.RTM_NEWROUTE, 0, 0, 0, b"")) is None
