"""Packet filtering on a simulated host: nftables clamp tables and an iptables-like filter.

Two different things live here because both are "rules a forwarded packet meets":

* ``NftTable``: an nftables table of TCP MSS clamp rules (``iif``/``oif``/``mss``), with the
  table comment that marks routerd's ownership. A rule rewrites the MSS option of a SYN
  or SYN-ACK crossing ``iif -> oif`` only when it is larger (``size > N ... set N``): a
  clamp never raises an MSS.
* ``Firewall``: the INPUT and FORWARD filter chains (policy plus accept rules) that model
  images such as OCI's Ubuntu, whose iptables rejects all forwarding and all input except
  SSH and ICMP. routerd never writes these; operators (and the lab) do.

There is no NAT table anywhere: the simulation cannot rewrite addresses, so "source
preserved" is a property of the topology, not something a test has to trust.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from routerd.core.desired import MssRule

from .packet import Packet

OWNER_MARK = "routerd.owner=routerd"
Chain = Literal["INPUT", "FORWARD"]


def owner_comment(generation: int) -> str:
    """The table comment routerd writes."""
    return f"{OWNER_MARK} routerd.generation={generation}"


def comment_generation(comment: str) -> int | None:
    """The generation in a routerd table comment; None when the table is not routerd's."""
    if OWNER_MARK not in comment:
        return None
    for word in comment.split():
        if word.startswith("routerd.generation="):
            try:
                return int(word.partition("=")[2])
            except ValueError:
                return 0
    return 0


@dataclass
class NftTable:
    """One nftables table holding MSS clamp rules."""

    family: str
    name: str
    comment: str = ""
    rules: frozenset[MssRule] = frozenset()


def clamp_index(tables: Iterable[NftTable]) -> dict[tuple[str, str], int]:
    """(iif, oif) -> lowest clamp value over every table's rules."""
    index: dict[tuple[str, str], int] = {}
    for table in tables:
        for r in table.rules:
            prev = index.get((r.iif, r.oif))
            index[(r.iif, r.oif)] = r.mss if prev is None else min(prev, r.mss)
    return index


@dataclass(frozen=True, slots=True)
class FilterRule:
    """An accept rule; empty fields match anything."""

    chain: Chain
    proto: str = ""
    dport: int = 0
    iif: str = ""
    oif: str = ""

    def matches(self, pkt: Packet, iif: str, oif: str) -> bool:
        return (
            (not self.proto or self.proto == pkt.proto)
            and (not self.dport or self.dport == pkt.dport)
            and (not self.iif or self.iif == iif)
            and (not self.oif or self.oif == oif)
        )


@dataclass
class Firewall:
    """The host filter: a policy per chain plus accept rules evaluated first."""

    input_policy: str = "accept"
    forward_policy: str = "accept"
    rules: list[FilterRule] = field(default_factory=list)

    def allows(self, chain: Chain, pkt: Packet, iif: str, oif: str = "") -> bool:
        """Whether ``chain`` lets ``pkt`` through (accept rule or accepting policy)."""
        if any(r.chain == chain and r.matches(pkt, iif, oif) for r in self.rules):
            return True
        policy = self.input_policy if chain == "INPUT" else self.forward_policy
        return policy == "accept"


def image_default_firewall() -> Firewall:
    """OCI's Ubuntu image: reject all FORWARD; INPUT rejects all but SSH and ICMP."""
    return Firewall(
        input_policy="reject",
        forward_policy="reject",
        rules=[FilterRule("INPUT", proto="tcp", dport=22), FilterRule("INPUT", proto="icmp")],
    )


def documented_host_rules(listen_port: int, capture_if: str, tunnel: str) -> list[FilterRule]:
    """The host rule the OCI how-to documents: WireGuard in, forwarding capture <-> tunnel."""
    return [
        FilterRule("INPUT", proto="udp", dport=listen_port),
        FilterRule("FORWARD", iif=capture_if, oif=tunnel),
        FilterRule("FORWARD", iif=tunnel, oif=capture_if),
    ]
