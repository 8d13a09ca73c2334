"""Lowering: effective config -> desired dataplane objects for this router (pure).

Per claim (decisions D8-D10 and D15 in docs/decisions.md), ``lower_claim`` gives a
``ClaimPiece``:

* ``net.ipv4.ip_forward=1``;
* proxy-arp capture: ``proxy_arp=1``, ``forwarding=1`` and ``neigh.<if>.proxy_delay=0`` on
  the capture interface (the kernel otherwise delays proxied answers to broadcast ARP by up
  to 0.8 s, which alone would break a sub-second move); the delivery route below is what
  makes the kernel answer ARP for the address there, so there is no per-address capture
  object (``routerd.core.capture``);
* provider-secondary-ip capture: the address absent from every local interface (D15), a
  key the claim needs with no object (``routerd.core.desired.implied``);
* a ``/32 dev <tunnel> metric 120`` delivery route in the main table;
* ``rp_filter`` on the tunnel loosened (never made strict);
* the claim's /32 for the WireGuard peer's allowed IPs (D10);
* the MSS clamps it needs where the path steps down (D8).

A claim's piece depends on the claim and on the *context*: every resource of the config
that is not a claim (``claim_context``). ``lower_claim`` is handed only the context, so by
construction no claim's piece reads another claim, and a piece stays valid while the
context is unchanged. What depends on all claims together is the *tail* (``lower_tail``):
the WireGuard devices (their peers' allowed IPs), the clamp table, plus the supporting
resources (static addresses, user routes, HybridRoute routes, user sysctls, which win over
derived ones) and the ``proxy_arp=0`` of capture interfaces in standby (``capture_active``),
in ``routerd.core.tail``. ``lower()`` folds every piece and the tail
through one ``Composition`` (``routerd.core.composition``), the same one the engine keeps
and updates claim by claim: the reference and the incremental path share their
composition. A config with no claims
produces no SAM objects at all (a mobile domain's anycast gateway, in the tail, is the
segment's gateway whether or not anything is captured).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from routerd.core import capture
from routerd.core.config import RouterConfig
from routerd.core.desired import (
    DELIVERY_METRIC,
    MAIN_TABLE,
    DataplaneObject,
    DesiredState,
    Key,
    ObserveScope,
    Route,
    Sysctl,
    WireGuardDevice,
    route_key,
)
from routerd.core.frozen import maker
from routerd.core.mtu import path_mtu
from routerd.core.overlay import delivery_tunnel, os_ifname, wireguard_peer_for
from routerd.core.resources import (
    CloudProviderProfile,
    Interface,
    OverlayPeer,
    RemoteAddressClaim,
    WireGuardInterface,
)
from routerd.core.resources import (
    Sysctl as SysctlResource,
)

IP_FORWARD = "net.ipv4.ip_forward"
LOOSE_RP_FILTER = "2"
CLAIM_KIND = RemoteAddressClaim.KIND
MSS_KEY: Key = ("nft", "inet", "routerd_mss")


@dataclass(frozen=True, slots=True)
class ClaimShape:
    """The fields of a claim that its lowering reads besides its name and address.

    Thousands of claims share one shape (same capture interface, same peer); what a shape
    lowers to (``ShapeFacts``) is computed once per context and shape (``ClaimLowerer``).
    """

    capture_type: str
    capture_interface: str
    peer_ref: str
    tunnel_interface: str
    provider_ref: str = ""  # provider-side captures only

    @classmethod
    def of(cls, claim: RemoteAddressClaim) -> ClaimShape:
        cap, delivery = claim.spec.capture, claim.spec.delivery
        provider_ref = cap.provider_ref if cap.type != "proxy-arp" else ""
        return cls(
            cap.type, cap.interface, delivery.peer_ref, delivery.tunnel_interface, provider_ref
        )


@dataclass(frozen=True, slots=True)
class ShapeFacts:
    """What a claim shape lowers to in one context (shared by every claim of the shape).

    Attributes:
        capture_type / capture_interface / tunnel / peer / provider: as in ``ClaimIntent``.
        wg_public_key / local_overlay / peer_overlay: the WireGuard peer and overlay ends.
        mss / mss_paths / clamps: the clamp the claim's path needs, per path.
        sysctls: the shared sysctl objects the claim wants (user-managed ones left out).
        shared_keys: every key of a shared object the claim needs (sysctls, including those
            a user Sysctl manages, the WireGuard device, the clamp table).
    """

    capture_type: str
    capture_interface: str
    tunnel: str
    peer: str
    wg_public_key: str
    local_overlay: str
    peer_overlay: str
    mss: int | None
    mss_paths: tuple[tuple[str, str], ...]
    clamps: tuple[tuple[str, str, int], ...]
    sysctls: tuple[Sysctl, ...]
    shared_keys: tuple[Key, ...]
    provider: str = ""


@dataclass(frozen=True, slots=True)
class ClaimIntent:
    """Everything the engine needs to judge one claim against an observation."""

    name: str
    address: str  # "10.40.8.31/32"
    ip: str  # "10.40.8.31"
    facts: ShapeFacts
    gratuitous_arp: bool = False
    domain: str = ""  # AddressMobilityDomain name
    nic_ref: str = ""  # provider-secondary-ip: spec.capture.nicRef

    @property
    def provider(self) -> str:
        """provider-secondary-ip: the CloudProviderProfile's provider ("" when none)."""
        return self.facts.provider

    @property
    def capture_type(self) -> str:
        return self.facts.capture_type

    @property
    def capture_interface(self) -> str:
        """OS name, "" when unset."""
        return self.facts.capture_interface

    @property
    def tunnel(self) -> str:
        return self.facts.tunnel

    @property
    def peer(self) -> str:
        """OverlayPeer name."""
        return self.facts.peer

    @property
    def wg_public_key(self) -> str:
        """The peer's key when the tunnel is a managed WireGuard device."""
        return self.facts.wg_public_key

    @property
    def local_overlay(self) -> str:
        return self.facts.local_overlay

    @property
    def peer_overlay(self) -> str:
        return self.facts.peer_overlay

    @property
    def mss(self) -> int | None:
        return self.facts.mss

    @property
    def mss_paths(self) -> tuple[tuple[str, str], ...]:
        return self.facts.mss_paths


