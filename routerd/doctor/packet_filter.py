"""A tiny packet-filter evaluator shared by the iptables and native nftables readers.

The Go MVP's host-firewall check (#52) grepped for any ``-j REJECT`` and any matching
``ACCEPT`` anywhere in the chain, ignoring order, so an accept *after* a reject-all passed
and an accept hidden behind ``RELATED,ESTABLISHED`` looked fine. Here both readers translate
rules into the same small model and this module walks a chain *in order* for one probe
packet (a new connection from the capture interface into the tunnel, the reverse, or the
WireGuard UDP port on INPUT), following jumps, gotos and returns.

Each condition answers YES, NO or MAYBE. MAYBE means "depends on something the probe does
not pin down" (a protocol for all-traffic forwarding, a source port, an address we do not
know, a match module we do not model); a MAYBE accept does not open the path and a MAYBE
drop does not close it, but both are reported so the detail can say the ruleset was not
fully evaluated.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import Enum

MAX_DEPTH = 16


class Match(Enum):
    YES = "yes"
    NO = "no"
    MAYBE = "maybe"


@dataclass(frozen=True)
class Packet:
    """The traffic a rule is judged against; None means "any / unknown"."""

    iif: str | None = None
    oif: str | None = None
    proto: str | None = None
    dport: int | None = None
    src: str | None = None
    dst: str | None = None
    state: str = "new"

    def describe(self) -> str:
        if self.dport is not None:
            return f"{self.proto or 'ip'} dport {self.dport}"
        return f"{self.iif or '*'} -> {self.oif or '*'}"


@dataclass(frozen=True)
class Iface:
    direction: str  # "iif" | "oif"
    names: tuple[str, ...]
    negate: bool = False

    def test(self, p: Packet) -> Match:
        have = p.iif if self.direction == "iif" else p.oif
        if have is None:
            return Match.NO if self.names == ("lo",) and not self.negate else Match.MAYBE
        hit = any(_ifname_matches(n, have) for n in self.names)
        return Match.YES if hit != self.negate else Match.NO


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
        return Match.YES if (p.proto in names) != self.negate else Match.NO


@dataclass(frozen=True)
class Port:
    """A destination port match; ``ranges`` are inclusive (lo, hi)."""

    ranges: tuple[tuple[int, int], ...]
    negate: bool = False

    def test(self, p: Packet) -> Match:
        if p.dport is None:
            return Match.MAYBE
        hit = any(lo <= p.dport <= hi for lo, hi in self.ranges)
        return Match.YES if hit != self.negate else Match.NO


@dataclass(frozen=True)
class Addr:
    field: str  # "src" | "dst"
    nets: tuple[str, ...]
    negate: bool = False

    def test(self, p: Packet) -> Match:
        have = p.src if self.field == "src" else p.dst
        if have is None:
            return Match.MAYBE
        ip = ipaddress.IPv4Address(have)
        try:
            hit = any(ip in ipaddress.IPv4Network(n, strict=False) for n in self.nets)
        except ValueError:
            return Match.MAYBE
        return Match.YES if hit != self.negate else Match.NO


@dataclass(frozen=True)
class State:
    states: tuple[str, ...]
    negate: bool = False

    def test(self, p: Packet) -> Match:
        hit = p.state in {s.lower() for s in self.states}
        return Match.YES if hit != self.negate else Match.NO


@dataclass(frozen=True)
class Family:
    """``meta nfproto``: the probes are IPv4."""

    names: tuple[str, ...]
    negate: bool = False

    def test(self, p: Packet) -> Match:
        hit = "ipv4" in self.names
        return Match.YES if hit != self.negate else Match.NO


@dataclass(frozen=True)
class Opaque:
    """A condition we do not model (owner match, limit, set lookup, ...)."""

    what: str

    def test(self, p: Packet) -> Match:
        return Match.MAYBE


@dataclass(frozen=True)
class All:
    """A conjunction (``udp dport 51820`` is protocol udp AND port 51820)."""

    parts: tuple[Iface | Proto | Port | Addr | State | Family | Opaque, ...]

    def test(self, p: Packet) -> Match:
        return conjunction(c.test(p) for c in self.parts)


Condition = Iface | Proto | Port | Addr | State | Family | Opaque | All


def conjunction(matches: Iterable[Match]) -> Match:
    """NO if any is NO, else MAYBE if any is MAYBE, else YES."""
    result = Match.YES
    for m in matches:
        if m is Match.NO:
            return Match.NO
        if m is Match.MAYBE:
            result = Match.MAYBE
    return result


ACCEPT, DROP, JUMP, GOTO, RETURN, CONTINUE, UNKNOWN = (
    "accept",
    "drop",
    "jump",
    "goto",
    "return",
    "continue",
    "unknown",
)


@dataclass(frozen=True)
class Rule:
    """One rule: all conditions must hold; ``verdict`` is one of the constants above."""

    conditions: tuple[Condition, ...]
    verdict: str
    text: str
    target: str = ""

    def test(self, p: Packet) -> Match:
        return conjunction(c.test(p) for c in self.conditions)


@dataclass
class Chain:
    name: str
    rules: list[Rule] = field(default_factory=list)
    policy: str = ""  # "accept" | "drop" for base chains, "" for user chains


@dataclass(frozen=True)
class Uncertain:
    """A rule that might apply to the probe (MAYBE) and what it would do."""

    verdict: str  # accept | drop | unknown
    text: str


@dataclass
class Outcome:
    """How a base chain treats the probe packet.

    Attributes:
        verdict: "accept" or "drop".
        by: the rule text that decided, or "policy <x>".
        uncertain: rules that might have matched (MAYBE) before the decision.
    """

    verdict: str
    by: str
    uncertain: list[Uncertain] = field(default_factory=list)

    @property
    def maybe_dropped(self) -> bool:
        """An accepted probe that a rule we could not fully evaluate might drop."""
        return self.verdict == ACCEPT and any(u.verdict != ACCEPT for u in self.uncertain)


def evaluate(chains: dict[str, Chain], base: str, packet: Packet) -> Outcome:
    """Walk ``base`` in order for ``packet``; the policy decides when nothing does."""
    uncertain: list[Uncertain] = []
    decided = _walk(chains, chains[base], packet, uncertain, 0)
    if decided is not None:
        return Outcome(decided[0], decided[1], uncertain)
    policy = chains[base].policy or ACCEPT
    return Outcome(policy, f"policy {policy}", uncertain)


def _walk(
    chains: dict[str, Chain], chain: Chain, p: Packet, uncertain: list[Uncertain], depth: int
) -> tuple[str, str] | None:
    """The verdict ``chain`` reaches, or None when it falls through (or returns)."""
    if depth > MAX_DEPTH:
        uncertain.append(Uncertain(UNKNOWN, f"chains nested deeper than {MAX_DEPTH}"))
        return None
    for rule in chain.rules:
        m = rule.test(p)
        if m is Match.NO or rule.verdict == CONTINUE:
            continue
        if rule.verdict in (JUMP, GOTO):
            decided, stop = _jump(chains, rule, m, p, uncertain, depth)
            if decided is not None or stop:
                return decided
        elif m is Match.YES and rule.verdict in (ACCEPT, DROP):
            return rule.verdict, rule.text
        elif m is Match.YES and rule.verdict == RETURN:
            return None
        elif rule.verdict in (ACCEPT, DROP):
            uncertain.append(Uncertain(rule.verdict, rule.text))
        else:
            uncertain.append(Uncertain(UNKNOWN, f"{rule.text} ({rule.target or rule.verdict})"))
    return None


def _jump(
    chains: dict[str, Chain],
    rule: Rule,
    m: Match,
    p: Packet,
    uncertain: list[Uncertain],
    depth: int,
) -> tuple[tuple[str, str] | None, bool]:
    """``(verdict reached in the target, stop walking the caller)`` for a jump or goto."""
    sub = chains.get(rule.target)
    if sub is None:
        uncertain.append(Uncertain(UNKNOWN, f"{rule.text} (target chain not found)"))
        return None, False
    if m is Match.MAYBE:
        decided = _walk(chains, sub, p, [], depth + 1)
        if decided is not None:
            uncertain.append(Uncertain(decided[0], f"{rule.text} -> {decided[1]}"))
        return None, False
    decided = _walk(chains, sub, p, uncertain, depth + 1)
    return decided, rule.verdict == GOTO


def split_csv(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(v for item in values for v in item.split(",") if v)
