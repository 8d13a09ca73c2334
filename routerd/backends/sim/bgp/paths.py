"""What a simulated speaker sends, what the simulated route reflector accepts and passes on.

The paths are the ones a real speaker puts on the wire (``routerd.core.exchange``): an IPv4
``/32`` with the site identity and sequence as large communities and the originating
router's overlay address as next hop. A speaker sends its own originations on every session
(never what it learned: iBGP); the reflector sends every client every other client's
accepted path (``add paths tx``: all paths, not only the best), with ORIGINATOR_ID set to
the client it came from, and next hop and communities untouched.

The reflector's import filter is the one the lab's BIRD2 reflector runs per client
(``mobility_ok``): only ``/32``s inside the domains, exactly one site identity and it is
the client's own site, exactly one sequence. A refused path is kept with its reason
(BIRD's ``import keep filtered``), for ``SimService.GetExchange`` to show.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

from routerd.core.exchange import (
    SEQUENCE_FUNCTION,
    SITE_FUNCTION,
    Origination,
    ReceivedPath,
    encode,
    ipv4_int,
)

RouteKey = tuple[str, int]
"""(prefix, add-path identifier): what identifies a path on one session."""
Changes = dict[RouteKey, ReceivedPath | None]
"""Paths sent on one session in one update: the path, or None for a withdrawal."""


def announced(origination: Origination, asn: int) -> ReceivedPath:
    """The path a speaker sends for one of its originations (the session fills in who sent
    it and over which neighbor address, ``on_session``)."""
    _, communities = encode(origination, asn)
    return ReceivedPath(f"{origination.address}/32", origination.next_hop, "", "", "", communities)


def on_session(path: ReceivedPath, neighbor: str, neighbor_id: str) -> ReceivedPath:
    """``path`` as the receiver of a session sees it: from ``neighbor`` (the address the
    receiver configured for the sender) whose BGP identifier is ``neighbor_id``."""
    if path.neighbor == neighbor and path.neighbor_id == neighbor_id:
        return path
    return ReceivedPath(
        path.prefix,
        path.next_hop,
        neighbor,
        neighbor_id,
        path.originator_id,
        path.large_communities,
    )


def reflected(path: ReceivedPath) -> ReceivedPath:
    """A client's path as the reflector passes it on: ORIGINATOR_ID is the client's router
    id (kept if already set); next hop and communities unchanged."""
    return ReceivedPath(path.prefix, path.next_hop, "", "", path.sender, path.large_communities)


@dataclass(frozen=True)
class ReflectorFilter:
    """The reflector's per-client import filter (module docstring).

    Attributes:
        asn: the AS number of the communities it checks.
        domains: the mobility domain prefixes it accepts ``/32``s inside.
    """

    asn: int
    domains: tuple[str, ...]
    _nets: tuple[tuple[int, int], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        nets = [ipaddress.IPv4Network(d) for d in self.domains]
        pairs = tuple((int(n.network_address), int(n.netmask)) for n in nets)
        object.__setattr__(self, "_nets", pairs)

    def verdict(self, path: ReceivedPath, client_site: int) -> str:
        """ "" when the client may announce ``path``, else the reason (a ``REFUSALS`` key)."""
        address, _, length = path.prefix.partition("/")
        value = ipv4_int(address)
        if value is None or length != "32":
            return "not-ipv4-host"
        if not any(value & mask == net for net, mask in self._nets):
            return "outside-domains"
        sites = [c[2] for c in path.large_communities if c[:2] == (self.asn, SITE_FUNCTION)]
        seqs = [c[2] for c in path.large_communities if c[:2] == (self.asn, SEQUENCE_FUNCTION)]
        if len(sites) != 1:
            return "no-site-identity" if not sites else "several-site-identities"
        if sites[0] != client_site:
            return "foreign-site-identity"
        if len(seqs) != 1:
            return "no-sequence" if not seqs else "several-sequences"
        return ""
