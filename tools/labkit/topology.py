"""The lab's namespaces, veths, bridge, addresses and default routes, as data.

::

  cvm ── fab ── crt ── net ── ort ── lan(br0) ─┬─ ovm
  .21   fabric  .5     internet  .1            ├─ ogw .254
                203.0.113.10   198.51.100.20

Names and addresses are the simulator's (``routerd.backends.sim.lab``), imported rather than
copied, so the real lab and the simulated one cannot drift apart. The cloud router's NIC
carries the name each provider's images use (eth0 / ens5 / ens3) and the on-prem LAN
interface is ens19, because the example configs name them. Interface names only need to be
unique inside their namespace, except WireGuard's (see ``config.tunnel_names``); namespace
names carry the run id (``lab<run>-<role>``) so two runs never collide.

Every VM and router default route is ``proto dhcp``: it stands for what the cloud's or the
LAN's DHCP gave the machine, which routerd must never change (the smoke compares it).
"""

from __future__ import annotations

from dataclasses import dataclass

from routerd.backends.sim import lab as sim
from tests.support.netns import Netns, sh, veth

from .registry import Registry

PROVIDERS = ("azure", "aws", "oci")

CLOUD_VM = "cvm"
FABRIC = "fab"
CLOUD_ROUTER = "crt"
INTERNET = "net"
ONPREM_ROUTER = "ort"
ONPREM_LAN = "lan"
ONPREM_GW = "ogw"
ONPREM_VM = "ovm"
ROLES = (CLOUD_VM, FABRIC, CLOUD_ROUTER, INTERNET, ONPREM_ROUTER, ONPREM_LAN, ONPREM_GW, ONPREM_VM)
ROLE_MEANING = {
    CLOUD_VM: "cloud VM 10.40.8.21 (default gw: the fabric gateway)",
    FABRIC: "the provider's virtual network (ARP, per-NIC delivery, source/dest check)",
    CLOUD_ROUTER: "cloud router: NIC 10.40.8.5, public 203.0.113.10, routerd",
    INTERNET: "the internet between the public addresses (OCI: 1452 black hole)",
    ONPREM_ROUTER: "on-prem router: LAN 10.40.8.1 (proxy-ARP), public 198.51.100.20, routerd",
    ONPREM_LAN: "the on-prem LAN switch (bridge br0)",
    ONPREM_GW: "the on-prem gateway 10.40.8.254",
    ONPREM_VM: "on-prem VM 10.40.8.31 (default gw: the on-prem gateway)",
}

CLOUD_VM_IP = sim.CLOUD_VM_IP
ONPREM_VM_IP = sim.ONPREM_VM_IP
CLOUD_ROUTER_IP = sim.CLOUD_ROUTER_IP
FABRIC_GATEWAY = sim.FABRIC_GATEWAY
ONPREM_ROUTER_IP = sim.ONPREM_ROUTER_IP
ONPREM_GW_IP = sim.ONPREM_GW_IP
CLOUD_PUBLIC_IP = sim.CLOUD_PUBLIC_IP
ONPREM_PUBLIC_IP = sim.ONPREM_PUBLIC_IP
CLOUD_UPLINK_GW = "203.0.113.1"
ONPREM_UPLINK_GW = "198.51.100.1"
SUBNET = sim.SUBNET
ONPREM_LAN_IF = sim.ONPREM_LAN_IF
PUBLIC_IF = sim.PUBLIC_IF
LISTEN_PORT = sim.LISTEN_PORT
OCI_UNDERLAY_MTU = sim.OCI_UNDERLAY_MTU
VM_IF = "eth0"
BRIDGE = "br0"
FABRIC_VM_PORT = "p-vm"
FABRIC_ROUTER_PORT = "p-rt"


def capture_ifname(provider: str) -> str:
    """The cloud router's NIC name on this provider (as in ``examples/<p>/cloud.yaml``)."""
    return sim.CAPTURE_IFNAME[provider]


@dataclass(frozen=True)
class Link:
    """A veth pair ``a:a_if <-> b:b_if`` with optional addresses on each end."""

    a: str
    a_if: str
    b: str
    b_if: str
    a_addr: str = ""
    b_addr: str = ""


