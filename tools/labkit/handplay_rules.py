"""The hand-played control plane's decisions: pure, no I/O (``handplay`` runs them).

Until routerd's mobility engine runs the lab, a small controller per router plays its part
by hand so the harness and the floor figures exist. It follows the specified rules, kept
deliberately short:

* **arrival**: a host on this site's segment shows an address (gratuitous ARP, ARP
  request or reply) with evidence newer than the moment the current remote home was learned
  and newer than our last loss of it: originate with the highest sequence seen + 1. Stale
  evidence never re-claims (no ping-pong with a VM that just left).
  An arrival is recorded with the host's MAC and the site it came from (``Arrival``): the
  host keeps the ARP cache it had there, and its entries for the hosts it left behind hold
  their own MACs, which are not on this LAN. The controller repoints exactly those entries
  (``handplay``).
* **explicit move** to this site: originate with the highest sequence seen + 1.
* **a better remote path** (higher sequence, or equal and lower site identity) for an
  address we originate: withdraw at once; the address is now homed there.
* **home** of an address: ours while we originate it, else the best remote path's site.
  A remote path lost while the BGP session is down keeps its last home (stale): traffic
  keeps flowing during a partition. Lost while the session is up (a withdrawal): no home.

What it does not do (routerd does): absence by unanswered probes, pins, persistence of
sequences across a restart of the speaker, provider actions. ``findings`` is the doctor
this controller can offer: sessions down, homes nobody else can see, conflicts.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from routerd.core.exchange import LearnedPath, Origination, choose_home


@dataclass(frozen=True)
class Peer:
    """Another site's router as this one reaches it."""

    site_id: int
    name: str
    public_key: str
    overlay: str


@dataclass(frozen=True)
class CtlConfig:
    """One router's hand-played controller (built by ``mobconfig.controller_config``)."""

    site: str
    site_id: int
    kind: str
    asn: int
    router_id: str
    domain: str
    exclude: tuple[str, ...]
    lan_if: str
    proxy_if: str
    wg_if: str
    rr: str
    hold: int
    keepalive: int
    peers: tuple[Peer, ...]
    sites: tuple[tuple[int, tuple[str, ...]], ...]
    run_dir: str

    def mobile(self) -> list[str]:
        """Every address of the domain that may move (the domain minus ``exclude``)."""
        excluded = [ipaddress.IPv4Network(e) for e in self.exclude]
        net = ipaddress.IPv4Network(self.domain)
        return [str(a) for a in net.hosts() if not any(a in e for e in excluded)]

    def site_name(self, site_id: int) -> str:
        if site_id == self.site_id:
            return self.site
        return next((p.name for p in self.peers if p.site_id == site_id), f"site#{site_id}")


@dataclass(frozen=True)
class Move:
    """A change of home this router decided or saw (its journal)."""

    at: float
    address: str
    to_site: int
    sequence: int
    cause: str


@dataclass(frozen=True)
class Arrival:
    """A host that arrived here holding ``address``, coming from ``from_site`` (0: unknown)."""

    address: str
    mac: str
    from_site: int


@dataclass
class Book:
    """What the controller remembers between passes."""

    own: dict[str, Origination] = field(default_factory=dict)
    seen: dict[str, int] = field(default_factory=dict)
    learned: dict[str, tuple[int, int, float]] = field(default_factory=dict)
    last_home: dict[str, tuple[int, int]] = field(default_factory=dict)
    lost_at: dict[str, float] = field(default_factory=dict)
    journal: list[Move] = field(default_factory=list)
    arrivals: list[Arrival] = field(default_factory=list)

    def adopt(self, originated: Mapping[str, Origination]) -> None:
        """Start from what the speaker already announces (after a controller restart)."""
        self.own = dict(originated)
        for a, o in originated.items():
            self.seen[a] = max(self.seen.get(a, 0), o.sequence)


@dataclass(frozen=True)
class Home:
    """Where an address lives as this router sees it."""

    site_id: int
    sequence: int
    stale: bool = False


def beats(seq: int, site: int, other_seq: int, other_site: int) -> bool:
    """Whether (seq, site) wins over (other_seq, other_site): higher sequence, then lower id."""
    return (seq, -site) > (other_seq, -other_site)


def best_remote(paths: Sequence[LearnedPath], own_site: int) -> LearnedPath | None:
    remote = [p for p in paths if p.site_id != own_site]
    return min(remote, key=lambda p: (-p.sequence, p.site_id)) if remote else None


