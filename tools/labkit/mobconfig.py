"""Every configuration the mobility lab runs, generated in one place from ``mobtopo``.

* ``Keys``: one WireGuard key pair per router and for the reflector (files 0600 in the run);
* ``router_config``: a router's routerd YAML with the mobility block (``BGPSpeaker`` and
  ``AddressMobilityDomain.spec.mobility``), what ``routerd serve --backend linux`` runs once
  mobility is in routerd;
* ``controller_config``: the same facts for the hand-played controller (``handplay``);
* ``static_overlay``: the overlay a router needs before either control plane runs in
  hand-played mode (in routerd mode routerd creates it from ``router_config``);
* ``rr_config``: the BIRD2 reflector (``birdrr``), every router a client with its site.

The reflector is reached **over the overlay**: it has its own tunnel and overlay address
10.255.0.1, and every router holds a WireGuard peer for it. Sessions then run where the
specification puts them, a route reflector needs no public exposure of BGP, and a partition
of the underlay cuts BGP exactly where it cuts traffic (a partition the sessions do not see
would hide the conflicts the lab must show).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from routerd.core.wgkey import public_key
from routerd.keys import generate_private_key

from .birdrr import RRClient, RRConfig
from .handplay_rules import CtlConfig, Peer
from .mobtopo import (
    ASN,
    DOMAIN,
    EXCLUDE,
    GATEWAY,
    GATEWAY_IF,
    GATEWAY_MAC,
    RR_OVERLAY,
    RR_PUBLIC,
    SITES,
    WG_MTU,
    WG_PORT,
    Site,
    tunnel,
)

HOLD, KEEPALIVE = 9, 3
PERSISTENT_KEEPALIVE = 5
CLOUD_PROFILE = "lab-cloud"
CLOUD_NIC = "eni-0a1b2c3d4e5f60789"
NET_API = "net.routerd.net/v1alpha1"
HYBRID_API = "hybrid.routerd.net/v1alpha1"


@dataclass(frozen=True)
class Keys:
    """Key files per tunnel letter (a, b, c and r for the reflector)."""

    dir: Path

    @classmethod
    def create(cls, key_dir: Path) -> Keys:
        key_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        for letter in [s.letter for s in SITES] + ["r"]:
            path = key_dir / f"{letter}.key"
            if not path.exists():
                path.touch(mode=0o600)
                path.write_text(generate_private_key() + "\n")
        return cls(key_dir)

    def path(self, letter: str) -> Path:
        return self.dir / f"{letter}.key"

    def public(self, letter: str) -> str:
        return public_key(self.path(letter).read_text().strip())


def hex_key(b64: str) -> str:
    """A base64 WireGuard key as the UAPI's hex."""
    return base64.b64decode(b64).hex()


