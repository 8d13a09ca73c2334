"""Validation of address mobility: the ``BGPSpeaker`` and every domain's ``spec.mobility``.

Each rule names the resource, the field path and what to do, and every finding is reported
at once, like the rest of ``routerd.core.validation`` (which runs ``check_mobility`` as one
of its checks). ``mobility_notes`` lists what is allowed but worth knowing: a static
``RemoteAddressClaim`` inside a mobile domain pins its address (``routerd validate``
prints these as info).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from routerd.core.config import RouterConfig
from routerd.core.duration import parse_duration
from routerd.core.errors import ConfigIssue
from routerd.core.mobility.gateway import gateway_device
from routerd.core.resources import (
    AddressMobilityDomain,
    BGPSpeaker,
    MobilitySpec,
    OverlayPeer,
    RemoteAddressClaim,
)

if TYPE_CHECKING:
    from routerd.core.validation import _Checker

M = "spec.mobility"
CaptureCheck = Callable[..., Any]
"""``routerd.core.validation.check_capture`` (passed in: that module runs this one)."""


def check_mobility(c: _Checker, check_capture: CaptureCheck) -> None:
    """Every mobility rule (run by ``routerd.core.validation`` as one of its checks).

    Args:
        c: the checker collecting findings.
        check_capture: the rules of a capture block, shared with ``RemoteAddressClaim``.
    """
    _speakers(c)
    mobile = [d for d in c.config.of(AddressMobilityDomain) if d.spec.mobility is not None]
    for dom in mobile:
        _domain(c, dom, check_capture)
    _overlaps(c)
    _shared_speakers(c, mobile)
    _shared_gateway_interfaces(c, mobile)
    _static_claims(c)


def _speakers(c: _Checker) -> None:
    speakers = c.config.of(BGPSpeaker)
    used = {
        d.spec.mobility.speaker_ref.split("/")[-1]
        for d in c.config.of(AddressMobilityDomain)
        if d.spec.mobility is not None
    }
    for extra in speakers[1:]:
        c.error(
            extra,
            "metadata.name",
            f"a router runs one BGP speaker and BGPSpeaker/{speakers[0].name} is already "
            "declared; list every neighbor in that one and point every domain's "
            "mobility.speakerRef at it",
        )
    for sp in speakers:
        seen: dict[str, int] = {}
        for i, n in enumerate(sp.spec.neighbors):
            path = f"spec.neighbors.{i}"
            if n.address in seen:
                c.error(
                    sp,
                    f"{path}.address",
                    f"{n.address} is already neighbors[{seen[n.address]}]; keep one entry per peer",
                )
            seen.setdefault(n.address, i)
            hold, keep = parse_duration(n.hold_time), parse_duration(n.keepalive_time)
            if keep > hold / 3:
                c.error(
                    sp,
                    f"{path}.keepaliveTime",
                    f"{n.keepalive_time} is more than a third of holdTime {n.hold_time}: a "
                    "single lost keepalive would drop the session; use at most "
                    f"{int(hold // 3)}s",
                )
            if n.address == sp.spec.router_id:
                c.error(sp, f"{path}.address", "is this router's own routerID; remove it")
        if not sp.spec.neighbors:
            c.warn(
                sp,
                "spec.neighbors",
                "empty: the speaker learns nothing and tells no other site where addresses "
                "live; add the route reflector(s) or the other sites' routers",
            )
        if sp.name not in used:
            c.warn(
                sp,
                "metadata.name",
                "no AddressMobilityDomain uses this speaker (spec.mobility.speakerRef); "
                "routerd does not start it",
            )


def _domain(c: _Checker, dom: AddressMobilityDomain, check_capture: CaptureCheck) -> None:
    m = dom.spec.mobility
    assert m is not None
    names: dict[str, int] = {}
    ids: dict[int, int] = {}
    routers: dict[str, str] = {}
    peers: dict[str, str] = {}
    local_known = any(s.name == m.local_site for s in m.sites)
    for i, site in enumerate(m.sites):
        path = f"{M}.sites.{i}"
        if site.name in names:
            c.error(dom, f"{path}.name", f"site {site.name!r} is already sites[{names[site.name]}]")
        names.setdefault(site.name, i)
        if site.site_id in ids:
            c.error(
                dom,
                f"{path}.siteID",
                f"siteID {site.site_id} is already used by sites[{ids[site.site_id]}]; every "
                "site needs its own identity (it is carried on the wire)",
            )
        ids.setdefault(site.site_id, i)
        for rid in site.router_ids:
            if rid in routers and routers[rid] != site.name:
                c.error(
                    dom,
                    f"{path}.routerIDs",
                    f"{rid} is also a router of site {routers[rid]!r}; a router serves one site",
                )
            routers.setdefault(rid, site.name)
        if site.name == m.local_site:
            if site.peer_ref:
                c.error(
                    dom,
                    f"{path}.peerRef",
                    "the local site is this router: it has no overlay peer; remove peerRef",
                )
            continue
        if not local_known and not site.peer_ref:
            continue  # which site is local is already reported; do not guess
        _site_peer(c, dom, path, site.peer_ref, site.router_ids)
        bare = site.peer_ref.split("/")[-1]
        if bare and bare in peers:
            c.error(
                dom,
                f"{path}.peerRef",
                f"OverlayPeer/{bare} already delivers to site {peers[bare]!r}; each site "
                "needs its own overlay peer",
            )
        peers.setdefault(bare, site.name)
    if m.local_site not in names:
        c.error(
            dom,
            f"{M}.localSite",
            f"{m.local_site!r} is not one of the sites ({', '.join(names)}); name the site "
            "this router serves",
        )
    _local_site(c, dom, m, check_capture)
    _gateway_and_exclude(c, dom, m)


def _site_peer(
    c: _Checker, dom: AddressMobilityDomain, path: str, ref: str, router_ids: tuple[str, ...]
) -> None:
    if not ref:
        c.error(
            dom,
            f"{path}.peerRef",
            "required for every site but the local one: the OverlayPeer that reaches that "
            "site's router (addresses homed there are delivered through it)",
        )
        return
    peer = c.ref(dom, f"{path}.peerRef", ref, OverlayPeer)
    if not isinstance(peer, OverlayPeer):
        return
    if not peer.spec.underlay.interface:
        c.error(
            dom,
            f"{path}.peerRef",
            f"OverlayPeer/{peer.name} has no spec.underlay.interface: derived claims are "
            "delivered through that device; set it",
        )
    remote = peer.spec.remote.address
    if remote and remote not in router_ids:
        c.warn(
            dom,
            f"{path}.peerRef",
            f"OverlayPeer/{peer.name} reaches {remote}, which is not one of this site's "
            f"routerIDs ({', '.join(router_ids)}): check that the peer and the site match "
            "(by convention a router's routerID is its overlay address)",
        )


def _local_site(
    c: _Checker, dom: AddressMobilityDomain, m: MobilitySpec, check_capture: CaptureCheck
) -> None:
    local = next((s for s in m.sites if s.name == m.local_site), None)
    speaker = c.ref(dom, f"{M}.speakerRef", m.speaker_ref, BGPSpeaker)
    if local is None:
        return
    index = m.sites.index(local)
    if isinstance(speaker, BGPSpeaker) and speaker.spec.router_id not in local.router_ids:
        c.error(
            dom,
            f"{M}.sites.{index}.routerIDs",
            f"BGPSpeaker/{speaker.name} routerID {speaker.spec.router_id} is not one of the "
            f"local site's routerIDs: other sites would refuse this router's homes "
            f"(foreign-site-identity); add {speaker.spec.router_id}",
        )
    cap = m.capture
    want = "provider-secondary-ip" if local.kind == "cloud" else "proxy-arp"
    if cap.type != want:
        why = (
            "a cloud fabric answers ARP itself, so only the provider's secondary IP captures"
            if local.kind == "cloud"
            else "an on-prem segment is captured by answering ARP for the address"
        )
        c.error(
            dom,
            f"{M}.capture.type",
            f"the local site {local.name!r} is {local.kind}: {why}; use type: {want} (or fix "
            f"sites[{index}].kind)",
        )
        return
    check_capture(c, dom, f"{M}.capture", cap, declared=cap.type == "proxy-arp")


def _gateway_and_exclude(c: _Checker, dom: AddressMobilityDomain, m: MobilitySpec) -> None:
    prefix = ipaddress.IPv4Network(dom.spec.prefix)
    local = next((s for s in m.sites if s.name == m.local_site), None)
    for i, entry in enumerate(m.exclude):
        if not ipaddress.IPv4Network(entry).overlaps(prefix):
            c.warn(
                dom,
                f"{M}.exclude.{i}",
                f"{entry} is outside the domain prefix {prefix}: it excludes nothing; remove it",
            )
    gw = m.gateway
    if gw is None:
        if local is not None and local.kind == "onprem":
            c.warn(
                dom,
                f"{M}.gateway",
                "not set: a VM that moves here keeps its default gateway, so every on-prem "
                "site should answer for it with the same IP and MAC; set address and mac",
            )
        return
    if local is not None and local.kind == "cloud":
        c.warn(
            dom,
            f"{M}.gateway",
            "ignored at a cloud site (the provider's fabric is the gateway there)",
        )
    ip = ipaddress.IPv4Address(gw.address)
    if ip not in prefix:
        c.error(
            dom,
            f"{M}.gateway.address",
            f"{ip} is outside the domain prefix {prefix}: the gateway VMs use lives inside "
            "their subnet; fix the address",
        )
    for i, entry in enumerate(m.exclude):
        if ip in ipaddress.IPv4Network(entry):
            c.warn(
                dom,
                f"{M}.exclude.{i}",
                f"{entry} covers the gateway {ip}, which is never mobile anyway; remove it "
                "from exclude unless it also covers other addresses",
            )
    if not int(gw.mac[:2], 16) & 2:
        c.warn(
            dom,
            f"{M}.gateway.mac",
            f"{gw.mac} is a universally administered (vendor) MAC; use a locally "
            "administered one (second-lowest bit of the first octet set, like 02:...) so "
            "it cannot clash with a real NIC",
        )


def _shared_gateway_interfaces(c: _Checker, mobile: list[AddressMobilityDomain]) -> None:
    """One anycast-gateway device per capture interface: two would both proxy-answer, each
    with its own MAC, for every address captured on that segment."""
    first: dict[str, AddressMobilityDomain] = {}
    for dom in sorted(mobile, key=lambda d: d.name):
        device = gateway_device(c.config, dom)
        if device is None:
            continue
        other = first.setdefault(device.parent, dom)
        if other is not dom:
            c.error(
                dom,
                f"{M}.gateway",
                f"capture interface {device.parent} already carries the anycast gateway of "
                f"AddressMobilityDomain/{other.name}: two gateway devices on one interface "
                "would both answer for every captured address, with different MACs; give "
                "each domain its own capture interface (a VLAN) or declare one gateway",
            )


def _overlaps(c: _Checker) -> None:
    domains = c.config.of(AddressMobilityDomain)
    nets = [ipaddress.IPv4Network(d.spec.prefix) for d in domains]
    for i, dom in enumerate(domains):
        for j in range(i):
            if not nets[i].overlaps(nets[j]):
                continue
            if dom.spec.mobility is None and domains[j].spec.mobility is None:
                continue
            c.error(
                dom,
                "spec.prefix",
                f"{nets[i]} overlaps AddressMobilityDomain/{domains[j].name} ({nets[j]}), "
                "and one of them is mobile: an address must belong to one domain; split "
                "the prefixes",
            )


def _shared_speakers(c: _Checker, mobile: list[AddressMobilityDomain]) -> None:
    """Domains on one speaker share its import rule: site identities must agree."""
    first: dict[str, tuple[AddressMobilityDomain, int, dict[int, frozenset[str]]]] = {}
    for dom in mobile:
        m = dom.spec.mobility
        assert m is not None
        local = next((s for s in m.sites if s.name == m.local_site), None)
        if local is None:
            continue
        sites = {s.site_id: frozenset(s.router_ids) for s in m.sites}
        key = m.speaker_ref.split("/")[-1]
        if key not in first:
            first[key] = (dom, local.site_id, sites)
            continue
        other, local_id, other_sites = first[key]
        if local.site_id != local_id:
            c.error(
                dom,
                f"{M}.localSite",
                f"the local site has siteID {local.site_id} here but {local_id} in "
                f"AddressMobilityDomain/{other.name}, which shares BGPSpeaker/{key}: a "
                "router announces one site identity; use the same siteID",
            )
        for i, s in enumerate(m.sites):
            known = other_sites.get(s.site_id)
            if known is not None and known != frozenset(s.router_ids):
                c.error(
                    dom,
                    f"{M}.sites.{i}.routerIDs",
                    f"siteID {s.site_id} has routerIDs {sorted(known)} in "
                    f"AddressMobilityDomain/{other.name}, which shares BGPSpeaker/{key}; "
                    "one site identity must name the same routers everywhere",
                )


def _static_claims(c: _Checker) -> None:
    for claim in c.config.of(RemoteAddressClaim):
        dom = c.config.get(AddressMobilityDomain, claim.spec.domain_ref)
        if dom is None or dom.spec.mobility is None:
            continue
        m = dom.spec.mobility
        ip = claim.ip
        if m.gateway is not None and ip == m.gateway.address:
            c.error(
                claim,
                "spec.address",
                f"{ip} is the anycast gateway of AddressMobilityDomain/{dom.name}: every "
                "site answers for it itself; remove this claim",
            )
            continue
        peer = claim.spec.delivery.peer_ref.split("/")[-1]
        if not any(s.peer_ref.split("/")[-1] == peer for s in m.sites if s.peer_ref):
            c.warn(
                claim,
                "spec.delivery.peerRef",
                f"OverlayPeer/{peer} is no site's peerRef in AddressMobilityDomain/"
                f"{dom.name}: routerd cannot tell which site this claim pins the address "
                "to; deliver through the site's peer",
            )


def mobility_notes(config: RouterConfig) -> list[ConfigIssue]:
    """What is allowed but worth knowing: each static claim inside a mobile domain is a pin.

    Args:
        config: a valid config.

    Returns:
        One note per static claim in a mobile domain (``Kind/name``, path, what it means).
    """
    out = []
    for claim in config.of(RemoteAddressClaim):
        dom = config.get(AddressMobilityDomain, claim.spec.domain_ref)
        if dom is None or dom.spec.mobility is None:
            continue
        peer = claim.spec.delivery.peer_ref.split("/")[-1]
        site = next(
            (s.name for s in dom.spec.mobility.sites if s.peer_ref.split("/")[-1] == peer),
            f"the site behind OverlayPeer/{peer}",
        )
        out.append(
            ConfigIssue(
                claim.ref,
                "spec.address",
                f"pins {claim.ip} at {site}: AddressMobilityDomain/{dom.name} is mobile, but "
                "a static claim never moves with presence or BGP; remove the claim to let "
                "the address follow its VM",
                None,
                config.file,
            )
        )
    return out