def _originate(book: Book, cfg: CtlConfig, address: str, now: float, cause: str) -> None:
    seq = book.seen.get(address, 0) + 1
    book.seen[address] = seq
    book.own[address] = Origination(address, cfg.site_id, seq, cfg.router_id)
    book.journal.append(Move(now, address, cfg.site_id, seq, cause))


def _learn(book: Book, cfg: CtlConfig, address: str, remote: LearnedPath, now: float) -> None:
    book.seen[address] = max(book.seen.get(address, 0), remote.sequence)
    key = (remote.site_id, remote.sequence)
    if book.learned.get(address, (0, 0, 0.0))[:2] != key:
        book.learned[address] = (*key, now)
        book.journal.append(Move(now, address, remote.site_id, remote.sequence, "bgp"))
    own = book.own.get(address)
    if own is not None and beats(remote.sequence, remote.site_id, own.sequence, cfg.site_id):
        del book.own[address]
        book.lost_at[address] = now


def step(
    book: Book,
    cfg: CtlConfig,
    paths: Mapping[str, Sequence[LearnedPath]],
    *,
    session_up: bool,
    evidence: Iterable[tuple[str, float, str]] = (),
    requests: Iterable[str] = (),
    now: float,
) -> dict[str, Home]:
    """One pass: apply the rules (module docstring) and return every known home.

    Args:
        book: the controller's memory (updated in place).
        cfg: this router.
        paths: address -> accepted paths (the exchange view).
        session_up: whether the session the paths come over is established.
        evidence: (address, when heard, MAC) from this site's segment; an arrival is also
            appended to ``book.arrivals``.
        requests: addresses explicitly moved to this site.
        now: the pass's time, on the evidence's clock.
    """
    for address, ps in paths.items():
        remote = best_remote(ps, cfg.site_id)
        if remote is not None:
            _learn(book, cfg, address, remote, now)
    for address in requests:
        if address not in book.own:
            _originate(book, cfg, address, now, "explicit")
    for address, at, mac in evidence:
        if address in book.own:
            continue
        from_site, _, learned_at = book.learned.get(address, (0, 0, float("-inf")))
        if at > max(learned_at, book.lost_at.get(address, float("-inf"))):
            _originate(book, cfg, address, now, "presence")
            book.arrivals.append(Arrival(address, mac, from_site))
    homes: dict[str, Home] = {a: Home(cfg.site_id, o.sequence) for a, o in book.own.items()}
    for address in set(book.last_home) | set(paths):
        if address in homes:
            continue
        remote = best_remote(paths.get(address, ()), cfg.site_id)
        if remote is not None:
            homes[address] = Home(remote.site_id, remote.sequence)
        elif not session_up and address in book.last_home:
            homes[address] = Home(*book.last_home[address], stale=True)
    book.last_home = {a: (h.site_id, h.sequence) for a, h in homes.items()}
    return homes


def findings(
    book: Book,
    cfg: CtlConfig,
    paths: Mapping[str, Sequence[LearnedPath]],
    sessions: Mapping[str, str],
) -> list[dict[str, str]]:
    """What a doctor would report now: each finding with status, name and detail."""
    out = []
    down = {n: s for n, s in sessions.items() if s != "established"}
    for neighbor, state in sorted(down.items()):
        out.append(
            {"status": "fail", "name": "bgp session", "detail": f"session to {neighbor} is {state}"}
        )
    if down and book.own:
        out.append(
            {
                "status": "warn",
                "name": "home unconfirmed",
                "detail": f"{len(book.own)} addresses originated here reach no other site "
                f"while the session is down",
            }
        )
    for address in sorted(set(paths) | set(book.own)):
        ps = list(paths.get(address, ()))
        own = book.own.get(address)
        if own is not None:
            ps.append(LearnedPath(address, cfg.site_id, own.sequence, cfg.router_id, "", ""))
        choice = choose_home(ps)
        if choice.conflicts:
            sites = ", ".join(
                cfg.site_name(p.site_id) for p in (choice.home, *choice.conflicts) if p is not None
            )
            out.append(
                {
                    "status": "fail",
                    "name": "conflicting homes",
                    "detail": f"{address}: {sites} at sequence {choice.home.sequence}"
                    if choice.home
                    else address,
                }
            )
        if own is not None and choice.home is not None and choice.home.site_id != cfg.site_id:
            out.append(
                {
                    "status": "fail",
                    "name": "stale sequence",
                    "detail": f"{address}: originated here at {own.sequence}, "
                    f"{cfg.site_name(choice.home.site_id)} has "
                    f"{choice.home.sequence}",
                }
            )
    return out
