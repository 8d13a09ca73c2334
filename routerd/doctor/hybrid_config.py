"""Config-level checks of ``doctor hybrid``, run on the effective config.

These need no host access and run even under ``--no-host`` or the sim backend. They read
the *effective* config (D7 in docs/decisions.md), so a claim contributed by a dynamic part is
checked like a startup one, and its finding says which part it came from. References are resolved
the way lowering resolves them (``name`` or ``Kind/name``), so a check never disagrees with what
the daemon actually programs.
"""

from __future__ import annotations

from routerd.core.doctor import Finding, Status
from routerd.core.mtu import path_mtu
from routerd.core.overlay import claim_tunnel, reserved_overlay_net
from routerd.core.resources import (
    AddressMobilityDomain,
    CloudProviderProfile,
    HybridRoute,
    OverlayPeer,
    RemoteAddressClaim,
    WireGuardInterface,
)
from routerd.core.resources.hybrid import CAPTURE_TYPES, RESERVED_CAPTURE
from routerd.doctor.inputs import Inputs

AREA = "hybrid"
HYBRID_KINDS = (OverlayPeer, HybridRoute, AddressMobilityDomain, RemoteAddressClaim)
MIN_MTU = 1280


def _f(name: str, status: Status, detail: str, remedy: str = "", claim: str = "") -> Finding:
    return Finding(AREA, name, status, detail, remedy, claim)


def findings(inputs: Inputs) -> list[Finding]:
    """Every config-level finding, peers first, then routes, domains and claims."""
    cfg = inputs.config
    if not any(cfg.of(k) for k in HYBRID_KINDS):
        return [_f("HybridRoute", Status.SKIP, "no hybrid resources configured")]
    out: list[Finding] = []
    for peer in cfg.of(OverlayPeer):
        out += overlay_peer(inputs, peer)
    for hr in cfg.of(HybridRoute):
        out += hybrid_route(inputs, hr)
    for amd in cfg.of(AddressMobilityDomain):
        out.append(domain(inputs, amd))
    for claim in cfg.of(RemoteAddressClaim):
        out += claim_config(inputs, claim)
    return out


def overlay_peer(inputs: Inputs, peer: OverlayPeer) -> list[Finding]:
    out = []
    u = peer.spec.underlay
    if u.type == "wireguard":
        name = f"{peer.ref} underlay interface"
        if inputs.config.get(WireGuardInterface, u.interface) is not None:
            out.append(_f(name, Status.PASS, f"WireGuardInterface/{u.interface} declared"))
        else:
            out.append(
                _f(
                    name,
                    Status.FAIL,
                    f"WireGuardInterface {u.interface or '(empty)'} is not declared",
                    "declare the WireGuardInterface or fix spec.underlay.interface",
                )
            )
    for field, addr in (
        ("underlay.address", u.address),
        ("remote.address", peer.spec.remote.address),
    ):
        net = reserved_overlay_net(addr) if addr else None
        if net is not None:
            out.append(
                _f(
                    f"{peer.ref} {field}",
                    Status.FAIL,
                    f"{addr} is in {net}, which clouds use for their own services (D13)",
                    "use RFC 1918 overlay addresses",
                )
            )
    return out


def hybrid_route(inputs: Inputs, hr: HybridRoute) -> list[Finding]:
    peer = inputs.config.get(OverlayPeer, hr.spec.peer_ref)
    out = [
        _f(f"{hr.ref} peerRef", Status.PASS, f"OverlayPeer/{peer.name}")
        if peer
        else _f(
            f"{hr.ref} peerRef",
            Status.FAIL,
            f"OverlayPeer {hr.spec.peer_ref!r} not found",
            "declare the OverlayPeer or fix spec.peerRef",
        )
    ]
    defaults = [d for d in hr.spec.destination_cidrs if d == "default" or d.endswith("/0")]
    if defaults:
        out.append(
            _f(
                f"{hr.ref} default route untouched",
                Status.FAIL,
                f"destinations include {', '.join(defaults)}",
                "remove the default route: HybridRoute never touches it",
            )
        )
    else:
        out.append(_f(f"{hr.ref} default route untouched", Status.PASS, "no default destination"))
    if peer is not None:
        out.append(_mtu_estimate(inputs, hr, peer))
    if hr.spec.health_check_ref:
        out.append(
            _f(
                f"{hr.ref} healthCheckRef",
                Status.WARN,
                f"{hr.spec.health_check_ref}: HealthCheck kinds are not implemented; ignored",
                "remove healthCheckRef; routerd judges the peer by its WireGuard handshake",
            )
        )
    return out


