"""The three-site mobility lab's namespaces, links, addresses and sites, as data and build.

::

                       internet (net) ── rr: BIRD2 reflector, 10.255.0.1 on the overlay
          198.51.100.11 /     |192.0.2.21      \\ 203.0.113.31
      site-a: rta            site-b: rtb          site-c: rtc (cloud)
      ens19 10.40.8.2        ens19 10.40.8.3      ens5 10.40.8.5
          |                      |                    |
      lana (br0) ─ hv: br-a|br-b ─ lanb (br0)              fab (cloud fabric)
      va .31        |     vb .32 monb .252        vc .21  cm1 .60  cmn .100-.199
      dm1 .60      mig .50
      dmn .100-.199
      mona .251

Every router and the reflector has a public address on its own link into ``net`` and a
WireGuard tunnel (``wg<run><a|b|c|r>``: the UAPI socket directory is shared by every
namespace, so names are unique per router and run) on the overlay 10.255.0.0/24. The two
on-prem sites each have a LAN bridge and answer for the anycast gateway 10.40.8.254 with the
same MAC; the cloud site has the lab's fabric (``mobfabric``). The domain 10.40.8.0/24 is one
logical subnet across all three sites.

VMs: ``va``/``vb``/``vc`` stay at their site; ``mig`` is the VM that migrates live between
the two LANs: it hangs off a hypervisor switch in ``hv`` (one per site, each with an uplink
into its LAN) and moves between them (``hypervisor``); ``cm1``/``dm1`` are the
cloud and on-prem copies of the single address moved explicitly, ``cmn``/``dmn`` of the 100
moved at once (a migration tool stops one copy and starts the other: exactly one is up).
``mona``/``monb`` are the ARP monitors of the two LANs (their addresses are never mobile).
``dup`` is a stopped duplicate of ``va`` the self-check starts briefly: two responders.
"""

from __future__ import annotations

from dataclasses import dataclass

from tests.support.netns import Netns, sh, veth

from .hypervisor import switch_name
from .registry import Registry

DOMAIN = "10.40.8.0/24"
ASN = 65000
OVERLAY_NET = "10.255.0.0/24"
RR_OVERLAY = "10.255.0.1"
RR_PUBLIC, RR_UPLINK = "198.18.0.2", "198.18.0.1"
WG_PORT = 51820
WG_MTU = 1420
GATEWAY = "10.40.8.254"
GATEWAY_MAC = "02:00:00:28:08:fe"
GATEWAY_IF = "gw0"
"""The on-prem routers' anycast gateway device (a macvlan of the LAN interface)."""
FABRIC_GATEWAY = "10.40.8.1"
BRIDGE = "br0"
VM_IF = "eth0"
PUBLIC_IF = "public"
NET, RR, FAB, HV = "net", "rr", "fab", "hv"
FABRIC_ROUTER_PORT = "p-rt"
SINGLE = "10.40.8.60"
BULK = tuple(f"10.40.8.{i}" for i in range(100, 200))
MIGRANT = "10.40.8.50"


@dataclass(frozen=True)
class Site:
    """One site of the domain and its router."""

    name: str
    site_id: int
    kind: str
    letter: str
    overlay: str
    public: str
    uplink: str
    lan_if: str
    lan_ip: str

    @property
    def role(self) -> str:
        """The router's namespace role."""
        return f"rt{self.letter}"

    @property
    def lan_role(self) -> str:
        """The segment's namespace: a LAN bridge on-prem, the fabric in the cloud."""
        return f"lan{self.letter}" if self.kind == "onprem" else FAB


SITES = (
    Site("site-a", 1, "onprem", "a", "10.255.0.11", "198.51.100.11", "198.51.100.1", "ens19",
         "10.40.8.2"),
    Site("site-b", 2, "onprem", "b", "10.255.0.21", "192.0.2.21", "192.0.2.1", "ens19",
         "10.40.8.3"),
    Site("site-c", 3, "cloud", "c", "10.255.0.31", "203.0.113.31", "203.0.113.1", "ens5",
         "10.40.8.5"),
)  # fmt: skip
SITE = {s.name: s for s in SITES}
ONPREM = tuple(s for s in SITES if s.kind == "onprem")
CLOUD = next(s for s in SITES if s.kind == "cloud")


@dataclass(frozen=True)
class Vm:
    """A host: where it starts, its addresses (the first is its own), whether it is up."""

    role: str
    site: str
    addresses: tuple[str, ...]
    mac: str
    up: bool = True
    monitor: bool = False

    @property
    def port(self) -> str:
        """Its port on the segment (bridge port on-prem, fabric port in the cloud)."""
        return f"p-{self.role}"

    @property
    def gateway(self) -> str:
        return FABRIC_GATEWAY if SITE[self.site].kind == "cloud" else GATEWAY