@dataclass(frozen=True, slots=True)
class ClaimPiece:
    """What one claim adds to the desired state, lowered on its own.

    A piece is the claim's own objects (its route) plus the shared objects of its shape
    (``intent.facts.sysctls``), which every claim of the shape holds as the very same
    objects: a fold of thousands of pieces handles the shared part once per run of one
    shape, not once per claim.

    Attributes:
        name / owner: the claim and its owner label (``RemoteAddressClaim/<name>``).
        intent: what the engine judges the claim by.
        own: the objects only this claim wants, in lowering order.
        keys: every key the claim needs, in lowering order: its own objects' keys, its own
            keys with no object (a provider-side claim's absence), then its shape's
            ``shared_keys`` (sysctls, including one a user Sysctl manages instead,
            the WireGuard device and the clamp table it relies on).
    """

    name: str
    owner: str
    intent: ClaimIntent
    own: tuple[DataplaneObject, ...]
    keys: tuple[Key, ...]

    @property
    def objects(self) -> tuple[DataplaneObject, ...]:
        """Every object the claim wants (it is among their owners): own, then shared."""
        return self.own + self.intent.facts.sysctls

    @property
    def allowed(self) -> tuple[tuple[str, str, str], ...]:
        """``(wg interface, peer public key, CIDR)`` the claim adds to a peer's allowed IPs
        (its /32 when its tunnel is a managed WireGuard device)."""
        facts = self.intent.facts
        if not facts.wg_public_key:
            return ()
        return ((facts.tunnel, facts.wg_public_key, self.intent.address),)

    @property
    def mss(self) -> tuple[tuple[str, str, int], ...]:
        """``(iif, oif, mss)`` clamps the claim needs (its shape's)."""
        return self.intent.facts.clamps


@dataclass(frozen=True, slots=True)
class Lowered:
    """The desired state of this router and the intent of each claim (immutable)."""

    desired: DesiredState
    claims: Mapping[str, ClaimIntent]


def rp_filter_key(ifname: str) -> str:
    return f"net.ipv4.conf.{ifname}.rp_filter"


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


def claim_context(config: RouterConfig) -> RouterConfig:
    """Everything a claim's lowering may read: the config without its claims."""
    return config.replace(r for r in config.resources if r.kind != CLAIM_KIND)


