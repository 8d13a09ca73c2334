"""WireGuard handshakes across the simulated underlay.

A pair of devices completes a handshake when (1) the keys match mutually — the initiator's
peer key is the responder's public key and the responder has a peer with the initiator's
public key — and (2) the initiation (UDP to the peer's endpoint) and the response (UDP back
to the source the responder saw) both get through the underlay, firewalls included. The
responder learns the initiator's endpoint from the initiation, which is how a cloud router
with no configured endpoint learns where the on-prem router is.

Time comes from the world's injectable clock. A session stays usable for
``REJECT_AFTER_TIME``; traffic needing a session past that triggers a new handshake.
``persistentKeepalive`` is modelled simply: whenever a backend observes the host, each pair
with a keepalive side re-handshakes if the underlay still lets it, so "latest handshake" stays
fresh exactly while the path is reachable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .wireguard import REJECT_AFTER_TIME, WgDevice, WgPeerState, split_endpoint

if TYPE_CHECKING:
    from .host import Host
    from .world import World

INITIATION_SIZE = 176  # 148-byte message + IPv4/UDP headers
RESPONSE_SIZE = 120  # 92-byte message + IPv4/UDP headers


def ensure_session(world: World, host: Host, dev: WgDevice, peer: WgPeerState) -> str | None:
    """Make sure ``dev`` has a usable session with ``peer``.

    A side with ``persistentKeepalive`` keeps initiating on its own, so when this side cannot
    (no endpoint yet, or its initiation is lost) the other side's keepalive gets its turn.

    Returns:
        None when a session exists or a new handshake succeeded, else why it failed.
    """
    last = peer.last_handshake
    if last is not None and world.clock() - last < REJECT_AFTER_TIME:
        return None
    why = handshake(world, host, dev, peer) if peer.endpoint else "peer has no endpoint"
    if why is not None and _remote_keepalive(world, dev, peer) is None:
        return None
    return why


def _remote_keepalive(world: World, dev: WgDevice, peer: WgPeerState) -> str | None:
    """Let the peer's keepalive initiate toward ``dev``; None when that handshake worked."""
    remote = world.wireguard_by_key(peer.public_key)
    if remote is None:
        return "no remote device"
    rhost, rdev = remote
    rpeer = rdev.peers.get(dev.public_key)
    if rpeer is None or not rpeer.persistent_keepalive or not rpeer.endpoint:
        return "the peer does not keep the session alive"
    return handshake(world, rhost, rdev, rpeer)


def handshake(world: World, host: Host, dev: WgDevice, peer: WgPeerState) -> str | None:
    """Run one handshake initiated by ``dev`` toward ``peer``; None on success, else why not."""
    if not peer.endpoint:
        return "peer has no endpoint"
    remote = world.wireguard_by_key(peer.public_key)
    if remote is None:
        return f"no device has public key {peer.public_key[:8]}..."
    rhost, rdev = remote
    rpeer = rdev.peers.get(dev.public_key)
    if rpeer is None:
        return f"{rhost.name}/{rdev.ifname} has no peer with our public key"
    lost = {(host.name, dev.ifname), (rhost.name, rdev.ifname)} & world.handshake_blocked
    if lost:
        return f"handshake packets of {'/'.join(min(lost))} are lost"
    ep_ip, ep_port = split_endpoint(peer.endpoint)
    init = world.trace(
        host.name,
        ep_ip,
        INITIATION_SIZE,
        df=False,
        proto="udp",
        sport=dev.listen_port,
        dport=ep_port,
    )
    if not init.delivered:
        return f"initiation dropped at {init.drop_host}: {init.drop_reason}"
    riface = rhost.interfaces.get(rdev.ifname)
    if (
        init.dst_host != rhost.name
        or ep_port != rdev.listen_port
        or riface is None
        or not riface.up
    ):
        return f"initiation reached {init.dst_host}:{ep_port}, not {rhost.name}/{rdev.ifname}"
    source = init.source_seen or ""
    rpeer.endpoint = f"{source}:{dev.listen_port}"
    resp = world.trace(
        rhost.name,
        source,
        RESPONSE_SIZE,
        df=False,
        proto="udp",
        sport=rdev.listen_port,
        dport=dev.listen_port,
    )
    if not resp.delivered or resp.dst_host != host.name:
        return f"response dropped at {resp.drop_host or resp.dst_host}: {resp.drop_reason}"
    now = world.clock()
    peer.last_handshake = now
    rpeer.last_handshake = now
    return None


def keepalive(world: World, host: Host) -> None:
    """Refresh the handshakes of every pair on ``host`` that has a keepalive side.

    A pair whose last handshake is younger than its keepalive interval is left alone, as
    WireGuard would leave it (a session is re-keyed by its keepalive, not by being looked at).
    """
    now = world.clock()
    for dev in list(host.wireguard.values()):
        for peer in list(dev.peers.values()):
            fresh = peer.last_handshake is not None and peer.persistent_keepalive
            if fresh and now - peer.last_handshake < peer.persistent_keepalive:  # type: ignore[operator]
                continue
            mine = peer.persistent_keepalive and peer.endpoint
            if mine and handshake(world, host, dev, peer) is None:
                continue
            _remote_keepalive(world, dev, peer)
