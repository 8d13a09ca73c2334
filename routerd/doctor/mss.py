"""The per-claim MSS clamp check (D8 and D16 in docs/decisions.md).

OCI showed what a missing clamp does: ping works, TCP stalls after the handshake. Grepping
one line for ``iifname "<cap>"``, ``oifname "<tun>"`` and ``maxseg`` misses a rule written
with an interface set (``oifname { "a", "b" }``), never looks at the reverse direction, and
never asks whether the value is right. This check reads the
``inet routerd_mss`` table as JSON, matches interface sets, requires a clamp for every path
lowering derived (capture -> tunnel *and* tunnel -> capture) and compares the installed MSS
with the one ``routerd.core.mtu`` says the path needs.

Rule: no clamp for any direction -> FAIL (big segments black-hole); one direction missing
-> WARN (the peer router may clamp the other, D8 wants both); a clamp above the expected
MSS -> WARN; all present at or below -> PASS.
"""

from __future__ import annotations

from dataclasses import dataclass

from routerd.core.doctor import Finding, Status
from routerd.core.lowering import ClaimIntent
from routerd.core.mtu import path_mtu
from routerd.core.resources import OverlayPeer
from routerd.doctor import kernel_tables
from routerd.doctor.inputs import Inputs, claim_name
from routerd.doctor.nftables import ABSENT, NftRead, items, list_nft, values

AREA = "hybrid"
CHECK = "MSS clamp"
TABLE = ("table", "inet", "routerd_mss")
MSS_KEY = {"tcp option": {"name": "maxseg", "field": "size"}}
REMEDY = (
    "routerd installs inet routerd_mss on every reconcile: check the daemon log for the nft "
    "error (a foreign table named routerd_mss blocks it), then `nft list table inet "
    "routerd_mss`; see docs/troubleshooting.md#mss-clamp"
)


@dataclass(frozen=True)
class Clamp:
    """One clamp rule: interface sets (empty = any) and the MSS it sets (None = rt mtu)."""

    iifs: tuple[str, ...]
    oifs: tuple[str, ...]
    mss: int | None
    handle: int

    def covers(self, iif: str, oif: str) -> bool:
        return (not self.iifs or iif in self.iifs) and (not self.oifs or oif in self.oifs)


def clamp_rules(doc: dict[str, object]) -> list[Clamp]:
    """Every rule of a forward-hook chain that sets ``tcp option maxseg size``."""
    forward = {c["name"] for c in items(doc, "chain") if c.get("hook") == "forward"}
    out = []
    for r in items(doc, "rule"):
        if r.get("chain") not in forward:
            continue
        clamp = _clamp(r.get("expr", []), int(r.get("handle", 0)))
        if clamp is not None:
            out.append(clamp)
    return out


def _clamp(exprs: list[dict[str, object]], handle: int) -> Clamp | None:
    iifs: tuple[str, ...] = ()
    oifs: tuple[str, ...] = ()
    mss: int | None = None
    found = False
    for e in exprs:
        m = e.get("match")
        if isinstance(m, dict) and isinstance(m.get("left"), dict) and m.get("op", "==") == "==":
            key = m["left"].get("meta", {}).get("key")
            if key in ("iifname", "iif"):
                iifs = tuple(str(v) for v in values(m.get("right")))
            elif key in ("oifname", "oif"):
                oifs = tuple(str(v) for v in values(m.get("right")))
        mangle = e.get("mangle")
        if isinstance(mangle, dict) and mangle.get("key") == MSS_KEY:
            found = True
            value = mangle.get("value")
            mss = value if isinstance(value, int) else None
    return Clamp(iifs, oifs, mss, handle) if found else None


def check(inputs: Inputs, c: ClaimIntent) -> Finding:
    """The ``… MSS clamp`` finding for one claim."""
    name = claim_name(c.name, CHECK)
    if not c.tunnel:
        return Finding(AREA, name, Status.SKIP, "delivery tunnel unresolved", claim=c.name)
    basis = _basis(inputs, c)
    if not c.mss_paths:
        if not c.capture_interface and c.capture_type == "proxy-arp":
            return Finding(
                AREA,
                name,
                Status.WARN,
                "capture.interface is empty: no path to clamp",
                "set spec.capture.interface so routerd can derive the MSS clamp",
                claim=c.name,
            )
        return Finding(AREA, name, Status.PASS, f"no clamp needed: {basis}", claim=c.name)
    read, clamps = installed_clamps(inputs)
    if not read.ok:
        status = Status.FAIL if read.failure == ABSENT else Status.WARN
        detail = f"{read.detail}; expected clamps {_paths(c)} at MSS {c.mss} ({basis})"
        return Finding(AREA, name, status, detail, REMEDY, claim=c.name)
    return judge(c, clamps, basis + _link_note(inputs, c.tunnel))


def installed_clamps(inputs: Inputs) -> tuple[NftRead, list[Clamp]]:
    """The ``routerd_mss`` listing and its clamp rules, read and parsed once per run."""

    def read() -> tuple[NftRead, list[Clamp]]:
        listing = list_nft(inputs.host, *TABLE, as_json=True)
        return listing, clamp_rules(listing.json()) if listing.ok else []

    return inputs.host.once(("mss-clamps",), read)  # type: ignore[return-value]


def judge(c: ClaimIntent, clamps: list[Clamp], basis: str) -> Finding:
    """Compare installed clamps with the claim's paths and expected MSS."""
    name = claim_name(c.name, CHECK)
    missing, high, ok = [], [], []
    for iif, oif in c.mss_paths:
        rule = next((r for r in clamps if r.covers(iif, oif)), None)
        if rule is None:
            missing.append(f"{iif} -> {oif}")
        elif rule.mss is not None and c.mss is not None and rule.mss > c.mss:
            high.append(f"{iif} -> {oif} sets {rule.mss} (handle {rule.handle})")
        else:
            ok.append(f"{iif} -> {oif} at {'rt mtu' if rule.mss is None else rule.mss}")
    expected = f"expected MSS <= {c.mss} ({basis})"
    if not ok and not high:
        detail = f"no clamp for {', '.join(missing)}; {expected}; TCP may stall after the handshake"
        return Finding(AREA, name, Status.FAIL, detail, REMEDY, claim=c.name)
    problems = []
    if missing:
        problems.append(f"missing {', '.join(missing)} (both directions are clamped, D8)")
    if high:
        problems.append(f"above the expected MSS: {', '.join(high)}")
    detail = "; ".join([*problems, *(f"clamp {o}" for o in ok), expected])
    if problems:
        return Finding(AREA, name, Status.WARN, detail, REMEDY, claim=c.name)
    return Finding(AREA, name, Status.PASS, detail, claim=c.name)


def _paths(c: ClaimIntent) -> str:
    return ", ".join(f"{i} -> {o}" for i, o in c.mss_paths)


def _basis(inputs: Inputs, c: ClaimIntent) -> str:
    peer = inputs.config.get(OverlayPeer, c.peer) if c.peer else None
    source = c.mss_paths[0][0] if c.mss_paths else c.capture_interface
    if not source:
        return "no capture interface"
    pm = path_mtu(inputs.config, peer, source, c.tunnel)
    return f"{source} MTU {pm.source_mtu}, {c.tunnel} inner MTU {pm.inner_mtu} from {pm.basis}"


def _link_note(inputs: Inputs, ifname: str) -> str:
    row = kernel_tables.link(inputs, ifname)
    return f"; {ifname} link MTU {row.get('mtu')}" if row else f"; {ifname} link not found"
