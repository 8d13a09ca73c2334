"""One router's simulated BGP speaker: what gobgpd holds on a real router.

A real router runs gobgpd next to routerd; gobgpd keeps the originations, each neighbor's
Adj-RIB-In and the session states, and outlives a routerd restart. ``Speaker`` is that
process in the simulated world: it stays in the ``BgpFabric`` when the routerd side
(``SimExchange``) closes without cleanup, and a new ``SimExchange`` adopts it, reading back
its originations and everything it learned, as ``GobgpExchange`` does.

While a ``SimExchange`` is attached, every received path goes through that exchange's
``LearnedTable`` (the import rule, refusals and their counts, all in routerd's half, as
with gobgpd), and the exchange is told to wake its engine. Not thread-safe: the fabric's
lock guards it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from types import MappingProxyType

from routerd.core.exchange import (
    ImportPolicy,
    Neighbor,
    Origination,
    ReceivedPath,
    SessionState,
    SpeakerSettings,
)
from routerd.core.learned import Decoded, LearnedTable, PathKey

from .paths import Changes, RouteKey, announced

ESTABLISHED = "established"
IDLE = "active"
"""The state gobgpd reports for a session it is trying to (re)connect."""


def global_key(s: SpeakerSettings) -> tuple[object, ...]:
    """The settings whose change restarts BGP on gobgpd (every session and origination
    goes), as ``routerd.bgp.configure.apply`` does."""
    return s.asn, s.router_id, s.listen_address, s.listen_port, s.site_id


class Speaker:
    """The simulated gobgpd of one router (module docstring).

    Args:
        router: the router (world host) it runs on.
        settings: its settings as routerd set them.
        policy: the import rule of the routerd half (kept for reports while detached).
        now: virtual time of its start.
    """

    def __init__(
        self, router: str, settings: SpeakerSettings, policy: ImportPolicy, now: float
    ) -> None:
        self.router = router
        self.settings = settings
        self.policy = policy
        self.running = True
        self.originated: dict[str, Origination] = {}
        self.originated_view: MappingProxyType[str, Origination] = MappingProxyType({})
        self.injected: dict[str, Origination] = {}
        self.adj_in: dict[PathKey, ReceivedPath] = {}
        self.sessions: dict[str, SessionState] = {}
        self.table: LearnedTable | None = None
        self.on_change: Callable[[], None] | None = None
        self.configure(settings, now)

    # -- settings --------------------------------------------------------------------------

    @property
    def addresses(self) -> frozenset[str]:
        """Where other speakers reach it: its router id and listen address."""
        return frozenset(a for a in (self.settings.router_id, self.settings.listen_address) if a)

    def neighbor(self, address: str) -> Neighbor | None:
        return next((n for n in self.settings.neighbors if n.address == address), None)

    def neighbor_for(self, addresses: Iterable[str]) -> Neighbor | None:
        """Its neighbor entry for a peer reachable at any of ``addresses``."""
        wanted = set(addresses)
        return next((n for n in self.settings.neighbors if n.address in wanted), None)

    def configure(self, settings: SpeakerSettings, now: float) -> None:
        """Take new neighbor settings: sessions of neighbors no longer listed are forgotten,
        new ones start trying to connect."""
        self.settings = settings
        wanted = {n.address: n for n in settings.neighbors}
        for address in list(self.sessions):
            if address not in wanted:
                del self.sessions[address]
        for address, n in wanted.items():
            old = self.sessions.get(address)
            if old is None or old.description != n.description:
                error = old.last_error if old is not None else ""
                state = old.state if old is not None else IDLE
                since = old.since if old is not None else now
                self.sessions[address] = SessionState(address, state, since, n.description, error)

    # -- routerd's half --------------------------------------------------------------------

    def attach(self, table: LearnedTable, on_change: Callable[[], None]) -> None:
        """A ``SimExchange`` adopts this speaker: its table is filled from everything heard."""
        self.table, self.on_change = table, on_change
        table.clear()
        for key, path in self.adj_in.items():
            table.apply(Decoded(key, False, path))

    def detach(self) -> None:
        self.table, self.on_change = None, None

    # -- originations ----------------------------------------------------------------------

    def exported(self, addresses: Iterable[str] | None = None) -> Changes:
        """What it announces on a session now: every origination (and injected path), or
        only those of ``addresses`` (a withdrawal where it announces nothing)."""
        asn = self.settings.asn
        if addresses is None:
            addresses = self.originated.keys() | self.injected.keys()
        out: Changes = {}
        for address in addresses:
            o = self.injected.get(address) or self.originated.get(address)
            out[(f"{address}/32", 0)] = announced(o, asn) if o is not None else None
        return out

    def originate(self, wanted: dict[str, Origination]) -> set[str]:
        """Make the originated set equal to ``wanted``; returns the addresses that changed."""
        changed = {a for a in self.originated if a not in wanted}
        changed |= {a for a, o in wanted.items() if self.originated.get(a) != o}
        if changed:
            self.originated = dict(wanted)
            self.originated_view = MappingProxyType(dict(wanted))
        return changed

    def inject(self, originations: Iterable[Origination]) -> set[str]:
        """Announce paths as given, bypassing every check (a misconfigured speaker)."""
        changed = set()
        for o in originations:
            self.injected[o.address] = o
            changed.add(o.address)
        return changed

    # -- what it hears ---------------------------------------------------------------------

    def receive(self, neighbor: str, changes: Changes) -> bool:
        """Apply one update from the session keyed ``neighbor``; True when routerd's view
        changed (the caller wakes the engine)."""
        decoded = []
        for (prefix, path_id), path in changes.items():
            key = (neighbor, prefix, path_id)
            if path is None:
                if self.adj_in.pop(key, None) is not None:
                    decoded.append(Decoded(key, True, None))
            elif self.adj_in.get(key) != path:
                self.adj_in[key] = path
                decoded.append(Decoded(key, False, path))
        if self.table is None:
            return False
        changed = False
        for d in decoded:
            changed = self.table.apply(d) or changed
        return changed

    def session(self, neighbor: str, state: str, now: float, error: str = "") -> bool:
        """Record a session's new state; leaving ``established`` forgets what was learned
        over it. True when routerd's view changed."""
        old = self.sessions.get(neighbor)
        if old is None or (old.state == state and error in ("", old.last_error)):
            return False
        self.sessions[neighbor] = SessionState(
            neighbor, state, now, old.description, error or old.last_error
        )
        if state != ESTABLISHED:
            for key in [k for k in self.adj_in if k[0] == neighbor]:
                del self.adj_in[key]
            if self.table is not None:
                self.table.drop_neighbor(neighbor)
        return True

    def forget_all(self) -> None:
        """BGP restarted or stopped: no origination, nothing learned."""
        self.originated, self.injected = {}, {}
        self.originated_view = MappingProxyType({})
        self.adj_in.clear()
        if self.table is not None:
            self.table.clear()

    def learned_over(self, neighbor: str) -> dict[RouteKey, ReceivedPath]:
        """What the session keyed ``neighbor`` brought (for reports)."""
        return {(k[1], k[2]): p for k, p in self.adj_in.items() if k[0] == neighbor}
