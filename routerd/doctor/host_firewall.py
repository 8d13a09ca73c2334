"""The per-claim host-firewall check (#52): can captured traffic cross FORWARD, and can the
WireGuard peer reach our UDP port on INPUT?

SAM adds no firewall rules (reference §5.11): the OCI Ubuntu image's ``-A FORWARD -j REJECT``
left the tunnel without a handshake and forwarding dead even with the security list open.
This check reads every place a host can block that traffic (iptables legacy and nf_tables
backends, native nftables base chains), walks the rules in order for three probe packets
(capture -> tunnel, tunnel -> capture, UDP to the listen port) and WARNs with the exact
rules to add, in both iptables and nft form. It never changes the firewall: that is the
operator's call (the MVP's stance, kept).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from routerd.core.doctor import Finding, Status
from routerd.core.lowering import ClaimIntent
from routerd.core.overlay import wireguard_peer_for
from routerd.core.resources import OverlayPeer, WireGuardInterface
from routerd.doctor import kernel_tables, route_lookup
from routerd.doctor.inputs import Inputs, claim_name
from routerd.doctor.iptables import Ruleset, read_rulesets
from routerd.doctor.nft_rules import BaseChain, base_chains
from routerd.doctor.nftables import list_nft
from routerd.doctor.packet_filter import (
    ACCEPT,
    Addr,
    All,
    Chain,
    Condition,
    Outcome,
    Packet,
    evaluate,
)

AREA = "hybrid"
CHECK = "host firewall"
IPTABLES_NFT_TABLES = {("ip", "filter")}


@dataclass(frozen=True)
class Probe:
    """One packet to push through every filter: which hook and what it looks like."""

    hook: str  # "forward" | "input"
    packet: Packet
    label: str


@dataclass
class Sources:
    """Everything readable, gathered once per doctor run."""

    iptables: list[Ruleset] = field(default_factory=list)
    nft: list[BaseChain] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    read: list[str] = field(default_factory=list)


@dataclass
class Judged:
    """One probe pushed through one filter: where, with what outcome, how to fix it there."""

    probe: Probe
    where: str  # "iptables-nft-save FORWARD" / "nft inet filter forward"
    outcome: Outcome
    iptables: str = ""  # binary for the remedy
    nft_chain: tuple[str, str, str] | None = None


def gather(inputs: Inputs) -> Sources:
    """Read iptables (every backend) and the native nft ruleset, once per run."""
    return inputs.host.once("firewall-sources", lambda: _gather(inputs))  # type: ignore[return-value]


def _gather(inputs: Inputs) -> Sources:
    src = Sources()
    skip: set[tuple[str, str]] = set()
    for rs in read_rulesets(inputs.host):
        if rs.error:
            src.errors.append(f"{rs.tool}: {rs.error}")
            continue
        src.iptables.append(rs)
        src.read.append(rs.tool)
        if rs.backend == "nft":
            skip |= IPTABLES_NFT_TABLES
    ruleset = list_nft(inputs.host, "ruleset", as_json=True)
    if ruleset.ok:
        src.nft = base_chains(ruleset.json(), skip_tables=skip)
        src.read.append("nft -j list ruleset")
    else:
        src.errors.append(f"nft: {ruleset.detail}")
    return src


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
    if port:
        endpoint = _peer_endpoint(inputs, c)
        underlay = _underlay_if(inputs, endpoint)
        pkt = Packet(iif=underlay, proto="udp", dport=port, src=endpoint)
        out.append(Probe("input", pkt, f"udp dport {port}"))
    else:
        notes.append("no WireGuard listenPort on the tunnel: INPUT not checked")
    return out, notes


def _peer_endpoint(inputs: Inputs, c: ClaimIntent) -> str | None:
    """The IPv4 endpoint of the WireGuard peer that carries the claim, when configured."""
    peer = inputs.config.get(OverlayPeer, c.peer) if c.peer else None
    wgp = wireguard_peer_for(inputs.config, peer, c.tunnel) if peer else None
    if wgp is None or not wgp.spec.endpoint:
        return None
    host = wgp.spec.endpoint.rpartition(":")[0].strip("[]")
    return host if host.count(".") == 3 else None


def _underlay_if(inputs: Inputs, endpoint: str | None) -> str | None:
    """The interface WireGuard's UDP arrives on: the route to the peer, else the default."""
    if endpoint:
        got = route_lookup.lookup(inputs, endpoint).route
        routes = [got] if got else []
    else:
        routes = kernel_tables.routes_to(inputs, "default") or []
    devs = [r.get("dev") for r in routes if r.get("dev")]
    return str(devs[0]) if devs else None


