"""IPv4 interface addresses: the dump, and add/delete encoding.

Two very different uses share this module. ``Address`` objects (the overlay address) are added
by routerd and recorded in the state store, because addresses carry no ownership mark routerd
can rely on. ``AbsentAddress`` (D15 in docs/decisions.md) removes a claimed address from every
interface, whatever its prefix length, on every pass; such deletes name only the local address
so they match any prefix and any peer address.
"""

from __future__ import annotations

from dataclasses import dataclass

from routerd.backends.linux import netlink_codec as nl
from routerd.backends.linux.netlink_socket import NetlinkSocket, Request


@dataclass(frozen=True, slots=True)
class AddressEntry:
    ifindex: int
    address: str
    prefixlen: int

    @property
    def cidr(self) -> str:
        return f"{self.address}/{self.prefixlen}"


def _split(cidr: str) -> tuple[str, int]:
    addr, _, plen = cidr.partition("/")
    return addr, int(plen or 32)


def encode_add(cidr: str, ifindex: int) -> Request:
    addr, plen = _split(cidr)
    body = nl.IFADDRMSG.pack(nl.AF_INET, plen, 0, 0, ifindex)
    body += nl.attr_ip4(nl.IFA_LOCAL, addr) + nl.attr_ip4(nl.IFA_ADDRESS, addr)
    flags = nl.NLM_F_ACK | nl.NLM_F_CREATE | nl.NLM_F_EXCL
    return Request(nl.RTM_NEWADDR, flags, body)


def encode_delete(entry: AddressEntry, *, exact: bool) -> Request:
    """Delete one address; ``exact`` also matches the prefix (and a plain, non-peer form)."""
    body = nl.IFADDRMSG.pack(nl.AF_INET, entry.prefixlen, 0, 0, entry.ifindex)
    body += nl.attr_ip4(nl.IFA_LOCAL, entry.address)
    if exact:
        body += nl.attr_ip4(nl.IFA_ADDRESS, entry.address)
    return Request(nl.RTM_DELADDR, nl.NLM_F_ACK, body)


def decode(body: bytes) -> AddressEntry | None:
    family, plen, _, _, ifindex = nl.IFADDRMSG.unpack_from(body, 0)
    if family != nl.AF_INET:
        return None
    attrs = nl.parse_attrs(body, nl.IFADDRMSG.size)
    raw = attrs.get(nl.IFA_LOCAL) or attrs.get(nl.IFA_ADDRESS)
    return AddressEntry(ifindex, nl.ip4(raw), plen) if raw else None


def dump(sock: NetlinkSocket) -> list[AddressEntry]:
    """Every IPv4 address on every interface."""
    body = nl.IFADDRMSG.pack(nl.AF_INET, 0, 0, 0, 0)
    with sock.lock:
        msgs = sock.dump(nl.RTM_GETADDR, body)
    out = []
    for msg in msgs:
        if msg.type == nl.RTM_NEWADDR:
            entry = decode(msg.body)
            if entry is not None:
                out.append(entry)
    return out
