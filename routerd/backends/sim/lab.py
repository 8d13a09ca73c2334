"""The namespace lab's topology (docs/lab.md) in the simulation, and its operator steps.

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

The topology itself is data: ``examples/worlds/<provider>.yaml``, the World file
``routerd serve --backend sim --world`` serves. The names below are that file's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from routerd.examples import world_file

from .fabric import ProviderFabric
from .nft import Firewall, documented_host_rules, image_default_firewall
from .world import World

Provider = Literal["azure", "aws", "oci", "gcp"]
FirewallProfile = Literal["none", "image-default", "opened"]

CAPTURE_IFNAME: dict[str, str] = {"azure": "eth0", "aws": "ens5", "oci": "ens3", "gcp": "ens4"}
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
        """The guest agent puts the secondary IP back on the router's NIC."""
        self.world.agent_add_address(CLOUD_ROUTER, self.capture_ifname, f"{ONPREM_VM_IP}/24")


def build_lab(
    provider: Provider,
    *,
    provision: bool = True,
    firewall: FirewallProfile | None = None,
    clamp_supported: bool = True,
    clock: Callable[[], float] | None = None,
) -> Lab:
    """Build the lab for one provider from its World file (``examples/worlds/<provider>``).

    Args:
        provider: azure, aws, oci or gcp (NIC name; OCI adds the 1452 black hole and the
            image firewall).
        provision: keep the provider step (secondary IP and NIC forwarding) the World file
            declares; False undoes it.
        firewall: the cloud router's host firewall instead of the World file's ("none",
            "image-default", or "opened": the image default plus the documented host rule).
        clamp_supported: whether the routers can install nftables MSS clamps (False makes
            every clamp apply fail, to show the transfer stall).
        clock: the world's clock (a ``ManualClock`` in tests).

    Returns:
        The lab; backends for the routers are ``SimBackend(lab.world, CLOUD_ROUTER)`` etc.
    """
    if provider not in CAPTURE_IFNAME:
        raise ValueError(f"unknown provider {provider!r}: one of {sorted(CAPTURE_IFNAME)}")
    from .worldfile.build import build_world
    from .worldfile.load import load_world_file

    loaded = load_world_file(world_file(provider))
    world = build_world(loaded.raise_for_errors(), clock=clock)
    lab = Lab(world, provider, CAPTURE_IFNAME[provider])
    for router in (CLOUD_ROUTER, ONPREM_ROUTER):
        world.hosts[router].clamp_supported = clamp_supported
    if firewall is not None:
        cloud = world.hosts[CLOUD_ROUTER]
        cloud.firewall = image_default_firewall() if firewall != "none" else Firewall()
        if firewall == "opened":
            lab.open_firewall()
    if not provision:
        lab.fabric.unassign(ONPREM_VM_IP)
        lab.fabric.set_forwarding((CLOUD_ROUTER, lab.capture_ifname), False)
    return lab
