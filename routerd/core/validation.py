"""Cross-field and cross-resource validation of a Router config.

Single-field rules live on the models; everything that relates two fields or two resources
lives here so each finding can name the exact path: dangling references, addresses outside
their domain, duplicate claims (D5 in docs/decisions.md), collisions with user routes, reserved
overlay ranges (D13), HybridRoute lowering collisions, and the warnings an operator should read
before the first packet is dropped (uncovered allowed IPs, undeclared interfaces, capability
mismatch).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence

from routerd.core.config import RouterConfig
from routerd.core.errors import ConfigIssue
from routerd.core.overlay import (
    claim_tunnel,
    interface_names,
    os_ifname,
    reserved_overlay_net,
    wireguard_peer_for,
)
from routerd.core.redundancy import check_redundancy
from routerd.core.resources import (
    AddressMobilityDomain,
    CloudProviderProfile,
    DynamicConfigSource,
    DynamicOverridePolicy,
    HybridRoute,
    IPv4Route,
    IPv4StaticAddress,
    OverlayPeer,
    Plugin,
    RemoteAddressClaim,
    Resource,
    Sysctl,
    WireGuardInterface,
    WireGuardPeer,
    bare_name,
)
from routerd.core.resources.capture import Capture
from routerd.core.validation_mobility import check_mobility


def route_slug(cidr: str) -> str:
    """``10.30.0.0/16`` -> ``10-30-0-0-16``: the Go implementation's synthetic-name slug."""
    return re.sub(r"[^A-Za-z0-9]+", "-", cidr).strip("-")


class _Checker:
    def __init__(self, config: RouterConfig, undecoded: frozenset[tuple[str, str]]) -> None:
        self.config = config
        self.undecoded = undecoded
        self.errors: list[ConfigIssue] = []
        self.warnings: list[ConfigIssue] = []
        self._pos = {id(r): i for i, r in enumerate(config.resources)}
        self._networks: dict[str, ipaddress.IPv4Network] = {}
        self._interface_names: set[str] | None = None

    def in_prefix(self, address: str, prefix: str) -> bool:
        """``IPv4Network(address).subnet_of(IPv4Network(prefix))``, parsing each domain
        prefix once and a claim's ``/32`` as an address (validating 10,000 claims spent
        two thirds of its time in ipaddress)."""
        net = self._networks.get(prefix)
        if net is None:
            net = self._networks[prefix] = ipaddress.IPv4Network(prefix)
        if address.endswith("/32"):
            return ipaddress.IPv4Address(address[:-3]) in net
        return ipaddress.IPv4Network(address).subnet_of(net)

    def interface_names(self) -> set[str]:
        if self._interface_names is None:
            self._interface_names = interface_names(self.config)
        return self._interface_names

    def _issue(self, res: Resource, path: str, msg: str) -> ConfigIssue:
        idx = self._pos.get(id(res))
        line = self.config.line_of(idx, path) if idx is not None else None
        return ConfigIssue(res.ref, path, msg, line, self.config.file)

    def error(self, res: Resource, path: str, msg: str) -> None:
        self.errors.append(self._issue(res, path, msg))

    def warn(self, res: Resource, path: str, msg: str) -> None:
        self.warnings.append(self._issue(res, path, msg))

    def ref(
        self, res: Resource, path: str, value: str, kind: type[Resource], *, required: bool = True
    ) -> Resource | None:
        if not value:
            if required:
                self.error(res, path, f"required: name the {kind.KIND} to use")
            return None
        target = self.config.get(kind, value)
        if target is None and (kind.KIND, bare_name(value, kind.KIND)) in self.undecoded:
            return None  # already reported where it is declared; don't cascade
        if target is None:
            names = ", ".join(sorted(r.name for r in self.config.of(kind))) or "none declared"
            self.error(
                res,
                path,
                f"{kind.KIND} {value!r} does not exist (declared: {names}); "
                f"declare it or fix the reference",
            )
        return target


def _unique_identities(c: _Checker) -> None:
    seen: dict[tuple[str, str], Resource] = {}
    for r in c.config:
        key = (r.kind, r.name)
        if key in seen:
            c.error(r, "metadata.name", f"{r.ref} is declared twice; names are unique per kind")
        seen[key] = r


