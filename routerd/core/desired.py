"""Desired (and observed) dataplane objects: the language between core and backends.

Lowering turns the effective config into a ``DesiredState``; a backend's ``observe`` returns
an ``Observed`` holding objects of the *same* types, so the diff (``routerd.core.plan``) is
plain dictionary work. Every object has a ``key`` (its identity on the host) and equality
is decided by ``satisfies(desired, observed)``, which knows the "don't care" values
(listen port 0, MTU 0, endpoint "" ...) so a second pass with nothing to do changes nothing.

Objects are frozen, slotted dataclasses: at 10,000 claims there are ~10,000 of them (a
route per claim). The kinds there is one of per claim (routes, proxy entries) build their
key once: the key is held by the desired map, the claim's piece, owners and the backend's
cache, and a tuple built on every read would be one more copy in each (~170 B a claim).
A provider-side claim also needs its address absent from the host, a key with no object
(``implied``).
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeAlias

from routerd.core.persistent import EMPTY_MAP, Map

if TYPE_CHECKING:
    from routerd.core.assignment import Assignment

Key: TypeAlias = tuple[str, ...]

MAIN_TABLE = 254
_TABLE_NAMES = {MAIN_TABLE: str(MAIN_TABLE)}  # one string for the table nearly every key names
DELIVERY_METRIC = 120
PROXY_PROTO = "routerd"


@dataclass(frozen=True, slots=True)
class Sysctl:
    """A kernel parameter (``net.ipv4.conf.ens19.proxy_arp``).

    ``accept`` lists observed values that already satisfy the intent (for ``rp_filter`` on
    the tunnel, 0 and 2 are both fine: routerd only ever *loosens* it). Removing a sysctl
    means restoring the value the backend saw before it first changed it.
    """

    name: str
    value: str
    accept: frozenset[str] = frozenset()

    @property
    def key(self) -> Key:
        return ("sysctl", self.name)

    def ok(self, observed: str) -> bool:
        return observed == self.value or observed in self.accept


def route_key(dst: str, table: int = MAIN_TABLE) -> Key:
    """The key of the route to ``dst`` (CIDR) in ``table``.

    Args:
        dst: the destination, e.g. "10.40.8.31/32".
        table: the routing table's number.

    Returns:
        ``("route", table as a string, dst)``.
    """
    return ("route", _TABLE_NAMES.get(table) or str(table), dst)


@dataclass(frozen=True, slots=True)
class Route:
    """An IPv4 route routerd owns (marked with routerd's route protocol number)."""

    dst: str  # CIDR, e.g. "10.40.8.31/32"
    dev: str = ""
    metric: int = 0
    gateway: str = ""
    table: int = MAIN_TABLE
    type: str = "unicast"  # or "blackhole"
    _key: Key = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_key", route_key(self.dst, self.table))

    @property
    def key(self) -> Key:
        return self._key


@dataclass(frozen=True, slots=True)
class ProxyNeighbour:
    """A permanent proxy-ARP entry (``ip neigh add proxy ADDR dev DEV``)."""

    address: str  # bare IPv4, e.g. "10.40.8.21"
    dev: str
    _key: Key = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_key", ("pneigh", self.address, self.dev))

    @property
    def key(self) -> Key:
        return self._key


@dataclass(frozen=True, slots=True)
class Address:
    """An address routerd assigns (IPv4StaticAddress), e.g. the overlay address."""

    dev: str
    cidr: str  # interface form, e.g. "10.255.40.0/31"

    @property
    def key(self) -> Key:
        return ("addr", self.dev, self.cidr)


@dataclass(frozen=True, slots=True)
class AbsentAddress:
    """An address that must NOT be local to this host (D15 in docs/decisions.md).

    Desired form has nothing present; lowering makes none (``implied``). The observed form
    exists only where the address is present: every ``(dev, cidr)`` where it is assigned,
    and every foreign ``local``-table route for it as ``(dev, proto)`` (Google's guest
    agent installs ``local <alias>/32`` routes instead of addresses: the same trap in route
    form); applying removes them all. Releasing a claim never re-adds anything: routerd did
    not own the guest's assignment.
    """

    address: str  # bare IPv4
    present_on: tuple[tuple[str, str], ...] = ()
    local_routes: tuple[tuple[str, int], ...] = ()
    _key: Key = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_key", ("absent", self.address))

    @property
    def key(self) -> Key:
        return self._key


@dataclass(frozen=True, slots=True)
class WgPeer:
    public_key: str
    allowed_ips: frozenset[str] = frozenset()  # normalized CIDRs
    endpoint: str = ""  # "" = not configured (the peer dials in); observed: current endpoint
    persistent_keepalive: int = 0
    preshared_key_file: str = ""


@dataclass(frozen=True, slots=True)
class WireGuardDevice:
    """A WireGuard interface and its peers.

    ``public_key`` identifies the private key in use: the engine fills it from
    ``private_key_file`` (generating the file when absent, D11) and backends report the
    device's current public key, so the private key itself never crosses this boundary.
    ``addresses`` are the CIDRs to assign (overlay addresses).
    """

    ifname: str
    private_key_file: str = field(default="", compare=False)
    public_key: str = ""
    listen_port: int = 0  # 0 = kernel's choice; not compared
    mtu: int = 0  # 0 = leave as is; not compared
    fwmark: int = 0
    peers: tuple[WgPeer, ...] = ()  # sorted by public_key

    @property
    def key(self) -> Key:
        return ("wg", self.ifname)

    def peer(self, public_key: str) -> WgPeer | None:
        for p in self.peers:
            if p.public_key == public_key:
                return p
        return None


@dataclass(frozen=True, slots=True)
class MssRule:
    iif: str
    oif: str
    mss: int


MSS_TABLE = "routerd_mss"


@dataclass(frozen=True, slots=True)
class MssClampTable:
    """The ``inet routerd_mss`` table: one clamp rule per (iif, oif), both directions (D8).

    The table comment carries ``routerd.owner=routerd routerd.generation=<generation>``
    (D14); the generation records which config wrote it and is not compared.
    """

    rules: frozenset[MssRule]
    generation: int = field(default=0, compare=False)

    @property
    def key(self) -> Key:
        return ("nft", "inet", MSS_TABLE)

    def covers(self, iif: str, oif: str) -> MssRule | None:
        for r in self.rules:
            if r.iif == iif and r.oif == oif:
                return r
        return None


IMPLIED_KINDS = frozenset({"absent"})
"""Kinds of the keys ``implied`` knows."""


def implied(key: Key) -> DataplaneObject | None:
    """The desired object of a key claims need but lower no object for, or None.

    An absence (``("absent", ip)``) is the one such key. Its desired form says only "nothing
    here", so lowering does not make one per provider-side claim (at 100,000 claims that
    object, in every map and walk a pass makes, cost the first pass about a third of its
    time): the claim's piece lists the key, its owners hold it, a backend observes the
    address and reports an ``AbsentAddress`` only where it is present, and ``diff`` takes
    this object as the desired one for such a report.
    """
    if key[0] == "absent":
        return AbsentAddress(key[1])
    return None


def satisfies(desired: DataplaneObject, observed: DataplaneObject) -> bool:
    """Whether the observed object already fulfils the desired one (no change needed)."""
    if isinstance(desired, Sysctl) and isinstance(observed, Sysctl):
        return desired.ok(observed.value)
    if isinstance(desired, AbsentAddress) and isinstance(observed, AbsentAddress):
        return not observed.present_on and not observed.local_routes
    if isinstance(desired, WireGuardDevice) and isinstance(observed, WireGuardDevice):
        return _wg_satisfies(desired, observed)
    return desired == observed


def _wg_satisfies(d: WireGuardDevice, o: WireGuardDevice) -> bool:
    if d.public_key and d.public_key != o.public_key:
        return False
    if d.listen_port and d.listen_port != o.listen_port:
        return False
    if d.mtu and d.mtu != o.mtu:
        return False
    if d.fwmark != o.fwmark or len(d.peers) != len(o.peers):
        return False
    for dp in d.peers:
        op = o.peer(dp.public_key)
        if op is None or op.allowed_ips != dp.allowed_ips:
            return False
        if dp.endpoint and dp.endpoint != op.endpoint:
            return False
        if dp.persistent_keepalive != op.persistent_keepalive:
            return False
    return True


MACVLAN_BRIDGE = "bridge"


@dataclass(frozen=True, slots=True)
class GatewayDevice:
    """A mobile domain's anycast-gateway device (``routerd.core.mobility.gateway``).

    A macvlan child of the capture interface ``parent`` carrying the domain's shared
    ``mac`` and holding ``addresses`` (the gateway as a ``/32``, ``noprefixroute``). ``up``
    False is a standby: the device is kept with its link down, so it answers nothing.
    The observed form says what the link named ``ifname`` is: its kind, parent, MAC,
    macvlan mode, every IPv4 address on it (sorted) and its admin state; it is owned only
    when it carries routerd's mark, and a foreign link of that name is never touched.
    """

    ifname: str
    parent: str
    mac: str
    addresses: tuple[str, ...]  # CIDRs, sorted: ("10.40.8.254/32",)
    up: bool = True
    mode: str = MACVLAN_BRIDGE
    kind: str = "macvlan"

    @property
    def key(self) -> Key:
        return ("gateway", self.ifname)


@dataclass(frozen=True, slots=True)
class Garp:
    """A gratuitous ARP to send: an action, not an object (never observed or removed).

    The engine asks for one when a proxy-ARP claim with ``gratuitousARP`` becomes captured
    (D9), as a ``Change`` with op ``announce`` that the backend applies like any other.
    Address mobility sends one to a single host (``to``): a VM that just arrived at this
    site is told that an address it may have cached with its old neighbour's MAC is now
    behind the capture device.
    """

    address: str  # bare IPv4
    dev: str
    to: str = ""
    """The MAC of the one host to tell (a unicast frame); "" announces to everyone."""

    @property
    def key(self) -> Key:
        if self.to:
            return ("garp", self.address, self.dev, self.to)
        return ("garp", self.address, self.dev)


DataplaneObject: TypeAlias = (
    Sysctl
    | Route
    | ProxyNeighbour
    | Address
    | AbsentAddress
    | WireGuardDevice
    | MssClampTable
    | GatewayDevice
    | Garp
)


@dataclass(frozen=True, slots=True)
class DesiredState:
    """Everything this router should have, with who wants each object (immutable).

    The engine publishes one after every pass that changed it, for API threads and
    backends to read without locks; the mappings are persistent (``routerd.core.persistent``)
    so a new state shares everything but what changed with the previous one.

    Attributes:
        objects: key -> object.
        owners: key -> owner labels (``RemoteAddressClaim/x``, ``HybridRoute/y`` ...), for
            every key of ``objects`` and every key needed without an object (``implied``).
        claim_keys: claim name -> the keys that claim needs.
        generation: the config generation this state was lowered from.
    """

    objects: Mapping[Key, DataplaneObject] = EMPTY_MAP
    owners: Mapping[Key, AbstractSet[str]] = EMPTY_MAP
    claim_keys: Mapping[str, tuple[Key, ...]] = EMPTY_MAP
    generation: int = 0


class DesiredBuilder:
    """Builds a ``DesiredState`` object by object (tests, tools, backends' cleanup).

    Args:
        generation: the generation the built state records.
    """

    def __init__(self, generation: int = 0) -> None:
        self.generation = generation
        self.objects: dict[Key, DataplaneObject] = {}
        self.owners: dict[Key, set[str]] = {}
        self.claim_keys: dict[str, list[Key]] = {}

    def add(self, obj: DataplaneObject, owner: str, *, claim: str | None = None) -> None:
        """Want ``obj`` for ``owner`` (and list its key among ``claim``'s keys)."""
        k = obj.key
        self.objects[k] = obj
        self.owners.setdefault(k, set()).add(owner)
        if claim is not None:
            self.claim_keys.setdefault(claim, []).append(k)

    def need(self, key: Key, owner: str, *, claim: str | None = None) -> None:
        """Need ``key`` for ``owner`` with no object (a key ``implied`` knows)."""
        self.owners.setdefault(key, set()).add(owner)
        if claim is not None:
            self.claim_keys.setdefault(claim, []).append(key)

    def build(self) -> DesiredState:
        return DesiredState(
            Map(self.objects),
            Map((k, frozenset(v)) for k, v in self.owners.items()),
            Map((c, tuple(keys)) for c, keys in self.claim_keys.items()),
            self.generation,
        )


@dataclass
class LinkState:
    """What the host has for an interface name."""

    ifname: str
    exists: bool = True
    up: bool = True
    mtu: int = 0
    kind: str = ""  # "wireguard", "veth", "bridge", ...
    addresses: tuple[str, ...] = ()  # CIDRs


@dataclass
class ObserveScope:
    """What the engine needs to see beyond the objects routerd owns.

    Attributes:
        sysctls: sysctl names whose current values are needed.
        absent_addresses: bare addresses whose presence on any interface must be reported.
        links: interface names whose state is needed.
        wireguard: WireGuard interface names to read (config and runtime).
        desired: the desired state, so a backend can adopt matching owned objects.
        keys: when set, observe only these keys (plus the sysctls, links and WireGuard
            devices named above): a scoped pass reads what it handles, not the whole host.
            ``None`` asks for everything routerd owns (a full observation).
    """

    sysctls: set[str] = field(default_factory=set)
    absent_addresses: set[str] = field(default_factory=set)
    links: set[str] = field(default_factory=set)
    wireguard: set[str] = field(default_factory=set)
    desired: DesiredState | None = None
    keys: frozenset[Key] | None = None


@dataclass
class Observed:
    """A backend's view of the host.

    Attributes:
        objects: key -> observed object, for every owned object and every scope item.
        owned: keys of objects routerd owns (only these may be removed when undesired).
        links: interface name -> state, for the scope's links.
        handshakes: (wg ifname, peer public key) -> seconds since the latest handshake
            (absent = never).
        assignments: bare address -> the provider's answer for a provider-secondary-ip
            claim (``routerd.core.assignment``); filled by the engine from its
            ``ProviderEvidence``, never by a dataplane backend.
    """

    objects: dict[Key, DataplaneObject] = field(default_factory=dict)
    owned: set[Key] = field(default_factory=set)
    links: dict[str, LinkState] = field(default_factory=dict)
    handshakes: dict[tuple[str, str], float] = field(default_factory=dict)
    assignments: Mapping[str, Assignment] = field(default_factory=dict)

    def link_exists(self, ifname: str) -> bool:
        st = self.links.get(ifname)
        return st is not None and st.exists

    def sysctl(self, name: str) -> str | None:
        obj = self.objects.get(("sysctl", name))
        return obj.value if isinstance(obj, Sysctl) else None
