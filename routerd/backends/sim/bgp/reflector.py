"""The simulated route reflector of a world: one per world, implicit or declared.

Every router's speaker peers with it (iBGP, ``rr client``), as the lab's BIRD2 reflector is
set up: it accepts from each client only what that client's site may announce
(``ReflectorFilter``), keeps refused paths with their reason, and passes every accepted
path on to every other client with an add-path identifier per originating client.

Implicit (the World file has no ``reflector:`` section): it answers at every neighbor
address a router's speaker names that belongs to no router's speaker, filters with each
client's own AS number, and accepts ``/32``s inside any domain a client declares.
Declared: it answers only at its ``address``, with its ``asn`` and ``domains`` when given.
Not thread-safe: the fabric's lock guards it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from routerd.core.exchange import ReceivedPath

from .paths import Changes, ReflectorFilter, RouteKey, reflected

REFLECTOR = "reflector"
"""The reflector's node name (partitions and reports name it so)."""
DEFAULT_DELAY = 0.001
"""Virtual seconds one BGP update takes over one session hop (router -> reflector or
reflector -> router): a path crosses the reflector in 2 ms, the measured floor of a gobgpd
-> BIRD2 -> gobgpd crossing on the project's machines."""
DEFAULT_RECONNECT = 1.0
"""Virtual seconds before a session that went down comes back once it can (the lab
reflector's connect retry)."""


@dataclass(frozen=True)
class ReflectorSettings:
    """How the world's reflector behaves (the World file's ``reflector:``).

    Attributes:
        address: the one address it answers at; "" for the implicit reflector.
        router_id: its BGP identifier ("" = its address, or the address a client dialled).
        asn: the AS number it filters with (0 = each client's own).
        domains: the prefixes it accepts ``/32``s inside (empty = every client's domains).
        delay: virtual seconds per session hop.
        reconnect: virtual seconds before a lost session comes back.
    """

    address: str = ""
    router_id: str = ""
    asn: int = 0
    domains: tuple[str, ...] = ()
    delay: float = DEFAULT_DELAY
    reconnect: float = DEFAULT_RECONNECT

    @property
    def declared(self) -> bool:
        return bool(self.address)


@dataclass(frozen=True)
class Client:
    """What the reflector knows of one client session."""

    router: str
    site_id: int
    asn: int
    domains: tuple[str, ...]


class Reflector:
    """Accepted and refused paths per client, and what each client is to be sent."""

    def __init__(self, settings: ReflectorSettings) -> None:
        self.settings = settings
        self.rib: dict[tuple[str, str], ReceivedPath] = {}
        """(client router, prefix) -> accepted path."""
        self.filtered: dict[tuple[str, str], tuple[ReceivedPath, str]] = {}
        """(client router, prefix) -> refused path and the reason."""
        self.path_ids: dict[str, int] = {}
        """client router -> the add-path identifier of its paths."""

    def answers_at(self, address: str) -> bool:
        """Whether a client dialling ``address`` reaches it (implicit: the fabric asks only
        for addresses no speaker has)."""
        return not self.settings.declared or address == self.settings.address

    def router_id(self, dialled: str) -> str:
        return self.settings.router_id or self.settings.address or dialled

    def refuses(self, client: Client) -> str:
        """Why a client cannot hold a session ("" when it can): another AS."""
        asn = self.settings.asn
        if asn and client.asn != asn:
            return f"the reflector is in AS {asn}, the speaker in AS {client.asn}"
        return ""

    def _filter(self, client: Client, every: Iterable[Client]) -> ReflectorFilter:
        domains = self.settings.domains or tuple(sorted({d for c in every for d in c.domains}))
        return ReflectorFilter(self.settings.asn or client.asn, domains)

    def path_id(self, router: str) -> int:
        if router not in self.path_ids:
            self.path_ids[router] = len(self.path_ids) + 1
        return self.path_ids[router]

    def receive(
        self, client: Client, changes: Changes, every: Iterable[Client]
    ) -> dict[RouteKey, ReceivedPath | None]:
        """Take one update from ``client``; returns what changed for the other clients
        (keyed by prefix and the client's add-path identifier)."""
        rule = self._filter(client, every)
        out: dict[RouteKey, ReceivedPath | None] = {}
        pid = self.path_id(client.router)
        for (prefix, _), path in changes.items():
            key = (client.router, prefix)
            before = self.rib.pop(key, None)
            self.filtered.pop(key, None)
            after = None
            if path is not None:
                reason = rule.verdict(path, client.site_id)
                if reason:
                    self.filtered[key] = (path, reason)
                else:
                    after = reflected(path)
                    self.rib[key] = after
            if after != before:
                out[(prefix, pid)] = after
        return out

    def drop(self, router: str) -> dict[RouteKey, ReceivedPath | None]:
        """A client's session went down: its paths are withdrawn from the others."""
        pid = self.path_id(router)
        out: dict[RouteKey, ReceivedPath | None] = {}
        for key in [k for k in self.rib if k[0] == router]:
            del self.rib[key]
            out[(key[1], pid)] = None
        for key in [k for k in self.filtered if k[0] == router]:
            del self.filtered[key]
        return out

    def export_to(self, router: str) -> Changes:
        """Everything a client is sent when its session comes up: every other client's
        accepted paths."""
        return {
            (prefix, self.path_id(origin)): path
            for (origin, prefix), path in self.rib.items()
            if origin != router
        }