def _claims(c: _Checker) -> None:
    cfg = c.config
    by_addr: dict[str, RemoteAddressClaim] = {}
    user_routes = {r.spec.destination: r for r in cfg.of(IPv4Route)}
    for claim in cfg.of(RemoteAddressClaim):
        s = claim.spec
        domain = c.ref(claim, "spec.domainRef", s.domain_ref, AddressMobilityDomain)
        if isinstance(domain, AddressMobilityDomain) and not c.in_prefix(
            s.address, domain.spec.prefix
        ):
            c.error(
                claim,
                "spec.address",
                f"{s.address} is outside AddressMobilityDomain/{domain.name} "
                f"({domain.spec.prefix}); claim an address inside the domain prefix",
            )
        peer = c.ref(claim, "spec.delivery.peerRef", s.delivery.peer_ref, OverlayPeer)
        if s.address in by_addr:
            c.error(
                claim,
                "spec.address",
                f"{s.address} is already claimed by {by_addr[s.address].ref}; one address "
                "has exactly one claim per router: remove one of them",
            )
        else:
            by_addr[s.address] = claim
        if s.address in user_routes:
            c.error(
                claim,
                "spec.address",
                f"{s.address} collides with {user_routes[s.address].ref} (same destination); "
                "the claim installs its own /32 delivery route: remove the IPv4Route",
            )
        check_capture(c, claim, "spec.capture", s.capture)
        if isinstance(peer, OverlayPeer) and not claim_tunnel(cfg, claim):
            c.error(
                claim,
                "spec.delivery.tunnelInterface",
                f"no delivery device: set tunnelInterface or "
                f"OverlayPeer/{peer.name} spec.underlay.interface",
            )
        if isinstance(peer, OverlayPeer):
            _coverage(c, claim, peer)
        side = {"proxy-arp": "cloud", "provider-secondary-ip": "onprem"}.get(s.capture.type)
        mobile = isinstance(domain, AddressMobilityDomain) and domain.spec.mobility is not None
        if side and s.owner_side != side and not mobile:  # sites of either kind move
            c.warn(
                claim,
                "spec.ownerSide",
                f"ownerSide {s.owner_side!r} with {s.capture.type} capture is unusual: "
                f"{s.capture.type} captures an address owned by the {side} side",
            )


def check_capture(
    c: _Checker, res: Resource, path: str, cap: Capture, *, declared: bool = False
) -> None:
    """The capture block of a claim or of a mobility domain (``path`` leads to it).

    Args:
        declared: the capture interface must be a declared Interface (a mobility domain
            listens for its hosts there), not merely an OS interface name.
    """
    if cap.type == "provider-secondary-ip":
        prof = c.ref(res, f"{path}.providerRef", cap.provider_ref, CloudProviderProfile)
        if not cap.provider_mode:
            c.error(
                res,
                f"{path}.providerMode",
                "required for provider-secondary-ip: the provider capability used to "
                "capture (for example nic-secondary-ip)",
            )
        if not cap.nic_ref:
            c.error(
                res,
                f"{path}.nicRef",
                "required for provider-secondary-ip: the NIC holding the secondary IP "
                "(Azure NIC ID, AWS eni-..., OCI ocid1.vnic..., GCP instance NIC)",
            )
        if (
            isinstance(prof, CloudProviderProfile)
            and cap.provider_mode
            and cap.provider_mode not in prof.spec.capabilities
        ):
            c.warn(
                res,
                f"{path}.providerMode",
                f"{cap.provider_mode!r} is not in CloudProviderProfile/{prof.name} "
                "capabilities; the provider profile may not support this capture mode",
            )
        if not cap.interface:
            c.warn(
                res,
                f"{path}.interface",
                "not set: set it to the NIC's OS name (for example eth0) so the MSS clamp "
                "and doctor know the capture path",
            )
    elif cap.type == "proxy-arp":
        if not cap.interface:
            c.error(
                res,
                f"{path}.interface",
                "required for proxy-arp: the LAN interface that answers ARP for the "
                "address (for example ens19)",
            )
        elif cap.interface not in c.interface_names():
            (c.error if declared else c.warn)(
                res,
                f"{path}.interface",
                f"{cap.interface!r} is not a declared Interface; "
                + (
                    "declare it (kind Interface): routerd listens for the domain's hosts there"
                    if declared
                    else "routerd uses it as an OS interface name"
                ),
            )
        for field in ("provider_ref", "provider_mode", "nic_ref"):
            if getattr(cap, field):
                alias = {
                    "provider_ref": "providerRef",
                    "provider_mode": "providerMode",
                    "nic_ref": "nicRef",
                }[field]
                c.warn(res, f"{path}.{alias}", "ignored for proxy-arp capture")


