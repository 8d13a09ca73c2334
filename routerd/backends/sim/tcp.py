"""End-to-end probes built on single-packet traces: ping and a bulk TCP transfer.

``transfer`` reproduces the OCI failure (#53) from first principles instead of asserting it:

1. Each endpoint announces MSS = (MTU of its interface toward the peer) − 40 in its SYN or
   SYN-ACK; every forwarding hop with a clamp rule for its (iif, oif) may lower it. The SYN
   and the SYN-ACK are traced separately, so each direction uses its own path and clamps.
2. The sender then sends full-size segments with DF. An ICMP "fragmentation needed" that
   reaches it lowers its segment size (PMTU discovery) and it tries again; a segment that
   vanishes without ICMP (a black-holed hop) stalls the transfer right after a successful
   handshake — ping and the handshake work, SSH and scp hang.
3. ACKs travel back over the reverse path.

The addresses seen at each end are reported, so "source preserved, no NAT" is an observed
fact of every transfer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .packet import IPV4_HEADER, Trace

if TYPE_CHECKING:
    from .world import World

ICMP_HEADERS = IPV4_HEADER + 8
TCP_HEADERS = IPV4_HEADER + 20
CLIENT_PORT = 40000
LOOPBACK_MTU = 65536
MAX_PMTU_ROUNDS = 8


@dataclass
class Ping:
    """An echo request and its reply; ``ok`` needs both to arrive."""

    request: Trace
    reply: Trace | None

    @property
    def ok(self) -> bool:
        return (
            self.request.delivered
            and self.reply is not None
            and self.reply.delivered
            and self.reply.dst_host == self.request.src_host
        )

    @property
    def source_seen(self) -> str | None:
        return self.request.source_seen

    def summary(self) -> str:
        if self.reply is None or self.ok:
            return self.request.summary()
        return f"request: {self.request.summary()}; reply: {self.reply.summary()}"


@dataclass
class Transfer:
    """The outcome of ``transfer``.

    Attributes:
        completed: every byte was delivered and acknowledged.
        handshake_ok: SYN and SYN-ACK both arrived.
        bytes: bytes delivered (``nbytes`` when completed, else 0).
        segments: data segments needed at the final segment size.
        mss: the sender's final segment size (after negotiation and PMTU discovery).
        source_seen: the client address the server saw.
        dst_host: the host that terminated the connection.
        detail: what happened, in the operator's words.
        syn / syn_ack / data: the traces behind the verdict.
    """

    completed: bool
    handshake_ok: bool
    bytes: int = 0
    segments: int = 0
    mss: int | None = None
    source_seen: str | None = None
    dst_host: str | None = None
    detail: str = ""
    syn: Trace | None = None
    syn_ack: Trace | None = None
    data: Trace | None = None


def ping(world: World, src_host: str, dst_ip: str, size: int = 56, *, src_ip: str = "") -> Ping:
    """Echo request to ``dst_ip`` and the reply from whichever host consumed it."""
    request = world.trace(src_host, dst_ip, size + ICMP_HEADERS, src_ip=src_ip)
    if not request.delivered or request.dst_host is None:
        return Ping(request, None)
    reply = world.trace(
        request.dst_host, request.source_seen or "", size + ICMP_HEADERS, src_ip=dst_ip
    )
    return Ping(request, reply)


def announced_mss(world: World, host: str, dst_ip: str) -> int:
    """The MSS a host puts in its SYN: MTU of its interface toward ``dst_ip`` − 40."""
    h = world.hosts[host]
    if h.is_local(dst_ip):
        return LOOPBACK_MTU - TCP_HEADERS
    route = h.fib.lookup(dst_ip)
    iface = h.interfaces.get(route.dev) if route is not None else None
    return (iface.mtu if iface is not None else 1500) - TCP_HEADERS


def transfer(world: World, src_host: str, dst_ip: str, nbytes: int, *, dport: int = 22) -> Transfer:
    """Open a TCP connection from ``src_host`` to ``dst_ip`` and push ``nbytes`` through it.

    Returns:
        A Transfer; ``completed=False`` with ``handshake_ok=True`` is the black-hole stall.
    """
    client_mss = announced_mss(world, src_host, dst_ip)
    syn = world.trace(
        src_host,
        dst_ip,
        TCP_HEADERS + 20,
        proto="tcp",
        sport=CLIENT_PORT,
        dport=dport,
        syn=True,
        mss=client_mss,
    )
    if not syn.delivered or syn.dst_host is None or syn.source_seen is None:
        return Transfer(False, False, detail=f"SYN lost: {syn.summary()}", syn=syn)
    server, client_ip = syn.dst_host, syn.source_seen
    server_mss = announced_mss(world, server, client_ip)
    syn_ack = world.trace(
        server,
        client_ip,
        TCP_HEADERS + 20,
        proto="tcp",
        src_ip=dst_ip,
        sport=dport,
        dport=CLIENT_PORT,
        syn=True,
        mss=server_mss,
    )
    base = Transfer(False, False, source_seen=client_ip, dst_host=server, syn=syn, syn_ack=syn_ack)
    if not syn_ack.delivered or syn_ack.dst_host != src_host:
        base.detail = f"SYN-ACK lost: {syn_ack.summary()}"
        return base
    base.handshake_ok = True
    mss = min(client_mss, syn_ack.mss_seen or client_mss)
    return _bulk(world, base, src_host, syn.src_ip, dst_ip, dport, nbytes, mss)


def _bulk(
    world: World,
    result: Transfer,
    src_host: str,
    src_ip: str,
    dst_ip: str,
    dport: int,
    nbytes: int,
    mss: int,
) -> Transfer:
    for _ in range(MAX_PMTU_ROUNDS):
        size = min(mss, max(nbytes, 1)) + TCP_HEADERS
        data = world.trace(
            src_host, dst_ip, size, proto="tcp", src_ip=src_ip, sport=CLIENT_PORT, dport=dport
        )
        result.data, result.mss = data, mss
        if data.delivered:
            break
        if data.frag_needed_mtu is None or data.frag_needed_mtu - TCP_HEADERS >= mss:
            result.detail = f"handshake ok, bulk stalls: {size}-byte segments {_lost(data)}"
            return result
        mss = data.frag_needed_mtu - TCP_HEADERS
    else:
        result.detail = "handshake ok, bulk stalls: PMTU discovery did not converge"
        return result
    ack = world.trace(
        result.dst_host or "",
        result.source_seen or "",
        TCP_HEADERS,
        proto="tcp",
        src_ip=dst_ip,
        sport=dport,
        dport=CLIENT_PORT,
    )
    if not ack.delivered:
        result.detail = f"handshake ok, bulk stalls: ACKs {_lost(ack)}"
        return result
    result.completed, result.bytes = True, nbytes
    result.segments = math.ceil(nbytes / mss) if nbytes else 0
    result.detail = f"{nbytes} bytes in {result.segments} segments of {mss} (mss)"
    return result


def _lost(trace: Trace) -> str:
    where = f" at {trace.drop_host}" if trace.drop_host else ""
    return f"dropped{where}: {trace.drop_reason}" + (
        f" ({trace.drop_detail})" if trace.drop_detail else ""
    )