def links(provider: str) -> list[Link]:
    cap = capture_ifname(provider)
    return [
        Link(CLOUD_VM, VM_IF, FABRIC, FABRIC_VM_PORT, a_addr=f"{CLOUD_VM_IP}/24"),
        Link(CLOUD_ROUTER, cap, FABRIC, FABRIC_ROUTER_PORT, a_addr=f"{CLOUD_ROUTER_IP}/24"),
        Link(
            CLOUD_ROUTER,
            PUBLIC_IF,
            INTERNET,
            "to-cloud",
            f"{CLOUD_PUBLIC_IP}/24",
            f"{CLOUD_UPLINK_GW}/24",
        ),
        Link(
            ONPREM_ROUTER,
            PUBLIC_IF,
            INTERNET,
            "to-onprem",
            f"{ONPREM_PUBLIC_IP}/24",
            f"{ONPREM_UPLINK_GW}/24",
        ),
        Link(ONPREM_ROUTER, ONPREM_LAN_IF, ONPREM_LAN, "p-rt", a_addr=f"{ONPREM_ROUTER_IP}/24"),
        Link(ONPREM_VM, VM_IF, ONPREM_LAN, "p-vm", a_addr=f"{ONPREM_VM_IP}/24"),
        Link(ONPREM_GW, VM_IF, ONPREM_LAN, "p-gw", a_addr=f"{ONPREM_GW_IP}/24"),
    ]


DEFAULT_ROUTES = {
    CLOUD_VM: (FABRIC_GATEWAY, VM_IF),
    ONPREM_VM: (ONPREM_GW_IP, VM_IF),
    CLOUD_ROUTER: (CLOUD_UPLINK_GW, PUBLIC_IF),
    ONPREM_ROUTER: (ONPREM_UPLINK_GW, PUBLIC_IF),
}
FORWARDERS = (INTERNET, ONPREM_GW)
"""Namespaces that forward from the start (the routers start with ip_forward=0: routerd
sets it, as on a fresh cloud image)."""


class Topology:
    """The namespaces of one run, by role."""

    def __init__(self, run_id: str, provider: str) -> None:
        self.run_id = run_id
        self.provider = provider
        self.ns: dict[str, Netns] = {}

    def ns_name(self, role: str) -> str:
        return f"lab{self.run_id}-{role}"

    def build(self, registry: Registry) -> None:
        """Create every namespace and link (each recorded in ``registry`` as it appears)."""
        for role in ROLES:
            name = self.ns_name(role)
            sh(["ip", "netns", "add", name])
            registry.push("netns", name=name)
            self.ns[role] = Netns(name)
            self.ns[role].ip("link", "set", "lo", "up")
        for link in links(self.provider):
            self._link(link)
        self._bridge()
        for role, (gw, dev) in DEFAULT_ROUTES.items():
            self.ns[role].ip("route", "add", "default", "via", gw, "dev", dev, "proto", "dhcp")
        for role in FORWARDERS:
            self.sysctl(role, "net.ipv4.ip_forward", "1")

    def _link(self, link: Link) -> None:
        a, b = self.ns[link.a], self.ns[link.b]
        veth(a, link.a_if, b, link.b_if)
        if link.a_addr:
            a.ip("addr", "add", link.a_addr, "dev", link.a_if)
        if link.b_addr:
            b.ip("addr", "add", link.b_addr, "dev", link.b_if)

    def _bridge(self) -> None:
        lan = self.ns[ONPREM_LAN]
        lan.ip("link", "add", BRIDGE, "type", "bridge")
        for port in ("p-rt", "p-vm", "p-gw"):
            lan.ip("link", "set", port, "master", BRIDGE)
        lan.ip("link", "set", BRIDGE, "up")

    def sysctl(self, role: str, key: str, value: str) -> None:
        self.ns[role].exec("sysctl", "-q", "-w", f"{key}={value}")

    def default_route(self, role: str) -> list[dict[str, object]]:
        """The namespace's default route(s) as ``ip -j`` reports them."""
        routes: list[dict[str, object]] = self.ns[role].ipj("-4", "route", "show", "default")
        return routes
