"""The no-NAT evidence: rulesets, connection tracking and the VMs' default routes.

SAM's promise is that addresses cross unchanged: no NAT anywhere, and neither VM's default
gateway touched. Three independent looks:

* every namespace's ``nft -j list ruleset`` has no chain of type ``nat``, and neither
  iptables backend (``iptables-legacy-save``, ``iptables-nft-save``) has a ``*nat`` table;
* ``conntrack -L`` in every namespace where tracking is on shows each flow's reply tuple as
  the exact mirror of its original (a translation would rewrite one side). The fabric and
  the internet turn tracking on for this purpose, so the check cannot pass vacuously: the
  fabric must show a VM-to-VM flow (10.40.8.21 <-> 10.40.8.31) and the internet the
  WireGuard underlay between the two public addresses;
* each VM's default route equals the one recorded before routerd started.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tests.support.netns import Netns

from .topology import (
    CLOUD_PUBLIC_IP,
    CLOUD_VM_IP,
    FABRIC,
    INTERNET,
    ONPREM_PUBLIC_IP,
    ONPREM_VM_IP,
)

if TYPE_CHECKING:
    from .lab import Lab

IPTABLES_SAVES = ("iptables-legacy-save", "iptables-nft-save")
TUPLE_KEYS = ("src", "dst", "sport", "dport")


@dataclass(frozen=True)
class Flow:
    """One conntrack entry: protocol, original and reply (src, dst, sport, dport)."""

    proto: str
    original: tuple[str, ...]
    reply: tuple[str, ...]

    @property
    def translated(self) -> bool:
        src, dst, sport, dport = self.original
        return self.reply != (dst, src, dport, sport)

    def between(self, a: str, b: str) -> bool:
        return {self.original[0], self.original[1]} == {a, b}

    def __str__(self) -> str:
        orig = " ".join(v for v in self.original if v)
        return f"{self.proto} {orig} / reply {' '.join(v for v in self.reply if v)}"


def parse_conntrack(text: str) -> list[Flow]:
    """``conntrack -L`` lines -> flows (the first src/dst/ports are the original tuple)."""
    flows = []
    for line in text.splitlines():
        words = line.split()
        if not words:
            continue
        seen: dict[str, list[str]] = {k: [] for k in TUPLE_KEYS}
        for word in words:
            key, _, value = word.partition("=")
            if key in seen:
                seen[key].append(value)
        if len(seen["src"]) < 2:
            continue
        pick = [(vals + ["", ""])[:2] for vals in seen.values()]
        flows.append(Flow(words[0], tuple(p[0] for p in pick), tuple(p[1] for p in pick)))
    return flows


def nat_chains(ns: Netns) -> list[str]:
    """NAT anywhere in one namespace's nft ruleset or iptables tables."""
    found = []
    data = json.loads(ns.exec("nft", "-j", "list", "ruleset") or '{"nftables": []}')
    for item in data.get("nftables", []):
        chain = item.get("chain")
        if chain and chain.get("type") == "nat":
            found.append(f"{ns.name}: nft chain {chain['family']} {chain['table']} {chain['name']}")
    for tool in IPTABLES_SAVES:
        if shutil.which(tool) and "*nat" in ns.exec(tool, check=False):
            found.append(f"{ns.name}: {tool} has a nat table")
    return found


def flows(ns: Netns) -> list[Flow]:
    return parse_conntrack(ns.exec("conntrack", "-L", check=False))


def conntrack_evidence(lab: Lab) -> str:
    """Every tracked flow untranslated; the fabric and internet saw the flows they carry."""
    per_ns = {role: flows(ns) for role, ns in lab.topo.ns.items()}
    translated = [f"{role}: {f}" for role, fl in per_ns.items() for f in fl if f.translated]
    if translated:
        raise AssertionError("translated conntrack entries: " + "; ".join(translated))
    vm_flows = [f for f in per_ns[FABRIC] if f.between(CLOUD_VM_IP, ONPREM_VM_IP)]
    underlay = [f for f in per_ns[INTERNET] if f.between(CLOUD_PUBLIC_IP, ONPREM_PUBLIC_IP)]
    if not vm_flows:
        raise AssertionError("the fabric tracked no flow between the VMs (expected SSH/ICMP)")
    if not underlay:
        raise AssertionError("the internet tracked no WireGuard flow between the routers")
    total = sum(len(fl) for fl in per_ns.values())
    return (
        f"conntrack: {total} flows, none translated (fabric {len(vm_flows)} VM<->VM, e.g. "
        f"{vm_flows[0]}; internet: {underlay[0]})"
    )


def no_nat(lab: Lab) -> str:
    """No NAT chains, untranslated conntrack tuples, VM default routes unchanged."""
    found = [c for ns in lab.namespaces() for c in nat_chains(ns)]
    if found:
        raise AssertionError("NAT found: " + "; ".join(found))
    parts = [f"no nat chains in {len(lab.namespaces())} namespaces"]
    if shutil.which("conntrack"):
        parts.append(conntrack_evidence(lab))
    else:
        parts.append("conntrack not installed (tools/bootstrap): tuples not checked")
    for role, before in lab.vm_default_routes.items():
        now = lab.topo.default_route(role)
        if now != before:
            raise AssertionError(f"{role} default route changed: {before} -> {now}")
        parts.append(f"{role} default via {before[0].get('gateway') if before else '-'} unchanged")
    return "; ".join(parts)
