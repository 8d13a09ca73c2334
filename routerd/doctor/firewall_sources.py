"""Gather every base chain that can filter a probe packet, whatever tool created it.

Two kernel paths filter packets and both run on the same hooks:

* nf_tables, read whole with ``nft -j list ruleset``: native tables, iptables-nft's tables
  (ordinary nftables tables named ``ip filter``, ``ip mangle``, …), firewalld's, Docker's.
  ``iptables-nft-save`` is read only when the listing holds tables with iptables names: to
  decode the ``xt`` expressions nft shows by name and to tell which chains iptables-nft
  manages (the remedy for those is an iptables-nft command; for the others, nft);
* legacy x_tables, read with ``iptables-legacy-save`` (every table that exists), whose
  ``filter``/``mangle``/``raw``/``security``/``nat`` base chains hook in at their fixed
  priorities.

Whatever could not be read is kept in ``errors``: the check never passes a path with a
source it could not see.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any

from routerd.doctor.inputs import Inputs
from routerd.doctor.iptables import Ruleset, parse_rule, read_legacy, read_nft_view
from routerd.doctor.nft_rules import BaseChain, Key, XtRule, base_chains, devices_from_text
from routerd.doctor.nftables import UNAVAILABLE, items, list_nft
from routerd.doctor.packet_match import IPV4

XT_TABLES = frozenset({"filter", "mangle", "raw", "security", "nat"})
L3_FAMILY = {IPV4: "ip", "ipv6": "ip6"}
LEGACY_HOOKS: dict[str, dict[str, int]] = {
    "raw": {"PREROUTING": -300},
    "mangle": {"PREROUTING": -150, "INPUT": -150, "FORWARD": -150, "POSTROUTING": -150},
    "nat": {"PREROUTING": -100, "INPUT": 100, "POSTROUTING": 100},
    "filter": {"INPUT": 0, "FORWARD": 0},
    "security": {"INPUT": 50, "FORWARD": 50},
}
HOOK_OF = {n: n.lower() for n in ("PREROUTING", "INPUT", "FORWARD", "POSTROUTING")}


@dataclass
class Sources:
    """The base chains a probe of one address family can meet, and how they were read.

    Attributes:
        chains: nf_tables and legacy base chains (the family's, ``inet``, ``netdev``,
            ``bridge``), unordered.
        read: the commands whose output was used.
        errors: sources that could not be read (a pass is then impossible).
        notes: what was read only partly (xt rules not decoded, ...).
    """

    chains: list[BaseChain] = field(default_factory=list)
    read: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def gather(inputs: Inputs, family: str = IPV4) -> Sources:
    """Every source for ``family`` probes ("ipv4" | "ipv6"), read once per doctor run."""
    return inputs.host.once(("firewall-sources", family), lambda: _gather(inputs, family))  # type: ignore[return-value]


def _gather(inputs: Inputs, family: str) -> Sources:
    src = Sources()
    l3 = L3_FAMILY[family]
    legacy = read_legacy(inputs.host, family)
    view: Ruleset | None = legacy if legacy is not None and legacy.backend == "nft" else None
    if legacy is not None and legacy.backend == "legacy":
        if legacy.error:
            src.errors.append(f"{legacy.tool}: {legacy.error}")
        else:
            src.read.append(legacy.tool)
            src.chains += legacy_chains(legacy, l3)
    listing = list_nft(inputs.host, "ruleset", as_json=True)
    if listing.ok:
        doc = listing.json()
        if _has_xt_tables(doc, l3):
            view = view or read_nft_view(inputs.host, family)
            _note_view(src, view)
        src.chains += nft_chains(inputs, doc, l3, view)
        src.read.append("nft -j list ruleset")
        return src
    src.errors.append(f"nft: {listing.detail}")
    if listing.failure == UNAVAILABLE:
        view = view or read_nft_view(inputs.host, family)
        if view is not None and not view.error:
            src.read.append(f"{view.tool} (nft's native tables unread)")
            src.chains += legacy_chains(view, l3)
    return src


def _note_view(src: Sources, view: Ruleset | None) -> None:
    if view is None:
        src.notes.append("iptables-nft not installed: xt rules in iptables tables not decoded")
    elif view.error:
        src.notes.append(f"{view.tool}: {view.error}: xt rules not decoded")
    else:
        src.read.append(f"{view.tool} (decodes iptables-nft rules)")


def _has_xt_tables(doc: dict[str, Any], l3: str) -> bool:
    return any(t.get("family") == l3 and t.get("name") in XT_TABLES for t in items(doc, "table"))


def nft_chains(
    inputs: Inputs, doc: dict[str, Any], l3: str, view: Ruleset | None
) -> list[BaseChain]:
    """The nf_tables base chains of ``l3``, ``inet``, ``netdev`` and ``bridge`` tables."""
    devices: dict[Key, tuple[str, ...]] = {}
    if any(c.get("hook") in ("ingress", "egress") and "dev" not in c for c in items(doc, "chain")):
        text = list_nft(inputs.host, "ruleset")
        if text.ok:
            devices = devices_from_text(text.text)
    usable = view if view is not None and not view.error else None
    decoder = (lambda key, i, n: _decode(usable, key, i, n)) if usable else None
    families = (l3, "inet", "netdev", "bridge")
    found = [
        bc for bc in base_chains(doc, decoder=decoder, devices=devices) if bc.family in families
    ]
    for bc in found:
        if usable is not None and bc.family == l3 and _manages(usable, bc.table, bc.name):
            bc.owner = usable.binary
    return found


def _manages(view: Ruleset, table: str, chain: str) -> bool:
    """iptables-nft lists this chain as its own (a table it calls incompatible is not)."""
    return table not in view.incompatible and chain in view.tables.get(table, {})


def _decode(view: Ruleset, key: Key, index: int, count: int) -> XtRule | None:
    """The ``index``-th rule of a chain as iptables-nft prints it, when the counts agree."""
    _, table, chain = key
    lines = view.lines.get((table, chain), [])
    if table in view.incompatible or len(lines) != count:
        return None
    tokens = shlex.split(lines[index])
    conds, verdict, target = parse_rule(tokens[2:], set(view.tables.get(table, {})))
    return XtRule(tuple(conds), verdict, target, lines[index])


def legacy_chains(rs: Ruleset, l3: str) -> list[BaseChain]:
    """An xtables dump's base chains on the hooks, at their tables' fixed priorities."""
    found = []
    for table, chains in rs.tables.items():
        for name, prio in LEGACY_HOOKS.get(table, {}).items():
            if name in chains:
                kind = "nat" if table == "nat" else "filter"
                hook = HOOK_OF[name]
                bc = BaseChain(l3, table, name, hook, prio, chains, owner=rs.binary, kind=kind)
                bc.layer = "xtables"
                found.append(bc)
    return found
