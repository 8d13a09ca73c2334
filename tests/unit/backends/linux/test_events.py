"""Which netlink and nf_tables notifications count as drift (crafted messages)."""

from __future__ import annotations

import struct

from routerd.backends.linux import addresses, neighbours, routes
from routerd.backends.linux import netlink_codec as nl
from routerd.backends.linux.events import Interest, NftTransactionFilter, rtnl_event_matters
from routerd.core.desired import Route

INTEREST = Interest(
    proto=routes.ROUTERD_PROTO,
    route_dsts=frozenset({"10.40.8.31/32"}),
    addresses=frozenset({"10.40.8.31"}),
    links=frozenset({"wg-sam"}),
)


def msg(kind: int, body: bytes) -> nl.Message:
    return nl.Message(kind, 0, 0, 0, body)


def test_route_events_of_ours_or_for_managed_destinations():
    ours = routes.encode_add(Route("10.9.9.9/32", "x", 1), 3).body
    assert rtnl_event_matters(msg(nl.RTM_DELROUTE, ours), INTEREST)
    foreign = bytearray(routes.encode_add(Route("10.40.8.31/32", "x", 50), 3).body)
    foreign[5] = 4  # proto static
    assert rtnl_event_matters(msg(nl.RTM_NEWROUTE, bytes(foreign)), INTEREST)
    foreign[7] = nl.RTN_LOCAL  # the local route that follows an address
    assert not rtnl_event_matters(msg(nl.RTM_NEWROUTE, bytes(foreign)), INTEREST)
    other = bytearray(routes.encode_add(Route("10.1.1.1/32", "x", 0), 3).body)
    other[5] = 4
    assert not rtnl_event_matters(msg(nl.RTM_NEWROUTE, bytes(other)), INTEREST)


def test_address_proxy_and_link_events():
    claimed = addresses.encode_add("10.40.8.31/24", 2).body
    assert rtnl_event_matters(msg(nl.RTM_NEWADDR, claimed), INTEREST)
    assert not rtnl_event_matters(
        msg(nl.RTM_NEWADDR, addresses.encode_add("10.1.1.1/24", 2).body), INTEREST
    )
    assert rtnl_event_matters(
        msg(nl.RTM_DELNEIGH, neighbours.encode_delete("10.1.1.1", 2).body), INTEREST
    )
    arp = nl.NDMSG.pack(nl.AF_INET, 2, 2, 0, 0) + nl.attr_ip4(nl.NDA_DST, "10.1.1.1")
    assert not rtnl_event_matters(msg(nl.RTM_NEWNEIGH, arp), INTEREST)
    link = nl.IFINFOMSG.pack(0, 0, 5, 0, 0) + nl.attr(nl.IFLA_IFNAME, b"wg-sam\0")
    assert rtnl_event_matters(msg(nl.RTM_DELLINK, link), INTEREST)


def nft(kind: int, attrs: bytes) -> nl.Message:
    return nl.Message((10 << 8) | kind, 0, 0, 0, b"\x01\x00\x00\x00" + attrs)


def gen(pid: int) -> nl.Message:
    return nft(15, nl.attr(1, struct.pack("!I", 7)) + nl.attr(2, struct.pack("!I", pid)))


def test_nft_transactions_touching_the_table_by_others_only():
    f = NftTransactionFilter(pid=100)
    flush = nft(8, nl.attr(1, b"routerd_mss\0"))  # DELRULE in our table
    assert not f.feed(flush)
    assert f.feed(gen(4242))
    assert not f.feed(flush) and not f.feed(gen(100))  # our own transaction
    assert f.own == 1
    assert not f.feed(nft(0, nl.attr(1, b"other\0"))) and not f.feed(gen(4242))
