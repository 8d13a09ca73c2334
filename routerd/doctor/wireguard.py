"""WireGuard facts from the live device: handshake age per peer and allowed-IPs coverage.

WireGuard routes by key: a packet for an address no peer's allowed IPs cover is dropped
at the tunnel, silently (D10 in docs/decisions.md, ``peer-not-covered``), and a peer with no
recent handshake carries nothing (``handshake-stale``: older than 180 s, the bound
docs/concepts.md gives for ``verified``). Both are read with
``wg show <if> latest-handshakes`` and ``wg show <if> allowed-ips``, which print public
keys only. ``wg show <if> dump`` is deliberately never used: its first line carries the
interface's private key.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from routerd.core.assess import HANDSHAKE_MAX_AGE
from routerd.core.doctor import Finding, Status
from routerd.core.lowering import ClaimIntent
from routerd.core.overlay import wireguard_peer_for
from routerd.core.resources import OverlayPeer, WireGuardInterface
from routerd.doctor.host import NOT_FOUND, PERMISSION, CommandResult
from routerd.doctor.inputs import Inputs, claim_name

AREA = "hybrid"


@dataclass(frozen=True)
class WgRead:
    """``key -> field`` lines of one ``wg show <if> <field>``, or why there are none."""

    rows: dict[str, str]
    error: str = ""
    missing_device: bool = False


def show(inputs: Inputs, ifname: str, what: str) -> WgRead:
    """``wg show <ifname> latest-handshakes|allowed-ips`` parsed to ``{public key: text}``."""
    if what not in ("latest-handshakes", "allowed-ips"):
        raise ValueError(f"wg show field {what!r} is not read by the doctor")
    res = inputs.host.cached("wg", "show", ifname, what)
    if not res.ok:
        return WgRead({}, _why(res, ifname), _no_device(res))
    rows = {}
    for line in res.stdout.splitlines():
        key, _, rest = line.partition("\t")
        if key.strip():
            rows[key.strip()] = rest.strip()
    return WgRead(rows)


def _no_device(res: CommandResult) -> bool:
    """wg's answer for a missing (or non-WireGuard) interface.

    With a kernel module it says "No such device"; without one it tries the userspace UAPI
    socket and then netlink, and says "Protocol not supported".
    """
    said = res.stderr
    return res.failure not in (NOT_FOUND, PERMISSION) and (
        "No such device" in said or "Protocol not supported" in said
    )


def _why(res: CommandResult, ifname: str) -> str:
    if res.failure == NOT_FOUND:
        return "wg is not installed (wireguard-tools)"
    if res.failure == PERMISSION:
        return "permission denied running wg (run as root)"
    if _no_device(res):
        return f"{ifname} is not a WireGuard interface on this host (wg: {res.stderr.strip()})"
    return res.describe()


def short(key: str) -> str:
    return f"{key[:8]}..." if key else "?"


def handshake(inputs: Inputs, peer: OverlayPeer) -> Finding:
    """``OverlayPeer/<n> WireGuard handshake``: age of the latest handshake with the peer."""
    name = f"{peer.ref} WireGuard handshake"
    tunnel = peer.spec.underlay.interface
    wgp = wireguard_peer_for(inputs.config, peer, tunnel) if tunnel else None
    if peer.spec.underlay.type != "wireguard" or wgp is None:
        return Finding(AREA, name, Status.SKIP, "no WireGuard peer carries this overlay peer")
    read = show(inputs, tunnel, "latest-handshakes")
    if read.error:
        status = Status.WARN if read.missing_device else Status.SKIP
        fix = _remedy(tunnel) if status is Status.WARN else ""
        return Finding(AREA, name, status, read.error, fix)
    key = wgp.spec.public_key
    if key not in read.rows:
        detail = f"peer {short(key)} (WireGuardPeer/{wgp.name}) is not configured on {tunnel}"
        return Finding(AREA, name, Status.WARN, detail, _remedy(tunnel))
    try:
        epoch = int(read.rows[key])
    except ValueError:
        return Finding(AREA, name, Status.WARN, f"unreadable handshake time {read.rows[key]!r}")
    if epoch == 0:
        detail = f"no handshake with {short(key)} on {tunnel} yet"
        return Finding(AREA, name, Status.WARN, detail, _remedy(tunnel))
    age = max(0.0, inputs.now - epoch)
    detail = f"last handshake with {short(key)} on {tunnel} {age:.0f}s ago"
    if age > HANDSHAKE_MAX_AGE:
        detail += f" (stale: older than {HANDSHAKE_MAX_AGE:.0f}s)"
        return Finding(AREA, name, Status.WARN, detail, _remedy(tunnel))
    return Finding(AREA, name, Status.PASS, detail)


def _remedy(tunnel: str) -> str:
    return (
        f"check the peer is up and reachable: endpoint and UDP listen port open in both host "
        f"firewalls and the cloud security list; `wg show {tunnel} latest-handshakes`; "
        "see docs/troubleshooting.md#handshake-stale"
    )


def coverage(inputs: Inputs, c: ClaimIntent) -> Finding:
    """``… peer allowed IPs``: the delivering peer's allowed IPs cover the claimed address."""
    name = claim_name(c.name, "peer allowed IPs")
    if inputs.config.get(WireGuardInterface, c.tunnel) is None and not c.wg_public_key:
        return Finding(
            AREA, name, Status.SKIP, f"{c.tunnel or 'tunnel'} is not WireGuard", claim=c.name
        )
    read, index = allowed_index(inputs, c.tunnel)
    if read.error:
        status = Status.FAIL if read.missing_device else Status.SKIP
        return Finding(AREA, name, status, read.error, claim=c.name)
    holders = index.holders(c.ip)
    want = c.wg_public_key
    if want and want in holders:
        detail = f"{c.address} within {holders[want]} of peer {short(want)} on {c.tunnel}"
        return Finding(AREA, name, Status.PASS, detail, claim=c.name)
    if not want and holders:
        key, cidr = next(iter(holders.items()))
        detail = f"{c.address} within {cidr} of peer {short(key)} on {c.tunnel}"
        return Finding(AREA, name, Status.PASS, detail, claim=c.name)
    elsewhere = ", ".join(f"{short(k)} ({v})" for k, v in holders.items())
    detail = f"{c.address} is not in the allowed IPs of peer {short(want)} on {c.tunnel}" + (
        f"; it is routed to another peer: {elsewhere}" if elsewhere else ""
    )
    remedy = (
        "routerd derives allowedIPs (D10): check the daemon log for a WireGuard apply error; "
        f"inspect with `wg show {c.tunnel} allowed-ips`; two peers cannot share an address"
    )
    return Finding(AREA, name, Status.FAIL, detail, remedy, claim=c.name)