def _outcomes(inputs: Inputs, src: Sources, probe_list: list[Probe]) -> list[Judged]:
    out: list[Judged] = []
    for probe in probe_list:
        base = "FORWARD" if probe.hook == "forward" else "INPUT"
        for rs in src.iptables:
            if base in rs.chains:
                oc = _evaluate(inputs, rs.chains, base, probe.packet)
                out.append(Judged(probe, f"{rs.tool} {base}", oc, rs.command))
        for bc in src.nft:
            if bc.hook == probe.hook:
                oc = _evaluate(inputs, bc.chains, bc.name, probe.packet)
                out.append(Judged(probe, bc.label, oc, nft_chain=(bc.family, bc.table, bc.name)))
    return out


def _evaluate(inputs: Inputs, chains: dict[str, Chain], base: str, packet: Packet) -> Outcome:
    """``evaluate``, shared by every claim when no rule of the ruleset looks at addresses.

    The probes of two claims on the same interfaces differ only in the claimed address, and
    only an address match can tell them apart, so without one the first claim's outcome is
    every claim's (10,000 walks of the same chains become one).
    """
    if _matches_addresses(inputs, chains):
        return evaluate(chains, base, packet)
    key = ("fw-outcome", id(chains), base, replace(packet, src=None, dst=None))
    return inputs.host.once(key, lambda: evaluate(chains, base, packet))  # type: ignore[return-value]


def _matches_addresses(inputs: Inputs, chains: dict[str, Chain]) -> bool:
    def scan() -> bool:
        todo: list[Condition] = [
            c for chain in chains.values() for r in chain.rules for c in r.conditions
        ]
        while todo:
            c = todo.pop()
            if isinstance(c, Addr):
                return True
            if isinstance(c, All):
                todo.extend(c.parts)
        return False

    return inputs.host.once(("fw-addr", id(chains)), scan)  # type: ignore[return-value]


def check(inputs: Inputs, c: ClaimIntent) -> Finding:
    """The ``… host firewall`` finding for one claim."""
    name = claim_name(c.name, CHECK)
    src = gather(inputs)
    if not src.read:
        detail = "no firewall source readable: " + "; ".join(src.errors)
        return Finding(AREA, name, Status.SKIP, detail, claim=c.name)
    probe_list, notes = probes(inputs, c)
    results = _outcomes(inputs, src, probe_list)
    blocked = [b for b in results if b.outcome.verdict != ACCEPT]
    doubtful = [b for b in results if b.outcome.maybe_dropped]
    partial = [
        f"could not fully evaluate {b.probe.label} in {b.where}: {u.text}"
        for b in results
        for u in b.outcome.uncertain
    ]
    tail = partial + notes + [f"unreadable: {e}" for e in src.errors]
    if blocked:
        lines = [f"{b.probe.label} blocked by {b.where} ({b.outcome.by})" for b in blocked]
        fix = remedy(c, blocked + doubtful)
        return Finding(AREA, name, Status.WARN, "; ".join(lines + tail), fix, claim=c.name)
    checked = ", ".join(p.label for p in probe_list)
    head = f"accepted: {checked} (read {', '.join(src.read)})"
    if doubtful:
        head = f"accepted unless a rule we could not evaluate matches: {checked}"
        fix = remedy(c, doubtful)
        return Finding(AREA, name, Status.WARN, "; ".join([head, *tail]), fix, claim=c.name)
    return Finding(AREA, name, Status.PASS, "; ".join([head, *tail]), claim=c.name)


def remedy(c: ClaimIntent, blocks: list[Judged]) -> str:
    """The exact host rules to add, in the tool that owns each blocking chain.

    A block found in an iptables ruleset gets iptables commands (an iptables-nft host has
    no ``inet filter`` table, so an nft command would fail there); a block found in a
    native nftables chain gets an nft command for that very chain.
    """
    cap = c.capture_interface or "<capture-if>"
    ipt: list[str] = []
    nft: list[str] = []
    for b in blocks:
        p = b.probe.packet
        if b.probe.hook == "forward":
            i, o = (cap, c.tunnel) if p.oif == c.tunnel else (c.tunnel, cap)
            match_ipt, match_nft = f"FORWARD 1 -i {i} -o {o}", f'iifname "{i}" oifname "{o}"'
        else:
            match_ipt, match_nft = f"INPUT 1 -p udp --dport {p.dport}", f"udp dport {p.dport}"
        if b.nft_chain is not None:
            fam, table, chain = b.nft_chain
            rule = f"nft insert rule {fam} {table} {chain} {match_nft} accept"
            if rule not in nft:
                nft.append(rule)
        else:
            rule = f"{b.iptables or 'iptables'} -I {match_ipt} -j ACCEPT"
            if rule not in ipt:
                ipt.append(rule)
    parts = []
    if ipt:
        parts.append(f"iptables: {'; '.join(ipt)}")
    if nft:
        parts.append(f"nftables: {'; '.join(nft)}")
    return (
        "permit WireGuard UDP ingress and forwarding between the SAM capture interface and "
        f"the delivery tunnel. {'. '.join(parts)}. Make them persistent (iptables-save > "
        "/etc/iptables/rules.v4, or /etc/nftables.conf)"
    )
