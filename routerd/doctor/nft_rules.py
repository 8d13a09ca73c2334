"""Every nftables base chain of ``nft -j list ruleset`` as ``packet_filter`` chains.

The kernel runs every base chain registered on a hook, in priority order, whichever tool
created it: native nft tables, iptables-nft's (``ip filter`` and friends are ordinary
nftables tables) and those of firewalld or Docker. So nothing is skipped here: each base
chain of the ``ip``, ``ip6``, ``inet``, ``netdev`` and ``bridge`` families on a hook a
forwarded or delivered packet crosses becomes a ``BaseChain`` with its table's user chains,
its priority and, for ``ingress``/``egress``, its devices.

Rules iptables-nft wrote may hold ``xt`` expressions (``-m conntrack``, ``-j LOG``) that the
JSON listing shows only by name. A ``Decoder`` (built from ``iptables-nft-save``, which
prints the same chain's rules in the same order) gives their iptables form; without one
they stay MAYBE conditions. A verdict map (``iifname vmap { … }``) becomes one rule per
element. Named sets are resolved from the listing when it carries their elements.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from routerd.doctor.iptables import NON_TERMINAL
from routerd.doctor.nft_exprs import condition, key_condition, render
from routerd.doctor.nftables import items, values
from routerd.doctor.packet_filter import (
    ACCEPT,
    CONTINUE,
    DROP,
    GOTO,
    JUMP,
    RETURN,
    UNKNOWN,
    Chain,
    Rule,
)
from routerd.doctor.packet_match import Condition, Opaque

FAMILIES = ("ip", "ip6", "inet", "netdev", "bridge")
HOOKS = ("ingress", "prerouting", "input", "forward", "postrouting", "egress")
PASSIVE = frozenset(
    {"counter", "log", "mangle", "notrack", "set", "map", "flow", "dup", "ct helper"}
    | {"ct timeout", "ct expectation"}
)
REWRITES = frozenset({"dnat", "snat", "masquerade", "redirect", "tproxy", "fwd", "synproxy"})
Key = tuple[str, str, str]  # family, table, chain


@dataclass(frozen=True)
class XtRule:
    """A rule as ``iptables-nft-save`` printed it, parsed."""

    conditions: tuple[Condition, ...]
    verdict: str
    target: str
    line: str


Decoder = Callable[[Key, int, int], XtRule | None]
"""(family, table, chain), the rule's index in the chain, the chain's rule count."""


@dataclass
class BaseChain:
    """A base chain and every chain of its table, ready for ``evaluate``.

    Attributes:
        devices: for ``ingress``/``egress`` chains the devices it is bound to, ``None``
            when the listing does not say (nft before 1.0.7 omits them from JSON).
        owner: the tool that manages the chain: "nft", "iptables-nft" /
            "ip6tables-nft" for a chain iptables-nft lists as its own, the iptables binary
            of an xtables dump.
        kind: the chain type (``filter``, ``nat``, ``route``).
        layer: "nft" (read from nft's listing) or "xtables" (from an ``iptables-save``
            dump: legacy x_tables, or iptables-nft's view when nft is not installed).
    """

    family: str
    table: str
    name: str
    hook: str
    prio: int
    chains: dict[str, Chain]
    devices: tuple[str, ...] | None = None
    owner: str = "nft"
    kind: str = "filter"
    layer: str = "nft"

    @property
    def key(self) -> Key:
        return self.family, self.table, self.name

    @property
    def label(self) -> str:
        if self.layer == "xtables":
            return f"{self.owner} -t {self.table} {self.name}"
        if self.owner == "nft":
            return f"nft {self.family} {self.table} {self.name}"
        return f"nft {self.family} {self.table} {self.name} ({self.owner}'s chain)"


@dataclass
class _Table:
    chains: dict[str, Chain] = field(default_factory=dict)
    sets: dict[str, list[Any]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


def base_chains(
    doc: dict[str, Any],
    *,
    decoder: Decoder | None = None,
    devices: dict[Key, tuple[str, ...]] | None = None,
) -> list[BaseChain]:
    """Every base chain on a relevant hook of an ``nft -j list ruleset`` document.

    Args:
        doc: the parsed JSON listing.
        decoder: iptables-nft's form of rules holding ``xt`` expressions.
        devices: ingress/egress devices per chain when the JSON lacks them.

    Returns:
        The base chains, each with every chain of its table filled in.
    """
    tables: dict[tuple[str, str], _Table] = {}
    found: list[BaseChain] = []
    for c in items(doc, "chain"):
        key = (str(c.get("family", "")), str(c.get("table", "")))
        if key[0] not in FAMILIES:
            continue
        t = tables.setdefault(key, _Table())
        t.chains[c["name"]] = Chain(c["name"], policy=c.get("policy", "") if c.get("hook") else "")
        if c.get("hook") in HOOKS:
            found.append(_base(c, t.chains, devices or {}))
    for s in items(doc, "set") + items(doc, "map"):
        owner = tables.get((str(s.get("family", "")), str(s.get("table", ""))))
        if owner is not None and "elem" in s:
            owner.sets[str(s.get("name"))] = list(s["elem"])
    _fill(tables, items(doc, "rule"), decoder)
    return found


def _fill(
    tables: dict[tuple[str, str], _Table], rules: list[dict[str, Any]], decoder: Decoder | None
) -> None:
    """Translate every rule into its chain, numbering rules per chain for the decoder."""
    placed = []
    for r in rules:
        t = tables.get((str(r.get("family", "")), str(r.get("table", ""))))
        if t is not None and r.get("chain") in t.chains:
            t.counts[r["chain"]] = t.counts.get(r["chain"], 0) + 1
            placed.append((t, r))
    seen: dict[tuple[int, str], int] = {}
    for t, r in placed:
        index = seen[(id(t), r["chain"])] = seen.get((id(t), r["chain"]), -1) + 1
        key = (str(r["family"]), str(r["table"]), str(r["chain"]))
        xt = _decode(decoder, key, index, t.counts[r["chain"]], r)
        t.chains[r["chain"]].rules.extend(translate(r, t, xt))


def _base(
    c: dict[str, Any], chains: dict[str, Chain], devices: dict[Key, tuple[str, ...]]
) -> BaseChain:
    key = (str(c["family"]), str(c["table"]), str(c["name"]))
    devs: tuple[str, ...] | None = None
    if c["hook"] in ("ingress", "egress"):
        listed = c.get("dev")
        devs = tuple(map(str, values(listed))) if listed is not None else devices.get(key)
    return BaseChain(
        key[0], key[1], key[2], c["hook"], int(c.get("prio", 0)), chains, devs,
        kind=str(c.get("type", "filter")),
    )  # fmt: skip


def _decode(
    decoder: Decoder | None, key: Key, index: int, count: int, rule: dict[str, Any]
) -> XtRule | None:
    has_xt = any(isinstance(e, dict) and "xt" in e for e in rule.get("expr", []))
    return decoder(key, index, count) if has_xt and decoder is not None else None


def translate(rule: dict[str, Any], table: _Table, xt: XtRule | None = None) -> list[Rule]:
    """One JSON rule as rules over conditions (several for a verdict map)."""
    conds: list[Condition] = []
    verdict, target = CONTINUE, ""
    where = f"nft {rule.get('family')} {rule.get('table')} {rule.get('chain')}"
    text = f"{where} handle {rule.get('handle')}: {xt.line if xt else render(rule.get('expr', []))}"
    for expr in rule.get("expr", []):
        if not isinstance(expr, dict) or not expr:
            continue
        key, body = next(iter(expr.items()))
        got = _verdict(key, body, table.chains)
        if got is not None:
            verdict, target = got
        elif key == "match":
            conds.append(condition(body, table.sets))
        elif key == "vmap":
            return _vmap(body, conds, table, text)
        elif key == "xt":
            verdict, target = _xt(body, xt, conds, verdict, target)
        elif key in REWRITES:
            verdict, target = UNKNOWN, f"{key}: rewrites the packet, not evaluated further"
        elif key not in PASSIVE:
            conds.append(Opaque(key))
    return [Rule(tuple(conds), verdict, text, target)]


def _verdict(key: str, body: Any, chains: dict[str, Chain]) -> tuple[str, str] | None:
    if key in ("accept", "drop", "reject"):
        return (ACCEPT if key == "accept" else DROP), ""
    if key in ("jump", "goto"):
        target = str((body or {}).get("target", ""))
        if target not in chains:
            return UNKNOWN, f"{key} {target} (chain not found)"
        return (JUMP if key == "jump" else GOTO), target
    if key == "return":
        return RETURN, ""
    if key == "continue":
        return CONTINUE, ""
    if key == "queue":
        return UNKNOWN, "queue to a userspace program"
    return None


def _xt(
    body: dict[str, Any], xt: XtRule | None, conds: list[Condition], verdict: str, target: str
) -> tuple[str, str]:
    """Merge an ``xt`` expression: the decoded iptables rule, else what its name tells."""
    name = str(body.get("name", ""))
    if xt is not None:
        for c in xt.conditions:
            if c not in conds:
                conds.append(c)
        return (xt.verdict, xt.target) if xt.verdict != CONTINUE else (verdict, target)
    if body.get("type") != "target":
        conds.append(Opaque(f"xt match {name} (iptables-nft-save did not show this rule)"))
        return verdict, target
    if name in ("REJECT", "DROP"):
        return DROP, ""
    if name in NON_TERMINAL:
        return verdict, target
    return UNKNOWN, f"xt target {name}"


def _vmap(body: dict[str, Any], conds: list[Condition], table: _Table, text: str) -> list[Rule]:
    data = body.get("data")
    if isinstance(data, str) and data.startswith("@"):
        data = {"set": table.sets[data[1:]]} if data[1:] in table.sets else None
    if not isinstance(data, dict) or "set" not in data:
        return [Rule(tuple(conds), UNKNOWN, text, "verdict map not listed")]
    out = []
    for elem in data["set"]:
        pair = elem.get("elem", {}).get("val") if isinstance(elem, dict) else elem
        if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[1], dict)):
            out.append(Rule(tuple(conds), UNKNOWN, text, "verdict map element"))
            continue
        vkey, vbody = next(iter(pair[1].items()))
        verdict, target = _verdict(vkey, vbody, table.chains) or (UNKNOWN, vkey)
        match = key_condition(body.get("key"), values(pair[0]), False)
        out.append(Rule((*conds, match), verdict, text, target))
    return out


_TABLE = re.compile(r'^table\s+(\S+)\s+"?([^"\s{]+)"?\s*\{')
_CHAIN = re.compile(r'^chain\s+"?([^"\s{]+)"?\s*\{')
_DEVICES = re.compile(
    r'hook\s+(?:ingress|egress)\s+(?:device\s+"?([^";\s]+)"?|devices\s*=\s*\{([^}]*)\})'
)


def devices_from_text(text: str) -> dict[Key, tuple[str, ...]]:
    """The devices of each ingress/egress base chain in ``nft list ruleset`` text.

    nft 1.0.6 prints them only in its text form (``device "eth0"``, ``devices = { a, b }``).
    """
    found: dict[Key, tuple[str, ...]] = {}
    table: tuple[str, str] | None = None
    chain = ""
    for raw in text.splitlines():
        line = raw.strip()
        if m := _TABLE.match(line):
            table, chain = (m.group(1), m.group(2)), ""
        elif m := _CHAIN.match(line):
            chain = m.group(1)
        elif table and chain and (m := _DEVICES.search(line)):
            names = m.group(1) or m.group(2) or ""
            found[(*table, chain)] = tuple(n.strip(' "') for n in names.split(",") if n.strip())
    return found
