"""WireGuard configuration as data: what to send to a device, and how to read one back.

Two control channels exist and both keep the private key out of argv, environment, logs
and temporary files (D11, docs/decisions.md):

* wireguard-go speaks the UAPI text protocol on ``/var/run/wireguard/IF.sock``;
  ``uapi_set_lines`` turns (desired, observed) into the *smallest* set operation: a new
  allowed IP is appended (0.1 ms), a peer that lost one gets ``replace_allowed_ips`` (these
  versions have no per-IP removal), unknown peers are removed, and the private key is sent
  only when the device's public key differs from the key file's.
* The kernel module is driven with ``wg syncconf IF /dev/stdin``; ``render_wg_config``
  renders the full config for it and ``parse_wg_dump`` reads ``wg show IF dump``.

Keys are base64 in routerd and hex on UAPI. A device's current public key is derived from
the private key it reports, which is then dropped; it is never logged.
"""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from routerd.core import wgkey
from routerd.core.desired import WgPeer, WireGuardDevice

_PUBLIC_CACHE: dict[bytes, str] = {}


def b64_to_hex(key: str) -> str:
    return base64.b64decode(key, validate=True).hex()


def hex_to_b64(key: str) -> str:
    return base64.b64encode(bytes.fromhex(key)).decode()


def public_from_private_hex(private_hex: str) -> str:
    """Derive (and cache by digest, never by key) the public key of a device's private key."""
    digest = hashlib.sha256(private_hex.encode()).digest()
    pub = _PUBLIC_CACHE.get(digest)
    if pub is None:
        pub = wgkey.public_key(hex_to_b64(private_hex))
        _PUBLIC_CACHE[digest] = pub
    return pub


@dataclass
class DeviceState:
    """A device as read back: the observed WireGuardDevice plus handshake ages."""

    device: WireGuardDevice
    handshakes: dict[str, float] = field(default_factory=dict)  # peer key -> seconds ago


@dataclass
class _PeerAcc:
    public_key: str
    allowed: set[str] = field(default_factory=set)
    endpoint: str = ""
    keepalive: int = 0
    handshake: int = 0

    def peer(self) -> WgPeer:
        return WgPeer(self.public_key, frozenset(self.allowed), self.endpoint, self.keepalive)


def parse_uapi_get(
    ifname: str, text: str, *, mtu: int = 0, now: float | None = None
) -> DeviceState:
    """Parse a UAPI ``get=1`` answer (``key=value`` lines, ``errno=0`` last)."""
    pub, port, fwmark = "", 0, 0
    peers: list[_PeerAcc] = []
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key == "private_key":
            pub = public_from_private_hex(value)
        elif key == "listen_port":
            port = int(value)
        elif key == "fwmark":
            fwmark = int(value)
        elif key == "public_key":
            peers.append(_PeerAcc(hex_to_b64(value)))
        elif peers and key == "allowed_ip":
            peers[-1].allowed.add(value)
        elif peers and key == "endpoint":
            peers[-1].endpoint = value
        elif peers and key == "persistent_keepalive_interval":
            peers[-1].keepalive = int(value)
        elif peers and key == "last_handshake_time_sec":
            peers[-1].handshake = int(value)
    return _state(ifname, pub, port, fwmark, peers, mtu, now)


def _state(
    ifname: str,
    pub: str,
    port: int,
    fwmark: int,
    peers: list[_PeerAcc],
    mtu: int,
    now: float | None,
) -> DeviceState:
    t = time.time() if now is None else now
    dev = WireGuardDevice(
        ifname=ifname,
        public_key=pub,
        listen_port=port,
        mtu=mtu,
        fwmark=fwmark,
        peers=tuple(sorted((p.peer() for p in peers), key=lambda p: p.public_key)),
    )
    ages = {p.public_key: max(0.0, t - p.handshake) for p in peers if p.handshake}
    return DeviceState(dev, ages)


