"""Translation between the route-exchange types and GoBGP API paths (IPv4 unicast only).

Announcements carry their NLRI and attributes in BGP wire format (``nlri_binary``,
``pattrs_binary``), which gobgpd decodes itself, instead of five nested ``Any`` messages.
Everything but the address depends only on (ASN, site, sequence, next hop), so that part of
the serialized ``Path`` is cached and an announcement is one ``bytes`` concatenation (a
serialized protobuf message followed by more fields is that message with those fields);
``stream_requests`` frames them into ``AddPathStreamRequest`` messages the same way. The
protobuf tags come from the generated classes, and a unit test checks that the bytes parse
back to the messages built the ordinary way. For 10,000 addresses, building the messages
the ordinary way takes 5 to 10 times as long (tens of milliseconds of Python before gobgpd
sees the first path).

Received paths come from ``WatchEvent`` and ``ListPath`` as structured ``Any`` attributes
(the watch API has no binary mode); only the attributes the import rule reads are decoded.
"""

from __future__ import annotations

import ipaddress
import struct
from functools import lru_cache

from routerd.bgp.gobgpapi import attribute_pb2 as attr
from routerd.bgp.gobgpapi import gobgp_pb2 as api
from routerd.core.exchange import (
    SEQUENCE_FUNCTION,
    SITE_FUNCTION,
    LargeCommunity,
    Origination,
    ReceivedPath,
    encode,
)
from routerd.core.learned import Decoded

FAMILY = api.Family(afi=api.Family.AFI_IP, safi=api.Family.SAFI_UNICAST)
NIL = "<nil>"
"""How gobgpd spells the missing neighbor of a locally originated path."""

_ORIGIN_IGP = b"\x40\x01\x01\x00"
_TYPE = "type.googleapis.com/apipb."
_NEXT_HOP = _TYPE + "NextHopAttribute"
_ORIGINATOR = _TYPE + "OriginatorIdAttribute"
_LARGE_COMMUNITIES = _TYPE + "LargeCommunitiesAttribute"
_MP_REACH = _TYPE + "MpReachNLRIAttribute"


def _varint(n: int) -> bytes:
    out = bytearray()
    while n > 0x7F:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _field(tag: bytes, value: bytes) -> bytes:
    return tag + _varint(len(value)) + value


# Protobuf tags taken from the generated classes, not written by hand.
_NLRI_TAG = api.Path(nlri_binary=b"\0").SerializeToString()[:-2]
_PATTR_TAG = api.Path(pattrs_binary=[b"\0"]).SerializeToString()[:-2]
_PATH_TAG = api.AddPathStreamRequest(paths=[api.Path(is_withdraw=True)]).SerializeToString()[:1]
_WITHDRAW: bytes = api.Path(family=FAMILY, is_withdraw=True).SerializeToString()


@lru_cache(maxsize=8192)
def _attributes(asn: int, site_id: int, sequence: int, next_hop: bytes) -> tuple[bytes, ...]:
    """ORIGIN, NEXT_HOP, LOCAL_PREF and LARGE_COMMUNITY in BGP wire format."""
    local_pref, communities = encode(Origination("0.0.0.0", site_id, sequence, ""), asn)
    lc = b"".join(struct.pack(">III", *c) for c in communities)
    return (
        _ORIGIN_IGP,
        b"\x40\x03\x04" + next_hop,
        b"\x40\x05\x04" + struct.pack(">I", local_pref),
        bytes((0xC0, 32, len(lc))) + lc,
    )


@lru_cache(maxsize=8192)
def _shared(asn: int, site_id: int, sequence: int, next_hop: bytes) -> bytes:
    """The serialized part of an announcement that does not depend on the address."""
    attrs = _attributes(asn, site_id, sequence, next_hop)
    shared: bytes = api.Path(family=FAMILY, pattrs_binary=attrs).SerializeToString()
    return shared


@lru_cache(maxsize=65536)
def packed(address: str) -> bytes | None:
    """The 4 bytes of a dotted-quad IPv4 address; None when it is not one."""
    try:
        return ipaddress.IPv4Address(address).packed
    except ValueError:
        return None


def announcement(origination: Origination, asn: int) -> api.Path:
    """The path that announces an origination (call only when it has no ``problems``)."""
    path: api.Path = api.Path.FromString(announcement_bytes(origination, asn))
    return path


