"""The per-claim host-firewall check: can captured traffic be forwarded both ways, and can
the WireGuard peer reach our UDP port?

routerd adds no firewall rules, and a host firewall that drops the claim's traffic looks,
from outside, like a dead tunnel: the OCI Ubuntu image's ``-A FORWARD -j REJECT`` left the
tunnel without a handshake and forwarding dead even with the security list open. This check
pushes three probe packets (capture -> tunnel, tunnel -> capture, UDP to the listen port)
through every base chain they would meet (``firewall_path``), from every source
(``firewall_sources``: nf_tables whoever wrote it, legacy x_tables), and passes only when
each chain is *proven* to accept. A proven drop is a warn naming the rule (table, chain,
handle, text, owning tool) and the commands to add (``firewall_remedy``); a rule it cannot
evaluate, a chain it cannot tell applies, or a source it cannot read is a warn saying so.
It never changes the firewall.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import cast

from routerd.core.doctor import Finding, Status
from routerd.core.lowering import ClaimIntent
from routerd.core.overlay import wireguard_peer_for
from routerd.core.resources import OverlayPeer, WireGuardInterface
from routerd.doctor import kernel_tables, route_lookup
from routerd.doctor.firewall_path import (
    BLOCKED,
    OPEN,
    Bridges,
    Judged,
    Probe,
    cached_judge,
    walk,
)
from routerd.doctor.firewall_remedy import remedy
from routerd.doctor.firewall_sources import Sources, gather
from routerd.doctor.inputs import Inputs, claim_name
from routerd.doctor.packet_match import IPV4, IPV6, Match, Packet

AREA = "hybrid"
CHECK = "host firewall"
MAX_LISTED = 6


def probes(inputs: Inputs, c: ClaimIntent) -> tuple[list[Probe], list[str]]:
    """The packets to test for one claim, and notes about what is not tested."""
    notes: list[str] = []
    cap = c.capture_interface or None
    if cap is None:
        notes.append("capture interface unset: forwarding judged for any input interface")
    out = [
        Probe("forward", Packet(iif=cap, oif=c.tunnel, dst=c.ip), f"{cap or '*'} -> {c.tunnel}"),
        Probe("forward", Packet(iif=c.tunnel, oif=cap, src=c.ip), f"{c.tunnel} -> {cap or '*'}"),
    ]
    wgi = inputs.config.get(WireGuardInterface, c.tunnel)
    port = wgi.spec.listen_port if wgi else 0
    if not port:
        notes.append("no WireGuard listenPort on the tunnel: input not checked")
        return out, notes
    endpoint, sport = _peer_endpoint(inputs, c)
    family = IPV6 if endpoint and ":" in endpoint else IPV4
    if endpoint is None:
        notes.append("peer endpoint not configured: WireGuard ingress judged for IPv4")
    underlay = _underlay_if(inputs, endpoint) if family == IPV4 else None
    pkt = Packet(
        family, iif=underlay, oif="", proto="udp", dport=port, sport=sport, src=endpoint,
        local=True,
    )  # fmt: skip
    out.append(Probe("input", pkt, f"udp dport {port}"))
    return out, notes


def _peer_endpoint(inputs: Inputs, c: ClaimIntent) -> tuple[str | None, int | None]:
    """The address and UDP port of the WireGuard peer that carries the claim, if configured.

    WireGuard sends from its listen port, so the peer's endpoint port is the probe's source
    port (a rule such as OCI's ``--sport 123`` accept can then be judged).
    """
    peer = inputs.config.get(OverlayPeer, c.peer) if c.peer else None
    wgp = wireguard_peer_for(inputs.config, peer, c.tunnel) if peer else None
    if wgp is None or not wgp.spec.endpoint:
        return None, None
    host, _, port = wgp.spec.endpoint.rpartition(":")
    host = host.strip("[]")
    if not (host.count(".") == 3 or ":" in host):
        return None, None  # a DNS name: the address is not known here
    return host, int(port) if port.isdigit() else None


def _underlay_if(inputs: Inputs, endpoint: str | None) -> str | None:
    """The interface WireGuard's UDP arrives on: the route to the peer, else the default."""
    if endpoint:
        got = route_lookup.lookup(inputs, endpoint).route
        routes = [got] if got else []
    else:
        routes = kernel_tables.routes_to(inputs, "default") or []
    devs = [r.get("dev") for r in routes if r.get("dev")]
    return str(devs[0]) if devs else None


def _bridges(inputs: Inputs, src: Sources) -> Bridges:
    """Whether an interface is a bridge; asked only when bridge-family chains exist."""
    if not any(bc.family == "bridge" for bc in src.chains):
        return lambda name: Match.NO

    def kinds() -> dict[str, str] | None:
        res = inputs.host.cached("ip", "-j", "-d", "link", "show")
        try:
            rows = json.loads(res.stdout) if res.ok else None
        except ValueError:
            rows = None
        if not isinstance(rows, list):
            return None
        return {
            str(r.get("ifname")): str(r.get("linkinfo", {}).get("info_kind", ""))
            for r in rows
            if isinstance(r, dict)
        }

    def is_bridge(name: str | None) -> Match:
        known = cast(dict[str, str] | None, inputs.host.once(("fw-link-kinds",), kinds))
        if not name or known is None or name not in known:
            return Match.MAYBE
        return Match.YES if known[name] == "bridge" else Match.NO

    return is_bridge


def _ports(inputs: Inputs, bridge: str) -> set[str]:
    rows = kernel_tables.dump(inputs, *kernel_tables.LINKS).rows
    return {str(r.get("ifname")) for r in rows if r.get("master") == bridge}


def judge_all(inputs: Inputs, probe_list: list[Probe]) -> tuple[list[Judged], list[Sources]]:
    """Every probe walked through the sources of its address family."""
    judged: list[Judged] = []
    used: dict[str, Sources] = {}
    judge = cached_judge(inputs.host.once)
    for probe in probe_list:
        src = used.setdefault(probe.packet.family, gather(inputs, probe.packet.family))
        bridges, ports = _bridges(inputs, src), lambda b: _ports(inputs, b)
        judged += walk(probe, src.chains, bridges, ports, judge, inputs.host.once)
    return judged, list(used.values())


def check(inputs: Inputs, c: ClaimIntent) -> Finding:
    """The ``… host firewall`` finding for one claim."""
    name = claim_name(c.name, CHECK)
    probe_list, notes = probes(inputs, c)
    judged, sources = judge_all(inputs, probe_list)
    read = _unique(r for s in sources for r in s.read)
    errors = _unique(e for s in sources for e in s.errors)
    if not read:
        detail = "no firewall source readable: " + "; ".join(errors)
        return Finding(AREA, name, Status.SKIP, detail, claim=c.name)
    blocked = [j for j in judged if j.status == BLOCKED]
    unproven = [j for j in judged if j.status not in (OPEN, BLOCKED)]
    tail = notes + _unique(n for s in sources for n in s.notes)
    tail += [f"read {', '.join(read)}"]
    if not blocked and not unproven and not errors:
        head = f"accepted: {', '.join(p.label for p in probe_list)} ({_count(judged)})"
        return Finding(AREA, name, Status.PASS, "; ".join([head, *tail]), claim=c.name)
    lines = [_blocked(j) for j in blocked] + [_unproven(j) for j in unproven]
    lines += [f"not proven: could not read {e}" for e in errors]
    if len(lines) > MAX_LISTED:
        lines = [*lines[:MAX_LISTED], f"+{len(lines) - MAX_LISTED} more"]
    fix = remedy(c, blocked + unproven) if blocked or unproven else _read_fix(errors)
    return Finding(AREA, name, Status.WARN, "; ".join(lines + tail), fix, claim=c.name)


def _blocked(j: Judged) -> str:
    return f"{j.probe.label} blocked by {j.chain.label} at {j.where()}: {j.outcome.by}"


def _unproven(j: Judged) -> str:
    return f"{j.probe.label} not proven accepted by {j.chain.label} at {j.where()}: {j.why()}"


def _count(judged: list[Judged]) -> str:
    chains = _unique(j.chain.label for j in judged)
    if not chains:
        return "no base chain filters them"
    shown = ", ".join(chains[:MAX_LISTED]) + (" …" if len(chains) > MAX_LISTED else "")
    return f"{len(chains)} base chain(s) on their paths, each proven to accept: {shown}"


def _read_fix(errors: list[str]) -> str:
    return (
        "run the doctor as root with nft and iptables-legacy/iptables-nft installed so every "
        f"ruleset can be read ({'; '.join(errors)})"
    )


def _unique(items: Iterable[str]) -> list[str]:
    out: list[str] = []
    for item in items:
        if item not in out:
            out.append(item)
    return out