def _resource(api: str, kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": api, "kind": kind, "metadata": {"name": name}, "spec": spec}


def _peers(site: Site, run_id: str, keys: Keys) -> list[dict[str, Any]]:
    wg = tunnel(run_id, site.letter)
    out = [
        _resource(
            NET_API,
            "WireGuardPeer",
            "rr",
            {
                "interface": wg,
                "publicKey": keys.public("r"),
                "endpoint": f"{RR_PUBLIC}:{WG_PORT}",
                "allowedIPs": [f"{RR_OVERLAY}/32"],
                "persistentKeepalive": PERSISTENT_KEEPALIVE,
            },
        ),
    ]
    for other in SITES:
        if other is site:
            continue
        out.append(
            _resource(
                NET_API,
                "WireGuardPeer",
                other.name,
                {
                    "interface": wg,
                    "publicKey": keys.public(other.letter),
                    "endpoint": f"{other.public}:{WG_PORT}",
                    "allowedIPs": [f"{other.overlay}/32"],
                    "persistentKeepalive": PERSISTENT_KEEPALIVE,
                },
            )
        )
        out.append(
            _resource(
                HYBRID_API,
                "OverlayPeer",
                other.name,
                {
                    "role": other.kind,
                    "nodeID": f"{other.name}-rt",
                    "underlay": {"type": "wireguard", "interface": wg, "address": site.overlay},
                    "remote": {"nodeID": f"{other.name}-rt", "address": other.overlay},
                },
            )
        )
    return out


def _mobility(site: Site) -> dict[str, Any]:
    if site.kind == "onprem":
        capture: dict[str, Any] = {"type": "proxy-arp", "interface": "lan", "gratuitousARP": True}
    else:
        capture = {
            "type": "provider-secondary-ip",
            "providerRef": CLOUD_PROFILE,
            "providerMode": "eni-secondary-ip",
            "nicRef": CLOUD_NIC,
            "interface": "lan",
        }
    sites = []
    for s in SITES:
        entry: dict[str, Any] = {"name": s.name, "siteID": s.site_id, "routerIDs": [s.overlay]}
        if s is not site:
            entry["peerRef"] = s.name
        if s.kind == "cloud":
            entry["kind"] = "cloud"
        sites.append(entry)
    mobility: dict[str, Any] = {"localSite": site.name, "speakerRef": "bgp", "capture": capture}
    if site.kind == "onprem":
        mobility["gateway"] = {"address": GATEWAY, "mac": GATEWAY_MAC}
    mobility["exclude"] = list(EXCLUDE)
    mobility["presence"] = {"probeInterval": "1s", "absentAfter": 3}
    mobility["sites"] = sites
    return mobility


def router_config(site: Site, run_id: str, keys: Keys) -> str:
    """The routerd config of ``site``'s router (design: config kinds of address mobility)."""
    wg = tunnel(run_id, site.letter)
    resources = [
        _resource(
            NET_API, "Interface", "lan", {"ifname": site.lan_if, "mtu": 1500, "managed": False}
        ),
        _resource(
            NET_API,
            "WireGuardInterface",
            wg,
            {
                "privateKeyFile": str(keys.path(site.letter)),
                "listenPort": WG_PORT,
                "mtu": WG_MTU,
            },
        ),
        _resource(
            NET_API,
            "IPv4StaticAddress",
            f"{wg}-overlay",
            {"interface": wg, "address": f"{site.overlay}/24"},
        ),
        *_peers(site, run_id, keys),
    ]
    if site.kind == "cloud":
        resources.append(
            _resource(
                HYBRID_API,
                "CloudProviderProfile",
                CLOUD_PROFILE,
                {
                    "provider": "aws",
                    "region": "ap-northeast-1",
                    "capabilities": ["eni-secondary-ip", "source-dest-check-disabled"],
                },
            )
        )
    resources.append(
        _resource(
            HYBRID_API,
            "BGPSpeaker",
            "bgp",
            {
                "implementation": "gobgp",
                "asn": ASN,
                "routerID": site.overlay,
                "listenAddress": site.overlay,
                "neighbors": [
                    {
                        "address": RR_OVERLAY,
                        "description": "rr",
                        "holdTime": f"{HOLD}s",
                        "keepaliveTime": f"{KEEPALIVE}s",
                    }
                ],
            },
        )
    )
    resources.append(
        _resource(
            HYBRID_API,
            "AddressMobilityDomain",
            "lab",
            {
                "prefix": DOMAIN,
                "mode": "selective-address",
                "mobility": _mobility(site),
            },
        )
    )
    doc = {
        "apiVersion": "routerd.net/v1alpha1",
        "kind": "Router",
        "metadata": {"name": f"{site.name}-rt"},
        "spec": {"resources": resources},
    }
    return yaml.safe_dump(doc, sort_keys=False)


def controller_config(site: Site, run_id: str, keys: Keys, run_dir: Path) -> CtlConfig:
    """What the hand-played controller of ``site`` needs (the same facts as the YAML)."""
    peers = tuple(
        Peer(s.site_id, s.name, keys.public(s.letter), s.overlay) for s in SITES if s is not site
    )
    return CtlConfig(
        site=site.name,
        site_id=site.site_id,
        kind=site.kind,
        asn=ASN,
        router_id=site.overlay,
        domain=DOMAIN,
        exclude=(*EXCLUDE, f"{GATEWAY}/32"),
        lan_if=site.lan_if,
        proxy_if=GATEWAY_IF,
        wg_if=tunnel(run_id, site.letter),
        rr=RR_OVERLAY,
        hold=HOLD,
        keepalive=KEEPALIVE,
        peers=peers,
        sites=tuple((s.site_id, (s.overlay,)) for s in SITES),
        run_dir=str(run_dir),
    )


@dataclass(frozen=True)
class OverlaySpec:
    """One tunnel: its device, key, overlay address and peers (public key, endpoint, IPs)."""

    device: str
    key_file: Path
    address: str
    peers: tuple[tuple[str, str, str], ...]


def static_overlay(letter: str, run_id: str, keys: Keys) -> OverlaySpec:
    """The tunnel of a router (a/b/c) or of the reflector (r), with only overlay /32s."""
    if letter == "r":
        peers = tuple(
            (keys.public(s.letter), f"{s.public}:{WG_PORT}", f"{s.overlay}/32") for s in SITES
        )
        return OverlaySpec(tunnel(run_id, "r"), keys.path("r"), RR_OVERLAY, peers)
    site = next(s for s in SITES if s.letter == letter)
    peers = ((keys.public("r"), f"{RR_PUBLIC}:{WG_PORT}", f"{RR_OVERLAY}/32"),) + tuple(
        (keys.public(s.letter), f"{s.public}:{WG_PORT}", f"{s.overlay}/32")
        for s in SITES
        if s is not site
    )
    return OverlaySpec(tunnel(run_id, letter), keys.path(letter), site.overlay, peers)


def rr_config() -> RRConfig:
    """The reflector: iBGP in ``ASN``, one client per router with its site identity."""
    clients = tuple(RRClient(s.overlay, s.site_id, s.name) for s in SITES)
    return RRConfig(ASN, RR_OVERLAY, (DOMAIN,), clients, local_address=RR_OVERLAY)