def parse_wg_dump(ifname: str, text: str, *, mtu: int = 0, now: float | None = None) -> DeviceState:
    """Parse ``wg show IF dump`` (tab-separated; the first line is the interface)."""
    lines = [ln.split("\t") for ln in text.splitlines() if ln.strip()]
    if not lines:
        raise ValueError("empty wg dump")
    _, pub, port, fwmark = lines[0][:4]  # the private key (column 0) is not even looked at
    pub = "" if pub == "(none)" else pub
    peers = []
    for cols in lines[1:]:
        pk, _, endpoint, allowed, handshake, _, _, keepalive = cols[:8]
        acc = _PeerAcc(pk, endpoint="" if endpoint == "(none)" else endpoint)
        acc.allowed = {a for a in allowed.split(",") if a and a != "(none)"}
        acc.keepalive = 0 if keepalive == "off" else int(keepalive)
        acc.handshake = int(handshake)
        peers.append(acc)
    mark = 0 if fwmark == "off" else int(fwmark, 0)
    return _state(ifname, pub, int(port), mark, peers, mtu, now)


def _peer_lines(want: WgPeer, have: WgPeer | None, psk_hex: str) -> list[str]:
    out: list[str] = []
    if have is None or have.allowed_ips != want.allowed_ips:
        if have is not None and have.allowed_ips <= want.allowed_ips:
            added: Iterable[str] = sorted(want.allowed_ips - have.allowed_ips)
        else:
            out.append("replace_allowed_ips=true")
            added = sorted(want.allowed_ips)
        out += [f"allowed_ip={a}" for a in added]
    if want.endpoint and (have is None or have.endpoint != want.endpoint):
        out.append(f"endpoint={want.endpoint}")
    if have is None or have.persistent_keepalive != want.persistent_keepalive:
        out.append(f"persistent_keepalive_interval={want.persistent_keepalive}")
    if psk_hex and (have is None or out):
        out.append(f"preshared_key={psk_hex}")
    return out


def uapi_set_lines(
    want: WireGuardDevice,
    have: WireGuardDevice | None,
    *,
    private_hex: str = "",
    psk_hex: dict[str, str] | None = None,
) -> list[str]:
    """The UAPI ``set=1`` body taking ``have`` to ``want`` (empty when nothing to do).

    Args:
        want: the desired device.
        have: what the device holds now (None: fresh device).
        private_hex: the private key, only when it must be (re)installed.
        psk_hex: peer public key -> preshared key (hex) for peers that have one.
    """
    body: list[str] = []
    if private_hex:
        body.append(f"private_key={private_hex}")
    if want.listen_port and (have is None or have.listen_port != want.listen_port):
        body.append(f"listen_port={want.listen_port}")
    if have is None or have.fwmark != want.fwmark:
        body.append(f"fwmark={want.fwmark}")
    for p in want.peers:
        lines = _peer_lines(
            p, have.peer(p.public_key) if have else None, (psk_hex or {}).get(p.public_key, "")
        )
        if lines:
            body += [f"public_key={b64_to_hex(p.public_key)}", *lines]
    for old in have.peers if have else ():
        if want.peer(old.public_key) is None:
            body += [f"public_key={b64_to_hex(old.public_key)}", "remove=true"]
    return ["set=1", *body] if body else []


def render_wg_config(want: WireGuardDevice, private_b64: str, psk_b64: dict[str, str]) -> str:
    """A full ``wg setconf``/``syncconf`` config (holds the private key: stdin only)."""
    lines = ["[Interface]", f"PrivateKey = {private_b64}"]
    if want.listen_port:
        lines.append(f"ListenPort = {want.listen_port}")
    lines.append(f"FwMark = {want.fwmark or 'off'}")
    for p in want.peers:
        lines += ["", "[Peer]", f"PublicKey = {p.public_key}"]
        if p.public_key in psk_b64:
            lines.append(f"PresharedKey = {psk_b64[p.public_key]}")
        if p.allowed_ips:
            lines.append(f"AllowedIPs = {', '.join(sorted(p.allowed_ips))}")
        if p.endpoint:
            lines.append(f"Endpoint = {p.endpoint}")
        if p.persistent_keepalive:
            lines.append(f"PersistentKeepalive = {p.persistent_keepalive}")
    return "\n".join(lines) + "\n"
