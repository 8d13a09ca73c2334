"""``doctor hybrid --probe``: measure the path MTU through the tunnel and judge the clamp.

The MSS clamp is derived from a *model* (docs/concepts.md, "MTU and MSS": with no measured
underlay MTU the conservative ``tunnel MTU - 80``). OCI's black hole (D16 in
docs/decisions.md) came from a path smaller than
anyone assumed, so the probe measures it: DF pings from this router's overlay address to
the peer's (``ping -M do -s SIZE -c 1 -W 1 -I <local> <peer>``), binary search between
1200 bytes and the tunnel MTU. The measured inner MTU ``M`` implies MSS ``M - 40``; an
installed clamp above that lets segments through that the path cannot carry, so it FAILs.

One measurement per (tunnel, local, peer) per run, shared by every claim delivered there.
"""

from __future__ import annotations

from routerd.core.doctor import Finding, Status
from routerd.core.lowering import ClaimIntent
from routerd.core.mtu import DEFAULT_ETHERNET_MTU, IPV4_TCP_HEADERS, OVERHEAD
from routerd.core.overlay import declared_mtu
from routerd.doctor import kernel_tables
from routerd.doctor.host import NOT_FOUND, PERMISSION
from routerd.doctor.inputs import Inputs, claim_name
from routerd.doctor.mss import installed_clamps

AREA = "hybrid"
CHECK = "path MTU probe"
FLOOR = 1200
ICMP_HEADERS = 28


def df_ping(inputs: Inputs, size: int, local: str, peer: str) -> bool:
    """Whether a ``size``-byte IPv4 packet with DF set reaches ``peer`` and is answered."""
    res = inputs.host.command(
        "ping", "-M", "do", "-s", str(size - ICMP_HEADERS), "-c", "1", "-W", "1", "-I", local, peer
    )
    return res.rc == 0


def measure(inputs: Inputs, local: str, peer: str, ceiling: int) -> tuple[int | None, str]:
    """Largest packet size in ``[FLOOR, ceiling]`` that crosses the path, or why none."""
    key = ("mtu-probe", local, peer, ceiling)
    return inputs.host.once(key, lambda: _search(inputs, local, peer, ceiling))  # type: ignore[return-value]


def _search(inputs: Inputs, local: str, peer: str, ceiling: int) -> tuple[int | None, str]:
    probe = inputs.host.command("ping", "-c", "1", "-W", "1", "-I", local, peer)
    if probe.failure in (NOT_FOUND, PERMISSION):
        return None, probe.describe()
    if probe.rc not in (0, 1):  # 1 is "no reply"; anything else is ping refusing to run
        return None, probe.describe()
    if not df_ping(inputs, FLOOR, local, peer):
        return None, f"no reply from {peer} to a {FLOOR}-byte DF ping from {local}"
    lo, hi = FLOOR, ceiling
    if df_ping(inputs, hi, local, peer):
        return hi, ""
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if df_ping(inputs, mid, local, peer):
            lo = mid
        else:
            hi = mid
    return lo, ""


def paths(inputs: Inputs) -> list[tuple[str, str, int]]:
    """Every distinct ``(local, peer, ceiling)`` the run's claims will measure."""
    out: dict[tuple[str, str, int], None] = {}
    for c in inputs.intents.values():
        if c.local_overlay and c.peer_overlay:
            ceiling = _link_mtu(inputs, c.tunnel) or DEFAULT_ETHERNET_MTU
            out.setdefault((c.local_overlay, c.peer_overlay, ceiling), None)
    return list(out)


def _link_mtu(inputs: Inputs, ifname: str) -> int:
    row = kernel_tables.link(inputs, ifname)
    mtu = row.get("mtu") if row else None
    return int(mtu) if isinstance(mtu, int) else declared_mtu(inputs.config, ifname)


def _installed(inputs: Inputs, c: ClaimIntent) -> tuple[int | None, str]:
    read, rules = installed_clamps(inputs)
    if not read.ok:
        return None, read.detail
    values = [r.mss for iif, oif in c.mss_paths for r in rules if r.covers(iif, oif) and r.mss]
    return (max(values), "") if values else (None, "no clamp rule for this claim")


def check(inputs: Inputs, c: ClaimIntent) -> Finding:
    """The ``… path MTU probe`` finding for one claim."""
    name = claim_name(c.name, CHECK)
    if not (c.local_overlay and c.peer_overlay):
        why = f"OverlayPeer/{c.peer} has no overlay addresses (underlay.address, remote.address)"
        return Finding(AREA, name, Status.SKIP, why, claim=c.name)
    ceiling = _link_mtu(inputs, c.tunnel) or DEFAULT_ETHERNET_MTU
    measured, why = measure(inputs, c.local_overlay, c.peer_overlay, ceiling)
    if measured is None:
        status = (
            Status.SKIP if "not installed" in why or "permission denied" in why else Status.WARN
        )
        return Finding(AREA, name, status, why, claim=c.name)
    implied = measured - IPV4_TCP_HEADERS
    underlay = measured + OVERHEAD[("wireguard", 4)]
    head = (
        f"measured {measured} bytes through {c.tunnel} ({c.local_overlay} -> {c.peer_overlay}, "
        f"ceiling {ceiling}): MSS {implied}; model expects MSS {c.mss}"
    )
    clamp, why = _installed(inputs, c)
    capture_mtu = _link_mtu(inputs, c.capture_interface) if c.capture_interface else 0
    if clamp is not None and clamp + IPV4_TCP_HEADERS > measured:
        detail = f"{head}; installed clamp {clamp} lets {clamp + IPV4_TCP_HEADERS}-byte packets in"
        return Finding(AREA, name, Status.FAIL, detail, _remedy(implied, underlay), claim=c.name)
    if clamp is None and capture_mtu > measured:
        detail = f"{head}; {why} and {c.capture_interface} MTU {capture_mtu} exceeds the path"
        fix = f"no clamp is installed: see the MSS clamp finding; the path needs MSS <= {implied}"
        return Finding(AREA, name, Status.FAIL, detail, fix, claim=c.name)
    tail = f"installed clamp {clamp}" if clamp is not None else f"{why}; path does not step down"
    return Finding(AREA, name, Status.PASS, f"{head}; {tail}", claim=c.name)


def _remedy(mss: int, underlay: int) -> str:
    return (
        f"set OverlayPeer spec.pathMTU: {underlay} (the measured path plus WireGuard's 60 bytes "
        f"over IPv4) so routerd clamps to MSS {mss} or lower; see docs/troubleshooting.md#mss-clamp"
    )
