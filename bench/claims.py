"""N-claim router configs for the bench, and the matching floor (``ip -batch`` + ``nft -f``).

The configs go through the real loader, validation and lowering, so what the backend applies
is exactly what ``routerd serve`` would apply for that many claims. Two sides:

* ``proxy-arp`` (the on-prem router): per claim a ``/32`` delivery route, which is also its
  capture (the kernel answers ARP for it through that route), and once for the capture
  interface ``proxy_arp=1``, ``forwarding=1`` and ``proxy_delay=0``; no proxy neighbour
  entry;
* ``provider`` (the cloud router, provider-secondary-ip): per claim the address kept off
  every interface (nothing to do when it is absent) and the same delivery route.

The delivery device is a plain veth declared as an ``Interface`` with a smaller MTU and an
``OverlayPeer`` of underlay type ``route``: that keeps WireGuard (a userspace process here)
out of the figures, and the path still steps down so the MSS clamp table exists. The floor
installs exactly what the backend writes: the routes (``floor_batch``), the lowered state's
sysctls and its clamp table (``bench.kernel`` takes both from lowering).
"""

from __future__ import annotations

from dataclasses import dataclass

from routerd.core.config import RouterConfig
from routerd.core.desired import DELIVERY_METRIC
from routerd.core.loader import load_text

SIDES = ("proxy-arp", "provider")
DOMAIN_PREFIX = "10.16.0.0/12"
TUNNEL_MTU = 1420
AZURE_NIC = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-bench"
    "/providers/Microsoft.Network/networkInterfaces/bench-nic"
)
ROUTERD_PROTO = 196
"""The route protocol routerd labels its routes with (``routes.ROUTERD_PROTO``)."""


@dataclass(frozen=True)
class Names:
    """OS interface names inside one bench namespace (unique per run, at most 15 bytes)."""

    cap: str
    tunnel: str


def claim_address(i: int) -> str:
    """The i-th claimed address: 10.16.0.0 upwards (room for 1M claims in the /12)."""
    return f"10.{16 + i // 65536}.{(i // 256) % 256}.{i % 256}"


def _header(side: str, names: Names) -> str:
    provider = ""
    if side == "provider":
        provider = """
    - apiVersion: hybrid.routerd.net/v1alpha1
      kind: CloudProviderProfile
      metadata: {name: bench-cloud}
      spec: {provider: azure, capabilities: [nic-secondary-ip, ip-forwarding]}
"""
    return f"""apiVersion: routerd.net/v1alpha1
kind: Router
metadata: {{name: bench-{side}}}
spec:
  resources:
    - apiVersion: net.routerd.net/v1alpha1
      kind: Interface
      metadata: {{name: lan}}
      spec: {{ifname: {names.cap}, mtu: 1500, managed: false}}
    - apiVersion: net.routerd.net/v1alpha1
      kind: Interface
      metadata: {{name: overlay}}
      spec: {{ifname: {names.tunnel}, mtu: {TUNNEL_MTU}, managed: false}}
    - apiVersion: hybrid.routerd.net/v1alpha1
      kind: OverlayPeer
      metadata: {{name: peer}}
      spec:
        role: {"cloud" if side == "proxy-arp" else "onprem"}
        nodeID: bench-peer
        underlay: {{type: route, interface: {names.tunnel}}}
    - apiVersion: hybrid.routerd.net/v1alpha1
      kind: AddressMobilityDomain
      metadata: {{name: bench}}
      spec: {{prefix: {DOMAIN_PREFIX}, peerRef: peer}}
{provider}"""


def _claim(side: str, i: int, names: Names) -> str:
    if side == "proxy-arp":
        capture = f"{{type: proxy-arp, interface: {names.cap}}}"
        owner = "cloud"
    else:
        capture = (
            "{type: provider-secondary-ip, providerRef: bench-cloud, "
            f"providerMode: nic-secondary-ip, nicRef: {AZURE_NIC}, interface: {names.cap}}}"
        )
        owner = "onprem"
    return f"""    - apiVersion: hybrid.routerd.net/v1alpha1
      kind: RemoteAddressClaim
      metadata: {{name: c{i}}}
      spec:
        domainRef: bench
        address: {claim_address(i)}/32
        ownerSide: {owner}
        capture: {capture}
        delivery: {{peerRef: peer, tunnelInterface: {names.tunnel}}}
"""


def config_text(side: str, n: int, names: Names, *, first: int = 0) -> str:
    """The Router YAML for ``n`` claims (``c<first>`` .. ``c<first+n-1>``) on one side."""
    if side not in SIDES:
        raise ValueError(f"side must be one of {SIDES}")
    return _header(side, names) + "".join(_claim(side, i, names) for i in range(first, first + n))


def load_config(side: str, n: int, names: Names, *, first: int = 0) -> RouterConfig:
    """Load and validate the config (raises on any error: the bench needs a valid config)."""
    from routerd.providers import config_checks

    result = load_text(config_text(side, n, names, first=first), extra_checks=[config_checks])
    return result.raise_for_errors()


def floor_batch(side: str, n: int, names: Names) -> str:
    """``ip -batch`` lines installing the claims' routes, the only per-claim objects on either side.

    A proxy-ARP claim has no object of its own besides its route: the capture interface's
    sysctls are shared by every claim (the floor writes them once, ``bench.kernel``).
    """
    if side not in SIDES:
        raise ValueError(f"side must be one of {SIDES}")
    lines = [route_line("add", claim_address(i), names) for i in range(n)]
    return "\n".join(lines) + "\n"


def route_line(op: str, address: str, names: Names) -> str:
    """The ``ip -batch`` line adding (``op`` "add") or deleting ("del") a claim's route."""
    how = f"dev {names.tunnel} metric {DELIVERY_METRIC} proto {ROUTERD_PROTO}"
    return f"route {op} {address}/32 {how}"
