"""The mobility lab's cloud fabric: the two-site lab's fabric with several VM NICs.

It behaves as ``fabric`` describes (ARP answered for every address, each assigned IP
delivered to the NIC holding it, the source/destination check for NICs without forwarding),
with the provider's rule made explicit: **one address, one NIC**. ``assign`` refuses an
address another NIC holds; ``reassign`` is the provider's move (unassign from the holder,
assign to the new NIC), done in one batch per kind of object so 100 addresses cost three
commands.

Until routerd executes provider actions itself, capture in the cloud is declared statically:
the lab assigns every address homed elsewhere to the router's NIC (the operator's provider
step), and a migration tool moving an address into or out of the cloud reassigns it at
cutover (``MobilityLab.cutover``). ``held()`` reads the assignments back from the kernel
(the nft set), for the "never two homes" check.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from tests.support.netns import Netns, veth

from .fabric import RULESET, SINK, SINK_PEER, TABLE
from .mobtopo import (
    CLOUD,
    DOMAIN,
    FAB,
    FABRIC_GATEWAY,
    FABRIC_ROUTER_PORT,
    VM_IF,
    VMS,
    MobilityTopology,
)


class DoubleAssignment(RuntimeError):
    """An address was assigned to a NIC while another NIC holds it."""


class MobilityFabric:
    """The fabric namespace of one mobility run and the provider operations on it."""

    def __init__(self, topo: MobilityTopology) -> None:
        self.topo = topo
        self.ports: dict[str, tuple[str, str]] = {FABRIC_ROUTER_PORT: (CLOUD.role, CLOUD.lan_if)}
        for vm in VMS:
            if vm.site == CLOUD.name:
                self.ports[vm.port] = (vm.role, VM_IF)
        self.holder: dict[str, str] = {}
        self._macs: dict[str, str] = {}

    @property
    def ns(self) -> Netns:
        return self.topo.ns[FAB]

    def build(self) -> None:
        """Ports for the router NIC and every cloud VM, ARP, the check, the router's IP."""
        ns = self.ns
        ns.exec("sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
        ns.ip("addr", "add", f"{FABRIC_GATEWAY}/32", "dev", "lo")
        ns.ip("link", "add", SINK, "type", "veth", "peer", "name", SINK_PEER)
        for dev in (SINK, SINK_PEER):
            ns.ip("link", "set", dev, "up")
        ns.ip("route", "add", DOMAIN, "dev", SINK)
        for port, (role, ifname) in self.ports.items():
            veth(self.topo.ns[role], ifname, ns, port)
            ns.exec("sysctl", "-q", "-w", f"net.ipv4.conf.{port}.proxy_arp=1")
            ns.exec("sysctl", "-q", "-w", f"net.ipv4.neigh.{port}.proxy_delay=0")
        self.topo.ns[CLOUD.role].ip("addr", "add", f"{CLOUD.lan_ip}/24", "dev", CLOUD.lan_if)
        ns.exec("nft", "-f", "-", input=RULESET)
        self.assign(FABRIC_ROUTER_PORT, [CLOUD.lan_ip])
        ns.exec(
            "nft", "add", "element", "inet", TABLE, "forwarding", f'{{ "{FABRIC_ROUTER_PORT}" }}'
        )

    def port_mac(self, port: str) -> str:
        if port not in self._macs:
            role, ifname = self.ports[port]
            self._macs[port] = str(
                self.topo.ns[role].ipj("link", "show", "dev", ifname)[0]["address"]
            )
        return self._macs[port]

    def assign(self, port: str, addresses: Iterable[str]) -> None:
        """Assign addresses to the NIC behind ``port`` (refused if another NIC holds one)."""
        wanted = [a for a in addresses if self.holder.get(a) != port]
        taken = [f"{a} (on {self.holder[a]})" for a in wanted if a in self.holder]
        if taken:
            raise DoubleAssignment(
                f"cannot assign {', '.join(taken)} to {port}: one address, one NIC "
                "(unassign it first, or reassign)"
            )
        if not wanted:
            return
        mac = self.port_mac(port)
        batch = "".join(
            f"route replace {a}/32 dev {port}\nneigh replace {a} lladdr {mac} dev {port} "
            "nud permanent\n"
            for a in wanted
        )
        self.ns.exec("ip", "-force", "-batch", "-", input=batch)
        self._elements("add", port, wanted)
        self.holder.update(dict.fromkeys(wanted, port))

    def unassign(self, addresses: Iterable[str]) -> None:
        """Take addresses off whichever NIC holds them (their packets then go nowhere)."""
        by_port: dict[str, list[str]] = {}
        for a in addresses:
            if a in self.holder:
                by_port.setdefault(self.holder.pop(a), []).append(a)
        for port, held in by_port.items():
            batch = "".join(
                f"route del {a}/32 dev {port}\nneigh del {a} dev {port}\n" for a in held
            )
            self.ns.exec("ip", "-force", "-batch", "-", input=batch, check=False)
            self._elements("delete", port, held)

    def reassign(self, port: str, addresses: Iterable[str]) -> None:
        """The provider's move: every address leaves its NIC and lands on ``port``'s."""
        addresses = list(addresses)
        self.unassign(a for a in addresses if self.holder.get(a) not in (None, port))
        self.assign(port, addresses)

    def _elements(self, op: str, port: str, addresses: list[str]) -> None:
        elements = ", ".join(f'"{port}" . {a}' for a in addresses)
        self.ns.exec("nft", op, "element", "inet", TABLE, "held", f"{{ {elements} }}")

    def held(self) -> dict[str, list[str]]:
        """address -> the NICs (fabric ports) holding it, read from the kernel's nft set."""
        data = json.loads(self.ns.exec("nft", "-j", "list", "set", "inet", TABLE, "held"))
        out: dict[str, list[str]] = {}
        for item in data["nftables"]:
            for elem in item.get("set", {}).get("elem", []):
                port, address = elem["concat"]
                out.setdefault(address, []).append(port)
        return out