VMS = (
    Vm("va", "site-a", ("10.40.8.31",), "02:00:00:00:0a:31"),
    Vm("vb", "site-b", ("10.40.8.32",), "02:00:00:00:0b:32"),
    Vm("vc", "site-c", ("10.40.8.21",), "02:00:00:00:0c:21"),
    Vm("mig", "site-a", (MIGRANT,), "02:00:00:00:00:50"),
    Vm("cm1", "site-c", (SINGLE,), "02:00:00:00:0c:60"),
    Vm("dm1", "site-a", (SINGLE,), "02:00:00:00:0a:60", up=False),
    Vm("cmn", "site-c", BULK, "02:00:00:00:0c:64"),
    Vm("dmn", "site-a", BULK, "02:00:00:00:0a:64", up=False),
    Vm("dup", "site-a", ("10.40.8.31",), "02:00:00:00:0a:ee", up=False),
    Vm("mona", "site-a", ("10.40.8.251",), "02:00:00:00:0a:fb", monitor=True),
    Vm("monb", "site-b", ("10.40.8.252",), "02:00:00:00:0b:fc", monitor=True),
)
VM = {v.role: v for v in VMS}
EXCLUDE = ("10.40.8.1/32", "10.40.8.2/31", "10.40.8.5/32", "10.40.8.251/32", "10.40.8.252/32")
"""Never mobile: the fabric gateway, the routers' own segment addresses, the ARP monitors
(the anycast gateway is implied)."""
MONITOR = {"site-a": "mona", "site-b": "monb"}
ROLES = (NET, RR, FAB, HV, *(s.role for s in SITES), *(s.lan_role for s in ONPREM),
         *(v.role for v in VMS))  # fmt: skip
MIGRATING = "mig"
"""The VM on the hypervisors' switch (the others sit on their LAN's bridge)."""


def uplink_if(site: Site) -> str:
    """The uplink of ``site``'s hypervisor switch into its LAN (in ``hv``)."""
    return f"up-{site.letter}"


def initial_homes() -> dict[str, str]:
    """Where each mobile address lives when the lab starts (address -> site name)."""
    out = {}
    for v in VMS:
        if v.up and not v.monitor:
            out.update(dict.fromkeys(v.addresses, v.site))
    return out


def tunnel(run_id: str, letter: str) -> str:
    """The WireGuard interface of a router (letter a/b/c) or the reflector (r)."""
    name = f"wg{run_id}{letter}"
    if len(name) > 15:
        raise ValueError(f"tunnel name {name!r} is longer than 15 characters")
    return name


class MobilityTopology:
    """The namespaces of one run, by role; ``build`` creates them and every link."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self.ns: dict[str, Netns] = {}

    def ns_name(self, role: str) -> str:
        return f"lab{self.run_id}-{role}"

    def build(self, registry: Registry) -> None:
        """Namespaces, the internet links, both LANs and every on-prem VM (recorded)."""
        for role in ROLES:
            name = self.ns_name(role)
            sh(["ip", "netns", "add", name])
            registry.push("netns", name=name)
            self.ns[role] = Netns(name)
            self.ns[role].ip("link", "set", "lo", "up")
        net = self.ns[NET]
        net.exec("sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
        uplinks = [(s.role, f"to-{s.letter}", s.public, s.uplink) for s in SITES]
        for role, port, public, uplink in [*uplinks, (RR, "to-rr", RR_PUBLIC, RR_UPLINK)]:
            ns = self.ns[role]
            veth(ns, PUBLIC_IF, net, port)
            ns.ip("addr", "add", f"{public}/24", "dev", PUBLIC_IF)
            net.ip("addr", "add", f"{uplink}/24", "dev", port)
            ns.ip("route", "add", "default", "via", uplink, "dev", PUBLIC_IF, "proto", "dhcp")
        for site in ONPREM:
            lan = self.ns[site.lan_role]
            lan.ip("link", "add", BRIDGE, "type", "bridge")
            lan.ip("link", "set", BRIDGE, "up")
            self._attach(site.role, site.lan_if, site.lan_role, "p-rt")
            self.ns[site.role].ip("addr", "add", f"{site.lan_ip}/24", "dev", site.lan_if)
        hv = self.ns[HV]
        for site in ONPREM:
            switch = switch_name(site.letter)
            hv.ip("link", "add", switch, "type", "bridge")
            hv.ip("link", "set", switch, "up")
            self._attach(HV, uplink_if(site), site.lan_role, "p-hv")
            hv.ip("link", "set", uplink_if(site), "master", switch)
        for vm in VMS:
            if SITE[vm.site].kind == "onprem":
                self.add_vm(vm)

    def _attach(self, role: str, ifname: str, lan_role: str, port: str) -> None:
        veth(self.ns[role], ifname, self.ns[lan_role], port)
        self.ns[lan_role].ip("link", "set", port, "master", BRIDGE)

    def add_vm(self, vm: Vm) -> None:
        """The VM's namespace on its segment: MAC, addresses, default route (``proto dhcp``).

        A VM that starts stopped (``up`` False) has its interface down: a migration tool
        brings it up at cutover. Cloud VMs get their port from the fabric (``mobfabric``).
        """
        ns = self.ns[vm.role]
        site = SITE[vm.site]
        if vm.role == MIGRATING:
            veth(ns, VM_IF, self.ns[HV], vm.port)
            self.ns[HV].ip("link", "set", vm.port, "master", switch_name(site.letter))
        elif site.kind == "onprem":
            self._attach(vm.role, VM_IF, site.lan_role, vm.port)
        ns.ip("link", "set", VM_IF, "address", vm.mac)
        batch = "".join(f"addr add {a}/24 dev {VM_IF}\n" for a in vm.addresses)
        ns.exec("ip", "-force", "-batch", "-", input=batch)
        if not vm.up:
            ns.ip("link", "set", VM_IF, "down")
            return
        if not vm.monitor:
            self.default_route(vm)

    def default_route(self, vm: Vm) -> None:
        self.ns[vm.role].ip(
            "route", "replace", "default", "via", vm.gateway, "dev", VM_IF, "proto", "dhcp"
        )

    def set_up(self, vm: Vm, up: bool) -> None:
        """Start or stop a VM copy (its interface; its addresses stay configured)."""
        self.ns[vm.role].ip("link", "set", VM_IF, "up" if up else "down")
        if up:
            self.default_route(vm)
