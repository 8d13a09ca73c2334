"""Translation between the route-exchange types and GoBGP API paths (IPv4 unicast only).

Announcements are built in BGP wire format (``nlri_binary``, ``pattrs_binary``), which
gobgpd decodes itself: building one path is a handful of ``bytes`` joins instead of five
nested ``Any`` messages, which is what makes 10,000 originations cheap on the Python side.
The attribute bytes depend only on (ASN, site, sequence, next hop) and are cached.

Received paths come from ``WatchEvent`` and ``ListPath`` as structured ``Any`` attributes
(the watch API has no binary mode); only the attributes the import rule reads are decoded.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass
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

FAMILY = api.Family(afi=api.Family.AFI_IP, safi=api.Family.SAFI_UNICAST)
NIL = "<nil>"
"""How gobgpd spells the missing neighbor of a locally originated path."""

_ORIGIN_IGP = b"\x40\x01\x01\x00"
_TYPE = "type.googleapis.com/apipb."


@lru_cache(maxsize=8192)
def _attributes(asn: int, site_id: int, sequence: int, next_hop: str) -> tuple[bytes, ...]:
    local_pref, communities = encode(Origination("0.0.0.0", site_id, sequence, next_hop), asn)
    lc = b"".join(struct.pack(">III", *c) for c in communities)
    return (
        _ORIGIN_IGP,
        b"\x40\x03\x04" + ipaddress.IPv4Address(next_hop).packed,
        b"\x40\x05\x04" + struct.pack(">I", local_pref),
        bytes((0xC0, 32, len(lc))) + lc,
    )


def _nlri(address: str) -> bytes:
    return b"\x20" + ipaddress.IPv4Address(address).packed


def announcement(origination: Origination, asn: int) -> api.Path:
    """The path that announces an origination (call only when it has no ``problems``)."""
    o = origination
    return api.Path(
        family=FAMILY,
        nlri_binary=_nlri(o.address),
        pattrs_binary=_attributes(asn, o.site_id, o.sequence, o.next_hop),
    )


def withdrawal(address: str) -> api.Path:
    """The path that withdraws this router's announcement of ``address``."""
    return api.Path(family=FAMILY, nlri_binary=_nlri(address), is_withdraw=True)


@dataclass(frozen=True, slots=True)
class Decoded:
    """One received path, with the key that identifies it in the neighbor's Adj-RIB-In.

    Attributes:
        key: (neighbor address, prefix, add-path identifier).
        withdrawn: the path is a withdrawal of ``key``.
        path: the path's contents (None for a withdrawal).
    """

    key: tuple[str, str, int]
    withdrawn: bool
    path: ReceivedPath | None


def _prefix(path: api.Path) -> str:
    nlri = attr.IPAddressPrefix.FromString(path.nlri.value)
    return f"{nlri.prefix}/{nlri.prefix_len}"


def _fields(path: api.Path) -> tuple[str, str, tuple[LargeCommunity, ...]]:
    next_hop = originator = ""
    communities: tuple[LargeCommunity, ...] = ()
    for a in path.pattrs:
        name = a.type_url.removeprefix(_TYPE)
        if name == "NextHopAttribute":
            next_hop = attr.NextHopAttribute.FromString(a.value).next_hop
        elif name == "OriginatorIdAttribute":
            originator = attr.OriginatorIdAttribute.FromString(a.value).id
        elif name == "LargeCommunitiesAttribute":
            lcs = attr.LargeCommunitiesAttribute.FromString(a.value).communities
            communities = tuple((c.global_admin, c.local_data1, c.local_data2) for c in lcs)
        elif name == "MpReachNLRIAttribute" and not next_hop:
            hops = attr.MpReachNLRIAttribute.FromString(a.value).next_hops
            next_hop = hops[0] if hops else ""
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
