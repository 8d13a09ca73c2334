"""Packets and traces: what the simulated network carries and what it reports back.

A ``Trace`` is the oracle's answer to "does this packet arrive?": the ordered hops (host,
interface, what happened there), whether and where the packet was delivered, the source
address the destination saw, and — when it did not arrive — a stable short drop reason.
Tests and the demo assert on these answers, never on which calls the backend made.

Drop reasons are ``Drop`` members; they are ``str`` subclasses so a reason can be compared
with, logged and serialised as plain text.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from typing import Literal

Proto = Literal["icmp", "tcp", "udp"]

IPV4_HEADER = 20
WIREGUARD_OVERHEAD_V4 = 60  # outer IPv4 20 + UDP 8 + WireGuard 32
DEFAULT_TTL = 64


class Drop(enum.StrEnum):
    """Why a packet did not arrive (stable strings: tests, the demo and docs quote them)."""

    NO_ROUTE = "no route"
    BLACKHOLE_ROUTE = "blackhole route"
    FORWARDING_DISABLED = "forwarding disabled"
    ARP_UNRESOLVED = "arp unresolved"
    INTERFACE_DOWN = "interface down"
    NO_CARRIER = "interface not connected"
    FRAG_NEEDED = "fragmentation needed"
    PMTU_BLACK_HOLE = "path mtu black hole"
    NO_WG_PEER = "no WireGuard peer for dst"
    WG_NO_ENDPOINT = "WireGuard peer has no endpoint"
    WG_HANDSHAKE = "WireGuard handshake failed"
    WG_SOURCE = "WireGuard source not allowed"
    WG_NO_LISTENER = "no WireGuard listener"
    FIREWALL_INPUT = "firewall INPUT reject"
    FIREWALL_FORWARD = "firewall FORWARD reject"
    RP_FILTER = "rp_filter"
    FABRIC_SOURCE_CHECK = "fabric source check"
    FABRIC_DEST_CHECK = "fabric destination check"
    FABRIC_NO_OWNER = "fabric: no NIC holds dst"
    FABRIC_NO_ROUTE = "fabric: no route"
    TTL_EXCEEDED = "ttl exceeded"
    PARTITION = "partition"


@dataclass(frozen=True, slots=True)
class Packet:
    """An IPv4 packet in flight.

    Attributes:
        src / dst: addresses (bare IPv4 strings); ``src`` "" until the sender picks one.
        size: total IP length in bytes.
        df: the Don't-Fragment bit.
        proto: icmp, tcp or udp.
        sport / dport: transport ports (0 for ICMP).
        syn: TCP SYN (or SYN-ACK) carrying an MSS option.
        mss: the MSS option value on a SYN, else None.
        ttl: hops left.
        inner: the encapsulated packet when this is a WireGuard outer packet.
        wg_from: ``(host, ifname)`` of the WireGuard device that encapsulated ``inner``.
    """

    src: str
    dst: str
    size: int
    df: bool = True
    proto: Proto = "icmp"
    sport: int = 0
    dport: int = 0
    syn: bool = False
    mss: int | None = None
    ttl: int = DEFAULT_TTL
    inner: Packet | None = None
    wg_from: tuple[str, str] | None = None

    def with_(self, **changes: object) -> Packet:
        """A copy with some fields changed (packets are immutable in flight)."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Hop:
    """One step of a trace: where the packet was, what happened there, what it looked like.

    ``src``/``dst`` are the addresses the packet carried at this step (for a WireGuard
    packet, the outer ones; ``inner_src``/``inner_dst`` are those of the packet inside), so
    a trace shows hop by hop that nothing rewrote the source.
    """

    host: str
    ifname: str
    event: str
    detail: str = ""
    src: str = ""
    dst: str = ""
    inner_src: str = ""
    inner_dst: str = ""

    @property
    def verdict(self) -> str:
        """``drop``, ``deliver`` or ``pass``."""
        if self.event.startswith("drop"):
            return "drop"
        return "deliver" if self.event == "deliver" else "pass"

    def __str__(self) -> str:
        where = f"{self.host}/{self.ifname}" if self.ifname else self.host
        return f"{where}: {self.event}" + (f" ({self.detail})" if self.detail else "")


@dataclass
class Trace:
    """The fate of one packet.

    Attributes:
        src_host: where it was sent from.
        dst_ip: where it was sent to.
        src_ip: the source address it was sent with.
        hops: every step, in order (encapsulated underlay steps included).
        delivered: whether some host consumed it.
        dst_host: which host consumed it (may be a router: the agent-re-added address trap).
        source_seen: the source address as the destination saw it (NAT would change it).
        drop_reason: why it did not arrive ("" when delivered).
        drop_host: where it was dropped.
        drop_detail: free text for people (sizes, addresses, the failing hop).
        frag_needed_mtu: an ICMP "fragmentation needed" that reached the sender, if any.
        mss_seen: the MSS option a SYN carried on arrival (after any clamp).
    """

    src_host: str
    dst_ip: str
    src_ip: str = ""
    hops: list[Hop] = field(default_factory=list)
    delivered: bool = False
    dst_host: str | None = None
    source_seen: str | None = None
    drop_reason: str = ""
    drop_host: str = ""
    drop_detail: str = ""
    frag_needed_mtu: int | None = None
    mss_seen: int | None = None
    current: Packet | None = field(default=None, repr=False)
    """The packet the walk is at (stamps each hop's addresses)."""

    @property
    def source_preserved(self) -> bool:
        """Delivered with the source address the sender used (no NAT on the way)."""
        return self.delivered and self.source_seen == self.src_ip

    def hop(self, host: str, ifname: str, event: str, detail: str = "") -> None:
        self.hops.append(self._stamped(Hop(host, ifname, event, detail)))

    def _stamped(self, hop: Hop) -> Hop:
        pkt = self.current
        if pkt is None:
            return hop
        inner = pkt.inner
        return dataclasses.replace(
            hop,
            src=pkt.src,
            dst=pkt.dst,
            inner_src=inner.src if inner else "",
            inner_dst=inner.dst if inner else "",
        )

    def drop(self, host: str, ifname: str, reason: Drop, detail: str = "") -> None:
        """Record the packet's end short of its destination."""
        self.hops.append(self._stamped(Hop(host, ifname, f"drop: {reason}", detail)))
        if not self.drop_reason:
            self.drop_reason = str(reason)
            self.drop_host = host
            self.drop_detail = detail

    def deliver(self, host: str, ifname: str, pkt: Packet) -> None:
        """Record local delivery of ``pkt`` at ``host``."""
        self.current = pkt
        self.hops.append(self._stamped(Hop(host, ifname, "deliver", f"src {pkt.src}")))
        self.delivered = True
        self.dst_host = host
        self.source_seen = pkt.src
        if pkt.syn:
            self.mss_seen = pkt.mss

    def summary(self) -> str:
        """One line: where it arrived, or where and why it was dropped."""
        if self.delivered:
            where = f"delivered to {self.dst_host}, src {self.source_seen}"
            return f"{self.src_ip} -> {self.dst_ip}: {where}"
        return (
            f"{self.src_ip or self.src_host} -> {self.dst_ip}: dropped at {self.drop_host}: "
            f"{self.drop_reason}" + (f" ({self.drop_detail})" if self.drop_detail else "")
        )
