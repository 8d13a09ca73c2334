"""How each kind of ``Change`` lands on a simulated host (the sim backend's ``apply``).

One handler per object kind, each doing what the Linux backend's netlink/nft/wg call would
and raising ``OpError`` with the errno the kernel would return. ``apply_change`` turns that
into a ``ChangeResult`` with the port's idempotency rules: EEXIST on add and ENOENT on remove
are success.

Ownership marks are written here and only here: routes get ``proto routerd``, addresses
an owner mark, WireGuard devices a created-by / configured-by mark, anycast-gateway devices
an owner mark, clamp tables the ``routerd.owner=routerd`` comment, and changed sysctls a
record of the value they replaced. Removal touches only marked objects, so foreign objects
survive even when a stale plan names them.
"""

from __future__ import annotations

import errno
import functools
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from routerd.core import wgkey
from routerd.core.desired import (
    PROXY_PROTO,
    AbsentAddress,
    Address,
    GatewayDevice,
    MssClampTable,
    Route,
    Sysctl,
    WireGuardDevice,
)
from routerd.core.port import Change, ChangeResult
from routerd.keys import read_private_key

from .fib import RouteEntry
from .host import Host, OpError
from .nft import NftTable, comment_generation, owner_comment
from .wireguard import DEFAULT_WG_MTU, WgDevice

OWNER = PROXY_PROTO  # the one mark routerd writes on everything it creates
EPHEMERAL_PORT_BASE = 40000
_NOT_RETRYABLE = {errno.EINVAL, errno.EOPNOTSUPP, errno.EPERM, errno.EACCES}
_GONE = {errno.ENOENT, errno.ESRCH, errno.EADDRNOTAVAIL, errno.ENODEV}

Handler = Callable[[Host, Change], None]
T = TypeVar("T")


def apply_change(host: Host, change: Change) -> ChangeResult:
    """Apply one change; never raises for dataplane errors."""
    handler = _HANDLERS.get(change.key[0])
    if handler is None:
        return ChangeResult(
            change, False, f"unknown object kind {change.key[0]!r}", errno.EINVAL, False
        )
    try:
        handler(host, change)
    except OpError as e:
        if (e.errno == errno.EEXIST and change.op != "remove") or (
            e.errno in _GONE and change.op == "remove"
        ):
            return ChangeResult(change, True)
        return ChangeResult(change, False, str(e), e.errno, e.errno not in _NOT_RETRYABLE)
    return ChangeResult(change, True)


def _want(change: Change, kind: type[T]) -> T:
    obj = change.new if change.op != "remove" else change.old
    if not isinstance(obj, kind):
        raise OpError(errno.EINVAL, f"{change.op} {change.key}: expected a {kind.__name__}")
    return obj


# -- sysctl ---------------------------------------------------------------------------------


def _sysctl(host: Host, change: Change) -> None:
    name = change.key[1]
    if change.op == "remove":
        previous = host.saved_sysctls.pop(name, None)
        if previous is not None and host.get_sysctl(name) is not None:
            host.set_sysctl(name, previous)
        return
    want = _want(change, Sysctl)
    current = host.get_sysctl(name)
    if current is None:
        raise OpError(errno.ENOENT, f"no such sysctl {name}")
    if current != want.value and name not in host.saved_sysctls:
        host.saved_sysctls[name] = current
    host.set_sysctl(name, want.value)


# -- routes and neighbours ---------------------------------------------------------------


def _route(host: Host, change: Change) -> None:
    table, dst = int(change.key[1]), change.key[2]
    ours = [r for r in host.fib.routes_for(dst, table) if r.proto == OWNER]
    if change.op == "remove":
        if not ours:
            raise OpError(errno.ESRCH, f"no routerd route {dst} in table {table}")
        for r in ours:
            host.fib.remove(r)
        return
    want = _want(change, Route)
    entry = _route_entry(host, want)
    for r in ours:
        host.fib.remove(r)
    host.fib.add(entry)


def _route_entry(host: Host, want: Route) -> RouteEntry:
    dev = want.dev
    if want.type == "unicast":
        if want.gateway:
            onlink = host.fib.lookup(want.gateway)
            if onlink is None or onlink.gateway:
                raise OpError(errno.ENETUNREACH, f"gateway {want.gateway} is not on-link")
            dev = dev or onlink.dev
        if not dev:
            raise OpError(errno.EINVAL, f"route {want.dst} needs a device or gateway")
        host.iface(dev)
    return RouteEntry(want.dst, dev, want.gateway, want.metric, want.table, want.type, OWNER)


# -- addresses -----------------------------------------------------------------------------


