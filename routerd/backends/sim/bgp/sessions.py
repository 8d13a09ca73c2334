"""Which BGP sessions a world's speakers keep, from what each one lists as neighbors.

A speaker's neighbor address reaches another router's speaker when that speaker has the
address (router id or listen address); the session exists only if that speaker lists this
one back (gobgpd refuses a peer it does not know). Any other address reaches the world's
route reflector if it answers there (the implicit one answers everywhere no speaker is).
A neighbor that reaches nothing stays ``active``, and its ``last_error`` says why.
"""

from __future__ import annotations

from collections.abc import Mapping

from .reflector import REFLECTOR, Reflector
from .speaker import Speaker

Pair = frozenset[str]
"""Two nodes (routers, or a router and ``REFLECTOR``): a session and what a cut names."""
Shape = tuple[str, str, str, str, float]
"""(a, b, a's neighbor address for b, b's for a, hold time): what a session is."""


def wanted(speakers: Mapping[str, Speaker], reflector: Reflector) -> dict[Pair, Shape]:
    """Every session the speakers' neighbor lists make, by the pair of nodes."""
    owners = {a: r for r, s in speakers.items() for a in s.addresses}
    out: dict[Pair, Shape] = {}
    for router, speaker in speakers.items():
        for n in speaker.settings.neighbors:
            peer = owners.get(n.address)
            if peer == router:
                continue
            if peer is not None:
                back = speakers[peer].neighbor_for(speaker.addresses)
                pair = frozenset((router, peer))
                if back is not None and pair not in out:
                    hold = min(n.hold_time, back.hold_time)
                    out[pair] = (router, peer, n.address, back.address, hold)
            elif reflector.answers_at(n.address):
                pair = frozenset((router, REFLECTOR))
                if pair not in out:
                    out[pair] = (router, REFLECTOR, n.address, n.address, n.hold_time)
    return out


def unanswered(
    speakers: Mapping[str, Speaker], reflector: Reflector, speaker: Speaker, address: str
) -> str:
    """Why a neighbor of ``speaker`` has no session to try."""
    peer = next((s for s in speakers.values() if address in s.addresses), None)
    if peer is not None:
        return (
            f"{peer.router}'s speaker does not list {speaker.settings.router_id} as a "
            "neighbor: add it there"
        )
    if reflector.settings.declared:
        return (
            f"no BGP speaker answers at {address} in this world (the reflector is at "
            f"{reflector.settings.address}): fix the neighbor address"
        )
    return f"no BGP speaker answers at {address} in this world"
