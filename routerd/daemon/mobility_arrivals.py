"""A VM that just arrived is told where the neighbours it left behind now are.

A live-migrated VM keeps its ARP cache. Its entries for the hosts at the site it left hold
their own MACs, which are not on this segment: until those entries time out (seconds), the
VM sends to MACs nobody here answers for. Addresses homed at any other site were already
behind the anycast gateway's MAC there, which every on-prem site shares, so those entries
stay right. So when a VM arrives here (this site starts originating its address because a
host answered for it), routerd sends the VM, and only the VM, one gratuitous ARP request per
address homed at the site it came from: "this address is at the capture device's MAC". The
kernel updates an existing neighbour entry from it at once.

Cost: one frame per address per arrival (about 60 bytes, a few microseconds each on Linux).
A site that homes thousands of addresses would make every arrival send thousands of frames,
so at most ``LIMIT`` addresses are announced per arrival, the lowest first; entries for the
rest recover as the kernel's own re-resolution goes (a broadcast ARP the capture device
answers). The announcements are ``announce`` changes, applied by the backend like the
gratuitous ARP of a new capture.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING

from routerd.core.desired import Garp
from routerd.core.mobility import MoveRecord
from routerd.core.port import Change

if TYPE_CHECKING:
    from routerd.daemon.mobility_runtime import MobilityRuntime

LOG = logging.getLogger(__name__)

LIMIT = 2048
"""Addresses announced to one arriving VM at most."""


def arrivals(rt: MobilityRuntime, moves: Iterable[MoveRecord]) -> list[MoveRecord]:
    """The moves that are a host arriving here from another known site."""
    out = []
    for m in moves:
        dom = rt.plan.by_name.get(m.domain)
        if (
            dom is not None
            and m.cause == "presence"
            and m.from_site
            and m.from_site != m.to_site
            and m.to_site == dom.local.name
            and dom.local.kind == "onprem"
            and dom.capture.type == "proxy-arp"
        ):
            out.append(m)
    return out


def announce_arrivals(rt: MobilityRuntime, moves: Iterable[MoveRecord]) -> int:
    """Tell each VM that arrived (``moves``) about the addresses homed where it came from.

    Returns:
        The number of announcements sent.
    """
    found = arrivals(rt, moves)
    if not found:
        return 0
    homed: dict[str, dict[str, list[str]]] = {}
    changes: list[Change] = []
    for m in found:
        dom = rt.plan.by_name[m.domain]
        fact = rt.feed.fact(m.address)
        if fact is None or not fact.mac:
            continue
        sites = homed.get(dom.name)
        if sites is None:
            sites = homed[dom.name] = {}
            for h in rt.ctl.homes(dom.name):
                sites.setdefault(h.site, []).append(h.address)
        left = [a for a in sites.get(m.from_site, ()) if a != m.address]
        if len(left) > LIMIT:
            LOG.warning(
                "arrival of %s from %s: telling it about %d of the %d addresses homed there",
                m.address,
                m.from_site,
                LIMIT,
                len(left),
            )
            left = left[:LIMIT]
        owner = (f"AddressMobilityDomain/{dom.name}",)
        for address in left:
            garp = Garp(address, dom.capture_device, fact.mac)
            changes.append(Change("announce", garp.key, new=garp, owners=owner))
    if not changes:
        return 0
    failed = [r for r in rt.backend.apply(changes) if not r.ok]
    if failed:  # best effort: the VM's entries recover by themselves, more slowly
        LOG.warning(
            "telling an arriving VM about %d addresses failed: %s", len(failed), failed[0].error
        )
    return len(changes) - len(failed)
