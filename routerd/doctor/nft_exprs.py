"""nftables JSON expressions (``nft -j list ruleset``) as ``packet_match`` conditions and text.

Translated: ``iifname``/``oifname`` (and ``iif``/``oif``, listed by name), ``meta l4proto``,
``meta nfproto``, ``meta protocol``, ``ether type``, ``ip protocol``, ``tcp``/``udp``/``th
dport``, ``ip``/``ip6 saddr``/``daddr``, ``ct state``, ``fib daddr type``; right-hand sides
that are values, anonymous sets, prefixes, ranges and named sets whose elements the listing
carries. A payload match of another protocol than the probe's (``ip6 saddr`` for an IPv4
probe, anything ``arp``) can never match. Everything else is an ``Opaque`` (MAYBE)
condition, so the doctor says it could not evaluate the rule instead of guessing.

``render`` prints a rule compactly in nft syntax for findings (the JSON listing has no text).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from routerd.doctor.nftables import values
from routerd.doctor.packet_match import (
    IPV4,
    IPV6,
    Addr,
    AddrType,
    All,
    Condition,
    Family,
    Iface,
    Never,
    Opaque,
    Port,
    Proto,
    State,
)

Sets = Mapping[str, list[Any]]
"""Named sets of one table: name -> elements (absent when the listing has no elements)."""

L3 = {"ip": IPV4, "icmp": IPV4, "ip6": IPV6, "icmpv6": IPV6}
L4 = ("tcp", "udp", "th", "sctp", "dccp", "udplite")
IFNAMES = ("iifname", "oifname", "iif", "oif")


def condition(body: dict[str, Any], sets: Sets) -> Condition:
    """One ``{"match": …}`` body as a condition."""
    op = body.get("op", "==")
    left, right = body.get("left"), body.get("right")
    if op not in ("==", "!=", "in"):
        return Opaque(f"{_text(left)} {op} {_text(right)}")
    if isinstance(right, str) and right.startswith("@"):
        if right[1:] not in sets:
            return Opaque(f"{_text(left)} {right} (set elements not listed)")
        right = {"set": sets[right[1:]]}
    return key_condition(left, values(right), op == "!=")


def key_condition(left: Any, vals: list[Any], neg: bool) -> Condition:
    """``left`` compared with ``vals`` (``neg``: not equal to any of them)."""
    if not isinstance(left, dict):
        return Opaque(_text(left))
    if "meta" in left:
        return _meta(left["meta"].get("key", ""), vals, neg)
    if "payload" in left:
        return _payload(left["payload"], vals, neg)
    if "ct" in left and left["ct"].get("key") == "state" and "dir" not in left["ct"]:
        return State(tuple(str(v) for v in vals), neg)
    if "fib" in left:
        return _fib(left["fib"], vals, neg)
    return Opaque(_text(left))


def _meta(key: str, vals: list[Any], neg: bool) -> Condition:
    if key in ("iifname", "iif", "oifname", "oif"):
        direction = "iif" if key.startswith("iif") else "oif"
        return Iface(direction, tuple(str(v) for v in vals), neg)
    if key == "l4proto":
        return Proto(tuple(str(v) for v in vals), neg)
    if key in ("nfproto", "protocol"):
        return Family(tuple(str(v) for v in vals), neg)
    return Opaque(f"meta {key}")


def _payload(p: dict[str, Any], vals: list[Any], neg: bool) -> Condition:
    proto, fld = p.get("protocol", ""), p.get("field", "")
    if not proto:
        return Opaque("raw payload")
    if proto == "arp":
        return Never("arp header (the probes are IP)")
    if proto == "ether" and fld == "type":
        return Family(tuple(str(v) for v in vals), neg)
    if proto in L3:
        return _l3(proto, fld, vals, neg)
    if proto in L4 and fld in ("dport", "sport"):
        port = Port(tuple(_range(v) for v in vals), neg, fld)
        return port if proto == "th" else All((Proto((proto,)), port))
    return Opaque(f"{proto} {fld}")


def _l3(proto: str, fld: str, vals: list[Any], neg: bool) -> Condition:
    """An ``ip``/``ip6``/``icmp`` header match: it implies its address family."""
    family = Family((L3[proto],))
    if proto in ("ip", "ip6") and fld in ("protocol", "nexthdr"):
        return All((family, Proto(tuple(str(v) for v in vals), neg)))
    if proto in ("ip", "ip6") and fld in ("saddr", "daddr"):
        nets = [_prefix(v) for v in vals]
        if None in nets:
            return All((family, Opaque(f"{proto} {fld} range")))
        addr = Addr("src" if fld == "saddr" else "dst", tuple(n for n in nets if n), neg)
        return All((family, addr))
    if proto in ("icmp", "icmpv6"):
        return All((family, Proto((proto if proto == "icmp" else "ipv6-icmp",)), Opaque(fld)))
    return All((family, Opaque(f"{proto} {fld}")))


def _fib(f: dict[str, Any], vals: list[Any], neg: bool) -> Condition:
    flags = f.get("flags", [])
    flags = [flags] if isinstance(flags, str) else flags
    if f.get("result") == "type" and flags in (["daddr"], ["saddr"]):
        return AddrType("dst" if flags == ["daddr"] else "src", tuple(map(str, vals)), neg)
    return Opaque(f"fib {' . '.join(flags)} {f.get('result')}")


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


def render(exprs: list[Any]) -> str:
    """A rule's expressions in (compact) nft syntax, for findings."""
    return " ".join(_statement(e) for e in exprs if isinstance(e, dict) and e) or "(empty)"


