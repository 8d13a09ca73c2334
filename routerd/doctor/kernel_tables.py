"""The kernel tables one doctor run reads, each dumped once and indexed for per-claim look-ups.

Asking the kernel about every claim separately (``ip route show <addr>``, ``ip addr show to
<addr>``, ``ip link show dev <if>``) costs three processes per claim, minutes at a thousand
claims. A dump of the whole table costs about what one of those processes costs (50,000
routes list in 0.18 s: "Netlink" in docs/background.md), so each table is read once per run
through ``Host.cached`` and indexed here; a check then answers from a dict.
Every look-up gives the same rows the per-claim command prints:

* routes: ``ip -j -4 route show table main``, keyed by destination prefix. ``ip route show
  PREFIX`` lists exactly the main-table routes whose destination *is* that prefix, which is
  what ``routes_to`` returns (the kernel's actual *decision* is ``route_lookup``'s job);
* proxy neighbours: ``ip -j neigh show proxy`` as ``(address, device)`` pairs, and those
  an earlier routerd marked as its own (``owned_proxy_entries``);
* IPv4 addresses: ``ip -j -4 addr show`` as ``address -> ["a/len on ifname", ...]``;
* links: ``ip -j link show`` by name (and altname).

A failed dump makes every look-up return None, and ``describe`` says why (D18,
docs/decisions.md).
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass, field
from typing import Any

from routerd.doctor.host import CommandResult
from routerd.doctor.inputs import Inputs

ROUTES = ("-4", "route", "show", "table", "main")
PROXIES = ("neigh", "show", "proxy")
ADDRESSES = ("-4", "addr", "show")
LINKS = ("link", "show")
ROUTERD_PROTOCOLS = frozenset({"196", "routerd"})
"""How ``ip -j neigh show proxy`` spells the protocol routerd marked its entries with
(196, or its name where ``/etc/iproute2/rt_protos.d`` names it)."""

Row = dict[str, Any]


@dataclass(frozen=True)
class Dump:
    """One ``ip -j`` table listing: its rows, or why there are none."""

    result: CommandResult
    rows: list[Row] = field(default_factory=list)
    parsed: bool = False

    @property
    def ok(self) -> bool:
        return self.result.ok and self.parsed

    def describe(self) -> str:
        """Why the dump gave nothing (the command's own failure, or unparseable output)."""
        if not self.result.ok:
            return self.result.describe()
        return f"{' '.join(self.result.argv)} printed no JSON list"


def dump(inputs: Inputs, *argv: str) -> Dump:
    """``ip -j <argv>`` run and parsed once per run."""
    return inputs.host.once(("ip-dump", *argv), lambda: _dump(inputs, argv))  # type: ignore[return-value]


def _dump(inputs: Inputs, argv: tuple[str, ...]) -> Dump:
    res = inputs.host.cached("ip", "-j", *argv)
    if not res.ok:
        return Dump(res)
    try:
        doc = json.loads(res.stdout) if res.stdout.strip() else []
    except ValueError:
        return Dump(res)
    if not isinstance(doc, list):
        return Dump(res)
    return Dump(res, [d for d in doc if isinstance(d, dict)], parsed=True)


def prefix_key(text: str) -> str:
    """A destination in the one spelling both sides of a look-up use (``a.b.c.d/len``)."""
    if text == "default":
        return "0.0.0.0/0"
    if "/" not in text:
        return f"{text}/32"
    try:
        return str(ipaddress.ip_network(text, strict=False))
    except ValueError:
        return text


def _indexed(inputs: Inputs, name: str, argv: tuple[str, ...], build: Any) -> Any:
    def compute() -> Any:
        d = dump(inputs, *argv)
        return build(d.rows) if d.ok else None

    return inputs.host.once(("index", name), compute)


def routes_to(inputs: Inputs, cidr: str) -> list[Row] | None:
    """Main-table routes whose destination is exactly ``cidr`` (None: the dump failed)."""
    index: dict[str, list[Row]] | None = _indexed(inputs, "routes", ROUTES, _route_index)
    return None if index is None else list(index.get(prefix_key(cidr), ()))


def _route_index(rows: list[Row]) -> dict[str, list[Row]]:
    out: dict[str, list[Row]] = {}
    for r in rows:
        dst = str(r.get("dst", ""))
        key = "0.0.0.0/0" if dst == "default" else dst if "/" in dst else f"{dst}/32"
        out.setdefault(key, []).append(r)
    return out


def proxy_entries(inputs: Inputs) -> set[tuple[str, str]] | None:
    """Every IPv4 proxy neighbour the dump shows, as ``(address, device)`` (None: it failed).

    routerd captures by route and makes no proxy entries; what is here is another tool's,
    or an earlier routerd's (``owned_proxy_entries``). The kernel keeps proxy entries of all
    namespaces in one hash and resumes a dump by position in it, so churn in another
    namespace can make this dump skip an entry: good enough for findings that say "there is
    one", not for proving an entry absent.
    """
    rows = _proxy_rows(inputs)
    return None if rows is None else {(dst, dev) for dst, dev, _ in rows}


def owned_proxy_entries(inputs: Inputs) -> list[tuple[str, str]] | None:
    """Proxy entries marked with routerd's protocol, sorted (None: the dump failed)."""
    rows = _proxy_rows(inputs)
    if rows is None:
        return None
    return sorted((dst, dev) for dst, dev, proto in rows if proto in ROUTERD_PROTOCOLS)


def _proxy_rows(inputs: Inputs) -> list[tuple[str, str, str]] | None:
    d = dump(inputs, *PROXIES)
    if not d.ok:
        return None
    return [
        (str(r.get("dst")), str(r.get("dev")), str(r.get("protocol", "")))
        for r in d.rows
        if "." in str(r.get("dst", ""))
    ]


def cidrs_of(inputs: Inputs, ifname: str) -> list[str]:
    """The IPv4 addresses of ``ifname`` as ``a/len`` ([] when none, or the dump failed)."""
    for row in dump(inputs, *ADDRESSES).rows:
        if row.get("ifname") == ifname:
            return [
                f"{a['local']}/{a.get('prefixlen', 32)}"
                for a in row.get("addr_info", [])
                if isinstance(a.get("local"), str)
            ]
    return []


def addresses_of(inputs: Inputs, ip: str) -> list[str] | None:
    """Where ``ip`` is assigned, as ``a/len on ifname`` in dump order (None: dump failed)."""
    index: dict[str, list[str]] | None = _indexed(inputs, "addresses", ADDRESSES, _addr_index)
    return None if index is None else list(index.get(ip, ()))


def _addr_index(rows: list[Row]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for link in rows:
        for a in link.get("addr_info", []):
            local = a.get("local")
            if isinstance(local, str):
                out.setdefault(local, []).append(
                    f"{local}/{a.get('prefixlen')} on {link.get('ifname')}"
                )
    return out


def first_ipv4(inputs: Inputs, ifname: str) -> str:
    """The first IPv4 address on ``ifname`` ("" when none, or the dump failed)."""
    for link in dump(inputs, *ADDRESSES).rows:
        if link.get("ifname") == ifname:
            for a in link.get("addr_info", []):
                if isinstance(a.get("local"), str):
                    return str(a["local"])
    return ""


def link(inputs: Inputs, name: str) -> Row | None:
    """The ``ip -j link show`` row of ``name`` (None: no such link, or the dump failed)."""
    index: dict[str, Row] | None = _indexed(inputs, "links", LINKS, _link_index)
    return None if index is None or not name else index.get(name)


def _link_index(rows: list[Row]) -> dict[str, Row]:
    out: dict[str, Row] = {}
    for r in rows:
        for alt in r.get("altnames", []) or []:
            out.setdefault(str(alt), r)
    for r in rows:
        out[str(r.get("ifname"))] = r
    return out
