"""``doctor firewall``: routerd-owned nft tables the current config no longer wants.

A stale ``inet routerd_filter`` from an earlier config once dropped all SAM forwarding on
Azure and had to be found by hand. Every table routerd writes carries the comment
``routerd.owner=routerd routerd.generation=<n>`` (D14, docs/decisions.md), so ownership is a fact,
not a name heuristic: a *marked* table that the current effective config does not produce is stale
(WARN); an *unmarked* ``routerd_*`` table belongs to someone else and is ignored; a table that
cannot be listed is counted as *unverified*. The marker is read from the text listing because
libnftables 1.0.6 drops table comments from JSON output.
"""

from __future__ import annotations

import re

from routerd.core.desired import MssClampTable
from routerd.core.doctor import Finding, Status
from routerd.core.resources.redundancy import RedundancyGroup
from routerd.doctor.inputs import Inputs
from routerd.doctor.nftables import list_nft

AREA = "firewall"
NAME = "stale routerd nft tables"
OWNER_MARK = "routerd.owner=routerd"
FENCE = "netdev/routerd_fence"
_TABLE = re.compile(r"^table (\S+) (routerd_\S+)", re.MULTILINE)
_COMMENT = re.compile(r'^\s*comment "([^"]*)"', re.MULTILINE)


def expected(inputs: Inputs) -> set[str]:
    """``family/name`` of every table a fresh lowering of the effective config produces,
    plus a router pair's fence (``routerd.redundancy.fence``, written by the daemon)."""
    out = {
        f"{o.key[1]}/{o.key[2]}"
        for o in inputs.desired.objects.values()
        if isinstance(o, MssClampTable)
    }
    if inputs.config.of(RedundancyGroup):
        out.add(FENCE)
    return out


def check(inputs: Inputs) -> list[Finding]:
    """The stale-table finding (plus one for a foreign table squatting on routerd_mss)."""
    listing = list_nft(inputs.host, "tables")
    if not listing.ok:
        return [Finding(AREA, NAME, Status.SKIP, f"nft list tables: {listing.detail}")]
    marked: list[str] = []
    unmarked: list[str] = []
    unverified: list[str] = []
    for family, name in _TABLE.findall(listing.text):
        table = list_nft(inputs.host, "table", family, name)
        label = f"{family}/{name}"
        if not table.ok:
            unverified.append(f"{label} ({table.detail})")
            continue
        comment = _COMMENT.search(table.text)
        (marked if comment and OWNER_MARK in comment.group(1) else unmarked).append(label)
    want = expected(inputs)
    stale = [t for t in marked if t not in want]
    counts = (
        f"{len(marked)} marked, {len(unmarked)} unmarked (ignored), {len(unverified)} unverified"
        + (f": {', '.join(unverified)}" if unverified else "")
    )
    out = []
    if stale:
        cmds = "; ".join(f"nft delete table {t.replace('/', ' ')}" for t in stale)
        out.append(
            Finding(
                AREA,
                NAME,
                Status.WARN,
                f"marked routerd-owned tables not expected by current config: "
                f"{', '.join(stale)} ({counts})",
                "inspect each with `nft list table <family> <name>` (a leftover default-drop "
                f"forward chain silently drops SAM traffic); remove only after confirming: {cmds}",
            )
        )
    else:
        out.append(Finding(AREA, NAME, Status.PASS, counts))
    for t in unmarked:
        if t in want:
            out.append(
                Finding(
                    AREA,
                    f"{t} ownership",
                    Status.WARN,
                    f"{t} exists without the {OWNER_MARK} marker: routerd will not overwrite "
                    "a table it does not own, so its MSS clamp cannot be installed",
                    f"if nobody else uses it: nft delete table {t.replace('/', ' ')}",
                )
            )
    return out
