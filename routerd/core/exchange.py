"""The route-exchange port: how routerd tells other sites where an address lives, and learns it.

Address mobility distributes ownership with BGP, through a standard speaker that routerd
drives (``routerd.bgp``). This module is the speaker-neutral half: the types the engine sees,
the encoding of a home on the wire, and the import rule. It does no I/O.

Encoding of a home (one IPv4 ``/32`` per address, originated by its home site):

* large community (RFC 8092) ``ASN:100:SITE_ID``: the site identity;
* large community ``ASN:101:SEQUENCE``: the mobility sequence. EVPN's MAC Mobility rule
  (RFC 7432 section 15) applied to ``/32``s: a move increments it, the highest sequence is the
  home, on a tie the lowest site identity wins and the other is a conflict;
* LOCAL_PREF = SEQUENCE, so a plain route reflector's best path is the highest sequence too;
* NEXT_HOP = the originating router's overlay address.

``ASN`` is the mobility domain's (iBGP) AS number, the same on every router and reflector.

Import rule (``judge``): a received path is accepted only if it is an IPv4 ``/32`` inside one
of the declared domain prefixes, carries exactly one site identity and exactly one sequence,
and the router that sent it (its ORIGINATOR_ID when reflected, else the neighbor's router id
on a direct session) is one of the routers configured for that site: a peer cannot speak for
another site. Everything else is a ``Refusal`` with a reason code, counted, so the doctor
can show which filters refuse which routes.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

SITE_FUNCTION = 100
"""Large-community local data part 1 marking the site identity."""
SEQUENCE_FUNCTION = 101
"""Large-community local data part 1 marking the mobility sequence."""
U32 = 2**32 - 1

LargeCommunity = tuple[int, int, int]

REFUSALS: dict[str, str] = {
    "not-ipv4-host": "not an IPv4 /32: only single addresses move; fix the originating site",
    "outside-domains": "outside every declared mobility domain: declare the domain here, "
    "or stop the other site from originating it",
    "no-site-identity": "carries no ASN:100:SITE large community: the sender is not a "
    "routerd site of this domain, or uses another ASN",
    "several-site-identities": "carries more than one ASN:100:SITE community: the sender "
    "or a route reflector adds identities; fix its export policy",
    "no-sequence": "carries no ASN:101:SEQUENCE large community",
    "several-sequences": "carries more than one ASN:101:SEQUENCE community",
    "unknown-site": "names a site identity that no declared site has: add the site, or fix "
    "the sender's site identity",
    "foreign-site-identity": "was sent by a router that is not configured for the site it "
    "names (a peer cannot speak for another site): check the site's router ids",
}
"""Every refusal reason code, with what it means and what to do."""


def ipv4_int(text: str) -> int | None:
    """A dotted-quad IPv4 address as an integer, None when it is not one (strict: four
    decimal parts 0-255 without leading zeros; cheaper than ``ipaddress`` per path)."""
    parts = text.split(".")
    if len(parts) != 4:
        return None
    value = 0
    for part in parts:
        if not part.isdigit() or not part.isascii() or (len(part) > 1 and part[0] == "0"):
            return None
        n = int(part)
        if n > 255:
            return None
        value = value << 8 | n
    return value


def _ipv4(text: str, what: str) -> ipaddress.IPv4Address:
    try:
        return ipaddress.IPv4Address(text)
    except ValueError:
        raise ValueError(f"{what} {text!r} is not an IPv4 address (like 10.77.0.5)") from None


@dataclass(frozen=True, slots=True)
class Origination:
    """One address this router's site is home for, as it should be announced.

    Attributes:
        address: the bare IPv4 address (``10.77.0.5``), announced as a ``/32``.
        site_id: this site's identity (1 to 2**32-1).
        sequence: the mobility sequence (0 to 2**32-1).
        next_hop: this router's overlay address.
    """

    address: str
    site_id: int
    sequence: int
    next_hop: str

    def problems(self) -> list[str]:
        """What is wrong with it, each naming the field ([] when it can be announced)."""
        out = []
        for name, value in (("address", self.address), ("next_hop", self.next_hop)):
            try:
                _ipv4(value, name)
            except ValueError as exc:
                out.append(str(exc))
        if not 0 < self.site_id <= U32:
            out.append(f"site_id {self.site_id} must be between 1 and {U32}")
        if not 0 <= self.sequence <= U32:
            out.append(f"sequence {self.sequence} must be between 0 and {U32}")
        return out


def encode(origination: Origination, asn: int) -> tuple[int, tuple[LargeCommunity, ...]]:
    """The LOCAL_PREF and large communities that carry an origination.

    Args:
        origination: what to announce.
        asn: the mobility domain's AS number (global administrator of the communities).

    Returns:
        (local_pref, (site identity community, sequence community)).
    """
    return origination.sequence, (
        (asn, SITE_FUNCTION, origination.site_id),
        (asn, SEQUENCE_FUNCTION, origination.sequence),
    )


@dataclass(frozen=True, slots=True)
class ReceivedPath:
    """A path as the speaker received it, before the import rule.

    Attributes:
        prefix: the NLRI (``10.77.0.5/32``).
        next_hop: NEXT_HOP.
        neighbor: the session's peer address.
        neighbor_id: the peer's BGP router id.
        originator_id: ORIGINATOR_ID when a route reflector reflected it, else "".
        large_communities: every large community, in order.
    """

    prefix: str
    next_hop: str
    neighbor: str
    neighbor_id: str
    originator_id: str
    large_communities: tuple[LargeCommunity, ...]

    @property
    def sender(self) -> str:
        """The router that originated it: ORIGINATOR_ID, else the direct neighbor's id."""
        return self.originator_id or self.neighbor_id


