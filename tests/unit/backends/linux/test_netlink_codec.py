"""The struct-packed rtnetlink codec: message framing, attributes, errors and object bodies."""

from __future__ import annotations

import struct

from routerd.backends.linux import addresses, neighbours, routes
from routerd.backends.linux import netlink_codec as nl
from routerd.core.desired import Route

NAMES = {3: "wg-sam", 7: "ens19"}


def name(index: int) -> str:
    return NAMES.get(index, f"if{index}")


def test_attributes_are_padded_to_four_bytes():
    a = nl.attr(1, b"abcde")
    assert len(a) == 12 and a[:4] == struct.pack("=HH", 9, 1) and a.endswith(b"\0\0\0")
    assert nl.parse_attrs(b"\0" * 4 + a + nl.attr_u32(6, 120), 4) == {1: b"abcde", 6: b"x\0\0\0"}


def test_messages_split_from_one_buffer():
    buf = nl.pack_message(24, 5, 10, b"abcd") + nl.pack_message(3, 2, 11, b"\0\0\0\0")
    msgs = list(nl.iter_messages(buf))
    assert [(m.type, m.flags, m.seq, m.body) for m in msgs] == [
        (24, 5, 10, b"abcd"),
        (3, 2, 11, b"\0\0\0\0"),
    ]
    assert list(nl.iter_messages(buf[:-2])) == msgs[:1]  # a truncated tail is dropped


def test_error_with_extended_ack_text():
    echoed = nl.NLMSGHDR.pack(40, 24, 5, 9, 0)
    body = struct.pack("=i", -17) + echoed + nl.attr(nl.NLMSGERR_ATTR_MSG, b"File exists\0")
    msg = nl.Message(nl.NLMSG_ERROR, nl.NLM_F_ACK_TLVS, 9, 0, body)
    assert nl.parse_error(msg) == (17, "File exists")
    ack = nl.Message(nl.NLMSG_ERROR, 0, 9, 0, struct.pack("=i", 0) + echoed)
    assert nl.parse_error(ack) == (0, "")


def test_route_roundtrip_carries_routerd_protocol():
    route = Route("10.40.8.31/32", "wg-sam", 120)
    req = routes.encode_add(route, 3)
    assert req.type == nl.RTM_NEWROUTE and req.flags & nl.NLM_F_EXCL
    assert req.body[5] == routes.ROUTERD_PROTO and req.body[6] == nl.RT_SCOPE_LINK
    assert routes.decode(req.body, name) == route
    assert routes.encode_add(route, 3, replace=True).flags & nl.NLM_F_REPLACE


def test_route_in_a_high_table_and_blackhole():
    route = Route("10.9.0.0/16", "", 0, table=1000, type="blackhole")
    req = routes.encode_add(route, None)
    assert req.body[4] == nl.RT_TABLE_UNSPEC  # the real table is in RTA_TABLE
    assert routes.decode(req.body, name) == route


def test_route_delete_names_the_protocol_and_any_scope():
    req = routes.encode_delete(Route("10.40.8.31/32", "wg-sam", 120))
    assert req.type == nl.RTM_DELROUTE
    assert req.body[5] == routes.ROUTERD_PROTO and req.body[6] == nl.RT_SCOPE_NOWHERE
    attrs = nl.parse_attrs(req.body, nl.RTMSG.size)
    assert nl.RTA_OIF not in attrs and nl.u32(attrs[nl.RTA_PRIORITY]) == 120


def test_cloned_routes_are_not_reported():
    body = bytearray(routes.encode_add(Route("10.0.0.1/32", "wg-sam", 0), 3).body)
    struct.pack_into("=I", body, 8, routes.RTM_F_CLONED)
    assert routes.decode(bytes(body), name) is None


def test_proxy_entry_fast_and_generic_decoding_agree():
    body = neighbours.encode_add("10.40.8.21", 7).body
    assert neighbours.decode(body) == neighbours.ProxyEntry("10.40.8.21", 7, routes.ROUTERD_PROTO)
    assert neighbours._decode_generic(body) == neighbours.decode(body)
    unlabelled = neighbours.encode_delete("10.40.8.22", 7).body
    assert neighbours.decode(unlabelled) == neighbours.ProxyEntry("10.40.8.22", 7, 0)


