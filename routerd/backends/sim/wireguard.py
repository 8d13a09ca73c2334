"""Simulated WireGuard devices: keys, peers, allowed IPs and endpoints.

WireGuard's allowed IPs are a routing table in both directions: egress picks the peer whose
allowed IPs contain the destination (none: the packet is dropped), and ingress drops a
decrypted packet whose source is not in the sending peer's allowed IPs. At 10,000 claims a
peer has 10,000 ``/32`` entries, so each device keeps one ``PrefixTable`` from prefix to peer
key, rebuilt only when its configuration changes.

Keys are real base64 X25519 keys (``routerd.keys`` makes key files, ``routerd.core.wgkey``
derives public keys), so a pair of devices handshakes only when each side's peer key is the
other's public key. The handshake itself crosses the simulated underlay and lives in
``routerd.backends.sim.handshake``.
"""

from __future__ import annotations

from dataclasses import dataclass

from routerd.core.desired import WgPeer, WireGuardDevice

from .fib import PrefixTable

DEFAULT_WG_MTU = 1420
REJECT_AFTER_TIME = 180.0  # seconds a session key stays usable (WireGuard's Reject-After-Time)


@dataclass
class WgPeerState:
    """One peer as the device holds it.

    Attributes:
        endpoint: the current endpoint (configured, or learned from the peer's packets).
        configured_endpoint: what the configuration said ("" = the peer dials in).
        last_handshake: clock time of the latest completed handshake, None = never.
    """

    public_key: str
    allowed_ips: frozenset[str] = frozenset()
    configured_endpoint: str = ""
    endpoint: str = ""
    persistent_keepalive: int = 0
    preshared_key_file: str = ""
    last_handshake: float | None = None

    def as_desired(self) -> WgPeer:
        return WgPeer(
            public_key=self.public_key,
            allowed_ips=self.allowed_ips,
            endpoint=self.endpoint,
            persistent_keepalive=self.persistent_keepalive,
            preshared_key_file=self.preshared_key_file,
        )


class WgDevice:
    """The WireGuard side of an interface (the link itself is a host ``Interface``).

    Attributes:
        created_by: owner mark of whoever created the device ("routerd" or "").
        configured_by: owner mark of whoever last configured it.
    """

    def __init__(self, ifname: str, *, listen_port: int, created_by: str = "") -> None:
        self.ifname = ifname
        self.public_key = ""
        self.listen_port = listen_port
        self.fwmark = 0
        self.peers: dict[str, WgPeerState] = {}
        self.created_by = created_by
        self.configured_by = ""
        self._allowed: PrefixTable[str] = PrefixTable()
        self._routing: dict[str, str] = {}  # CIDR -> peer key, as ``_allowed`` holds it

    def configure(self, spec: WireGuardDevice, public_key: str, owner: str) -> None:
        """Set keys, port and the full peer list; keep runtime state of surviving peers."""
        if public_key != self.public_key:
            for p in self.peers.values():
                p.last_handshake = None
        self.public_key = public_key
        if spec.listen_port:
            self.listen_port = spec.listen_port
        self.fwmark = spec.fwmark
        old = self.peers
        self.peers = {}
        for want in spec.peers:
            prev = old.get(want.public_key)
            self.peers[want.public_key] = WgPeerState(
                public_key=want.public_key,
                allowed_ips=want.allowed_ips,
                configured_endpoint=want.endpoint,
                endpoint=want.endpoint or (prev.endpoint if prev else ""),
                persistent_keepalive=want.persistent_keepalive,
                preshared_key_file=want.preshared_key_file,
                last_handshake=prev.last_handshake if prev else None,
            )
        self.configured_by = owner
        self._rebuild()

    def _rebuild(self) -> None:
        """Bring the crypto-routing table in line with the peers' allowed IPs, changing only
        the entries that differ (a peer holding 10,000 claims' CIDRs gains or loses one)."""
        routing = {
            cidr: peer.public_key for peer in self.peers.values() for cidr in peer.allowed_ips
        }
        table, before = self._allowed, self._routing
        for cidr in before.keys() - routing.keys():
            table.pop(cidr)
        for cidr, key in routing.items():
            if before.get(cidr) != key:
                table.set(cidr, key)
        self._routing = routing

    def peer_for(self, dst: str) -> WgPeerState | None:
        """Egress crypto-routing: the peer whose allowed IPs contain ``dst``."""
        key = self._allowed.lookup(dst)
        return self.peers.get(key) if key is not None else None

    def allows_source(self, peer: WgPeerState, src: str) -> bool:
        """Ingress check: ``src`` must route back to the same peer."""
        return self._allowed.lookup(src) == peer.public_key

    def as_desired(self, mtu: int) -> WireGuardDevice:
        """The device in the core's object language (what ``observe`` reports)."""
        peers = tuple(sorted((p.as_desired() for p in self.peers.values()), key=_peer_key))
        return WireGuardDevice(
            ifname=self.ifname,
            public_key=self.public_key,
            listen_port=self.listen_port,
            mtu=mtu,
            fwmark=self.fwmark,
            peers=peers,
        )


def _peer_key(p: WgPeer) -> str:
    return p.public_key


def split_endpoint(endpoint: str) -> tuple[str, int]:
    """``"203.0.113.10:51820"`` -> ("203.0.113.10", 51820)."""
    host, _, port = endpoint.rpartition(":")
    return host.strip("[]"), int(port)
