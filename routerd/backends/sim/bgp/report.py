"""What each speaker of a world originates and receives, and what the reflector holds.

``SimService.GetExchange`` shows this so a test (or a person) can see route exchange from
outside routerd: a router's originations as its speaker announces them, every path its
speaker received with the verdict of that router's import rule, its sessions (and which
node each one reaches), and the reflector's accepted and filtered paths per client.
"""

from __future__ import annotations

from dataclasses import dataclass

from routerd.core.exchange import (
    LearnedPath,
    Origination,
    ReceivedPath,
    Refusal,
    SessionState,
    judge,
)

from .fabric import UP, BgpFabric
from .reflector import REFLECTOR


@dataclass(frozen=True)
class Received:
    """One path a speaker holds in a neighbor's Adj-RIB-In, with its import verdict."""

    path: ReceivedPath
    verdict: LearnedPath | Refusal


@dataclass(frozen=True)
class Session:
    """One configured neighbor: its state and the node it reaches ("" = none)."""

    state: SessionState
    peer: str


@dataclass(frozen=True)
class SpeakerReport:
    """One router's speaker.

    Attributes:
        router: the world router.
        running: the speaker runs (False after ``close(cleanup=True)``).
        attached: a routerd exchange holds it now.
        site_id / router_id / asn: its settings.
        originated: what it announces (injected paths included).
        received: what it heard, with the import verdict.
        sessions: its neighbors.
    """

    router: str
    running: bool
    attached: bool
    site_id: int
    router_id: str
    asn: int
    originated: tuple[Origination, ...]
    received: tuple[Received, ...]
    sessions: tuple[Session, ...]


@dataclass(frozen=True)
class ReflectorReport:
    """The world's reflector.

    Attributes:
        address: where it answers ("" = implicit: every address no speaker has).
        router_id: its identifier ("" = the address each client dialled).
        delay / reconnect: virtual seconds per hop, and before a lost session returns.
        clients: routers with an established session.
        accepted: (client, path) it passes on.
        filtered: (client, path, reason) its import filter refused.
    """

    address: str
    router_id: str
    delay: float
    reconnect: float
    clients: tuple[str, ...]
    accepted: tuple[tuple[str, ReceivedPath], ...]
    filtered: tuple[tuple[str, ReceivedPath, str], ...]


def speakers(fabric: BgpFabric, router: str = "") -> list[SpeakerReport]:
    """Every speaker's report (or only ``router``'s), in the order they started."""
    out = []
    with fabric.lock:
        for name, s in fabric.speakers.items():
            if router and name != router:
                continue
            peers = {}
            for link in fabric.links.values():
                if name in (link.a, link.b):
                    peers[link.key_at(name)] = link.other(name)
            originated = {**s.originated, **s.injected}
            out.append(
                SpeakerReport(
                    router=name,
                    running=s.running,
                    attached=s.table is not None,
                    site_id=s.settings.site_id,
                    router_id=s.settings.router_id,
                    asn=s.settings.asn,
                    originated=tuple(originated[a] for a in sorted(originated, key=_addr)),
                    received=tuple(
                        Received(p, judge(p, s.policy))
                        for _, p in sorted(s.adj_in.items(), key=lambda kv: _path_key(kv[0]))
                    ),
                    sessions=tuple(
                        Session(state, peers.get(address, ""))
                        for address, state in s.sessions.items()
                    ),
                )
            )
    return out


def reflector(fabric: BgpFabric) -> ReflectorReport:
    """The reflector's report."""
    with fabric.lock:
        r = fabric.reflector
        clients = tuple(
            lk.a for lk in fabric.links.values() if lk.b == REFLECTOR and lk.state == UP
        )
        return ReflectorReport(
            address=r.settings.address,
            router_id=r.settings.router_id,
            delay=r.settings.delay,
            reconnect=r.settings.reconnect,
            clients=clients,
            accepted=tuple(
                (client, path) for (client, _), path in sorted(r.rib.items(), key=_rib_key)
            ),
            filtered=tuple(
                (client, path, reason)
                for (client, _), (path, reason) in sorted(r.filtered.items(), key=_rib_key)
            ),
        )


def _addr(address: str) -> tuple[int, ...]:
    return tuple(int(x) if x.isdigit() else 0 for x in address.split("."))


def _path_key(key: tuple[str, str, int]) -> tuple[object, ...]:
    neighbor, prefix, path_id = key
    return _addr(prefix.split("/")[0]), neighbor, path_id


def _rib_key(item: tuple[tuple[str, str], object]) -> tuple[object, ...]:
    (client, prefix), _ = item
    return _addr(prefix.split("/")[0]), client
