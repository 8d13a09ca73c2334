"""``FakeMobility``: an in-memory ``MobilityPort`` for the API and routerctl tests.

It follows the rules the mobility controller follows where the API can see them: a router
moves addresses only to its own site (a move elsewhere names the router to call), a move is
all or none, pins at another site and static pins refuse a move, an accepted explicit move
is applied by a later "step" (``apply``, or at once with ``auto_apply``) with the highest
sequence seen plus one, and every change of home is journaled with its cause and wakes
watchers through a ``JournalSignal``. ``learn`` plays another site announcing an address.
It decides nothing about presence or BGP: tests state the homes they need.
"""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from routerd.api.mobility_port import (
    ALREADY_HOME,
    QUEUED,
    REFUSED,
    WOULD_MOVE,
    Conflict,
    Evidence,
    Home,
    JournalSignal,
    MobilityRefused,
    MoveRecord,
    MoveResult,
    Pin,
)

T0 = 1_700_000_000.0
"""The fake clock's start (2023-11-14, in the past so "ago" never turns into "in"), so
goldens hold stable times."""


@dataclass
class FakeDomain:
    """One mobile domain: its prefix, the site this router serves, the others' routers."""

    name: str
    prefix: str
    local_site: str
    sites: dict[str, str]
    """site -> how to reach its router (used in the remote-site refusal)."""
    static_pins: dict[str, tuple[str, str]] = field(default_factory=dict)
    """address -> (site, RemoteAddressClaim name)."""

    def holds(self, address: str) -> bool:
        return ipaddress.IPv4Address(address) in ipaddress.IPv4Network(self.prefix)


def lab_domain() -> FakeDomain:
    return FakeDomain(
        name="lab",
        prefix="10.40.8.0/24",
        local_site="site-a",
        sites={
            "site-a": "this router",
            "site-b": "10.255.0.2, reached through OverlayPeer/to-site-b",
            "site-c": "10.255.0.3, reached through OverlayPeer/to-site-c",
        },
        static_pins={"10.40.8.30": ("site-c", "legacy-db")},
    )


