"""The mobility part of a config, compiled once for the decisions that run per address.

``MobilityPlan.of(config)`` reads every ``AddressMobilityDomain`` with ``spec.mobility``,
the ``BGPSpeaker`` and the static claims inside mobile domains (pins), and answers what the
decisions ask thousands of times per pass without touching pydantic: which domain an
address belongs to (and whether it is mobile at all), which site a site identity names,
which overlay peer reaches a site. It also builds what the route exchange is started with
(``speaker_settings``, ``import_policy``) and what presence listens for (``watches``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from routerd.core.config import RouterConfig
from routerd.core.duration import parse_duration
from routerd.core.exchange import ImportPolicy, Neighbor, SpeakerSettings, ipv4_int
from routerd.core.mobility.gateway import gateway_ifname
from routerd.core.overlay import os_ifname
from routerd.core.resources import (
    AddressMobilityDomain,
    BGPSpeaker,
    CloudProviderProfile,
    RemoteAddressClaim,
    bare_name,
)
from routerd.core.resources.capture import Capture


@dataclass(frozen=True, slots=True)
class Site:
    """One site of a domain as the decisions see it.

    Attributes:
        name: the site's name (``site-a``).
        site_id: its identity on the wire.
        router_ids: its routers' BGP identifiers.
        peer_ref: the OverlayPeer reaching it ("" for the local site).
        kind: ``onprem`` or ``cloud``.
    """

    name: str
    site_id: int
    router_ids: tuple[str, ...]
    peer_ref: str
    kind: str


@dataclass(frozen=True)
class MobileDomain:
    """One mobile domain on this router.

    Attributes:
        name: the AddressMobilityDomain's name.
        prefix: its IPv4 prefix.
        local: the site this router serves.
        sites: every site by name.
        capture: how this router captures addresses homed elsewhere (as configured).
        capture_ifname: the capture interface's OS name (presence listens and probes there).
        capture_device: the OS device that answers for addresses homed elsewhere: the
            anycast-gateway device (a child of the capture interface) when the domain
            declares a gateway on an on-prem proxy-ARP site, so the answers carry the
            gateway MAC every on-prem site shares; else the capture interface.
        derived_capture: the capture derived claims carry: ``capture`` on
            ``capture_device``, announcing each new capture with a gratuitous ARP unless
            ``gratuitousARP: false`` is written (hosts that stayed behind repoint at once).
        gateway: the anycast gateway address ("" when none).
        gateway_mac: its MAC ("" when none).
        ignore_macs: MACs whose ARP never counts as presence (the gateway's included).
        probe_interval: seconds between presence probes of an address.
        absent_after: unanswered probes before an address counts as absent.
        stale_time: seconds a home learned over a session that went down is kept.
        router_id: this router's BGP identifier, the next hop of what it originates.
        provider: on a cloud site, the ``CloudProviderProfile`` its capture goes through
            (None on-prem, or when the capture names none).
        inventory_interval: on a cloud site, seconds between reads of the provider's
            inventory (presence there).
    """

    name: str
    prefix: str
    local: Site
    sites: Mapping[str, Site]
    capture: Capture
    capture_ifname: str
    capture_device: str
    derived_capture: Capture
    gateway: str
    gateway_mac: str
    ignore_macs: tuple[str, ...]
    probe_interval: float
    absent_after: int
    stale_time: float
    router_id: str = ""
    provider: CloudProviderProfile | None = field(default=None, compare=False)
    inventory_interval: float = 2.0
    _net: tuple[int, int] = field(repr=False, compare=False, default=(0, 0))
    _excluded: tuple[tuple[int, int], ...] = field(repr=False, compare=False, default=())
    _by_id: Mapping[int, Site] = field(repr=False, compare=False, default_factory=dict)

    def site_by_id(self, site_id: int) -> Site | None:
        """The site with that identity, None when this domain has no such site."""
        return self._by_id.get(site_id)

    def covers(self, value: int) -> bool:
        """Whether an address (as an integer) is inside the prefix."""
        net, mask = self._net
        return value & mask == net

    def mobile(self, value: int) -> bool:
        """Whether an address inside the prefix may move: not excluded, not the gateway,
        not the prefix's network or broadcast address."""
        net, mask = self._net
        if mask < 0xFFFFFFFE and value in (net, net | (~mask & 0xFFFFFFFF)):
            return False
        return not any(value & m == n for n, m in self._excluded)


def _net(cidr: str) -> tuple[int, int]:
    n = ipaddress.IPv4Network(cidr)
    return int(n.network_address), int(n.netmask)


def _domain(
    config: RouterConfig, dom: AddressMobilityDomain, router_id: str
) -> MobileDomain | None:
    m = dom.spec.mobility
    if m is None:
        return None
    sites = {
        s.name: Site(s.name, s.site_id, s.router_ids, s.peer_ref.split("/")[-1], s.kind)
        for s in m.sites
    }
    local = sites.get(m.local_site)
    if local is None:
        return None  # an invalid config never gets here; a plan never guesses
    gateway = m.gateway.address if m.gateway else ""
    gateway_mac = m.gateway.mac if m.gateway else ""
    excluded = [_net(e) for e in m.exclude]
    if gateway:
        excluded.append(_net(f"{gateway}/32"))
    ignore = tuple(
        dict.fromkeys([*((gateway_mac,) if gateway_mac else ()), *m.presence.ignore_macs])
    )
    capture_ifname = os_ifname(config, m.capture.interface) if m.capture.interface else ""
    derived, device = _derived_capture(m.capture, capture_ifname, dom.name, local, gateway)
    return MobileDomain(
        name=dom.name,
        prefix=dom.spec.prefix,
        local=local,
        sites=sites,
        capture=m.capture,
        capture_ifname=capture_ifname,
        capture_device=device,
        derived_capture=derived,
        gateway=gateway,
        gateway_mac=gateway_mac,
        ignore_macs=ignore,
        probe_interval=parse_duration(m.presence.probe_interval),
        absent_after=m.presence.absent_after,
        stale_time=parse_duration(m.stale_time),
        router_id=router_id,
        provider=_provider(config, m.capture) if local.kind == "cloud" else None,
        inventory_interval=parse_duration(m.presence.inventory_interval),
        _net=_net(dom.spec.prefix),
        _excluded=tuple(excluded),
        _by_id={s.site_id: s for s in sites.values()},
    )


def _provider(config: RouterConfig, capture: Capture) -> CloudProviderProfile | None:
    """The profile a cloud site's capture goes through (None when it names none)."""
    if not capture.provider_ref:
        return None
    return config.get(CloudProviderProfile, bare_name(capture.provider_ref, "CloudProviderProfile"))


def _derived_capture(
    capture: Capture, capture_ifname: str, domain: str, local: Site, gateway: str
) -> tuple[Capture, str]:
    """The capture of a domain's derived claims and the device answering for them (see
    ``MobileDomain.derived_capture``)."""
    if capture.type != "proxy-arp":
        return capture, capture_ifname
    announce = capture.gratuitous_arp if "gratuitous_arp" in capture.model_fields_set else True
    update: dict[str, object] = {"gratuitous_arp": announce}
    device = capture_ifname
    if gateway and local.kind == "onprem":
        device = gateway_ifname(domain)
        update["interface"] = device
    return capture.model_copy(update=update), device


@dataclass(frozen=True, slots=True)
class StaticPin:
    """A static RemoteAddressClaim inside a mobile domain: its address never moves.

    Attributes:
        address: the bare address.
        domain: the domain's name.
        site: the site the claim delivers to ("" when no site has the claim's peer).
        claim: the claim's name.
    """

    address: str
    domain: str
    site: str
    claim: str


@dataclass(frozen=True, slots=True)
class Watch:
    """What presence listens for on one on-prem capture interface.

    Attributes:
        domain: the domain's name.
        interface: the OS interface name.
        prefix: the domain prefix (addresses outside it are never evidence).
        ignore_macs: MACs whose frames never count (the anycast gateway, configured ones);
            the router's own MACs are the listener's to add.
        probe_interval: seconds between probes of one address.
        absent_after: unanswered probes before absence.
    """

    domain: str
    interface: str
    prefix: str
    ignore_macs: tuple[str, ...]
    probe_interval: float
    absent_after: int


class MobilityPlan:
    """Every mobile domain of a config, with the lookups the decisions need."""

    def __init__(
        self,
        domains: tuple[MobileDomain, ...],
        speaker: BGPSpeaker | None,
        pins: Mapping[str, StaticPin],
    ) -> None:
        self.domains = domains
        self.by_name = {d.name: d for d in domains}
        self.speaker = speaker
        self.static_pins = pins

    @classmethod
    def of(cls, config: RouterConfig) -> MobilityPlan:
        """Compile the mobility part of a valid config (empty when nothing is mobile)."""
        speakers = config.of(BGPSpeaker)
        router_id = speakers[0].spec.router_id if speakers else ""
        domains = tuple(
            d
            for d in (_domain(config, r, router_id) for r in config.of(AddressMobilityDomain))
            if d
        )
        plan = cls(domains, speakers[0] if speakers and domains else None, {})
        pins: dict[str, StaticPin] = {}
        for claim in config.of(RemoteAddressClaim):
            dom = plan.by_name.get(claim.spec.domain_ref.split("/")[-1])
            if dom is None:
                continue
            peer = claim.spec.delivery.peer_ref.split("/")[-1]
            site = next((s.name for s in dom.sites.values() if s.peer_ref == peer), "")
            pins[claim.ip] = StaticPin(claim.ip, dom.name, site, claim.name)
        plan.static_pins = pins
        return plan

    def __bool__(self) -> bool:
        return bool(self.domains)

    def domain_of(self, address: str) -> MobileDomain | None:
        """The mobile domain an address moves in; None when it is not mobile here
        (outside every mobile domain, excluded, the gateway, malformed)."""
        value = ipv4_int(address)
        if value is None:
            return None
        for d in self.domains:
            if d.covers(value):
                return d if d.mobile(value) else None
        return None

    def addresses(self, domain: MobileDomain) -> Iterator[str]:
        """Every mobile address of a domain (for small prefixes: tests, the doctor)."""
        net = ipaddress.IPv4Network(domain.prefix)
        for ip in net:
            if domain.mobile(int(ip)):
                yield str(ip)

    def watches(self) -> list[Watch]:
        """What presence should listen for: one entry per on-prem domain."""
        return [
            Watch(
                d.name,
                d.capture_ifname,
                d.prefix,
                d.ignore_macs,
                d.probe_interval,
                d.absent_after,
            )
            for d in self.domains
            if d.local.kind == "onprem" and d.capture_ifname
        ]

    def speaker_settings(self) -> SpeakerSettings | None:
        """How the route exchange's speaker is set up; None when nothing is mobile."""
        if self.speaker is None or not self.domains:
            return None
        s = self.speaker.spec
        return SpeakerSettings(
            asn=s.asn,
            site_id=self.domains[0].local.site_id,
            router_id=s.router_id,
            listen_address=s.listen_address,
            listen_port=s.listen_port,
            neighbors=tuple(
                Neighbor(
                    address=n.address,
                    description=n.description,
                    hold_time=int(parse_duration(n.hold_time)),
                    keepalive=int(parse_duration(n.keepalive_time)),
                )
                for n in s.neighbors
            ),
        )

    def import_policy(self) -> ImportPolicy | None:
        """The import rule's inputs: every mobile prefix and every site's routers."""
        if self.speaker is None or not self.domains:
            return None
        sites: dict[int, frozenset[str]] = {}
        for d in self.domains:
            for s in d.sites.values():
                sites[s.site_id] = sites.get(s.site_id, frozenset()) | frozenset(s.router_ids)
        return ImportPolicy(
            asn=self.speaker.spec.asn,
            domains=tuple(d.prefix for d in self.domains),
            sites=sites,
        )
