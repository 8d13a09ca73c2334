"""The per-claim "FORWARD policy" check: a routerd_filter table that drops SAM forwarding.

On the Azure smoke a stale ``inet routerd_filter`` (left by an older Go routerd config) had a
default-drop forward chain and silently dropped every delivered packet. routerd itself no
longer writes such a table, but one may linger; this check reads it and walks its forward
chains in order for the capture <-> tunnel path (a drop policy with accepts for both
directions is fine, so a drop policy alone is no warning). When the table cannot be read,
the reason is classified (D18, docs/decisions.md): nft unavailable, permission denied, table
absent (the normal case: SKIP), or nft's own message.
"""

from __future__ import annotations

from routerd.core.doctor import Finding, Status
from routerd.core.lowering import ClaimIntent
from routerd.doctor.inputs import Inputs, claim_name
from routerd.doctor.nft_rules import BaseChain, base_chains
from routerd.doctor.nftables import ABSENT, NftRead, list_nft
from routerd.doctor.packet_filter import ACCEPT, evaluate
from routerd.doctor.packet_match import Packet

AREA = "hybrid"
CHECK = "FORWARD policy"
TABLE = ("table", "inet", "routerd_filter")


def forward_chains(inputs: Inputs) -> tuple[NftRead, list[BaseChain]]:
    """The ``routerd_filter`` listing and its forward base chains, parsed once per run."""

    def read() -> tuple[NftRead, list[BaseChain]]:
        listing = list_nft(inputs.host, *TABLE, as_json=True)
        if not listing.ok:
            return listing, []
        chains = base_chains(listing.json())
        return listing, [bc for bc in chains if bc.hook == "forward"]

    return inputs.host.once(("forward-chains",), read)  # type: ignore[return-value]


def check(inputs: Inputs, c: ClaimIntent) -> Finding:
    """The ``… FORWARD policy`` finding for one claim."""
    name = claim_name(c.name, CHECK)
    read, chains = forward_chains(inputs)
    if not read.ok:
        detail = read.detail
        if read.failure == ABSENT:
            detail = "routerd_filter table absent; no routerd firewall policy observed"
        return Finding(AREA, name, Status.SKIP, detail, claim=c.name)
    if not chains:
        return Finding(AREA, name, Status.PASS, "routerd_filter has no forward chain", claim=c.name)
    cap = c.capture_interface or None
    packets = {
        f"{cap or '*'} -> {c.tunnel}": Packet(iif=cap, oif=c.tunnel, dst=c.ip),
        f"{c.tunnel} -> {cap or '*'}": Packet(iif=c.tunnel, oif=cap, src=c.ip),
    }
    blocked = []
    for bc in chains:
        for label, pkt in packets.items():
            oc = evaluate(bc.chains, bc.name, pkt)
            if oc.verdict != ACCEPT:
                blocked.append(f"{label} dropped by {bc.label} ({oc.by})")
    if not blocked:
        policies = ", ".join(f"{bc.label} policy {bc.chains[bc.name].policy}" for bc in chains)
        detail = f"{policies}; capture <-> tunnel accepted"
        return Finding(AREA, name, Status.PASS, detail, claim=c.name)
    capif = c.capture_interface or "<capture-if>"
    remedy = (
        "routerd no longer writes routerd_filter: if it is a leftover (see `routerctl doctor "
        "firewall`), inspect it with `nft list table inet routerd_filter` and delete it with "
        "`nft delete table inet routerd_filter`; otherwise permit the path: "
        f'nft insert rule inet routerd_filter {chains[0].name} iifname "{capif}" oifname '
        f'"{c.tunnel}" accept; nft insert rule inet routerd_filter {chains[0].name} '
        f'iifname "{c.tunnel}" oifname "{capif}" accept'
    )
    return Finding(AREA, name, Status.WARN, "; ".join(blocked), remedy, claim=c.name)
