"""Cross-reference and address rules of a World file (after each field is well-formed).

Each rule says what is wrong and what to do, naming the item and field:

* names are unique per kind, and no host is called ``internet`` (the implicit core);
* every ``segment``/``site`` reference exists; a router's interfaces sit in its own site;
* cloud segments have ``subnet`` and ``gateway``, on-prem segments have neither; an address
  on a cloud segment lies inside its subnet; provider secondary addresses only exist there;
* no address is held twice on one link (two owners would make ARP ambiguous), and every
  gateway lies on its host's link;
* a router's config is a path or an inline Router document.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from typing import Any

from routerd.core.config import RouterConfig
from routerd.core.overlay import os_ifname
from routerd.core.resources import Interface, RemoteAddressClaim

from .findings import Findings
from .spec import INTERNET_HOST, WORLD_KIND, RouterSpec, WorldSpec

Owners = dict[tuple[str, str], str]  # (segment, address) -> "VM/x" or "Router/y"


def check_world(spec: WorldSpec, found: Findings) -> None:
    """Record every rule violation of ``spec`` in ``found``."""
    if not spec.spec.sites and not found.undecoded:
        found.issue(
            WORLD_KIND,
            ("spec", "sites"),
            "a world needs at least one site with a segment; see examples/worlds",
        )
    _unique_names(spec, found)
    _segments(spec, found)
    owners: Owners = {}
    _vms(spec, found, owners)
    _routers(spec, found, owners)


def _duplicates(names: list[str]) -> set[str]:
    return {n for n, c in Counter(names).items() if c > 1}


def _unique_names(spec: WorldSpec, found: Findings) -> None:
    body = spec.spec
    for dup in _duplicates([s.name for s in body.sites]):
        i = next(i for i, s in enumerate(body.sites) if s.name == dup)
        found.issue(f"Site/{dup}", (*found.item("sites", i), "name"), "site names must be unique")
    segs = [(i, j, g.name) for i, s in enumerate(body.sites) for j, g in enumerate(s.segments)]
    for dup in _duplicates([n for _, _, n in segs]):
        i, j = next((i, j) for i, j, n in segs if n == dup)
        at = (*found.item("sites", i), "segments", j, "name")
        found.issue(f"Segment/{dup}", at, "segment names must be unique across sites")
    hosts = [("vms", i, v.name) for i, v in enumerate(body.vms)]
    hosts += [("routers", i, r.name) for i, r in enumerate(body.routers)]
    dups = _duplicates([n for _, _, n in hosts])
    for kind, i, name in hosts:
        label = f"{'VM' if kind == 'vms' else 'Router'}/{name}"
        if name == INTERNET_HOST:
            found.issue(
                label,
                (*found.item(kind, i), "name"),
                "'internet' is the core joining the router uplinks; choose another name",
            )
        elif name in dups:
            found.issue(
                label, (*found.item(kind, i), "name"), "host names (VMs and routers) must be unique"
            )
            dups.discard(name)


def _segments(spec: WorldSpec, found: Findings) -> None:
    for i, site in enumerate(spec.spec.sites):
        for j, seg in enumerate(site.segments):
            at = (*found.item("sites", i), "segments", j)
            label = f"Segment/{seg.name}"
            if site.provider:
                for key in ("subnet", "gateway"):
                    if not getattr(seg, key):
                        found.issue(
                            label,
                            (*at, key),
                            f"required on a cloud segment (Site/{site.name} is {site.provider}): "
                            "the provider subnet and the gateway address the fabric answers as",
                        )
                if seg.subnet and seg.gateway and not _inside(seg.gateway, seg.subnet):
                    found.issue(label, (*at, "gateway"), f"{seg.gateway} is outside {seg.subnet}")
            else:
                for key in ("subnet", "gateway"):
                    if getattr(seg, key):
                        found.issue(
                            label,
                            (*at, key),
                            "only cloud segments (a site with "
                            "provider) have a subnet and gateway; remove it, or give "
                            f"Site/{site.name} a provider",
                        )


def _inside(address: str, subnet: str) -> bool:
    return ipaddress.IPv4Address(address.split("/")[0]) in ipaddress.IPv4Network(subnet)


def _on_segment(
    spec: WorldSpec,
    found: Findings,
    owners: Owners,
    *,
    label: str,
    at: tuple[Any, ...],
    segment: str,
    address: str,
) -> None:
    """The segment exists, the address fits it and is not held twice on it."""
    seg = spec.segments().get(segment)
    if seg is None and segment in found.undecoded:
        return
    if seg is None:
        known = ", ".join(sorted(spec.segments())) or "none"
        found.issue(label, (*at, "segment"), f"no segment {segment!r} (segments: {known})")
        return
    site, s = seg
    if site.provider and s.subnet and not _inside(address, s.subnet):
        found.issue(
            label,
            (*at, "address"),
            f"{address} is outside {s.subnet}, the subnet of Segment/{segment} in {site.provider}",
        )
    ip = address.split("/")[0]
    if (segment, ip) in owners:
        found.issue(
            label,
            (*at, "address"),
            f"{ip} is already held on Segment/{segment} by "
            f"{owners[(segment, ip)]}; give each host its own address",
        )
    owners[(segment, ip)] = label


def _vms(spec: WorldSpec, found: Findings, owners: Owners) -> None:
    for i, vm in enumerate(spec.spec.vms):
        at = found.item("vms", i)
        label = f"VM/{vm.name}"
        _on_segment(spec, found, owners, label=label, at=at, segment=vm.segment, address=vm.address)
        seg = spec.segments().get(vm.segment)
        on_prem = seg is not None and not seg[0].provider
        if vm.gateway and on_prem and not _inside(vm.gateway, _network(vm.address)):
            found.issue(
                label,
                (*at, "gateway"),
                f"{vm.gateway} is not on {_network(vm.address)}, "
                "the VM's link; use an address of that subnet",
            )


def _network(cidr: str) -> str:
    return str(ipaddress.IPv4Interface(cidr).network)


def _routers(spec: WorldSpec, found: Findings, owners: Owners) -> None:
    for i, router in enumerate(spec.spec.routers):
        at = found.item("routers", i)
        label = f"Router/{router.name}"
        if spec.site(router.site) is None and router.site not in found.undecoded:
            known = ", ".join(s.name for s in spec.spec.sites)
            found.issue(label, (*at, "site"), f"no site {router.site!r} (sites: {known})")
        if not isinstance(router.config, str | dict) or not router.config:
            found.issue(
                label,
                (*at, "config"),
                "give the Router config as a path (relative to "
                "the World file) or as the Router document inline",
            )
        _router_interfaces(spec, found, owners, router, at)
    _uplinks(spec, found)


def _router_interfaces(
    spec: WorldSpec, found: Findings, owners: Owners, router: RouterSpec, at: tuple[Any, ...]
) -> None:
    label = f"Router/{router.name}"
    names = [n.name for n in router.interfaces] + (
        [router.uplink.interface] if router.uplink else []
    )
    for dup in _duplicates(names):
        found.issue(label, (*at, "interfaces"), f"interface {dup!r} is named twice on this router")
    for j, nic in enumerate(router.interfaces):
        nat = (*at, "interfaces", j)
        _on_segment(
            spec, found, owners, label=label, at=nat, segment=nic.segment, address=nic.address
        )
        seg = spec.segments().get(nic.segment)
        if seg is None:
            continue
        site, s = seg
        if site.name != router.site:
            found.issue(
                label,
                (*nat, "segment"),
                f"Segment/{nic.segment} is in Site/{site.name}, "
                f"not in this router's site {router.site!r}",
            )
        if (nic.secondary_addresses or nic.forwarding) and not site.provider:
            found.issue(
                label,
                (*nat, "secondaryAddresses"),
                "secondary addresses and the NIC "
                "forwarding flag are provider settings: only on cloud segments",
            )
        for k, ip in enumerate(nic.secondary_addresses):
            if site.provider and s.subnet and not _inside(ip, s.subnet):
                found.issue(label, (*nat, "secondaryAddresses", k), f"{ip} is outside {s.subnet}")


def _uplinks(spec: WorldSpec, found: Findings) -> None:
    """Each uplink is its own subnet of the internet core, reached through its gateway."""
    seen: dict[ipaddress.IPv4Network, str] = {}
    for i, router in enumerate(spec.spec.routers):
        up = router.uplink
        if up is None:
            continue
        at = (*found.item("routers", i), "uplink")
        label = f"Router/{router.name}"
        net = ipaddress.IPv4Interface(up.address).network
        if not _inside(up.gateway, str(net)):
            found.issue(
                label,
                (*at, "gateway"),
                f"{up.gateway} is not on {net}; the gateway is "
                "the internet's address on the router's uplink subnet",
            )
        other = next((name for n, name in seen.items() if n.overlaps(net)), None)
        if other is not None:
            found.issue(
                label,
                (*at, "address"),
                f"{net} overlaps the uplink of Router/{other}; "
                "each router needs its own public subnet",
            )
        seen[net] = router.name


def check_fit(spec: WorldSpec, configs: dict[str, RouterConfig], found: Findings) -> None:
    """Warn when a router config names interfaces its world host does not have.

    Not an error: a claim whose capture interface is missing stays ``pending`` with
    ``capture-interface-missing``, which is a situation worth simulating on purpose.
    """
    for i, router in enumerate(spec.spec.routers):
        cfg = configs.get(router.name)
        if cfg is None:
            continue
        have = {n.name for n in router.interfaces}
        if router.uplink is not None:
            have.add(router.uplink.interface)
        wanted = {os_ifname(cfg, c.spec.capture.interface) for c in cfg.of(RemoteAddressClaim)}
        wanted |= {i.os_name for i in cfg.of(Interface)}
        for name in sorted(n for n in wanted - have if n):
            found.issue(
                f"Router/{router.name}",
                (*found.item("routers", i), "interfaces"),
                f"the router config uses interface {name!r}, which this router has "
                "not got in the world (claims capturing on it stay pending: "
                "capture-interface-missing); add it under interfaces",
                warn=True,
            )
