"""End-to-end probes built on single-packet traces: ping and a bulk TCP transfer.

``transfer`` reproduces the OCI failure (ping works, bulk TCP stalls) from first principles
instead of asserting it:

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
SYN_SIZE = TCP_HEADERS + 20  # with MSS, SACK, timestamps and window-scale options


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


@dataclass(frozen=True)
class _Connection:
    """Both ends of an established-to-be connection, for tracing either direction."""

    world: World
    client: str
    client_ip: str
    server: str
    server_ip: str
    dport: int

    def to_server(self, size: int, *, mss: int | None = None) -> Trace:
        return self.world.trace(
            self.client, self.server_ip, size, proto="tcp", src_ip=self.client_ip,
            sport=CLIENT_PORT, dport=self.dport, syn=mss is not None, mss=mss,
        )  # fmt: skip

    def to_client(self, size: int, *, mss: int | None = None) -> Trace:
        return self.world.trace(
            self.server, self.client_ip, size, proto="tcp", src_ip=self.server_ip,
            sport=self.dport, dport=CLIENT_PORT, syn=mss is not None, mss=mss,
        )  # fmt: skip


def transfer(world: World, src_host: str, dst_ip: str, nbytes: int, *, dport: int = 22) -> Transfer:
    """Open a TCP connection from ``src_host`` to ``dst_ip`` and push ``nbytes`` through it.

    Returns:
        A Transfer; ``completed=False`` with ``handshake_ok=True`` is the black-hole stall.
    """
    client_mss = announced_mss(world, src_host, dst_ip)
    opening = _Connection(world, src_host, "", "", dst_ip, dport)
    syn = opening.to_server(SYN_SIZE, mss=client_mss)
    if not syn.delivered or syn.dst_host is None or syn.source_seen is None:
        return Transfer(False, False, detail=f"SYN lost: {syn.summary()}", syn=syn)
    conn = _Connection(world, src_host, syn.source_seen, syn.dst_host, dst_ip, dport)
    syn_ack = conn.to_client(SYN_SIZE, mss=announced_mss(world, conn.server, conn.client_ip))
    result = Transfer(
        False, False, source_seen=conn.client_ip, dst_host=conn.server, syn=syn, syn_ack=syn_ack
    )
    if not syn_ack.delivered or syn_ack.dst_host != src_host:
        result.detail = f"SYN-ACK lost: {syn_ack.summary()}"
        return result
    result.handshake_ok = True
    mss = min(client_mss, syn_ack.mss_seen or client_mss)
    if _send_data(conn, result, nbytes, mss):
        _acknowledge(conn, result, nbytes)
    return result


def _send_data(conn: _Connection, result: Transfer, nbytes: int, mss: int) -> bool:
    """Full-size DF segments, lowering the MSS on each ICMP "fragmentation needed"."""
    for _ in range(MAX_PMTU_ROUNDS):
        size = min(mss, max(nbytes, 1)) + TCP_HEADERS
        data = conn.to_server(size)
        result.data, result.mss = data, mss
        if data.delivered:
            return True
        if data.frag_needed_mtu is None or data.frag_needed_mtu - TCP_HEADERS >= mss:
            result.detail = f"handshake ok, bulk stalls: {size}-byte segments {_lost(data)}"
            return False
        mss = data.frag_needed_mtu - TCP_HEADERS
    result.detail = "handshake ok, bulk stalls: PMTU discovery did not converge"
    return False


def _acknowledge(conn: _Connection, result: Transfer, nbytes: int) -> None:
    """ACKs return over the reverse path; only then is the transfer complete."""
    ack = conn.to_client(TCP_HEADERS)
    if not ack.delivered or ack.dst_host != conn.client:
        result.detail = f"handshake ok, bulk stalls: ACKs {_lost(ack)}"
        return
    mss = result.mss or 1
    result.completed, result.bytes = True, nbytes
    result.segments = math.ceil(nbytes / mss) if nbytes else 0
    result.detail = f"{nbytes} bytes in {result.segments} segments of {mss} (mss)"


def _lost(trace: Trace) -> str:
    where = f" at {trace.drop_host}" if trace.drop_host else ""
    return f"dropped{where}: {trace.drop_reason}" + (
        f" ({trace.drop_detail})" if trace.drop_detail else ""
    )
