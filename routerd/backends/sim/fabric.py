"""A cloud provider's virtual network, as the cloud VM and the cloud router see it.

Providers do not run Ethernet between VMs: the fabric answers ARP for every address of the
subnet (Azure replies with one MAC for all of them) and then delivers each packet by
destination IP to the NIC that address is *assigned to in the provider* — a primary or
secondary private IP — whatever the guest OS has configured. That is why SAM's cloud side
needs no proxy-ARP: assigning the captured address as a secondary IP of the router's NIC
(``assign``) is the capture.

The fabric also enforces each NIC's forwarding flag (Azure "IP forwarding", AWS
"source/dest check", OCI "skipSourceDestCheck", GCP "canIpForward"): a NIC without it may
neither send a packet whose source it does not hold nor receive one for an address it does
not hold. Destinations outside the subnet follow the fabric's own routes (UDR-like next
hops); with none the packet is dropped, so nothing leaks to an imaginary internet.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .fib import PrefixTable
from .packet import Drop, Packet, Trace
from .segment import Port

if TYPE_CHECKING:
    from .host import Host

FABRIC_MAC = "12:34:56:78:9a:bc"  # Azure answers every ARP request with this MAC


@dataclass
class FabricNic:
    """A NIC as the provider sees it: the IPs assigned to it and its forwarding flag."""

    port: Port
    addresses: set[str] = field(default_factory=set)
    forwarding: bool = False


class ProviderFabric:
    """The provider's subnet: ARP for everything, delivery by assignment, per-NIC checks."""

    def __init__(self, name: str, subnet: str, gateway: str) -> None:
        self.name = name
        self.subnet = ipaddress.IPv4Network(subnet)
        self.gateway = gateway
        self.mtu = 0
        self.icmp_blackhole = False
        self.nics: dict[Port, FabricNic] = {}
        self._owner: dict[str, Port] = {}
        self._routes: PrefixTable[str] = PrefixTable()

    def attach(self, port: Port, *, address: str = "", forwarding: bool = False) -> None:
        """Connect a NIC; ``address`` becomes its primary private IP."""
        self.nics[port] = FabricNic(port, forwarding=forwarding)
        if address:
            self.assign(port, address)

    def detach(self, port: Port) -> None:
        nic = self.nics.pop(port, None)
        for ip in nic.addresses if nic else ():
            self._owner.pop(ip, None)

    def assign(self, port: Port, address: str) -> None:
        """Assign a private IP (primary or secondary) to a NIC; it moves if held elsewhere."""
        prev = self._owner.get(address)
        if prev is not None:
            self.nics[prev].addresses.discard(address)
        self.nics[port].addresses.add(address)
        self._owner[address] = port

    def unassign(self, address: str) -> None:
        port = self._owner.pop(address, None)
        if port is not None:
            self.nics[port].addresses.discard(address)

    def owner_of(self, address: str) -> Port | None:
        return self._owner.get(address)

    def set_forwarding(self, port: Port, enabled: bool) -> None:
        self.nics[port].forwarding = enabled

    def add_route(self, prefix: str, next_hop: str) -> None:
        """A user-defined route: traffic for ``prefix`` goes to the NIC holding ``next_hop``."""
        self._routes.set(prefix, next_hop)

    def resolve(
        self, hosts: dict[str, Host], sender: Port, pkt: Packet, nexthop: str, trace: Trace
    ) -> Port | None:
        """The NIC the fabric hands ``pkt`` to, or None (drop recorded)."""
        del hosts
        host, ifname = sender
        if ipaddress.IPv4Address(nexthop) not in self.subnet:
            trace.drop(host, ifname, Drop.ARP_UNRESOLVED, f"{nexthop} is outside {self.subnet}")
            return None
        trace.hop(host, ifname, "arp", f"{nexthop} is-at {FABRIC_MAC} (fabric {self.name})")
        nic = self.nics.get(sender)
        if nic is None or (not nic.forwarding and pkt.src not in nic.addresses):
            trace.drop(host, ifname, Drop.FABRIC_SOURCE_CHECK, f"NIC does not hold {pkt.src}")
            return None
        target = self._target(pkt.dst, trace)
        if target is None:
            return None
        rnic = self.nics[target]
        if not rnic.forwarding and pkt.dst not in rnic.addresses:
            trace.drop(
                self.name, "", Drop.FABRIC_DEST_CHECK, f"{target[0]} does not hold {pkt.dst}"
            )
            return None
        trace.hop(self.name, "", "fabric deliver", f"{pkt.dst} -> {target[0]}/{target[1]}")
        return target

    def _target(self, dst: str, trace: Trace) -> Port | None:
        if ipaddress.IPv4Address(dst) in self.subnet:
            owner = self._owner.get(dst)
            if owner is None:
                trace.drop(self.name, "", Drop.FABRIC_NO_OWNER, f"{dst} is assigned to no NIC")
            return owner
        next_hop = self._routes.lookup(dst)
        owner = self._owner.get(next_hop) if next_hop else None
        if owner is None:
            trace.drop(self.name, "", Drop.FABRIC_NO_ROUTE, f"no fabric route to {dst}")
        return owner