def _coverage(c: _Checker, claim: RemoteAddressClaim, peer: OverlayPeer) -> None:
    tunnel = claim_tunnel(c.config, claim)
    if not tunnel or c.config.get(WireGuardInterface, tunnel) is None:
        return
    if wireguard_peer_for(c.config, peer, tunnel) is None:
        overlay = peer.spec.remote.address or "the peer overlay address"
        c.warn(
            claim,
            "spec.delivery.peerRef",
            f"{claim.spec.address} is not covered by any WireGuardPeer's allowedIPs on "
            f"{tunnel}: routerd cannot tell which WireGuardPeer is OverlayPeer/{peer.name}; "
            f"name the WireGuardPeer {peer.name!r} or list {overlay}/32 in its allowedIPs",
        )


def _overlay_peers(c: _Checker) -> None:
    users: dict[str, list[Resource]] = {}
    for claim in c.config.of(RemoteAddressClaim):
        if not claim.spec.delivery.tunnel_interface:
            users.setdefault(claim.spec.delivery.peer_ref.split("/")[-1], []).append(claim)
    for hr in c.config.of(HybridRoute):
        users.setdefault(hr.spec.peer_ref.split("/")[-1], []).append(hr)
    for peer in c.config.of(OverlayPeer):
        u = peer.spec.underlay
        for path, addr in (
            ("spec.underlay.address", u.address),
            ("spec.remote.address", peer.spec.remote.address),
        ):
            net = reserved_overlay_net(addr) if addr else None
            if net is not None:
                c.error(
                    peer,
                    path,
                    f"overlay address {addr} is inside {net}, which clouds "
                    "reserve (OCI routes 169.254/16 to its instance services); use an "
                    "RFC 1918 range such as 10.255.40.0/31",
                )
        if not u.interface and (u.type == "wireguard" or users.get(peer.name)):
            c.error(
                peer,
                "spec.underlay.interface",
                "required: the device that reaches this peer (for example wg-sam)",
            )
        elif u.type == "wireguard" and c.config.get(WireGuardInterface, u.interface) is None:
            c.warn(
                peer,
                "spec.underlay.interface",
                f"{u.interface!r} is not a declared WireGuardInterface; assuming the "
                "interface is managed externally",
            )
        _overlay_probe(c, peer)
    for dom in c.config.of(AddressMobilityDomain):
        c.ref(dom, "spec.peerRef", dom.spec.peer_ref, OverlayPeer, required=False)


UNPROBED = (
    "routerd then cannot probe the peer's overlay address, so `verified` rests on the "
    "WireGuard handshake and the route lookup alone and does not prove that packets cross "
    "the tunnel"
)


def _overlay_probe(c: _Checker, peer: OverlayPeer) -> None:
    """Warn when the overlay probe cannot run: an address missing or only descriptive."""
    local, remote = peer.spec.underlay.address, peer.spec.remote.address
    tunnel = peer.spec.underlay.interface
    if not local and not remote:
        return  # no overlay addresses at all: optional, documented, nothing half-done
    if not local or not remote:
        path = "spec.underlay.address" if not local else "spec.remote.address"
        c.warn(peer, path, f"not set while the other overlay address is: {UNPROBED}")
        return
    dev = os_ifname(c.config, tunnel) if tunnel else ""
    for a in c.config.of(IPv4StaticAddress):
        if a.spec.address.split("/")[0] == local and os_ifname(c.config, a.spec.interface) == dev:
            return
    c.warn(
        peer,
        "spec.underlay.address",
        f"no IPv4StaticAddress assigns {local} on {dev or 'the tunnel'} (the address is only "
        f"descriptive): unless something outside routerd assigns it there, {UNPROBED}. "
        f"To get the probe, add an IPv4StaticAddress with {local} on {dev or 'the tunnel'} "
        f"here and {remote} on the peer's tunnel",
    )


def _hybrid_routes(c: _Checker) -> None:
    user_names = {r.name for r in c.config.of(IPv4Route)}
    user_dests = {r.spec.destination: r for r in c.config.of(IPv4Route)}
    synthetic: dict[str, Resource] = {}
    for hr in c.config.of(HybridRoute):
        c.ref(hr, "spec.peerRef", hr.spec.peer_ref, OverlayPeer)
        if hr.spec.health_check_ref:
            c.error(
                hr,
                "spec.healthCheckRef",
                "HealthCheck is not implemented by routerd; remove healthCheckRef",
            )
        for i, dest in enumerate(hr.spec.destination_cidrs):
            name = f"{hr.name}-{route_slug(dest)}"
            path = f"spec.destinationCIDRs.{i}"
            if name in user_names:
                c.error(
                    hr,
                    path,
                    f"lowered route name {name!r} is already an IPv4Route; rename one of them",
                )
            if dest in user_dests:
                c.error(
                    hr,
                    path,
                    f"{dest} is also the destination of "
                    f"{user_dests[dest].ref}; keep one route per destination",
                )
            if name in synthetic:
                c.error(
                    hr, path, f"lowered route {name!r} is also produced by {synthetic[name].ref}"
                )
            synthetic[name] = hr


