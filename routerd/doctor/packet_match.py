"""The probe packet and the match conditions firewall rules are translated into.

Both rule readers (``iptables.py`` for xtables text, ``nft_exprs.py`` for ``nft -j``) turn
each rule's matches into these conditions, so one evaluator (``packet_filter.py``) walks every
ruleset the same way. Each condition answers YES, NO or MAYBE for one probe packet. MAYBE
means "depends on something the probe does not pin down" (a protocol when all traffic is
forwarded, a source port, a match module we do not model): the evaluator never counts a
MAYBE accept as opening the path nor a MAYBE drop as closing it, and names both, because the
doctor must not call a path open that it has not proven open.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum


class Match(Enum):
    YES = "yes"
    NO = "no"
    MAYBE = "maybe"


IPV4, IPV6 = "ipv4", "ipv6"
FAMILY_ALIASES = {"ip": IPV4, "ip6": IPV6, "ipv4": IPV4, "ipv6": IPV6, "0x0800": IPV4}


@dataclass(frozen=True)
class Packet:
    """The traffic a rule is judged against.

    Interface fields: a name, ``None`` for "some interface we cannot name" (any port of a
    bridge, a capture interface left unset), ``""`` for "none at this hook" (the output
    interface at ingress, prerouting and input). ``local`` says the destination is an address
    of this host (the WireGuard port on the input path), not forwarded traffic.
    """

    family: str = IPV4
    iif: str | None = None
    oif: str | None = None
    proto: str | None = None
    dport: int | None = None
    sport: int | None = None
    src: str | None = None
    dst: str | None = None
    state: str = "new"
    local: bool = False


def _yes(hit: bool, negate: bool) -> Match:
    return Match.YES if hit != negate else Match.NO


@dataclass(frozen=True)
class Iface:
    direction: str  # "iif" | "oif"
    names: tuple[str, ...]
    negate: bool = False

    def test(self, p: Packet) -> Match:
        have = p.iif if self.direction == "iif" else p.oif
        if have == "":
            return Match.NO  # no such interface at this hook: nft and xtables never match
        if have is None:
            return Match.NO if self.names == ("lo",) and not self.negate else Match.MAYBE
        return _yes(any(_ifname_matches(n, have) for n in self.names), self.negate)


def _ifname_matches(pattern: str, name: str) -> bool:
    if pattern.endswith(("+", "*")):
        return name.startswith(pattern[:-1])
    return pattern == name


@dataclass(frozen=True)
class Proto:
    names: tuple[str, ...]
    negate: bool = False

    def test(self, p: Packet) -> Match:
        names = {n.lower() for n in self.names}
        if "all" in names or "0" in names:
            return Match.NO if self.negate else Match.YES
        if p.proto is None:
            return Match.MAYBE
        return _yes(p.proto in names, self.negate)


@dataclass(frozen=True)
class Port:
    """A port match; ``ranges`` are inclusive (lo, hi), ``field`` "dport" or "sport"."""

    ranges: tuple[tuple[int, int], ...]
    negate: bool = False
    field: str = "dport"

    def test(self, p: Packet) -> Match:
        have = p.dport if self.field == "dport" else p.sport
        if have is None:
            return Match.MAYBE
        return _yes(any(lo <= have <= hi for lo, hi in self.ranges), self.negate)


@dataclass(frozen=True)
class Addr:
    field: str  # "src" | "dst"
    nets: tuple[str, ...]
    negate: bool = False

    def test(self, p: Packet) -> Match:
        have = p.src if self.field == "src" else p.dst
        if have is None:
            return Match.MAYBE
        try:
            ip = ipaddress.ip_address(have)
            nets = [ipaddress.ip_network(n, strict=False) for n in self.nets]
        except ValueError:
            return Match.MAYBE
        return _yes(any(ip.version == n.version and ip in n for n in nets), self.negate)


@dataclass(frozen=True)
class AddrType:
    """``fib daddr type local`` / ``-m addrtype --dst-type LOCAL``: which kind of address.

    The probes' destinations are unicast: a local address of this host on the input path,
    a remote one when forwarded; their sources are never local.
    """

    field: str  # "src" | "dst"
    types: tuple[str, ...]
    negate: bool = False

    def test(self, p: Packet) -> Match:
        kind = "local" if self.field == "dst" and p.local else "unicast"
        return _yes(kind in {t.lower() for t in self.types}, self.negate)


@dataclass(frozen=True)
class State:
    states: tuple[str, ...]
    negate: bool = False

    def test(self, p: Packet) -> Match:
        return _yes(p.state in {s.lower() for s in self.states}, self.negate)


@dataclass(frozen=True)
class Family:
    """The network protocol: ``meta nfproto``, ``meta protocol``, ``ether type``, and the
    family an ``ip``/``ip6`` payload match implies in ``inet``, ``bridge`` and ``netdev``."""

    names: tuple[str, ...]
    negate: bool = False

    def test(self, p: Packet) -> Match:
        have = {FAMILY_ALIASES.get(n.lower(), n.lower()) for n in self.names}
        return _yes(p.family in have, self.negate)


@dataclass(frozen=True)
class Opaque:
    """A condition we do not model (owner match, rate limit, mark, ...): always MAYBE."""

    what: str

    def test(self, p: Packet) -> Match:
        return Match.MAYBE


@dataclass(frozen=True)
class Never:
    """A condition no probe can meet (``arp`` payload, a key absent from a set): always NO."""

    what: str

    def test(self, p: Packet) -> Match:
        return Match.NO


Simple = Iface | Proto | Port | Addr | AddrType | State | Family | Opaque | Never


@dataclass(frozen=True)
class All:
    """A conjunction (``udp dport 51820`` is protocol udp AND port 51820)."""

    parts: tuple[Simple, ...]

    def test(self, p: Packet) -> Match:
        return conjunction(c.test(p) for c in self.parts)


Condition = Simple | All


def conjunction(matches: Iterable[Match]) -> Match:
    """NO if any is NO, else MAYBE if any is MAYBE, else YES."""
    result = Match.YES
    for m in matches:
        if m is Match.NO:
            return Match.NO
        if m is Match.MAYBE:
            result = Match.MAYBE
    return result


def mentions_addresses(conditions: Iterable[Condition]) -> bool:
    """Whether any condition looks at the packet's addresses (claims then differ)."""
    todo = list(conditions)
    while todo:
        c = todo.pop()
        if isinstance(c, Addr):
            return True
        if isinstance(c, All):
            todo.extend(c.parts)
    return False