def _address(host: Host, change: Change) -> None:
    dev, cidr = change.key[1], change.key[2]
    if change.op == "remove":
        iface = host.interfaces.get(dev)
        if iface is None or iface.addresses.get(cidr) != OWNER:
            raise OpError(errno.EADDRNOTAVAIL, f"no routerd address {cidr} on {dev}")
        host.remove_address(dev, cidr)
        return
    _want(change, Address)
    host.add_address(dev, cidr, OWNER)


def _absent(host: Host, change: Change) -> None:
    if change.op == "remove":
        return  # releasing a claim never re-adds the address (agents do: os-address-present)
    want = _want(change, AbsentAddress)
    for dev, cidr in list(host.local_ips.get(want.address, {}).items()):
        host.remove_address(dev, cidr)


# -- WireGuard -----------------------------------------------------------------------------


def _wireguard(host: Host, change: Change) -> None:
    ifname = change.key[1]
    if change.op == "remove":
        dev = host.wireguard.get(ifname)
        if dev is None:
            raise OpError(errno.ENODEV, f"no WireGuard device {ifname}")
        if dev.created_by == OWNER:
            host.delete_interface(ifname)
        else:
            dev.configured_by = ""
        return
    want = _want(change, WireGuardDevice)
    iface = host.interfaces.get(ifname)
    if iface is None:
        iface = host.add_interface(ifname, mtu=want.mtu or DEFAULT_WG_MTU, kind="wireguard")
        port = want.listen_port or EPHEMERAL_PORT_BASE + len(host.wireguard)
        host.wireguard[ifname] = WgDevice(ifname, listen_port=port, created_by=OWNER)
    elif iface.kind != "wireguard" or ifname not in host.wireguard:
        raise OpError(errno.EINVAL, f"{ifname} exists and is not a WireGuard device")
    if want.mtu:
        iface.mtu = want.mtu
    host.wireguard[ifname].configure(want, _device_key(want), OWNER)
    iface.up = True


@functools.lru_cache(maxsize=64)
def _public_key(private_key: str) -> str:
    """X25519 in pure Python costs ~3 ms: a device re-configured with the same key file
    (every claim added or removed rewrites its allowed IPs) derives it once."""
    return wgkey.public_key(private_key)


def _device_key(want: WireGuardDevice) -> str:
    """The public key of the key file when it exists (as the kernel would load it)."""
    path = Path(want.private_key_file) if want.private_key_file else None
    if path is None or not path.exists():
        return want.public_key
    try:
        return _public_key(read_private_key(path))
    except OSError as e:
        raise OpError(e.errno or errno.EACCES, f"cannot read {path}: {e.strerror}") from e
    except ValueError as e:
        raise OpError(errno.EINVAL, f"{path}: {e}") from e


# -- anycast-gateway devices ---------------------------------------------------------------


def _gateway(host: Host, change: Change) -> None:
    """A macvlan child of the capture interface with the shared MAC (``GatewayDevice``)."""
    ifname = change.key[1]
    iface = host.interfaces.get(ifname)
    if change.op == "remove":
        if iface is None or iface.owner != OWNER:
            raise OpError(errno.ENODEV, f"no routerd gateway device {ifname}")
        host.delete_interface(ifname)
        return
    want = _want(change, GatewayDevice)
    if iface is not None and iface.owner != OWNER:
        raise OpError(errno.EINVAL, f"a link named {ifname} exists and is not routerd's")
    host.iface(want.parent)
    if iface is not None and (iface.parent != want.parent or iface.kind != want.kind):
        host.delete_interface(ifname)
        iface = None
    if iface is None:
        iface = host.add_interface(ifname, kind=want.kind)
        iface.parent, iface.owner = want.parent, OWNER
    iface.mac = want.mac
    for cidr in [c for c in iface.addresses if c not in want.addresses]:
        host.remove_address(ifname, cidr)
    for cidr in [c for c in want.addresses if c not in iface.addresses]:
        host.add_address(ifname, cidr)  # part of the device, not an ``Address`` of its own
    iface.up = want.up


# -- nftables ------------------------------------------------------------------------------


def _nft(host: Host, change: Change) -> None:
    family, name = change.key[1], change.key[2]
    existing = host.nft.get((family, name))
    if change.op == "remove":
        if existing is None or comment_generation(existing.comment) is None:
            raise OpError(errno.ENOENT, f"no routerd table {family} {name}")
        host.set_nft(None, family, name)
        return
    want = _want(change, MssClampTable)
    if not host.clamp_supported:
        raise OpError(errno.EOPNOTSUPP, "nftables: tcp option maxseg is not supported here")
    table = NftTable(family, name, owner_comment(want.generation), want.rules)
    host.set_nft(table, family, name)


_HANDLERS: dict[str, Handler] = {
    "sysctl": _sysctl,
    "route": _route,
    "addr": _address,
    "absent": _absent,
    "wg": _wireguard,
    "nft": _nft,
    "gateway": _gateway,
}