def _statement(expr: dict[str, Any]) -> str:
    key, body = next(iter(expr.items()))
    if key == "match":
        op = body.get("op", "==")
        shown = "" if op in ("==", "in") else f"{op} "
        left = body.get("left")
        names = isinstance(left, dict) and left.get("meta", {}).get("key") in IFNAMES
        return f"{_text(left)} {shown}{_text(body.get('right'), quote=names)}"
    if body is None:
        return str(key)
    if key in ("jump", "goto"):
        return f"{key} {body.get('target', '?')}"
    if key == "xt":
        return f"xt {body.get('type', '')} {body.get('name', '?')}"
    if key == "vmap":
        left = body.get("key")
        names = isinstance(left, dict) and left.get("meta", {}).get("key") in IFNAMES
        return f"{_text(left)} vmap {_text(body.get('data'), quote=names)}"
    if key in ("counter", "log", "limit", "reject", "mangle"):
        return str(key)
    return f"{key} {_text(body)}"


def _text(v: Any, quote: bool = False) -> str:
    """An expression operand in nft syntax (best effort; unknown shapes as Python repr)."""
    if isinstance(v, str):
        plain = v.startswith("@") or v.replace(".", "").replace("-", "").isalnum()
        return f'"{v}"' if quote or not plain else v
    if isinstance(v, list):
        return ", ".join(_text(x, quote) for x in v)
    if not isinstance(v, dict):
        return str(v)
    if "set" in v:
        return "{ " + ", ".join(_elem(x, quote) for x in v["set"]) + " }"
    if "meta" in v:
        key = str(v["meta"].get("key", "?"))
        return key if key in IFNAMES else f"meta {key}"
    if "ct" in v:
        return f"ct {v['ct'].get('key', '?')}"
    if "payload" in v:
        return f"{v['payload'].get('protocol', 'payload')} {v['payload'].get('field', '?')}"
    if "prefix" in v:
        return f"{v['prefix']['addr']}/{v['prefix']['len']}"
    if "range" in v:
        return "-".join(_text(x) for x in v["range"])
    if "fib" in v:
        return f"fib {' . '.join(_as_list(v['fib'].get('flags')))} {v['fib'].get('result')}"
    return str(v)


def _elem(x: Any, quote: bool) -> str:
    if isinstance(x, list) and len(x) == 2:  # a verdict map element: key : verdict
        shown = render([x[1]]) if isinstance(x[1], dict) else _text(x[1])
        return f"{_text(x[0], quote)} : {shown}"
    return _text(x, quote)


def _as_list(v: Any) -> list[str]:
    return [v] if isinstance(v, str) else [str(x) for x in v or []]
