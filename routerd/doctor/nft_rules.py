"""Native nftables filter chains (``nft -j list ruleset``) as ``packet_filter`` rules (#52).

Only what decides forwarding and WireGuard ingress is read: base chains of type ``filter`` on
the ``forward`` and ``input`` hooks in the ``ip`` and ``inet`` families, plus the regular
chains they jump to. Every base chain on a hook sees the packet and a drop in any of them is
final, so each is evaluated on its own and the path is open only if all accept.

Translated: ``iifname``/``oifname`` (and ``iif``/``oif``, listed by name), ``meta l4proto``
and ``ip protocol``, ``tcp``/``udp``/``th dport``, ``ip saddr``/``daddr``, ``ct state``,
``meta nfproto``; verdicts accept/drop/reject/jump/goto/return. Anything else becomes a MAYBE
condition so the detail can say the chain was not fully evaluated. Chains that iptables-nft
manages are skipped when iptables-nft already reported them (they would be counted twice and
their ``xt`` expressions are opaque here).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from routerd.doctor.nftables import items, values
from routerd.doctor.packet_filter import (
    ACCEPT,
    CONTINUE,
    DROP,
    GOTO,
    JUMP,
    RETURN,
    UNKNOWN,
    Addr,
    All,
    Chain,
    Condition,
    Family,
    Iface,
    Opaque,
    Port,
    Proto,
    Rule,
    State,
)

FAMILIES = ("ip", "inet")
HOOKS = ("forward", "input")
PASSIVE = frozenset({"counter", "log", "mangle", "notrack", "meta", "ct", "set"})


@dataclass
class BaseChain:
    """A filter base chain and the chains of its table, ready for ``evaluate``."""

    family: str
    table: str
    name: str
    hook: str
    chains: dict[str, Chain]

    @property
    def label(self) -> str:
        return f"nft {self.family} {self.table} {self.name}"


def base_chains(doc: dict[str, Any], *, skip_tables: set[tuple[str, str]]) -> list[BaseChain]:
    """Every forward/input filter base chain of an ``nft -j list ruleset`` document."""
    tables: dict[tuple[str, str], dict[str, Chain]] = {}
    hooks: list[tuple[str, str, str, str]] = []
    for c in items(doc, "chain"):
        key = (c.get("family", ""), c.get("table", ""))
        if key[0] not in FAMILIES or key in skip_tables:
            continue
        policy = c.get("policy", "") if c.get("hook") else ""
        tables.setdefault(key, {})[c["name"]] = Chain(c["name"], policy=policy)
        if c.get("type") == "filter" and c.get("hook") in HOOKS:
            hooks.append((key[0], key[1], c["name"], c["hook"]))
    for r in items(doc, "rule"):
        chains = tables.get((r.get("family", ""), r.get("table", "")))
        if chains is not None and r.get("chain") in chains:
            chains[r["chain"]].rules.append(translate(r, set(chains)))
    return [BaseChain(f, t, n, h, tables[(f, t)]) for f, t, n, h in hooks]


def translate(rule: dict[str, Any], chains: set[str]) -> Rule:
    """One JSON rule as conditions plus a verdict."""
    conds: list[Condition] = []
    verdict, target = CONTINUE, ""
    for expr in rule.get("expr", []):
        if not isinstance(expr, dict) or not expr:
            continue
        key, body = next(iter(expr.items()))
        if key == "match":
            conds.append(_match(body))
        elif key in ("accept", "drop", "reject"):
            verdict = ACCEPT if key == "accept" else DROP
        elif key in ("jump", "goto"):
            target = str(body.get("target", ""))
            verdict = (JUMP if key == "jump" else GOTO) if target in chains else UNKNOWN
        elif key == "return":
            verdict = RETURN
        elif key == "xt":
            verdict, cond = _xt(body, verdict)
            if cond is not None:
                conds.append(cond)
        elif key not in PASSIVE:
            conds.append(Opaque(key))
    where = f"{rule.get('family')} {rule.get('table')} {rule.get('chain')}"
    return Rule(tuple(conds), verdict, f"nft {where} rule handle {rule.get('handle')}", target)


def _xt(body: dict[str, Any], verdict: str) -> tuple[str, Condition | None]:
    name = str(body.get("name", ""))
    if body.get("type") == "target":
        return (DROP if name in ("REJECT", "DROP") else UNKNOWN), None
    return verdict, Opaque(f"xt match {name}")


def _match(body: dict[str, Any]) -> Condition:
    op = body.get("op", "==")
    neg = op == "!="
    left, right = body.get("left"), body.get("right")
    vals = values(right)
    if not isinstance(left, dict):
        return Opaque(str(left))
    if "meta" in left:
        return _meta(left["meta"].get("key", ""), vals, neg)
    if "payload" in left:
        return _payload(left["payload"], vals, neg)
    if "ct" in left and left["ct"].get("key") == "state":
        return State(tuple(str(v) for v in vals), neg)
    return Opaque(next(iter(left), "?"))


def _meta(key: str, vals: list[Any], neg: bool) -> Condition:
    if key in ("iifname", "iif", "oifname", "oif"):
        direction = "iif" if key.startswith("iif") else "oif"
        return Iface(direction, tuple(str(v) for v in vals), neg)
    if key == "l4proto":
        return Proto(tuple(str(v) for v in vals), neg)
    if key == "nfproto":
        return Family(tuple(str(v) for v in vals), neg)
    return Opaque(f"meta {key}")


def _payload(p: dict[str, Any], vals: list[Any], neg: bool) -> Condition:
    proto, fld = p.get("protocol", ""), p.get("field", "")
    if fld == "dport" and proto in ("tcp", "udp", "th"):
        port = Port(tuple(_range(v) for v in vals), neg)
        if proto == "th" or neg:
            return port
        return All((Proto((proto,)), port))
    if proto == "ip" and fld == "protocol":
        return Proto(tuple(str(v) for v in vals), neg)
    if proto == "ip" and fld in ("saddr", "daddr"):
        nets = [_prefix(v) for v in vals]
        if None in nets:
            return Opaque(f"ip {fld} range")
        return Addr("src" if fld == "saddr" else "dst", tuple(n for n in nets if n), neg)
    if proto in ("tcp", "udp") and fld == "sport":
        return Opaque(f"{proto} sport (source port)")
    return Opaque(f"{proto} {fld}")


def _range(v: Any) -> tuple[int, int]:
    if isinstance(v, dict) and "range" in v:
        lo, hi = v["range"]
        return int(lo), int(hi)
    return int(v), int(v)


def _prefix(v: Any) -> str | None:
    if isinstance(v, dict) and "prefix" in v:
        return f"{v['prefix']['addr']}/{v['prefix']['len']}"
    if isinstance(v, dict):
        return None  # an address range: not modelled
    return str(v)
