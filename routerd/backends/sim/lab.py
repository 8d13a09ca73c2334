"""The lab topology of ``docs/spec/lab.md``, built in the simulation.

::

  cloud-vm .21 ─ fabric ─ cloud-router ─ internet ─ onprem-router ─ LAN ─┬─ onprem-vm .31
  (gw .1 = fabric)        NIC .5            (OCI: 1452   LAN .1 (proxy-ARP)  │  (gw .254)
                          203.0.113.10      black hole)  198.51.100.20       └─ onprem-gw .254

The cloud router's NIC is named as on each provider's images (``CAPTURE_IFNAME``), matching
``examples/<provider>/cloud.yaml``; the on-prem LAN interface is ``ens19`` as in
``onprem.yaml``. Both routers start with ``ip_forward=0`` and no WireGuard device: routerd
(through ``SimBackend``) creates ``wg-sam`` and everything else SAM needs. Two steps stay
outside routerd, as in the real world: the provider provisioning (``Lab.provision``:
secondary IP plus NIC forwarding) and, on OCI, opening the image firewall
(``Lab.open_firewall``: "the documented host rule").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from .fabric import ProviderFabric
from .nft import documented_host_rules, image_default_firewall
from .world import World

Provider = Literal["azure", "aws", "oci", "gcp"]
FirewallProfile = Literal["none", "image-default", "opened"]

CAPTURE_IFNAME: dict[str, str] = {"azure": "eth0", "aws": "ens5", "oci": "ens3", "gcp": "ens4"}
DEFAULT_FIREWALL: dict[str, FirewallProfile] = {"oci": "image-default"}
OCI_UNDERLAY_MTU = 1452

CLOUD_VM = "cloud-vm"
CLOUD_ROUTER = "cloud-router"
INTERNET = "internet"
ONPREM_ROUTER = "onprem-router"
ONPREM_VM = "onprem-vm"
ONPREM_GW = "onprem-gw"

CLOUD_VM_IP = "10.40.8.21"
ONPREM_VM_IP = "10.40.8.31"
CLOUD_ROUTER_IP = "10.40.8.5"
FABRIC_GATEWAY = "10.40.8.1"
ONPREM_ROUTER_IP = "10.40.8.1"
ONPREM_GW_IP = "10.40.8.254"
CLOUD_PUBLIC_IP = "203.0.113.10"
ONPREM_PUBLIC_IP = "198.51.100.20"
SUBNET = "10.40.8.0/24"
ONPREM_LAN_IF = "ens19"
PUBLIC_IF = "public"
TUNNEL = "wg-sam"
LISTEN_PORT = 51820

FABRIC = "cloud-fabric"
ONPREM_LAN = "onprem-lan"
CLOUD_UPLINK = "cloud-uplink"
ONPREM_UPLINK = "onprem-uplink"


@dataclass
class Lab:
    """A built lab: the world plus the few operator actions routerd does not perform.

    Attributes:
        world: the simulation.
        provider: azure, aws, oci or gcp.
        capture_ifname: the cloud router's NIC name on this provider.
    """

    world: World
    provider: Provider
    capture_ifname: str

    @property
    def fabric(self) -> ProviderFabric:
        fabric = self.world.media[FABRIC]
        assert isinstance(fabric, ProviderFabric)
        return fabric

    @property
    def provisioned(self) -> bool:
        return self.fabric.owner_of(ONPREM_VM_IP) == (CLOUD_ROUTER, self.capture_ifname)

    def provision(self, *, forwarding: bool = True) -> None:
        """Provider step: secondary IP 10.40.8.31 on the router NIC, NIC forwarding on."""
        with self.world.lock:
            port = (CLOUD_ROUTER, self.capture_ifname)
            self.fabric.assign(port, ONPREM_VM_IP)
            self.fabric.set_forwarding(port, forwarding)

    def open_firewall(self) -> None:
        """Apply the documented host rule on the cloud router (WireGuard in, forwarding)."""
        with self.world.lock:
            fw = self.world.hosts[CLOUD_ROUTER].firewall
            fw.rules.extend(documented_host_rules(LISTEN_PORT, self.capture_ifname, TUNNEL))
        self.world.notify(CLOUD_ROUTER)

    def agent_readds_address(self) -> None:
        """The guest agent puts the secondary IP back on the router's NIC (#41)."""
        self.world.agent_add_address(CLOUD_ROUTER, self.capture_ifname, f"{ONPREM_VM_IP}/24")


