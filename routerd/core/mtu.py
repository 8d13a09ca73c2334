"""MTU and MSS for SAM delivery paths (docs/concepts.md "MTU and MSS"; D8 in docs/decisions.md).

Tunnel inner MTU = ``min(tunnel interface MTU, underlay path MTU - overhead)``; overhead by
outer family and tunnel type (WireGuard 60 over IPv4, 80 over IPv6; IPsec 74; plain route 0).
When the underlay path MTU is unknown we assume the conservative estimate of the Go
implementation routerd succeeds, ``tunnel MTU - 80`` (it takes the overhead again from a tunnel
MTU that already allows for it; configs moved from it keep their clamp), so WireGuard MTU 1420
gives MSS 1300: the value that made OCI work.

A clamp exists only where the path steps down (inner MTU < capture interface MTU) and only
ever lowers the MSS. It is installed in both directions on each router, so one routerd side
protects the path even when the peer is a plain WireGuard box.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from routerd.core.config import RouterConfig
from routerd.core.overlay import declared_mtu, wireguard_peer_for
from routerd.core.resources import OverlayPeer

DEFAULT_ETHERNET_MTU = 1500
DEFAULT_WIREGUARD_MTU = 1420
UNKNOWN_PATH_MARGIN = 80
MIN_IPV4_MSS = 536
IPV4_TCP_HEADERS = 40

OVERHEAD = {
    ("wireguard", 4): 60,
    ("wireguard", 6): 80,
    ("tailscale", 4): 60,
    ("tailscale", 6): 80,
    ("ipsec", 4): 74,
    ("ipsec", 6): 74,
    ("route", 4): 0,
    ("route", 6): 0,
}


@dataclass(frozen=True)
class PathMTU:
    """MTU facts for one capture->tunnel path.

    Attributes:
        source_mtu: MTU of the capture interface.
        tunnel_mtu: MTU of the tunnel interface.
        inner_mtu: the MTU packets can really use through the tunnel.
        basis: how ``inner_mtu`` was found (for doctor and plan output).
        mss: the clamp value, or None when the path does not step down.
    """

    source_mtu: int
    tunnel_mtu: int
    inner_mtu: int
    basis: str
    mss: int | None


def outer_family(config: RouterConfig, peer: OverlayPeer, tunnel: str) -> int | None:
    """4 or 6 from the WireGuard endpoint's address family; None when unknown."""
    wgp = wireguard_peer_for(config, peer, tunnel)
    if wgp is None or not wgp.spec.endpoint:
        return None
    host = wgp.spec.endpoint.rpartition(":")[0].strip("[]")
    try:
        return ipaddress.ip_address(host).version
    except ValueError:
        return None


def tunnel_overhead(kind: str, family: int | None) -> int:
    """Encapsulation overhead; unknown family takes the larger (IPv6) figure."""
    if family is None:
        return max(OVERHEAD.get((kind, 4), 0), OVERHEAD.get((kind, 6), 0))
    return OVERHEAD.get((kind, family), 0)


def path_mtu(config: RouterConfig, peer: OverlayPeer | None, source: str, tunnel: str) -> PathMTU:
    """Compute the MTU/MSS facts for traffic from ``source`` into ``tunnel``."""
    source_mtu = declared_mtu(config, source) or DEFAULT_ETHERNET_MTU
    tun_default = DEFAULT_WIREGUARD_MTU if _is_wireguard(peer) else DEFAULT_ETHERNET_MTU
    tunnel_mtu = declared_mtu(config, tunnel) or tun_default
    if peer is not None and peer.spec.path_mtu:
        kind = peer.spec.underlay.type
        over = tunnel_overhead(kind, outer_family(config, peer, tunnel))
        inner = min(tunnel_mtu, peer.spec.path_mtu - over)
        basis = f"pathMTU {peer.spec.path_mtu} - {kind} overhead {over}"
    elif peer is not None and peer.spec.underlay.type == "route":
        inner = tunnel_mtu
        basis = "route underlay (no encapsulation)"
    else:
        inner = tunnel_mtu - UNKNOWN_PATH_MARGIN
        basis = f"path MTU unknown: tunnel MTU {tunnel_mtu} - {UNKNOWN_PATH_MARGIN}"
    mss = None
    if inner < source_mtu:
        mss = max(inner - IPV4_TCP_HEADERS, MIN_IPV4_MSS)
    return PathMTU(source_mtu, tunnel_mtu, inner, basis, mss)


def _is_wireguard(peer: OverlayPeer | None) -> bool:
    return peer is None or peer.spec.underlay.type in ("wireguard", "tailscale")