def lower_claim(claim: RemoteAddressClaim, context: RouterConfig) -> ClaimPiece:
    """Lower one claim against ``context`` (``claim_context`` of its config).

    Args:
        claim: the claim.
        context: the non-claim resources of the effective config.

    Returns:
        The claim's piece of the desired state.
    """
    return piece_of(claim, shape_facts(context, ClaimShape.of(claim)))


class ClaimLowerer:
    """``lower_claim`` for one context, computing each claim shape's facts once.

    Invariant: the facts kept here are ``shape_facts(self.context, shape)``; the object is
    bound to one context and never outlives it (the engine makes a new one when the context
    changes), and ``shape_facts`` reads nothing but the context and the shape. The shape
    reads nothing but the claim's capture and delivery blocks, which are immutable and
    shared by the claims of one load that have equal ones: a claim holding the very blocks
    of the claim lowered before it has its facts without a shape being made and hashed.
    """

    def __init__(self, context: RouterConfig) -> None:
        self.context = context
        self._facts: dict[ClaimShape, ShapeFacts] = {}
        self._last: tuple[object, object, ShapeFacts] | None = None

    def lower(self, claim: RemoteAddressClaim) -> ClaimPiece:
        """Exactly ``lower_claim(claim, self.context)``."""
        cap, delivery, last = claim.spec.capture, claim.spec.delivery, self._last
        if last is not None and cap is last[0] and delivery is last[1]:
            return piece_of(claim, last[2])
        shape = ClaimShape.of(claim)
        facts = self._facts.get(shape)
        if facts is None:
            facts = self._facts[shape] = shape_facts(self.context, shape)
        self._last = (cap, delivery, facts)
        return piece_of(claim, facts)


def shape_facts(context: RouterConfig, shape: ClaimShape) -> ShapeFacts:
    """What claims of ``shape`` lower to in ``context`` (see ``ShapeFacts``)."""
    tunnel = delivery_tunnel(context, shape.peer_ref, shape.tunnel_interface)
    peer = context.get(OverlayPeer, shape.peer_ref)
    capif = os_ifname(context, shape.capture_interface) if shape.capture_interface else ""
    user_sysctls = {s.spec.key for s in context.of(SysctlResource)}
    wanted = [Sysctl(IP_FORWARD, "1")]
    if shape.capture_type == "proxy-arp":
        wanted += capture.capture_sysctls(capif)
    wanted.append(Sysctl(rp_filter_key(tunnel), LOOSE_RP_FILTER, frozenset({"0", "2"})))
    shared: list[Key] = [s.key for s in wanted]
    if shape.capture_type == "proxy-arp":
        shared += capture.needed_keys(capif)
    wg_key = _wireguard_peer_key(context, peer, tunnel)
    if wg_key:
        shared.append(("wg", tunnel))
    mss, clamps = _mss(context, shape.capture_type, peer, capif, tunnel)
    if clamps:
        shared.append(MSS_KEY)
    profile = context.get(CloudProviderProfile, shape.provider_ref) if shape.provider_ref else None
    return ShapeFacts(
        capture_type=shape.capture_type,
        capture_interface=capif,
        tunnel=tunnel,
        peer=peer.name if peer else "",
        wg_public_key=wg_key,
        local_overlay=peer.spec.underlay.address if peer else "",
        peer_overlay=peer.spec.remote.address if peer else "",
        mss=mss,
        mss_paths=tuple((iif, oif) for iif, oif, _ in clamps),
        clamps=clamps,
        sysctls=tuple(s for s in wanted if s.name not in user_sysctls),  # the user's wins
        shared_keys=tuple(shared),
        provider=profile.spec.provider if profile is not None else "",
    )


def piece_of(claim: RemoteAddressClaim, facts: ShapeFacts) -> ClaimPiece:
    """The piece of ``claim``, given the facts of its shape."""
    spec = claim.spec
    address = spec.address
    ip = address.split("/", 1)[0]
    route_key = ("route", _MAIN, address)  # what Route.__post_init__ derives, made here
    route = _route(address, facts.tunnel, DELIVERY_METRIC, "", MAIN_TABLE, "unicast", route_key)
    cap = spec.capture
    # A proxy-ARP capture is the route itself plus the shape's sysctls (routerd.core.capture).
    # A provider-side capture needs the address absent from this host: a key with no
    # object (routerd.core.desired.implied), after the route's.
    if facts.capture_type == "proxy-arp":
        keys: tuple[Key, ...] = (route_key, *facts.shared_keys)
        nic_ref = ""
    else:
        keys = (route_key, ("absent", ip), *facts.shared_keys)
        nic_ref = cap.nic_ref
    name = claim.name
    intent = _intent(name, address, ip, facts, cap.gratuitous_arp, spec.domain_ref, nic_ref)
    return _piece(name, claim.ref, intent, (route,), keys)