def build_lab(
    provider: Provider,
    *,
    provision: bool = True,
    firewall: FirewallProfile | None = None,
    clamp_supported: bool = True,
    clock: Callable[[], float] | None = None,
) -> Lab:
    """Build lab.md's topology for one provider profile.

    Args:
        provider: azure, aws, oci or gcp (NIC name; OCI adds the 1452 black hole).
        provision: do the provider step (secondary IP and NIC forwarding) now.
        firewall: the cloud router's host firewall; default "image-default" on OCI, else
            "none". "opened" is the image default plus the documented host rule.
        clamp_supported: whether the routers can install nftables MSS clamps (False makes
            every clamp apply fail, to show the transfer stall).
        clock: the world's clock (a ``ManualClock`` in tests).

    Returns:
        The lab; backends for the routers are ``SimBackend(lab.world, CLOUD_ROUTER)`` etc.
    """
    if provider not in CAPTURE_IFNAME:
        raise ValueError(f"unknown provider {provider!r}: one of {sorted(CAPTURE_IFNAME)}")
    world = World(clock=clock)
    lab = Lab(world, provider, CAPTURE_IFNAME[provider])
    _links(world, provider)
    _cloud(world, lab.capture_ifname, clamp_supported)
    _internet(world)
    _onprem(world, clamp_supported)
    profile = firewall or DEFAULT_FIREWALL.get(provider, "none")
    if profile != "none":
        world.hosts[CLOUD_ROUTER].firewall = image_default_firewall()
    if profile == "opened":
        lab.open_firewall()
    if provision:
        lab.provision()
    return lab


def _links(world: World, provider: str) -> None:
    world.add_fabric(FABRIC, SUBNET, FABRIC_GATEWAY)
    world.add_segment(ONPREM_LAN)
    black_hole = provider == "oci"
    world.add_segment(
        CLOUD_UPLINK, mtu=OCI_UNDERLAY_MTU if black_hole else 0, icmp_blackhole=black_hole
    )
    world.add_segment(ONPREM_UPLINK)


def _cloud(world: World, capif: str, clamp_supported: bool) -> None:
    world.add_host(CLOUD_VM)
    world.connect(CLOUD_VM, "eth0", FABRIC, address=f"{CLOUD_VM_IP}/24")
    world.add_route(CLOUD_VM, "0.0.0.0/0", gateway=FABRIC_GATEWAY, dev="eth0", proto="dhcp")
    router = world.add_host(CLOUD_ROUTER)
    router.clamp_supported = clamp_supported
    world.connect(CLOUD_ROUTER, capif, FABRIC, address=f"{CLOUD_ROUTER_IP}/24")
    world.connect(CLOUD_ROUTER, PUBLIC_IF, CLOUD_UPLINK, address=f"{CLOUD_PUBLIC_IP}/24")
    world.add_route(CLOUD_ROUTER, "0.0.0.0/0", gateway="203.0.113.1", dev=PUBLIC_IF, proto="dhcp")


def _internet(world: World) -> None:
    core = world.add_host(INTERNET)
    world.connect(INTERNET, "to-cloud", CLOUD_UPLINK, address="203.0.113.1/24")
    world.connect(INTERNET, "to-onprem", ONPREM_UPLINK, address="198.51.100.1/24")
    core.set_sysctl("net.ipv4.ip_forward", "1")


def _onprem(world: World, clamp_supported: bool) -> None:
    router = world.add_host(ONPREM_ROUTER)
    router.clamp_supported = clamp_supported
    world.connect(ONPREM_ROUTER, ONPREM_LAN_IF, ONPREM_LAN, address=f"{ONPREM_ROUTER_IP}/24")
    world.connect(ONPREM_ROUTER, PUBLIC_IF, ONPREM_UPLINK, address=f"{ONPREM_PUBLIC_IP}/24")
    world.add_route(ONPREM_ROUTER, "0.0.0.0/0", gateway="198.51.100.1", dev=PUBLIC_IF, proto="dhcp")
    world.add_host(ONPREM_VM)
    world.connect(ONPREM_VM, "eth0", ONPREM_LAN, address=f"{ONPREM_VM_IP}/24")
    world.add_route(ONPREM_VM, "0.0.0.0/0", gateway=ONPREM_GW_IP, dev="eth0", proto="dhcp")
    gw = world.add_host(ONPREM_GW)
    world.connect(ONPREM_GW, "eth0", ONPREM_LAN, address=f"{ONPREM_GW_IP}/24")
    gw.set_sysctl("net.ipv4.ip_forward", "1")