def _mtu_estimate(inputs: Inputs, hr: HybridRoute, peer: OverlayPeer) -> Finding:
    tunnel = peer.spec.underlay.interface
    pm = path_mtu(inputs.config, peer, "", tunnel)
    detail = f"{tunnel} inner MTU {pm.inner_mtu} ({pm.basis})"
    if pm.inner_mtu < MIN_MTU:
        return _f(
            f"{hr.ref} MTU estimate",
            Status.WARN,
            f"{detail} is below {MIN_MTU}",
            "raise the tunnel MTU or set OverlayPeer spec.pathMTU to the measured path",
        )
    return _f(f"{hr.ref} MTU estimate", Status.PASS, detail)


def domain(inputs: Inputs, amd: AddressMobilityDomain) -> Finding:
    name = f"{amd.ref} peerRef"
    if not amd.spec.peer_ref:
        return _f(name, Status.SKIP, "no peerRef")
    if inputs.config.get(OverlayPeer, amd.spec.peer_ref) is not None:
        return _f(name, Status.PASS, f"OverlayPeer/{amd.spec.peer_ref}")
    return _f(name, Status.FAIL, f"OverlayPeer {amd.spec.peer_ref!r} not found", "fix spec.peerRef")


def claim_config(inputs: Inputs, claim: RemoteAddressClaim) -> list[Finding]:
    cfg, s, n = inputs.config, claim.spec, claim.name
    origin = inputs.origin(n)
    where = "" if origin == "startup" else f" (from {origin})"
    out = []
    dom = cfg.get(AddressMobilityDomain, s.domain_ref)
    out.append(
        _f(f"{claim.ref} domainRef", Status.PASS, f"{dom.ref}{where}", claim=n)
        if dom
        else _f(
            f"{claim.ref} domainRef",
            Status.FAIL,
            f"AddressMobilityDomain {s.domain_ref!r} not found{where}",
            "declare the AddressMobilityDomain or fix spec.domainRef",
            claim=n,
        )
    )
    peer = cfg.get(OverlayPeer, s.delivery.peer_ref)
    out.append(
        _f(f"{claim.ref} delivery.peerRef", Status.PASS, f"{peer.ref}", claim=n)
        if peer
        else _f(
            f"{claim.ref} delivery.peerRef",
            Status.FAIL,
            f"OverlayPeer {s.delivery.peer_ref!r} not found",
            "declare the OverlayPeer or fix spec.delivery.peerRef",
            claim=n,
        )
    )
    out.append(_tunnel(inputs, claim))
    out.append(_capture_type(claim))
    profile_ref = s.capture.provider_ref if s.capture.type == "provider-secondary-ip" else ""
    if profile_ref and cfg.get(CloudProviderProfile, profile_ref) is None:
        out.append(
            _f(
                f"{claim.ref} capture.providerRef",
                Status.FAIL,
                f"CloudProviderProfile {s.capture.provider_ref!r} not found",
                "declare the CloudProviderProfile or fix spec.capture.providerRef",
                claim=n,
            )
        )
    return out


def _tunnel(inputs: Inputs, claim: RemoteAddressClaim) -> Finding:
    name = f"{claim.ref} delivery tunnel"
    tunnel = claim_tunnel(inputs.config, claim)
    if not tunnel:
        return _f(
            name,
            Status.FAIL,
            "no tunnel: delivery.tunnelInterface is empty and the OverlayPeer has no "
            "underlay.interface",
            "set spec.underlay.interface on the OverlayPeer (or delivery.tunnelInterface)",
            claim=claim.name,
        )
    how = (
        "delivery.tunnelInterface"
        if claim.spec.delivery.tunnel_interface
        else f"OverlayPeer/{claim.spec.delivery.peer_ref} underlay.interface"
    )
    return _f(name, Status.PASS, f"{tunnel} (from {how})", claim=claim.name)


def _capture_type(claim: RemoteAddressClaim) -> Finding:
    t = claim.spec.capture.type
    name = f"{claim.ref} capture.type"
    if t in CAPTURE_TYPES:
        return _f(name, Status.PASS, t, claim=claim.name)
    why = RESERVED_CAPTURE.get(t, f"{t!r} is not a capture type")
    return _f(
        name,
        Status.FAIL,
        why,
        "use provider-secondary-ip (cloud) or proxy-arp (on-prem)",
        claim=claim.name,
    )