def announcement_bytes(origination: Origination, asn: int) -> bytes:
    """``announcement`` serialized, built from cached pieces (module docstring)."""
    o = origination
    nh = packed(o.next_hop)
    address = packed(o.address)
    if nh is None or address is None:
        raise ValueError(f"origination {o.address}: {'; '.join(o.problems())}")
    return _shared(asn, o.site_id, o.sequence, nh) + _field(_NLRI_TAG, b"\x20" + address)


def withdrawal(address: str) -> api.Path:
    """The path that withdraws this router's announcement of ``address``."""
    path: api.Path = api.Path.FromString(withdrawal_bytes(address))
    return path


def withdrawal_bytes(address: str) -> bytes:
    """``withdrawal`` serialized."""
    raw = packed(address)
    if raw is None:
        raise ValueError(f"withdrawal: {address!r} is not an IPv4 address")
    return _WITHDRAW + _field(_NLRI_TAG, b"\x20" + raw)


def stream_requests(paths: list[bytes], chunk: int) -> list[bytes]:
    """Serialized ``AddPathStreamRequest`` messages (GLOBAL table) of ``chunk`` paths each."""
    return [
        b"".join(_field(_PATH_TAG, p) for p in paths[i : i + chunk])
        for i in range(0, len(paths), chunk)
    ]


def _prefix(path: api.Path) -> str:
    nlri = attr.IPAddressPrefix.FromString(path.nlri.value)
    return f"{nlri.prefix}/{nlri.prefix_len}"


@lru_cache(maxsize=4096)
def _next_hop(value: bytes) -> str:
    return str(attr.NextHopAttribute.FromString(value).next_hop)


@lru_cache(maxsize=4096)
def _originator(value: bytes) -> str:
    return str(attr.OriginatorIdAttribute.FromString(value).id)


@lru_cache(maxsize=4096)
def _communities(value: bytes) -> tuple[LargeCommunity, ...]:
    lcs = attr.LargeCommunitiesAttribute.FromString(value).communities
    return tuple((c.global_admin, c.local_data1, c.local_data2) for c in lcs)


@lru_cache(maxsize=4096)
def _mp_next_hop(value: bytes) -> str:
    hops = attr.MpReachNLRIAttribute.FromString(value).next_hops
    return str(hops[0]) if hops else ""


def _fields(path: api.Path) -> tuple[str, str, tuple[LargeCommunity, ...]]:
    """(next hop, originator id, large communities). The attributes of the paths in one
    UPDATE are the same bytes, so each is parsed once and then found in a cache."""
    next_hop = originator = ""
    communities: tuple[LargeCommunity, ...] = ()
    for a in path.pattrs:
        name = a.type_url
        if name == _NEXT_HOP:
            next_hop = _next_hop(a.value)
        elif name == _ORIGINATOR:
            originator = _originator(a.value)
        elif name == _LARGE_COMMUNITIES:
            communities = _communities(a.value)
        elif name == _MP_REACH and not next_hop:
            next_hop = _mp_next_hop(a.value)
    return next_hop, originator, communities


def decode_received(path: api.Path) -> Decoded | None:
    """A path from a neighbor's Adj-RIB-In; None for other families and local paths."""
    if path.family.afi != FAMILY.afi or path.family.safi != FAMILY.safi:
        return None
    if path.neighbor_ip in ("", NIL):
        return None
    prefix = _prefix(path)
    key = (path.neighbor_ip, prefix, path.identifier)
    if path.is_withdraw:
        return Decoded(key, True, None)
    next_hop, originator, communities = _fields(path)
    received = ReceivedPath(
        prefix, next_hop, path.neighbor_ip, path.source_id, originator, communities
    )
    return Decoded(key, False, received)


def decode_local(path: api.Path, asn: int) -> Origination | None:
    """What a local ``/32`` path announces; None for received paths and other prefixes.

    A local path that does not carry routerd's encoding (added by hand with the ``gobgp``
    CLI, say) comes back with site 0 and sequence 0, so the next ``sync`` replaces or
    withdraws it: routerd is the only writer of this speaker's originations.
    """
    if path.neighbor_ip not in ("", NIL) or path.is_withdraw:
        return None
    address, _, length = _prefix(path).partition("/")
    if length != "32":
        return None
    next_hop, _, communities = _fields(path)
    sites = [c[2] for c in communities if c[:2] == (asn, SITE_FUNCTION)]
    seqs = [c[2] for c in communities if c[:2] == (asn, SEQUENCE_FUNCTION)]
    if len(sites) != 1 or len(seqs) != 1:
        return Origination(address, 0, 0, next_hop)
    return Origination(address, sites[0], seqs[0], next_hop)
