"""The World file: a simulated network described in YAML (``sim.routerd.net/v1alpha1``).

One ``kind: World`` document describes everything the simulator builds:

* **sites** — an on-prem site or a cloud site (``provider``); each holds its **segments**.
  A segment of an on-prem site is an L2 bridge; a segment of a cloud site is the provider's
  virtual network (a fabric: it answers ARP for the whole subnet and delivers each address
  to the NIC it is assigned to). A cloud site's **quirks** are what that cloud does to
  routers in it: a narrower underlay hop that black-holes ICMP (OCI), an image firewall,
  a guest agent that re-adds provider addresses to the router's NIC;
* **vms** — hosts with one interface on a segment (address, MAC, default gateway);
* **routers** — hosts that run routerd: interfaces on segments (with provider-assigned
  secondary addresses on cloud segments), an **uplink** to the internet, and the router
  config (a path relative to the World file, or the Router document inline);
* the **internet** — one core host joining every router uplink (implicit: its address on
  each link is that router's uplink gateway);
* the **clock** — virtual time, which only moves when asked (``AdvanceClock``);
* the **reflector** — the BGP route reflector every router's speaker peers with for
  address mobility (implicit unless declared: ``reflector:`` sets its address and timing).

Specs are frozen and reject unknown keys, as router configs do, so a typo is an error a
person sees. Cross-references (segment names, sites, peers) are checked by
``routerd.backends.sim.worldfile.load``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from routerd.core.resources.base import (
    Metadata,
    Spec,
    check_duration,
    check_ipv4,
    check_ipv4_cidr,
    check_ipv4_interface,
)

WORLD_API_VERSION = "sim.routerd.net/v1alpha1"
WORLD_KIND = "World"
INTERNET_HOST = "internet"
"""The name of the implicit internet core host (no VM or router may use it)."""

Provider = Literal["azure", "aws", "oci", "gcp"]
FirewallProfile = Literal["none", "image-default", "opened"]


def check_mac(v: str) -> str:
    """A colon-separated MAC address, lower-cased ("" stays "")."""
    parts = v.lower().split(":")
    if v and (len(parts) != 6 or not all(len(p) == 2 and _hex(p) for p in parts)):
        raise ValueError(f"{v!r} is not a MAC address (for example 02:00:00:00:00:21)")
    return v.lower()


def _hex(text: str) -> bool:
    return all(c in "0123456789abcdef" for c in text)


class Item(Spec):
    """Base of the World file's parts: a router config's rules, field docs from docstrings."""

    model_config = ConfigDict(use_attribute_docstrings=True)


class Quirks(Item):
    """What a cloud does to the routers in it."""

    path_mtu: int = Field(0, ge=0, le=9216, alias="pathMTU")
    """A narrower hop on the underlay out of this site (0 = none): outer packets above it
    are dropped (OCI: 1452)."""
    icmp_blackhole: bool = False
    """With ``pathMTU``: the hop sends no ICMP "fragmentation needed" back."""
    image_firewall: FirewallProfile = "none"
    """The host firewall routers here boot with: ``image-default`` rejects all FORWARD and
    all INPUT but SSH and ICMP (OCI's images); ``opened`` adds the documented host rule."""
    guest_agent_readds: str = ""
    """A guest agent re-adds every provider-assigned secondary address to the router's NIC
    at this interval of virtual time (``60s``; "" = no such agent)."""

    @field_validator("guest_agent_readds")
    @classmethod
    def _every(cls, v: str) -> str:
        return check_duration(v) if v else v


class SegmentSpec(Item):
    """A link: an L2 bridge on-prem, the provider's subnet in a cloud site."""

    name: str
    """Unique across the world; VMs and router interfaces name it."""
    subnet: str = ""
    """Cloud segments: the provider subnet (required there)."""
    gateway: str = ""
    """Cloud segments: the gateway address the fabric answers as (required there)."""
    mtu: int = Field(0, ge=0, le=9216)
    """A narrower hop inside the segment (0 = none)."""
    icmp_blackhole: bool = False
    """With ``mtu``: the hop sends no ICMP "fragmentation needed" back."""

    @field_validator("subnet")
    @classmethod
    def _subnet(cls, v: str) -> str:
        return check_ipv4_cidr(v) if v else v

    @field_validator("gateway")
    @classmethod
    def _gateway(cls, v: str) -> str:
        return check_ipv4(v) if v else v


class SiteSpec(Item):
    """A place addresses live: on-prem (no provider) or one cloud's network."""

    name: str
    """Unique; routers name their site."""
    provider: Provider | None = None
    """azure, aws, oci or gcp for a cloud site (its segments are provider fabrics); unset
    for on-prem."""
    quirks: Quirks = Quirks()
    """Cloud sites: what this cloud does to routers in it."""
    segments: tuple[SegmentSpec, ...] = ()
    """The site's links."""


class VmSpec(Item):
    """A host with one interface (a VM, or a plain gateway with ``forwarding: true``)."""

    name: str
    """Unique among hosts (VMs and routers); traces and moves name it."""
    segment: str
    """Where it is plugged in at start (``MoveVm`` moves it)."""
    address: str
    """Interface form, ``10.40.8.21/24``."""
    gateway: str = ""
    """Default gateway ("" = none)."""
    mac: str = ""
    """The interface MAC ("" = one the simulator picks)."""
    interface: str = "eth0"
    """The interface name."""
    mtu: int = Field(1500, ge=576, le=9216)
    """The interface MTU."""
    forwarding: bool = False
    """``ip_forward=1`` (an on-prem gateway)."""

    @field_validator("address")
    @classmethod
    def _address(cls, v: str) -> str:
        return check_ipv4_interface(v)

    @field_validator("gateway")
    @classmethod
    def _gateway(cls, v: str) -> str:
        return check_ipv4(v) if v else v

    @field_validator("mac")
    @classmethod
    def _mac(cls, v: str) -> str:
        return check_mac(v)


class RouterInterfaceSpec(Item):
    """One router NIC on a segment."""

    name: str
    """The OS interface name (the router config's ``Interface.ifname`` and capture
    interfaces name it)."""
    segment: str
    """A segment of the router's site."""
    address: str
    """Interface form; on a cloud segment also the NIC's primary private IP."""
    mtu: int = Field(1500, ge=576, le=9216)
    """The interface MTU."""
    secondary_addresses: tuple[str, ...] = ()
    """Cloud segments: private IPs the provider assigned to this NIC besides its primary
    (the provider step of a provider-secondary-ip capture)."""
    forwarding: bool = False
    """Cloud segments: the NIC's forwarding flag (Azure IP forwarding, AWS source/dest
    check off, OCI skipSourceDestCheck, GCP canIpForward)."""

    @field_validator("address")
    @classmethod
    def _address(cls, v: str) -> str:
        return check_ipv4_interface(v)

    @field_validator("secondary_addresses")
    @classmethod
    def _secondaries(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(check_ipv4(a.removesuffix("/32")) for a in v)


class UplinkSpec(Item):
    """The router's link to the internet core."""

    address: str
    """The router's public address, interface form (``203.0.113.10/24``)."""
    gateway: str
    """The internet's address on this link (the router's default gateway)."""
    interface: str = "public"
    """The router's interface name."""
    mtu: int = Field(1500, ge=576, le=9216)
    """The interface MTU (the path MTU is the site's ``quirks.pathMTU``)."""
    segment: str = ""
    """Name of the link ("" = ``<router>-uplink``)."""
    internet_interface: str = ""
    """The internet core's interface on this link ("" = ``to-<router>``)."""

    @field_validator("address")
    @classmethod
    def _address(cls, v: str) -> str:
        return check_ipv4_interface(v)

    @field_validator("gateway")
    @classmethod
    def _gateway(cls, v: str) -> str:
        return check_ipv4(v)


class RouterSpec(Item):
    """A host running routerd."""

    name: str
    """Unique among hosts; names its socket (``<name>.sock``) and state directory."""
    site: str
    """Its site; its interfaces' segments belong to it."""
    config: Any = None
    """The Router config: a path (relative to the World file) or the document inline."""
    interfaces: tuple[RouterInterfaceSpec, ...] = ()
    """Its NICs on the site's segments."""
    uplink: UplinkSpec | None = None
    """Its link to the internet (no uplink: it can reach no other router)."""
    firewall: FirewallProfile | None = None
    """Host firewall (default: the site's ``quirks.imageFirewall``)."""
    clamp_supported: bool = True
    """False: every nftables MSS clamp install fails (a kernel without the feature)."""
    peers: dict[str, str] = Field(default_factory=dict)
    """WireGuardPeer name -> the router it stands for. Only needed when the simulator cannot
    tell: a peer whose endpoint is another router's uplink address, or any peer in a world of
    two routers, is paired by itself. ``reflector``: the peer is the tunnel to the BGP route
    reflector, which the simulated reflector does not need (the peer is left as written)."""


class ClockSpec(Item):
    """Virtual time."""

    start: float | None = Field(None, ge=0)
    """Epoch seconds at start (default: the wall clock when the world starts)."""


class ReflectorSpec(Item):
    """The BGP route reflector of the world (address mobility). Without this section the
    world has an implicit one: it answers at every neighbor address a router's BGPSpeaker
    names that is no router's, with the timing defaults below."""

    address: str = ""
    """The reflector's address: routers' speakers name it as a neighbor ("" = implicit)."""
    router_id: str = Field("", alias="routerID")
    """Its BGP identifier ("" = its address)."""
    asn: int = Field(0, ge=0, le=4294967295)
    """The AS number it runs and filters with (0 = each client's own)."""
    domains: tuple[str, ...] = ()
    """The mobility domain prefixes it accepts /32s inside (empty = every prefix a client
    declares)."""
    delay: str = "1ms"
    """Virtual time one BGP update takes per session hop (router to reflector, reflector to
    router): a path crosses the reflector in twice this."""
    reconnect: str = "1s"
    """Virtual time before a session that dropped (hold timer expired in a partition) comes
    back once the partition heals."""

    @field_validator("address", "router_id")
    @classmethod
    def _address(cls, v: str) -> str:
        return check_ipv4(v) if v else v

    @field_validator("domains")
    @classmethod
    def _domains(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(check_ipv4_cidr(d) for d in v)

    @field_validator("delay", "reconnect")
    @classmethod
    def _duration(cls, v: str) -> str:
        return check_duration(v)


class WorldBody(Item):
    """The ``spec`` of a World."""

    clock: ClockSpec = ClockSpec()
    """Virtual time."""
    reflector: ReflectorSpec | None = None
    """The BGP route reflector (address mobility); implicit when absent."""
    sites: tuple[SiteSpec, ...] = ()
    """At least one."""
    vms: tuple[VmSpec, ...] = ()
    """Hosts that are not routers."""
    routers: tuple[RouterSpec, ...] = ()
    """Hosts that run routerd (one daemon each)."""


class WorldSpec(BaseModel):
    """The whole World document."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    api_version: str = Field(alias="apiVersion")
    kind: str
    metadata: Metadata
    spec: WorldBody

    @property
    def name(self) -> str:
        return self.metadata.name

    def segments(self) -> dict[str, tuple[SiteSpec, SegmentSpec]]:
        """Segment name -> (its site, the segment)."""
        return {seg.name: (site, seg) for site in self.spec.sites for seg in site.segments}

    def site(self, name: str) -> SiteSpec | None:
        return next((s for s in self.spec.sites if s.name == name), None)

    def router(self, name: str) -> RouterSpec | None:
        return next((r for r in self.spec.routers if r.name == name), None)

    def vm(self, name: str) -> VmSpec | None:
        return next((v for v in self.spec.vms if v.name == name), None)

    def firewall_of(self, router: RouterSpec) -> FirewallProfile:
        site = self.site(router.site)
        return router.firewall or (site.quirks.image_firewall if site else "none")