@dataclass(frozen=True, slots=True)
class LearnedPath:
    """A path the import rule accepted: some site says an address lives there."""

    address: str
    site_id: int
    sequence: int
    next_hop: str
    neighbor: str
    originator_id: str


@dataclass(frozen=True, slots=True)
class Refusal:
    """A received path the import rule refused (``reason`` is a ``REFUSALS`` key)."""

    prefix: str
    neighbor: str
    sender: str
    reason: str

    def describe(self) -> str:
        via = f" via {self.neighbor}" if self.neighbor != self.sender else ""
        return f"{self.prefix} from {self.sender}{via}: {REFUSALS[self.reason]}"


@dataclass(frozen=True)
class ImportPolicy:
    """What a router accepts: the domains' prefixes and each site's router ids.

    Attributes:
        asn: the mobility domain's AS number.
        domains: IPv4 prefixes of the declared mobility domains (``10.77.0.0/16``).
        sites: site identity -> the router ids (BGP identifiers) of that site's routers.
    """

    asn: int
    domains: tuple[str, ...]
    sites: Mapping[int, frozenset[str]]
    _nets: tuple[tuple[int, int], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        nets = []
        for d in self.domains:
            net = ipaddress.IPv4Network(d)  # raises ValueError naming the bad prefix
            nets.append((int(net.network_address), int(net.netmask)))
        object.__setattr__(self, "_nets", tuple(nets))

    def in_domains(self, address: int) -> bool:
        return any(address & mask == net for net, mask in self._nets)


def judge(path: ReceivedPath, policy: ImportPolicy) -> LearnedPath | Refusal:
    """Apply the import rule (module docstring) to one received path.

    Args:
        path: the path as received.
        policy: the domains and sites this router knows.

    Returns:
        The accepted path, or the refusal with its reason.
    """

    def refuse(reason: str) -> Refusal:
        return Refusal(path.prefix, path.neighbor, path.sender, reason)

    address, _, length = path.prefix.partition("/")
    as_int = ipv4_int(address)
    if as_int is None or length != "32":
        return refuse("not-ipv4-host")
    if not policy.in_domains(as_int):
        return refuse("outside-domains")
    sites = [c[2] for c in path.large_communities if c[:2] == (policy.asn, SITE_FUNCTION)]
    seqs = [c[2] for c in path.large_communities if c[:2] == (policy.asn, SEQUENCE_FUNCTION)]
    if len(sites) != 1:
        return refuse("no-site-identity" if not sites else "several-site-identities")
    if len(seqs) != 1:
        return refuse("no-sequence" if not seqs else "several-sequences")
    routers = policy.sites.get(sites[0])
    if routers is None:
        return refuse("unknown-site")
    if path.sender not in routers:
        return refuse("foreign-site-identity")
    return LearnedPath(address, sites[0], seqs[0], path.next_hop, path.neighbor, path.sender)


@dataclass(frozen=True, slots=True)
class HomeChoice:
    """Where an address lives according to the paths learned for it.

    Attributes:
        home: the winning path (highest sequence, then lowest site identity), or None.
        conflicts: paths from other sites with the same sequence as the home.
    """

    home: LearnedPath | None
    conflicts: tuple[LearnedPath, ...]


def choose_home(paths: Iterable[LearnedPath]) -> HomeChoice:
    """The MAC Mobility rule on the paths learned for one address (module docstring)."""
    ranked = sorted(paths, key=lambda p: (-p.sequence, p.site_id))
    if not ranked:
        return HomeChoice(None, ())
    home = ranked[0]
    conflicts = tuple(
        p for p in ranked[1:] if p.sequence == home.sequence and p.site_id != home.site_id
    )
    return HomeChoice(home, conflicts)


@dataclass(frozen=True, slots=True)
class Neighbor:
    """One BGP session the speaker keeps (a route reflector, or a site peered directly).

    Attributes:
        address: the peer's overlay address.
        asn: the peer's AS number; 0 means the local one (iBGP, the usual case).
        description: shown in session states and the doctor.
        hold_time: seconds; 9 detects a silent peer in 6-9 s (the speaker has no BFD).
        keepalive: seconds, a third of ``hold_time``.
        connect_retry: seconds between connection attempts (gobgpd waits at least 5).
        passive: only accept the connection, never open it.
    """

    address: str
    asn: int = 0
    description: str = ""
    hold_time: int = 9
    keepalive: int = 3
    connect_retry: int = 5
    passive: bool = False


@dataclass(frozen=True, slots=True)
class SpeakerSettings:
    """How this router's speaker is set up.

    Attributes:
        asn: the mobility domain's AS number.
        site_id: this router's site; it originates only that site's homes.
        router_id: this router's BGP identifier (its site's router ids list it).
        listen_address: where the speaker accepts sessions (the overlay address); "" for
            every address.
        listen_port: 179 normally; -1 to accept no session (only connect out).
        neighbors: the sessions to keep.
    """

    asn: int
    site_id: int
    router_id: str
    listen_address: str = ""
    listen_port: int = 179
    neighbors: tuple[Neighbor, ...] = ()

    def problems(self) -> list[str]:
        """What is wrong, each naming the field ([] when the speaker can be set up)."""
        out = []
        if not 0 < self.asn <= U32:
            out.append(f"asn {self.asn} must be between 1 and {U32}")
        if not 0 < self.site_id <= U32:
            out.append(f"site_id {self.site_id} must be between 1 and {U32}")
        addresses = [("router_id", self.router_id)]
        if self.listen_address:
            addresses.append(("listen_address", self.listen_address))
        addresses += [(f"neighbors[{i}].address", n.address) for i, n in enumerate(self.neighbors)]
        for name, value in addresses:
            try:
                _ipv4(value, name)
            except ValueError as exc:
                out.append(str(exc))
        for i, n in enumerate(self.neighbors):
            if not 3 <= n.hold_time <= 65535 or not 1 <= n.keepalive <= n.hold_time // 3:
                out.append(
                    f"neighbors[{i}]: hold_time {n.hold_time} must be 3-65535 and keepalive "
                    f"{n.keepalive} between 1 and a third of it"
                )
        seen = [n.address for n in self.neighbors]
        if len(set(seen)) != len(seen):
            out.append("neighbors: an address is listed twice; keep one entry per peer")
        return out


@dataclass(frozen=True, slots=True)
class SessionState:
    """One BGP session of the speaker.

    Attributes:
        neighbor: the peer's address.
        state: ``idle``, ``connect``, ``active``, ``opensent``, ``openconfirm``,
            ``established``, or ``unknown`` while the speaker cannot be asked.
        since: wall-clock time (epoch seconds) of the last state change, 0 when unknown.
        description: the neighbor's configured description.
        last_error: why the session last went down, or why the state is unknown ("" if none).
    """

    neighbor: str
    state: str
    since: float
    description: str = ""
    last_error: str = ""


@dataclass(frozen=True)
class ExchangeView:
    """An immutable snapshot of what the exchange knows.

    Attributes:
        paths: address -> every accepted path for it (from any site, any neighbor).
        sessions: neighbor address -> session state.
        originated: address -> what this router announces for it now.
        refused: the received paths currently refused by the import rule.
        refused_counts: reason -> paths refused since the exchange started (a refused path
            read again after a reconnect counts again).
        connected: the view reflects the speaker: it answers and its tables have been read
            in full. While False, ``paths`` is incomplete or empty: act on no absence.
        error: why ``connected`` is False ("" when it is True).
    """

    paths: Mapping[str, tuple[LearnedPath, ...]]
    sessions: Mapping[str, SessionState]
    originated: Mapping[str, Origination]
    refused: tuple[Refusal, ...] = ()
    refused_counts: Mapping[str, int] = field(default_factory=dict)
    connected: bool = True
    error: str = ""


class RouteExchange(Protocol):
    """A BGP speaker as routerd sees it (implemented by ``routerd.bgp.gobgp``).

    Contract: ``sync`` is level-triggered and idempotent (the speaker's originated set is
    made equal to the argument, in batches; an origination with problems is reported and
    left as it was); ``close(cleanup=False)`` leaves the speaker running and announcing
    (a routerd restart withdraws nothing), ``close(cleanup=True)`` withdraws everything
    and stops it.
    """

    def start(self, on_change: Callable[[], None]) -> None:
        """Start or adopt the speaker; ``on_change`` is called (from any thread) whenever a
        learned path, a refusal or a session changes."""

    def sync(self, originations: Mapping[str, Origination]) -> list[str]:
        """Make the originated set equal to ``originations`` (address -> origination);
        returns the errors, each naming the address."""

    def view(self) -> ExchangeView:
        """The current snapshot."""

    def close(self, *, cleanup: bool) -> None:
        """Stop watching; with ``cleanup`` also withdraw everything and stop the speaker."""