# what piece_of makes per claim, made the fast way (routerd.core.frozen); the keys, which
# the classes' __post_init__ would derive, piece_of passes (it builds them for the piece)
_route = maker(Route, ("_key",))
_intent = maker(ClaimIntent)
_piece = maker(ClaimPiece)
_MAIN = route_key("", MAIN_TABLE)[1]


def _wireguard_peer_key(context: RouterConfig, peer: OverlayPeer | None, tunnel: str) -> str:
    """The public key of the WireGuard peer carrying ``peer`` on a managed ``tunnel``."""
    if peer is None or context.get(WireGuardInterface, tunnel) is None:
        return ""
    wgp = wireguard_peer_for(context, peer, tunnel)
    return wgp.spec.public_key if wgp is not None else ""


def _mss(
    context: RouterConfig,
    capture_type: str,
    peer: OverlayPeer | None,
    capif: str,
    tunnel: str,
) -> tuple[int | None, tuple[tuple[str, str, int], ...]]:
    if capif:
        sources = [capif]
    elif capture_type == "provider-secondary-ip":
        sources = [i.os_name for i in context.of(Interface)]
    else:
        sources = []
    mss: int | None = None
    clamps: list[tuple[str, str, int]] = []
    for src in sources:
        if src == tunnel:
            continue
        pm = path_mtu(context, peer, src, tunnel)
        if pm.mss is None:
            continue
        mss = pm.mss if mss is None else min(mss, pm.mss)
        clamps += [(src, tunnel, pm.mss), (tunnel, src, pm.mss)]
    return mss, tuple(clamps)


def lower(
    config: RouterConfig,
    *,
    generation: int = 0,
    key_dir: str = "/var/lib/routerd/keys",
    public_keys: Mapping[str, str] | None = None,
    capture_active: Mapping[str, bool] | None = None,
) -> Lowered:
    """Lower an effective config to the desired dataplane of this router.

    Args:
        config: the effective (validated) config.
        generation: config generation, recorded in the nft table comment.
        key_dir: where WireGuard keys live when ``privateKeyFile`` is not set.
        public_keys: WireGuard interface -> public key of its private key file (the engine
            resolves these; lowering does no I/O).
        capture_active: capture interface (OS name) -> whether proxy-ARP capture is on
            there; an interface not named is on. Off is a warm standby: the interface's
            ``proxy_arp`` is 0 and every route stays, so switching is one sysctl.

    Returns:
        The desired state and one ClaimIntent per claim.
    """
    from routerd.core.composition import Composition

    context = claim_context(config)
    comp = Composition(
        context,
        generation=generation,
        key_dir=key_dir,
        public_keys=public_keys,
        capture_active=capture_active,
    )
    comp.put_all([lower_claim(c, context) for c in config.of(RemoteAddressClaim)])
    return comp.publish()


def observe_scope(lowered: Lowered) -> ObserveScope:
    """What a backend must report beyond owned objects to judge these claims."""
    scope = ObserveScope(desired=lowered.desired)
    objects = lowered.desired.objects
    sysctls, absent, devices = scope.sysctls, scope.absent_addresses, scope.wireguard
    for k in objects:  # one walk: a first pass's state holds a key per claim
        kind = k[0]
        if kind == "sysctl":
            sysctls.add(k[1])
        elif kind == "wg":
            o = objects[k]
            if isinstance(o, WireGuardDevice):
                devices.add(o.ifname)
    absent.update(k[1] for k in lowered.desired.owners if k[0] == "absent")  # no objects
    shapes = {id(c.facts): c.facts for c in lowered.claims.values()}.values()  # by identity
    scope.links = devices | {f.tunnel for f in shapes}
    scope.links |= {f.capture_interface for f in shapes if f.capture_interface}
    if lowered.claims:
        scope.sysctls.add(IP_FORWARD)
    for ifname in {f.capture_interface for f in shapes if f.capture_type == "proxy-arp"}:
        scope.sysctls |= {s.name for s in capture.capture_sysctls(ifname)}
        scope.sysctls |= {k[1] for k in capture.needed_keys(ifname)}
    return scope
