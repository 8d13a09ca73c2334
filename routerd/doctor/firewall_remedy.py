"""The exact host rules that open a blocked path, each in the tool that owns the chain.

routerd never changes the host firewall (that is the operator's call); the doctor prints
one command per chain that blocks, or might block, a probe: an accept inserted at the top
of that base chain, matching only the claim's traffic. An accept there ends that chain
only, so every chain on the path that drops gets its own command. The command is the one
the chain's owner understands: ``iptables-legacy`` for legacy x_tables, ``iptables-nft``
for a chain iptables-nft manages, ``nft insert rule`` for the rest (an iptables command for
a native nftables chain fails, and the reverse edits a table behind iptables' back).
"""

from __future__ import annotations

from routerd.core.lowering import ClaimIntent
from routerd.doctor.firewall_path import Judged
from routerd.doctor.packet_match import IPV4, Packet


def remedy(c: ClaimIntent, bad: list[Judged]) -> str:
    """Commands for every chain in ``bad`` (deduplicated, path order), and how to keep them.

    Args:
        c: the claim (its capture interface and tunnel name the rules).
        bad: the chains that block or may block one of its probes.

    Returns:
        The remedy text of the finding.
    """
    commands: list[str] = []
    keep: list[str] = []
    for j in bad:
        for text, into in ((command(c, j), commands), (_persist(j), keep)):
            if text not in into:
                into.append(text)
    return (
        "permit WireGuard UDP ingress and forwarding between the SAM capture interface and "
        f"the delivery tunnel, at the top of each chain named: {'; '.join(commands)}. Then "
        f"make them persistent: {'; '.join(keep)}"
    )


def _persist(j: Judged) -> str:
    owner = j.chain.owner
    if owner == "nft":
        return "add them to /etc/nftables.conf (or the ruleset file that creates the table)"
    rules = "rules.v6" if owner.startswith("ip6") else "rules.v4"
    return f"{owner}-save > /etc/iptables/{rules}"


def command(c: ClaimIntent, j: Judged) -> str:
    """One accept at the top of ``j``'s base chain, in its owner's syntax."""
    bc, p = j.chain, j.probe.packet
    if bc.owner != "nft":
        table = "" if bc.table == "filter" else f" -t {bc.table}"
        match = _xtables(c, j.chain.hook, p)
        return f"{bc.owner}{table} -I {bc.name} 1 {match} -j ACCEPT"
    return f"nft insert rule {bc.family} {bc.table} {bc.name} {_nft(c, j, p)} accept"


def _ifnames(c: ClaimIntent, p: Packet) -> tuple[str, str]:
    cap = c.capture_interface or "<capture-if>"
    return (p.iif or cap, p.oif or cap)


def _xtables(c: ClaimIntent, hook: str, p: Packet) -> str:
    if p.dport is not None:
        return f"-p udp --dport {p.dport}"
    i, o = _ifnames(c, p)
    addr = f"-d {p.dst}" if p.dst else f"-s {p.src}"
    if hook == "prerouting":
        return f"-i {i} {addr}"
    if hook == "postrouting":
        return f"-o {o} {addr}"
    return f"-i {i} -o {o}"


def _nft(c: ClaimIntent, j: Judged, p: Packet) -> str:
    if p.dport is not None:
        return f"udp dport {p.dport}"
    i, o = _ifnames(c, p)
    ip = "ip" if p.family == IPV4 else "ip6"
    addr = f"{ip} daddr {p.dst}" if p.dst else f"{ip} saddr {p.src}"
    if j.chain.family in ("bridge", "netdev") or j.chain.hook in ("ingress", "egress"):
        return addr
    if j.chain.hook == "prerouting":
        return f'iifname "{i}" {addr}'
    if j.chain.hook == "postrouting":
        return f'oifname "{o}" {addr}'
    return f'iifname "{i}" oifname "{o}"'
