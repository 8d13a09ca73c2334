"""Lowering: effective config -> desired dataplane objects for this router (pure).

Per claim (reference §5.7/§5.8, decisions D8–D10):

* ``net.ipv4.ip_forward=1``;
* proxy-arp capture: ``proxy_arp=1`` on the capture interface and a permanent proxy
  neighbour for the address;
* provider-secondary-ip capture: the address absent from every local interface (#41);
* a ``/32 dev <tunnel> metric 120`` delivery route in the main table;
* ``rp_filter`` on the tunnel loosened (never made strict);
* the claim's /32 added to the WireGuard peer's allowed IPs (D10);
* MSS clamp rules capture->tunnel and tunnel->capture where the path steps down (D8).

Plus the supporting resources: WireGuard devices and peers, static addresses, user routes,
HybridRoute-lowered routes and user sysctls (which win over derived ones). A config with no
claims produces no SAM objects at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from routerd.core.config import RouterConfig
from routerd.core.desired import (
    DELIVERY_METRIC,
    AbsentAddress,
    Address,
    DesiredState,
    Key,
    MssClampTable,
    MssRule,
    ObserveScope,
    ProxyNeighbour,
    Route,
    Sysctl,
    WgPeer,
    WireGuardDevice,
)
from routerd.core.mtu import path_mtu
from routerd.core.overlay import claim_tunnel, os_ifname, wireguard_peer_for
from routerd.core.resources import (
    CloudProviderProfile,
    HybridRoute,
    Interface,
    IPv4Route,
    IPv4StaticAddress,
    OverlayPeer,
    RemoteAddressClaim,
    WireGuardInterface,
    WireGuardPeer,
)
from routerd.core.resources import (
    Sysctl as SysctlResource,
)
from routerd.core.validation import route_slug

IP_FORWARD = "net.ipv4.ip_forward"
LOOSE_RP_FILTER = "2"


@dataclass(frozen=True, slots=True)
class ClaimIntent:
    """Everything the engine needs to judge one claim against an observation."""

    name: str
    address: str  # "10.40.8.31/32"
    ip: str  # "10.40.8.31"
    capture_type: str
    capture_interface: str  # OS name, "" when unset
    tunnel: str
    peer: str  # OverlayPeer name
    wg_public_key: str = ""  # the peer's key when the tunnel is a managed WireGuard device
    local_overlay: str = ""
    peer_overlay: str = ""
    mss: int | None = None
    mss_paths: tuple[tuple[str, str], ...] = ()
    gratuitous_arp: bool = False
    provider: str = ""  # provider-secondary-ip: the CloudProviderProfile's provider
    nic_ref: str = ""  # provider-secondary-ip: spec.capture.nicRef
    spec: object = field(default=None, compare=False)


@dataclass
class Lowered:
    desired: DesiredState
    claims: dict[str, ClaimIntent]


def rp_filter_key(ifname: str) -> str:
    return f"net.ipv4.conf.{ifname}.rp_filter"


def proxy_arp_key(ifname: str) -> str:
    return f"net.ipv4.conf.{ifname}.proxy_arp"


def default_key_file(key_dir: str, ifname: str) -> str:
    return f"{key_dir.rstrip('/')}/{ifname}.key"


def key_file(wgi: WireGuardInterface, key_dir: str, *, in_key_dir: bool = False) -> str:
    """Where an interface's private key lives: ``privateKeyFile``, else ``key_dir``.

    ``in_key_dir`` forces ``key_dir`` (the sim backend: a simulated router must not create
    key files in the host's /etc).
    """
    if in_key_dir or not wgi.spec.private_key_file:
        return default_key_file(key_dir, wgi.name)
    return wgi.spec.private_key_file


class _Lowerer:
    def __init__(
        self, config: RouterConfig, generation: int, key_dir: str, public_keys: dict[str, str]
    ) -> None:
        self.cfg = config
        self.key_dir = key_dir
        self.public_keys = public_keys
        self.out = DesiredState(generation=generation)
        self.claims: dict[str, ClaimIntent] = {}
        self.allowed: dict[tuple[str, str], set[str]] = {}  # (wg if, peer key) -> CIDRs
        self.mss_rules: dict[tuple[str, str], int] = {}
        self.user_sysctls = {s.spec.key for s in config.of(SysctlResource)}

    def sysctl(self, obj: Sysctl, owner: str, claim: str | None = None) -> None:
        if obj.name in self.user_sysctls:  # an explicit user Sysctl wins
            if claim is not None:
                self.out.claim_keys.setdefault(claim, []).append(obj.key)
            return
        self.out.add(obj, owner, claim=claim)

    def claim(self, c: RemoteAddressClaim) -> None:
        owner = c.ref
        cap = c.spec.capture
        tunnel = claim_tunnel(self.cfg, c)
        capif = os_ifname(self.cfg, cap.interface) if cap.interface else ""
        self.sysctl(Sysctl(IP_FORWARD, "1"), owner, c.name)
        if cap.type == "proxy-arp":
            self.sysctl(Sysctl(proxy_arp_key(capif), "1"), owner, c.name)
            self.out.add(ProxyNeighbour(c.ip, capif), owner, claim=c.name)
        else:
            self.out.add(AbsentAddress(c.ip), owner, claim=c.name)
        self.out.add(Route(c.spec.address, tunnel, DELIVERY_METRIC), owner, claim=c.name)
        self.sysctl(
            Sysctl(rp_filter_key(tunnel), LOOSE_RP_FILTER, frozenset({"0", "2"})), owner, c.name
        )
        peer = self.cfg.get(OverlayPeer, c.spec.delivery.peer_ref)
        wg_key = self._cover(c, peer, tunnel)
        mss, paths = self._mss(c, peer, capif, tunnel)
        profile = self.cfg.get(CloudProviderProfile, cap.provider_ref) if cap.provider_ref else None
        self.claims[c.name] = ClaimIntent(
            name=c.name,
            address=c.spec.address,
            ip=c.ip,
            capture_type=cap.type,
            capture_interface=capif,
            tunnel=tunnel,
            peer=peer.name if peer else "",
            wg_public_key=wg_key,
            local_overlay=peer.spec.underlay.address if peer else "",
            peer_overlay=peer.spec.remote.address if peer else "",
            mss=mss,
            mss_paths=paths,
            gratuitous_arp=cap.gratuitous_arp,
            provider=profile.spec.provider if profile and cap.type != "proxy-arp" else "",
            nic_ref=cap.nic_ref if cap.type != "proxy-arp" else "",
            spec=c.spec,
        )

    def _cover(self, c: RemoteAddressClaim, peer: OverlayPeer | None, tunnel: str) -> str:
        if peer is None or self.cfg.get(WireGuardInterface, tunnel) is None:
            return ""
        wgp = wireguard_peer_for(self.cfg, peer, tunnel)
        if wgp is None:
            return ""
        self.allowed.setdefault((tunnel, wgp.spec.public_key), set()).add(c.spec.address)
        self.out.claim_keys.setdefault(c.name, []).append(("wg", tunnel))
        return wgp.spec.public_key

    def _mss(
        self, c: RemoteAddressClaim, peer: OverlayPeer | None, capif: str, tunnel: str
    ) -> tuple[int | None, tuple[tuple[str, str], ...]]:
        if capif:
            sources = [capif]
        elif c.spec.capture.type == "provider-secondary-ip":
            sources = [i.os_name for i in self.cfg.of(Interface)]
        else:
            sources = []
        mss: int | None = None
        paths: list[tuple[str, str]] = []
        for src in sources:
            if src == tunnel:
                continue
            pm = path_mtu(self.cfg, peer, src, tunnel)
            if pm.mss is None:
                continue
            mss = pm.mss if mss is None else min(mss, pm.mss)
            for path in ((src, tunnel), (tunnel, src)):
                prev = self.mss_rules.get(path)
                self.mss_rules[path] = pm.mss if prev is None else min(prev, pm.mss)
                paths.append(path)
        if paths:
            self.out.claim_keys.setdefault(c.name, []).append(("nft", "inet", "routerd_mss"))
        return mss, tuple(paths)

    def overlay_coverage(self) -> None:
        for peer in self.cfg.of(OverlayPeer):
            tunnel = peer.spec.underlay.interface
            if not peer.spec.remote.address or self.cfg.get(WireGuardInterface, tunnel) is None:
                continue
            wgp = wireguard_peer_for(self.cfg, peer, tunnel)
            if wgp is not None:
                self.allowed.setdefault((tunnel, wgp.spec.public_key), set()).add(
                    f"{peer.spec.remote.address}/32"
                )
        for hr in self.cfg.of(HybridRoute):
            hpeer = self.cfg.get(OverlayPeer, hr.spec.peer_ref)
            if hpeer is None:
                continue
            tunnel = hpeer.spec.underlay.interface
            wgp = wireguard_peer_for(self.cfg, hpeer, tunnel)
            if wgp is not None and self.cfg.get(WireGuardInterface, tunnel) is not None:
                self.allowed.setdefault((tunnel, wgp.spec.public_key), set()).update(
                    hr.spec.destination_cidrs
                )

    def wireguard(self) -> None:
        for wgi in self.cfg.of(WireGuardInterface):
            ifname = wgi.name
            peers = []
            for p in self.cfg.of(WireGuardPeer):
                if p.spec.interface != ifname:
                    continue
                allowed = set(p.spec.allowed_ips) | self.allowed.get(
                    (ifname, p.spec.public_key), set()
                )
                peers.append(
                    WgPeer(
                        public_key=p.spec.public_key,
                        allowed_ips=frozenset(allowed),
                        endpoint=p.spec.endpoint,
                        persistent_keepalive=p.spec.persistent_keepalive,
                        preshared_key_file=p.spec.preshared_key_file,
                    )
                )
            dev = WireGuardDevice(
                ifname=ifname,
                private_key_file=key_file(wgi, self.key_dir),
                public_key=self.public_keys.get(ifname, ""),
                listen_port=wgi.spec.listen_port,
                mtu=wgi.spec.mtu,
                fwmark=wgi.spec.fwmark,
                peers=tuple(sorted(peers, key=lambda x: x.public_key)),
            )
            self.out.add(dev, wgi.ref)
            self.out.owners[dev.key].update(self.claim_owners(dev.key))

    def supporting(self) -> None:
        for a in self.cfg.of(IPv4StaticAddress):
            self.out.add(Address(os_ifname(self.cfg, a.spec.interface), a.spec.address), a.ref)
        for r in self.cfg.of(IPv4Route):
            s = r.spec
            dev = os_ifname(self.cfg, s.device) if s.device else ""
            self.out.add(Route(s.destination, dev, s.metric, s.gateway, type=s.type), r.ref)
        for hr in self.cfg.of(HybridRoute):
            peer = self.cfg.get(OverlayPeer, hr.spec.peer_ref)
            if peer is None:
                continue
            u = peer.spec.underlay
            gw = peer.spec.remote.address if u.type == "ipsec" else ""
            for dest in hr.spec.destination_cidrs:
                route = Route(dest, u.interface, hr.spec.install.metric, gw)
                self.out.add(route, f"{hr.ref}-{route_slug(dest)}")
        for sc in self.cfg.of(SysctlResource):
            if sc.spec.runtime:
                self.out.add(Sysctl(sc.spec.key, sc.spec.value), sc.ref)

    def mss_table(self) -> None:
        if not self.mss_rules:
            return
        rules = frozenset(MssRule(i, o, m) for (i, o), m in self.mss_rules.items())
        table = MssClampTable(rules, generation=self.out.generation)
        self.out.add(table, "routerd/mss-clamp")
        self.out.owners[table.key].update(self.claim_owners(table.key))

    def claim_owners(self, key: Key) -> Iterable[str]:
        """Owner labels of the claims that list ``key`` among their keys."""
        return [
            f"RemoteAddressClaim/{claim}"
            for claim, keys in self.out.claim_keys.items()
            if key in keys
        ]


def lower(
    config: RouterConfig,
    *,
    generation: int = 0,
    key_dir: str = "/var/lib/routerd/keys",
    public_keys: dict[str, str] | None = None,
) -> Lowered:
    """Lower an effective config to the desired dataplane of this router.

    Args:
        config: the effective (validated) config.
        generation: config generation, recorded in the nft table comment.
        key_dir: where WireGuard keys live when ``privateKeyFile`` is not set.
        public_keys: WireGuard interface -> public key of its private key file (the engine
            resolves these; lowering does no I/O).

    Returns:
        The desired state and one ClaimIntent per claim.
    """
    lw = _Lowerer(config, generation, key_dir, public_keys or {})
    for c in config.of(RemoteAddressClaim):
        lw.claim(c)
    lw.overlay_coverage()
    lw.wireguard()
    lw.supporting()
    lw.mss_table()
    return Lowered(lw.out, lw.claims)


def observe_scope(lowered: Lowered) -> ObserveScope:
    """What a backend must report beyond owned objects to judge these claims."""
    scope = ObserveScope(desired=lowered.desired)
    objects = lowered.desired.objects
    scope.sysctls = {k[1] for k in objects if k[0] == "sysctl"}
    scope.absent_addresses = {k[1] for k in objects if k[0] == "absent"}
    devices = [
        o.ifname for k, o in objects.items() if k[0] == "wg" and isinstance(o, WireGuardDevice)
    ]
    scope.wireguard = set(devices)
    claims = lowered.claims.values()
    scope.links = set(devices) | {c.tunnel for c in claims}
    scope.links |= {c.capture_interface for c in claims if c.capture_interface}
    if lowered.claims:
        scope.sysctls.add(IP_FORWARD)
    scope.sysctls |= {
        proxy_arp_key(ifname)
        for ifname in {c.capture_interface for c in claims if c.capture_type == "proxy-arp"}
    }
    return scope