def test_proxy_protocol_support_by_kernel_release():
    assert neighbours.kernel_supports_protocol("6.18.44-fc")
    assert not neighbours.kernel_supports_protocol("4.19.0-25-amd64")


def test_address_encoding_exact_and_any_prefix():
    add = addresses.encode_add("10.255.40.1/31", 3)
    assert addresses.decode(add.body) == addresses.AddressEntry(3, "10.255.40.1", 31)
    entry = addresses.AddressEntry(7, "10.40.8.31", 24)
    loose = nl.parse_attrs(addresses.encode_delete(entry, exact=False).body, nl.IFADDRMSG.size)
    exact = nl.parse_attrs(addresses.encode_delete(entry, exact=True).body, nl.IFADDRMSG.size)
    assert set(loose) == {nl.IFA_LOCAL} and set(exact) == {nl.IFA_LOCAL, nl.IFA_ADDRESS}


def test_route_template_bodies_match_attribute_by_attribute_encoding():
    for route, ifindex in [
        (Route("10.40.8.31/32", "wg-sam", 120), 3),
        (Route("10.40.8.32/32", "ens19", 0, gateway="10.40.8.2", table=1000), 7),
        (Route("10.9.0.0/16", "", 5, table=100, type="blackhole"), None),
        (Route("0.0.0.0/0", "ens19", 0), 7),
    ]:
        addr, _, plen = route.dst.partition("/")
        blackhole = route.type == "blackhole"
        scope = nl.RT_SCOPE_UNIVERSE if blackhole or route.gateway else nl.RT_SCOPE_LINK
        table = route.table if route.table < 256 else 0
        rtype = nl.RTN_BLACKHOLE if blackhole else nl.RTN_UNICAST
        body = nl.RTMSG.pack(2, int(plen), 0, 0, table, routes.ROUTERD_PROTO, scope, rtype, 0)
        body += nl.attr_u32(nl.RTA_TABLE, route.table)
        body += nl.attr_ip4(nl.RTA_DST, addr) if int(plen) else b""
        body += nl.attr_u32(nl.RTA_OIF, ifindex) if ifindex is not None else b""
        body += nl.attr_ip4(nl.RTA_GATEWAY, route.gateway) if route.gateway else b""
        body += nl.attr_u32(nl.RTA_PRIORITY, route.metric) if route.metric else b""
        assert routes.encode_add(route, ifindex).body == body, route
        assert routes.decode(body, name) == route


def test_a_route_write_predicts_its_echo_only_when_it_decodes_to_itself():
    def predicted(route: Route, ifindex: int | None) -> bool:
        request, (added, replacing, echo) = routes.add_write(route, ifindex, replace=True)
        assert added and replacing and request.flags & nl.NLM_F_REPLACE
        return echo is route

    assert predicted(Route("10.40.8.31/32", "wg-sam", 120), 3)
    assert predicted(Route("10.40.8.32/32", "ens19", 0, gateway="10.40.8.2"), 7)
    assert predicted(Route("10.9.0.0/16", "", 0, type="blackhole"), None)
    assert not predicted(Route("10.40.8.31", "wg-sam"), 3)  # no prefix length
    assert not predicted(Route("10.40.8.031/32", "wg-sam"), 3)  # octal: not canonical
    assert not predicted(Route("10.40.8.31/032", "wg-sam"), 3)
    assert not predicted(Route("10.40.8.31/32", "", gateway="10.40.8.2"), None)  # no device
    assert not predicted(Route("10.9.0.0/16", "wg-sam", type="blackhole"), 3)


def test_route_delete_template_matches_attribute_by_attribute_encoding():
    for route in (Route("10.40.8.31/32", "wg-sam", 120), Route("10.9.0.0/16", table=1000)):
        addr, _, plen = route.dst.partition("/")
        table = route.table if route.table < 256 else 0
        body = nl.RTMSG.pack(2, int(plen), 0, 0, table, routes.ROUTERD_PROTO, 255, 0, 0)
        body += nl.attr_u32(nl.RTA_TABLE, route.table) + nl.attr_ip4(nl.RTA_DST, addr)
        body += nl.attr_u32(nl.RTA_PRIORITY, route.metric)
        assert routes.encode_delete(route).body == body
