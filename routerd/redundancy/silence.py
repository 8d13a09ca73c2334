"""Why a master's adverts can be missing from the wire although its keepalived is not hung.

The advert watchdog (``watchdog``) reads silence on the wire as a hung keepalived and then
removes the addresses and kills it. That is right for a stopped or wedged process, and
wrong in two cases where keepalived is fine, and where acting turns a router that serves
into one that does not (with a dead partner: nobody serves until the restart):

* *the kernel holds the adverts*: they are unicast to the peers, and a packet to a next hop
  that does not answer ARP waits in the neighbour entry and is dropped, never reaching the
  device (where the packet socket sees frames). This is what happens once the partner has
  been switched off or unplugged for a few seconds (about 8 s measured). A partner that
  answers no ARP is off the segment: it cannot take the address over for clients either,
  so there is no second responder to prevent.
* *keepalived waits for a CPU*: its VRRP process is runnable and not running. On a busy
  2-vCPU machine it was measured waiting 170-190 ms on the run queue (other processes on
  that vCPU waited as long), which is most of 2.5 intervals at 0.1 s. It advertises as
  soon as it runs. Should a partner take over meanwhile, its adverts prove two masters and
  the watchdog's other rule (a partner master while ours is silent) acts on that.

A keepalived spinning without advertising is also runnable, so it is excused as well;
the partner-master rule then acts once the partner takes over. A stopped (SIGSTOP) or
blocked process is not excused.

The adverts the kernel holds are also a hazard of their own (``drop_held_adverts``): they
are delivered whenever the next hop resolves, however old. A master whose link goes down
keeps advertising until keepalived reads the link event (on a busy machine, an advert or
two later); the carrier loss evicts the partner's neighbour entry, so those adverts and
FAULT's priority-0 one wait in a new, incomplete entry. Once the link is back, the next
ARP retry (1 s after the first) resolves it and the partner, master by now, hears our old
priority and yields: the address goes away for the ~80 ms until it takes over again
(measured: a second outage 1.0 s after a cut, in about one cut of four under load).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from routerd.backends.linux import netlink_codec as nl
from routerd.backends.linux.netlink_socket import NetlinkSocket, Request

NUD_INCOMPLETE = 0x01
NUD_FAILED = 0x20
HELD = NUD_INCOMPLETE | NUD_FAILED
"""Neighbour states in which the kernel queues or drops packets instead of sending them."""


def process_state(pid: int) -> str | None:
    """The one-letter state of a process (``R`` runnable, ``S`` sleeping, ``T`` stopped...).

    Returns:
        The state, or None when the process is gone.
    """
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 1 :].split()
    return fields[0] if fields else None


def _route(peer: str) -> Request:
    body = nl.RTMSG.pack(nl.AF_INET, 32, 0, 0, 0, 0, 0, 0, 0) + nl.attr_ip4(nl.RTA_DST, peer)
    return Request(nl.RTM_GETROUTE, 0, body)


def _neighbour(ifindex: int, address: str) -> Request:
    # A get header carries no state or type (the kernel answers EINVAL otherwise).
    body = nl.NDMSG.pack(nl.AF_INET, ifindex, 0, 0, 0) + nl.attr_ip4(nl.NDA_DST, address)
    return Request(nl.RTM_GETNEIGH, 0, body)


def _next_hops(sock: NetlinkSocket, peers: Sequence[str]) -> list[tuple[int, str]]:
    """(output device, next hop) of each peer the kernel has a unicast route for."""
    with sock.lock:
        replies = sock.transact([_route(p) for p in peers])
    hops = []
    for peer, reply in zip(peers, replies, strict=True):
        if not reply.ok or reply.body is None:
            continue
        rtype = nl.RTMSG.unpack_from(reply.body, 0)[7]
        attrs = nl.parse_attrs(reply.body, nl.RTMSG.size)
        oif = attrs.get(nl.RTA_OIF)
        if rtype != nl.RTN_UNICAST or oif is None:
            continue
        gateway = attrs.get(nl.RTA_GATEWAY)
        hops.append((nl.u32(oif), nl.ip4(gateway) if gateway else peer))
    return hops


def _ipv4(peers: Sequence[str]) -> list[str]:
    return [p for p in peers if ipaddress.ip_address(p).version == 4]


def _hop_states(
    sock: NetlinkSocket, peers: Sequence[str]
) -> list[tuple[tuple[int, str], int | None]]:
    """(output device, next hop) of each routable peer, with its neighbour state (None: no
    entry)."""
    hops = _next_hops(sock, peers)
    with sock.lock:
        replies = sock.transact([_neighbour(i, a) for i, a in hops])
    return [
        (hop, nl.NDMSG.unpack_from(r.body, 0)[2] if r.ok and r.body is not None else None)
        for hop, r in zip(hops, replies, strict=True)
    ]


def adverts_held(peers: Sequence[str]) -> bool:
    """Whether the kernel can send nothing to any peer: none has a route with a resolved
    next hop (this network namespace).

    Args:
        peers: the unicast peers keepalived advertises to (IPv4).

    Returns:
        True when every peer's next hop is unresolved (ARP incomplete or failed, or no
        entry) or unroutable; False when at least one can receive, or without peers.
    """
    peers = _ipv4(peers)
    if not peers:
        return False
    sock = NetlinkSocket(timeout=1.0)
    try:
        states = _hop_states(sock, peers)
    finally:
        sock.close()
    return all(state is None or state & HELD for _, state in states)


def _forget(ifindex: int, address: str) -> Request:
    body = nl.NDMSG.pack(nl.AF_INET, ifindex, 0, 0, 0) + nl.attr_ip4(nl.NDA_DST, address)
    return Request(nl.RTM_DELNEIGH, nl.NLM_F_ACK, body)


def drop_held_adverts(peers: Sequence[str]) -> list[str]:
    """Drop the packets the kernel holds for the peers' next hops (this network namespace).

    Deletes each peer's next-hop neighbour entry that is incomplete, the one state in which
    the kernel queues packets; the queue goes with it. Resolved, failed and static entries
    are left alone (they hold nothing), and so is every other neighbour.

    Args:
        peers: the unicast peers keepalived advertises to (IPv4; others are ignored).

    Returns:
        The next hops whose held packets were dropped.
    """
    peers = _ipv4(peers)
    if not peers:
        return []
    sock = NetlinkSocket(timeout=1.0)
    try:
        states = _hop_states(sock, peers)
        held = [hop for hop, state in states if state is not None and state & NUD_INCOMPLETE]
        if not held:
            return []
        with sock.lock:
            dropped = sock.transact([_forget(i, a) for i, a in held])
    finally:
        sock.close()
    # gone meanwhile (resolved and replaced, or expired): nothing left to drop either way
    return [a for (_, a), reply in zip(held, dropped, strict=True) if reply.ok]


def explain(vrrp_pid: int | None, peers: Sequence[str]) -> str | None:
    """Why our adverts are missing from the wire although keepalived is not hung.

    Args:
        vrrp_pid: keepalived's VRRP process (None: unknown, never excused by its state).
        peers: the unicast peers.

    Returns:
        The reason, or None when nothing explains the silence (a hang).
    """
    if vrrp_pid is not None and process_state(vrrp_pid) == "R":
        return "its VRRP process is runnable: it waits for a CPU"
    if adverts_held(peers):
        return (
            "the kernel holds them: no peer answers ARP "
            f"({', '.join(peers)}), so no partner can take over either"
        )
    return None