def _net(c: _Checker) -> None:
    cfg = c.config
    tunnels = {claim_tunnel(cfg, cl) for cl in cfg.of(RemoteAddressClaim)}
    for p in cfg.of(WireGuardPeer):
        if (
            cfg.get(WireGuardInterface, p.spec.interface) is None
            and (
                "WireGuardInterface",
                p.spec.interface,
            )
            not in c.undecoded
        ):
            c.error(
                p,
                "spec.interface",
                f"WireGuardInterface {p.spec.interface!r} does not exist; declare it",
            )
    for a in cfg.of(IPv4StaticAddress):
        if a.spec.interface in tunnels:
            net = reserved_overlay_net(a.spec.address)
            if net is not None:
                c.error(
                    a,
                    "spec.address",
                    f"overlay address {a.spec.address} is inside "
                    f"{net}, which clouds reserve; use an RFC 1918 range",
                )
    dests: dict[str, IPv4Route] = {}
    for r in cfg.of(IPv4Route):
        if r.spec.destination in dests:
            c.error(
                r,
                "spec.destination",
                f"{r.spec.destination} is also the destination of "
                f"{dests[r.spec.destination].ref}; keep one route per destination",
            )
        dests[r.spec.destination] = r
        if r.spec.type == "unicast" and not (r.spec.device or r.spec.gateway):
            c.error(r, "spec", "a unicast route needs device or gateway")
        if r.spec.destination == "default" or r.spec.destination.endswith("/0"):
            c.warn(r, "spec.destination", "routerd installs this default route as declared")
    keys: dict[str, Sysctl] = {}
    for s in cfg.of(Sysctl):
        if s.spec.key in keys:
            c.error(s, "spec.key", f"{s.spec.key} is also set by {keys[s.spec.key].ref}")
        keys[s.spec.key] = s


def _dynamic(c: _Checker) -> None:
    cfg = c.config
    for src in cfg.of(DynamicConfigSource):
        c.ref(src, "spec.pluginRef", src.spec.plugin_ref, Plugin)
    idents = cfg.identities()
    for pol in cfg.of(DynamicOverridePolicy):
        for i, rule in enumerate(pol.spec.allow):
            for j, t in enumerate(rule.targets):
                if t.identity not in idents:
                    c.warn(
                        pol,
                        f"spec.allow.{i}.targets.{j}",
                        f"{t} is not in the startup config; this rule can never match",
                    )


def _redundancy(c: _Checker) -> None:
    errors, warnings = check_redundancy(c.config)
    c.errors.extend(errors)
    c.warnings.extend(warnings)


def _mobility(c: _Checker) -> None:
    check_mobility(c, check_capture)


CHECKS: tuple[Callable[[_Checker], None], ...] = (
    _unique_identities,
    _claims,
    _overlay_peers,
    _hybrid_routes,
    _net,
    _dynamic,
    _redundancy,
    _mobility,
)


ExtraCheck = Callable[[RouterConfig], tuple[list[ConfigIssue], list[ConfigIssue]]]
"""A check supplied from outside core (provider rules such as nicRef formats)."""


def validate_config(
    config: RouterConfig,
    extra_checks: Sequence[ExtraCheck] = (),
    *,
    undecoded: frozenset[tuple[str, str]] = frozenset(),
) -> tuple[list[ConfigIssue], list[ConfigIssue]]:
    """Run every cross-resource rule, then the injected ``extra_checks``.

    Args:
        config: the decoded resources.
        extra_checks: provider rules and the like.
        undecoded: ``(kind, name)`` of resources that failed to decode (already reported);
            references to them are not reported again as dangling.

    Returns:
        ``(errors, warnings)``; the config is usable only when ``errors`` is empty.
    """
    c = _Checker(config, undecoded)
    for check in CHECKS:
        check(c)
    for extra in extra_checks:
        errs, warns = extra(config)
        c.errors.extend(errs)
        c.warnings.extend(warns)
    return c.errors, c.warnings
