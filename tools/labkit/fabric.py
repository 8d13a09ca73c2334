"""The cloud fabric namespace: the provider's virtual network, as the VMs and router see it.

What the three providers have in common, and what SAM relies on:

* **ARP is answered by the fabric** for every subnet address (Azure answers with one MAC for
  everything; AWS and OCI likewise never let guests ARP each other directly). Here each
  port has ``proxy_arp=1`` (``proxy_delay=0``: the fabric answers at once) and the gateway
  address sits on ``lo`` (answered with the default ``arp_ignore``). Addresses nobody holds
  route to a sink veth whose far end never answers: ARP is still answered, packets vanish.
* **Each assigned IP is delivered to the NIC that holds it**, primary or secondary, without
  the guest answering ARP for it: a ``/32`` route to the port plus a permanent neighbour
  entry with that NIC's MAC (the fabric knows which NIC an IP belongs to; a router whose OS
  does not carry the secondary IP still receives it, which is what lets routerd keep the
  address off its interfaces, D15 in docs/decisions.md).
* **The forwarding / source-dest check** (Azure "IP forwarding", AWS "source/dest check",
  OCI "skipSourceDestCheck"): a NIC without it may neither send packets from an address it
  does not hold nor receive packets for one. nft sets ``held`` (port . address) and
  ``forwarding`` (ports) enforce both directions in the forward hook.

``provision()`` is the operator's provider step: the secondary IP 10.40.8.31 on the router
NIC plus forwarding on. The chain also counts new flows (``ct state new``), which turns on
connection tracking here so the smoke can show the VM-to-VM tuples are unmodified (no NAT).
"""

from __future__ import annotations

import json

from tests.support.netns import Netns

from .topology import (
    CLOUD_ROUTER,
    CLOUD_ROUTER_IP,
    CLOUD_VM,
    CLOUD_VM_IP,
    FABRIC,
    FABRIC_GATEWAY,
    FABRIC_ROUTER_PORT,
    FABRIC_VM_PORT,
    ONPREM_VM_IP,
    SUBNET,
    VM_IF,
    Topology,
    capture_ifname,
)

TABLE = "fabric"
SINK, SINK_PEER = "sink0", "sink1"
RULESET = f"""
table inet {TABLE} {{
  comment "cloud fabric: per-NIC source/destination check"
  set held {{ type ifname . ipv4_addr; comment "addresses assigned to each NIC"; }}
  set forwarding {{ type ifname; comment "NICs with IP forwarding / no source-dest check"; }}
  chain forward {{
    type filter hook forward priority filter; policy accept;
    iifname != @forwarding iifname . ip saddr != @held counter drop comment "source check"
    oifname != @forwarding oifname . ip daddr != @held counter drop comment "destination check"
    ct state new counter comment "connection tracking on (no-NAT evidence)"
  }}
}}
"""


class Fabric:
    """The fabric namespace of one run and the provider-side operations on it."""

    def __init__(self, topo: Topology) -> None:
        self.topo = topo
        cap = capture_ifname(topo.provider)
        self.nics = {FABRIC_VM_PORT: (CLOUD_VM, VM_IF), FABRIC_ROUTER_PORT: (CLOUD_ROUTER, cap)}

    @property
    def ns(self) -> Netns:
        return self.topo.ns[FABRIC]

    def build(self) -> None:
        ns = self.ns
        ns.exec("sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
        ns.ip("addr", "add", f"{FABRIC_GATEWAY}/32", "dev", "lo")
        ns.ip("link", "add", SINK, "type", "veth", "peer", "name", SINK_PEER)
        for dev in (SINK, SINK_PEER):
            ns.ip("link", "set", dev, "up")
        ns.ip("route", "add", SUBNET, "dev", SINK)
        for port in self.nics:
            ns.exec("sysctl", "-q", "-w", f"net.ipv4.conf.{port}.proxy_arp=1")
            ns.exec("sysctl", "-q", "-w", f"net.ipv4.neigh.{port}.proxy_delay=0")
        ns.exec("nft", "-f", "-", input=RULESET)
        self.assign(FABRIC_VM_PORT, CLOUD_VM_IP)
        self.assign(FABRIC_ROUTER_PORT, CLOUD_ROUTER_IP)

    def nic_mac(self, port: str) -> str:
        role, ifname = self.nics[port]
        link = self.topo.ns[role].ipj("link", "show", "dev", ifname)
        return str(link[0]["address"])

    def assign(self, port: str, ip: str) -> None:
        """Assign ``ip`` to the NIC behind ``port``: deliver it there, let the NIC use it."""
        self.ns.ip("route", "replace", f"{ip}/32", "dev", port)
        mac = self.nic_mac(port)
        self.ns.ip("neigh", "replace", ip, "lladdr", mac, "dev", port, "nud", "permanent")
        self.ns.exec("nft", "add", "element", "inet", TABLE, "held", f'{{ "{port}" . {ip} }}')

    def unassign(self, port: str, ip: str) -> None:
        self.ns.ip("route", "del", f"{ip}/32", "dev", port, check=False)
        self.ns.ip("neigh", "del", ip, "dev", port, check=False)
        self.ns.exec(
            "nft", "delete", "element", "inet", TABLE, "held", f'{{ "{port}" . {ip} }}', check=False
        )

    def set_forwarding(self, port: str, enabled: bool) -> None:
        op = "add" if enabled else "delete"
        self.ns.exec("nft", op, "element", "inet", TABLE, "forwarding", f'{{ "{port}" }}')

    def provision(self) -> None:
        """The provider step: secondary IP 10.40.8.31 on the router NIC, forwarding on."""
        self.assign(FABRIC_ROUTER_PORT, ONPREM_VM_IP)
        self.set_forwarding(FABRIC_ROUTER_PORT, True)

    def state(self) -> dict[str, list[str]]:
        """The sets as the fabric holds them (for reports and evidence)."""
        data = json.loads(self.ns.exec("nft", "-j", "list", "table", "inet", TABLE))
        out: dict[str, list[str]] = {}
        for item in data["nftables"]:
            s = item.get("set")
            if s:
                out[s["name"]] = [json.dumps(e) for e in s.get("elem", [])]
        return out