class FakeMobility:
    """``MobilityPort`` in memory (thread-safe); see the module docstring.

    Attributes:
        auto_apply: apply accepted moves inside ``move`` (else wait for ``apply``).
        refuse: a reason every call is refused with (e.g. ``not-ready``), "" for none.
        calls: (method, arguments) of every call, in order.
    """

    def __init__(
        self,
        domains: Sequence[FakeDomain] = (),
        *,
        auto_apply: bool = True,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.domains = list(domains) or [lab_domain()]
        self.auto_apply = auto_apply
        self.refuse = ""
        self._now = T0
        self.clock = clock or self._tick
        self._lock = threading.RLock()
        self.known: dict[str, Home] = {}
        self.pins: dict[str, Pin] = {}
        self.journal: list[MoveRecord] = []
        self.queue: list[tuple[str, str]] = []
        self.high: dict[str, int] = {}
        self.signal = JournalSignal()
        self.calls: list[tuple[str, tuple[object, ...]]] = []

    def _tick(self) -> float:
        self._now += 1.0
        return self._now

    # -- test controls ----------------------------------------------------------------

    def domain_of(self, address: str) -> FakeDomain | None:
        return next((d for d in self.domains if d.holds(address)), None)

    def set_home(self, address: str, site: str, sequence: int, cause: str, evidence: str = "",
                 *, kind: str = "", peer: str = "", conflicts: tuple[Conflict, ...] = (),
                 stale_until: float = 0.0) -> MoveRecord:  # fmt: skip
        """Make ``site`` the home (journaled as a move with ``cause``)."""
        with self._lock:
            dom = self.domain_of(address)
            assert dom is not None, address
            at = self.clock()
            before = self.known.get(address)
            origin = {"bgp": "bgp", "explicit": "explicit", "pin": "pin"}.get(cause, "presence")
            self.known[address] = Home(
                address=address,
                domain=dom.name,
                site=site,
                local_site=dom.local_site,
                sequence=sequence,
                since=at,
                origin=origin,
                evidence=Evidence(kind or cause, at=at, detail=evidence, peer=peer),
                originating=site == dom.local_site,
                stale_until=stale_until,
                conflicts=conflicts,
            )
            self.high[address] = max(sequence, self.high.get(address, 0))
            rec = MoveRecord(
                seq=len(self.journal) + 1,
                address=address,
                domain=dom.name,
                from_site=before.site if before else "",
                to_site=site,
                sequence=sequence,
                cause=cause,
                evidence=evidence,
                at=at,
            )
            self.journal.append(rec)
        self.signal.advance(rec.seq)
        return rec

    def learn(self, address: str, site: str, sequence: int, peer: str = "10.255.0.254") -> None:
        """Another site announces ``address`` (BGP)."""
        self.set_home(
            address, site, sequence, "bgp", f"BGP from {peer}, sequence {sequence}", peer=peer
        )

    def apply(self) -> list[MoveRecord]:
        """The controller's next step: originate every queued explicit move."""
        with self._lock:
            queued, self.queue = self.queue, []
            out = []
            for address, cause in queued:
                dom = self.domain_of(address)
                assert dom is not None
                seq = self.high.get(address, 0) + 1
                out.append(self.set_home(address, dom.local_site, seq, "explicit", cause))
            return out

    # -- MobilityPort -------------------------------------------------------------------

    def _check(self, method: str, *args: object) -> None:
        self.calls.append((method, args))
        if self.refuse:
            raise MobilityRefused(self.refuse, f"refused by the test: {self.refuse}")

    def _domain(self, address: str) -> FakeDomain:
        dom = self.domain_of(address)
        if dom is None:
            mobile = ", ".join(f"{d.name} {d.prefix}" for d in self.domains)
            raise MobilityRefused(
                "not-mobile",
                f"{address} is not a mobile address on this router (mobile domains: {mobile})",
            )
        return dom

    def _pin(self, address: str) -> Pin | None:
        dom = self.domain_of(address)
        if dom is not None and address in dom.static_pins:
            site, claim = dom.static_pins[address]
            return Pin(address, dom.name, site, claim=claim)
        return self.pins.get(address)

    def _judge(self, address: str, to_site: str) -> MoveResult:
        try:
            dom = self._domain(address)
        except MobilityRefused as e:
            return MoveResult(address, REFUSED, reason=e.reason, message=e.message)
        if to_site not in dom.sites:
            sites = ", ".join(dom.sites)
            msg = f"site {to_site!r} is not a site of domain {dom.name} (sites: {sites})"
            return MoveResult(address, REFUSED, reason="unknown-site", message=msg)
        if to_site != dom.local_site:
            msg = (
                f"this router serves {dom.local_site}; a router moves addresses only to its own "
                f"site: call MoveAddress on {to_site}'s router ({dom.sites[to_site]})"
            )
            return MoveResult(address, REFUSED, reason="remote-site", message=msg)
        pin = self._pin(address)
        if pin is not None and pin.site != to_site:
            if pin.claim:
                msg = f"pinned at {pin.site} by RemoteAddressClaim/{pin.claim}: change the config"
                return MoveResult(address, REFUSED, reason="pinned-by-config", message=msg)
            msg = f"pinned at {pin.site}: routerctl unpin {address} first"
            return MoveResult(address, REFUSED, reason="pinned", message=msg)
        home = self.known.get(address)
        if home is not None and home.originating:
            return MoveResult(address, ALREADY_HOME, home.sequence, message="already home here")
        return MoveResult(address, QUEUED, message="queued")

    def move(
        self, addresses: Sequence[str], to_site: str, cause: str, *, dry_run: bool = False
    ) -> list[MoveResult]:
        self._check("move", tuple(addresses), to_site, cause, dry_run)
        with self._lock:
            results = [self._judge(a, to_site) for a in addresses]
            if dry_run:
                would = [replace(r, status=WOULD_MOVE, message="") for r in results]
                return [w if r.status == QUEUED else r for r, w in zip(results, would, strict=True)]
            if any(r.status == REFUSED for r in results):
                return results
            self.queue += [(r.address, cause) for r in results if r.status == QUEUED]
        if self.auto_apply:
            self.apply()
        return results

    def where(self, address: str) -> Home:
        self._check("where", address)
        with self._lock:
            dom = self._domain(address)
            home = self.known.get(address) or Home(address, dom.name, "", dom.local_site)
            return replace(home, pin=self._pin(address))

    def homes_of(self, domain: str = "") -> list[Home]:
        with self._lock:
            homes = [replace(h, pin=self._pin(h.address)) for h in self.known.values()]
        homes = [h for h in homes if not domain or h.domain == domain]
        return sorted(homes, key=lambda h: ipaddress.IPv4Address(h.address))

    def homes(self, domain: str = "") -> list[Home]:
        self._check("homes", domain)
        if domain and domain not in {d.name for d in self.domains}:
            names = ", ".join(d.name for d in self.domains)
            raise MobilityRefused(
                "unknown-domain",
                f"no mobile domain {domain!r} on this router (mobile domains: {names})",
                field="domain",
            )
        return self.homes_of(domain)

    def pin(self, address: str, site: str, cause: str) -> Pin:
        self._check("pin", address, site, cause)
        with self._lock:
            dom = self._domain(address)
            if site not in dom.sites:
                raise MobilityRefused(
                    "unknown-site",
                    f"{site!r} is not a site of domain {dom.name} (sites: {', '.join(dom.sites)})",
                    field="site",
                )
            if address in dom.static_pins:
                claim = dom.static_pins[address][1]
                raise MobilityRefused(
                    "pinned-by-config",
                    f"{address} is pinned by RemoteAddressClaim/{claim} in the config; edit the "
                    "config instead",
                )
            pin = Pin(address, dom.name, site, self.clock(), cause)
            self.pins[address] = pin
            return pin

    def unpin(self, address: str) -> bool:
        self._check("unpin", address)
        with self._lock:
            dom = self._domain(address)
            if address in dom.static_pins:
                claim = dom.static_pins[address][1]
                raise MobilityRefused(
                    "pinned-by-config",
                    f"{address} is pinned by RemoteAddressClaim/{claim}; remove that claim",
                )
            return self.pins.pop(address, None) is not None

    def history(
        self, *, address: str = "", domain: str = "", after: int = 0, limit: int = 1000
    ) -> list[MoveRecord]:
        with self._lock:
            out = [
                r
                for r in self.journal
                if r.seq > after
                and (not address or r.address == address)
                and (not domain or r.domain == domain)
            ]
        return out[:limit]

    def journal_head(self) -> int:
        return self.signal.head

    def wait_for_moves(self, after: int, timeout: float) -> int:
        return self.signal.wait(after, timeout)