class AllowedIndex:
    """Every peer's IPv4 allowed IPs of one tunnel, for covering look-ups in O(prefix lengths).

    A peer may list 10,000 ``/32``s (D10 adds one per delivered claim), so scanning them for
    each claim would cost 10,000 x 10,000 parses; this index is built once per tunnel and
    answers with the same result: per peer, the *first* listed CIDR that covers the address.
    """

    def __init__(self, rows: dict[str, str]) -> None:
        self._peers: list[tuple[str, dict[int, dict[int, tuple[int, str]]]]] = []
        for key, allowed in rows.items():
            by_len: dict[int, dict[int, tuple[int, str]]] = {}
            for pos, cidr in enumerate(allowed.split()):
                try:
                    net = ipaddress.ip_network(cidr, strict=False)
                except ValueError:
                    continue
                if net.version == 4:
                    nets = by_len.setdefault(net.prefixlen, {})
                    nets.setdefault(int(net.network_address), (pos, cidr))
            self._peers.append((key, by_len))

    def holders(self, address: str) -> dict[str, str]:
        """``public key -> first covering CIDR`` of every peer whose allowed IPs hold it."""
        ip = int(ipaddress.IPv4Address(address))
        out = {}
        for key, by_len in self._peers:
            hits = []
            for length, nets in by_len.items():
                hit = nets.get(ip >> (32 - length) << (32 - length))
                if hit is not None:
                    hits.append(hit)
            if hits:
                out[key] = min(hits)[1]
        return out


def allowed_index(inputs: Inputs, tunnel: str) -> tuple[WgRead, AllowedIndex]:
    """``wg show <tunnel> allowed-ips`` read and indexed once per run."""

    def build() -> tuple[WgRead, AllowedIndex]:
        read = show(inputs, tunnel, "allowed-ips")
        return read, AllowedIndex(read.rows)

    return inputs.host.once(("wg-allowed", tunnel), build)  # type: ignore[return-value]
