"""Route-exchange types <-> GoBGP API paths (routerd.bgp.codec).

Announcements are assembled from serialized pieces; these tests parse them back with the
generated classes and compare with messages built the ordinary way, and decode the BGP wire
attributes byte by byte, so a wrong tag, length or attribute layout fails here before
gobgpd would reject (or worse, accept) it.
"""

from __future__ import annotations

import ipaddress
import struct

import pytest
from google.protobuf.any_pb2 import Any
from google.protobuf.message import Message

from routerd.bgp import codec
from routerd.bgp.gobgpapi import attribute_pb2 as attr
from routerd.bgp.gobgpapi import gobgp_pb2 as api
from routerd.core.exchange import Origination, ReceivedPath

ASN = 65000
HOME = Origination("10.77.0.5", 3, 42, "10.99.0.11")


def packed_any(m: Message) -> Any:
    a = Any()
    a.Pack(m)
    return a


def test_an_announcement_is_the_path_built_the_ordinary_way() -> None:
    expected = api.Path(
        family=api.Family(afi=api.Family.AFI_IP, safi=api.Family.SAFI_UNICAST),
        nlri_binary=bytes([32, 10, 77, 0, 5]),
        pattrs_binary=[
            bytes([0x40, 1, 1, 0]),
            bytes([0x40, 3, 4, 10, 99, 0, 11]),
            bytes([0x40, 5, 4]) + struct.pack(">I", 42),
            bytes([0xC0, 32, 24]) + struct.pack(">6I", ASN, 100, 3, ASN, 101, 42),
        ],
    )
    assert codec.announcement(HOME, ASN) == expected
    assert api.Path.FromString(codec.announcement_bytes(HOME, ASN)) == expected


def test_the_wire_attributes_say_what_the_encoding_promises() -> None:
    path = codec.announcement(HOME, ASN)
    attrs = {}
    for raw in path.pattrs_binary:
        flags, code, length = raw[0], raw[1], raw[2]
        assert length == len(raw) - 3, f"attribute {code}: length byte"
        attrs[code] = (flags, raw[3:])
    assert attrs[1] == (0x40, b"\x00")  # ORIGIN IGP, well-known transitive
    assert ipaddress.IPv4Address(attrs[3][1]) == ipaddress.IPv4Address("10.99.0.11")
    assert struct.unpack(">I", attrs[5][1]) == (42,)  # LOCAL_PREF = sequence
    flags, lc = attrs[32]  # LARGE_COMMUNITY, optional transitive
    assert flags == 0xC0
    assert struct.unpack(">6I", lc) == (ASN, 100, 3, ASN, 101, 42)


def test_withdrawals_and_stream_framing() -> None:
    assert codec.withdrawal("10.77.0.6") == api.Path(
        family=codec.FAMILY, nlri_binary=bytes([32, 10, 77, 0, 6]), is_withdraw=True
    )
    paths = [codec.announcement_bytes(HOME, ASN), codec.withdrawal_bytes("10.77.0.6")] * 3
    frames = codec.stream_requests(paths, 4)
    parsed = [api.AddPathStreamRequest.FromString(f) for f in frames]
    assert [len(r.paths) for r in parsed] == [4, 2]
    assert all(r.table_type == api.TableType.GLOBAL for r in parsed)
    assert parsed[1].paths[0] == codec.announcement(HOME, ASN)
    assert parsed[1].paths[1] == codec.withdrawal("10.77.0.6")


def test_a_bad_origination_never_becomes_bytes() -> None:
    with pytest.raises(ValueError, match="next_hop"):
        codec.announcement_bytes(Origination("10.77.0.5", 1, 1, "nope"), ASN)
    with pytest.raises(ValueError, match="not an IPv4 address"):
        codec.withdrawal_bytes("10.77.0.0/24")


def gobgp_path(
    prefix: str = "10.77.0.5",
    length: int = 32,
    *,
    neighbor: str = "10.99.0.1",
    communities: tuple[tuple[int, int, int], ...] = ((ASN, 100, 3), (ASN, 101, 42)),
    withdraw: bool = False,
) -> api.Path:
    """A path as gobgpd reports it in WatchEvent and ListPath (structured attributes)."""
    lcs = [
        attr.LargeCommunity(global_admin=g, local_data1=f, local_data2=v) for g, f, v in communities
    ]
    return api.Path(
        family=codec.FAMILY,
        nlri=packed_any(attr.IPAddressPrefix(prefix=prefix, prefix_len=length)),
        pattrs=[
            packed_any(attr.OriginAttribute(origin=0)),
            packed_any(attr.AsPathAttribute()),
            packed_any(attr.NextHopAttribute(next_hop="10.99.0.11")),
            packed_any(attr.LocalPrefAttribute(local_pref=42)),
            packed_any(attr.OriginatorIdAttribute(id="10.99.0.11")),
            packed_any(attr.ClusterListAttribute(ids=["10.99.0.1"])),
            packed_any(attr.LargeCommunitiesAttribute(communities=lcs)),
        ],
        neighbor_ip=neighbor,
        source_id=neighbor if neighbor != codec.NIL else codec.NIL,
        identifier=7,
        is_withdraw=withdraw,
    )


def test_received_paths_decode_to_what_the_import_rule_reads() -> None:
    d = codec.decode_received(gobgp_path())
    assert d is not None and not d.withdrawn
    assert d.key == ("10.99.0.1", "10.77.0.5/32", 7)
    assert d.path == ReceivedPath(
        "10.77.0.5/32",
        "10.99.0.11",
        "10.99.0.1",
        "10.99.0.1",
        "10.99.0.11",
        ((ASN, 100, 3), (ASN, 101, 42)),
    )
    w = codec.decode_received(gobgp_path(withdraw=True))
    assert w is not None and w.withdrawn and w.path is None and w.key == d.key


def test_local_and_foreign_family_paths_are_not_received_paths() -> None:
    assert codec.decode_received(gobgp_path(neighbor=codec.NIL)) is None
    v6 = gobgp_path()
    v6.family.afi = api.Family.AFI_IP6
    assert codec.decode_received(v6) is None


def test_local_paths_decode_to_originations() -> None:
    local = gobgp_path(neighbor=codec.NIL)
    assert codec.decode_local(local, ASN) == Origination("10.77.0.5", 3, 42, "10.99.0.11")
    # added by hand without routerd's communities: site 0, so the next sync replaces it
    bare = gobgp_path(neighbor=codec.NIL, communities=())
    assert codec.decode_local(bare, ASN) == Origination("10.77.0.5", 0, 0, "10.99.0.11")
    assert codec.decode_local(gobgp_path(neighbor=codec.NIL, length=24), ASN) is None
    assert codec.decode_local(gobgp_path(), ASN) is None
