"""Anycast-gateway devices on Linux: macvlan children of a capture interface routerd owns.

A gateway device (``GatewayDevice``, ``routerd.core.mobility.gateway``) is a macvlan whose
name starts with ``rdgw-`` and whose alias (``ip link`` shows it) is ``MARK``: both together
make it routerd's, so a link someone else created under that name is reported but never
changed or deleted, and ownership survives a restart without any record in the store.

Every request goes through the backend's own netlink socket, so the notifications they
cause carry routerd's port id and are never mistaken for drift. A device is created down,
with IPv6 off (a shared MAC must send nothing of its own: no router solicitation, no
duplicate-address probe), and gets its address before the applier brings it up, after the
sysctls it needs are in place (``Applier``): it never answers with half its settings.
The gateway address is added as ``/32 noprefixroute``: the capture interface keeps the
subnet route, so traffic toward the segment's hosts keeps leaving by it.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Iterable, Mapping

from routerd.backends.linux import addresses
from routerd.backends.linux import netlink_codec as nl
from routerd.backends.linux.addresses import AddressEntry
from routerd.backends.linux.host import Host
from routerd.backends.linux.links import IFF_UP, LinkInfo
from routerd.backends.linux.netlink_socket import Request
from routerd.backends.linux.sysctl import write_sysctl
from routerd.core.desired import DataplaneObject, GatewayDevice, Key
from routerd.core.errors import DataplaneError
from routerd.core.mobility.gateway import PREFIX

LOG = logging.getLogger(__name__)

KIND = "gateway"
MARK = "routerd anycast gateway"
"""The alias routerd gives its gateway devices (their ownership mark)."""
MACVLAN_MODES = {"private": 1, "vepa": 2, "bridge": 4, "passthru": 8, "source": 16}
IFLA_LINK, IFLA_LINKINFO, IFLA_IFALIAS = 5, 18, 20
IFLA_INFO_KIND, IFLA_INFO_DATA, IFLA_MACVLAN_MODE = 1, 2, 1
IFA_FLAGS, IFA_F_NOPREFIXROUTE = 8, 0x200
NLA_F_NESTED = 0x8000
AF_UNSPEC = 0
DELETES = frozenset({nl.RTM_DELLINK, nl.RTM_DELADDR})
GONE = frozenset({errno.ENODEV, errno.ENOENT, errno.EADDRNOTAVAIL})
PERMANENT = frozenset({errno.EINVAL, errno.EOPNOTSUPP, errno.EADDRINUSE})
"""EADDRINUSE: another macvlan of the parent has the MAC (two domains, one MAC)."""


def ours(info: LinkInfo) -> bool:
    """Whether a link is one of routerd's gateway devices (name prefix and alias mark)."""
    return info.name.startswith(PREFIX) and info.kind == "macvlan" and info.alias == MARK


def observed(host: Host, info: LinkInfo, addrs: Iterable[AddressEntry]) -> GatewayDevice:
    """What the link ``info`` is, in the desired object's terms."""
    cidrs = sorted(a.cidr for a in addrs if a.ifindex == info.index)
    parent = host.links.name(info.parent) if info.parent else ""
    return GatewayDevice(
        info.name, parent, info.mac.lower(), tuple(cidrs), info.up, info.mode, info.kind
    )


def observe(
    host: Host,
    addrs: list[AddressEntry],
    desired: Mapping[Key, DataplaneObject],
    keys: Iterable[Key] | None = None,
    desired_names: Iterable[str] | None = None,
) -> tuple[dict[Key, GatewayDevice], set[Key]]:
    """Gateway devices as observed objects, and the keys of those routerd owns.

    Args:
        host: the host (its link table must be current).
        addrs: every IPv4 address (the observation's reading).
        desired: the desired objects: a foreign link is reported under a desired key.
        keys: only these keys (a scoped observation); None: every owned device and
            every desired one.
        desired_names: the desired devices' names when the caller has them already
            (otherwise read from ``desired``).

    Returns:
        (key -> observed device, owned keys).
    """
    if keys is None:
        names = {i.name for i in host.links.by_name.values() if ours(i)}
        if desired_names is None:
            desired_names = {k[1] for k in desired if k[0] == KIND}
        names |= set(desired_names)
    else:
        names = {k[1] for k in keys if k[0] == KIND}
    addrs = list(addrs)
    objects: dict[Key, GatewayDevice] = {}
    owned: set[Key] = set()
    for name in names:
        info = host.links.by_name.get(name)
        key = (KIND, name)
        if info is None or not (ours(info) or key in desired):
            continue
        objects[key] = observed(host, info, addrs)
        if ours(info):
            owned.add(key)
    return objects, owned


# -- requests ----------------------------------------------------------------------------


def _nest(kind: int, payload: bytes) -> bytes:
    return nl.attr(kind | NLA_F_NESTED, payload)


def _link(index: int, flags: int = 0, change: int = 0) -> bytes:
    return nl.IFINFOMSG.pack(AF_UNSPEC, 0, index, flags, change)


def encode_create(want: GatewayDevice, parent: int) -> Request:
    """A macvlan ``want.ifname`` on ``parent``, down, with its MAC, mode and alias."""
    data = nl.attr_u32(IFLA_MACVLAN_MODE, MACVLAN_MODES[want.mode])
    info = nl.attr(IFLA_INFO_KIND, b"macvlan") + _nest(IFLA_INFO_DATA, data)
    body = _link(0)
    body += nl.attr(nl.IFLA_IFNAME, want.ifname.encode() + b"\0")
    body += nl.attr_u32(IFLA_LINK, parent)
    body += nl.attr(nl.IFLA_ADDRESS, _mac(want.mac))
    body += _nest(IFLA_LINKINFO, info)
    flags = nl.NLM_F_ACK | nl.NLM_F_CREATE | nl.NLM_F_EXCL
    return Request(nl.RTM_NEWLINK, flags, body)


def encode_mark(name: str) -> Request:
    """Give the link ``name`` routerd's alias (the kernel ignores an alias at creation, so
    this follows the create in the same batch, found by name)."""
    body = _link(0) + nl.attr(nl.IFLA_IFNAME, name.encode() + b"\0")
    body += nl.attr(IFLA_IFALIAS, MARK.encode())
    return Request(nl.RTM_NEWLINK, nl.NLM_F_ACK, body)


def encode_set(index: int, *, mac: str = "", up: bool | None = None) -> Request:
    """Change a link's MAC and/or admin state."""
    flags = change = 0
    if up is not None:
        flags, change = (IFF_UP if up else 0), IFF_UP
    body = _link(index, flags, change)
    if mac:
        body += nl.attr(nl.IFLA_ADDRESS, _mac(mac))
    return Request(nl.RTM_NEWLINK, nl.NLM_F_ACK, body)


def encode_delete(index: int) -> Request:
    return Request(nl.RTM_DELLINK, nl.NLM_F_ACK, _link(index))


def encode_address(cidr: str, index: int) -> Request:
    """``ip addr add CIDR dev INDEX noprefixroute``."""
    addr, _, plen = cidr.partition("/")
    body = nl.IFADDRMSG.pack(nl.AF_INET, int(plen or 32), 0, 0, index)
    body += nl.attr_ip4(nl.IFA_LOCAL, addr) + nl.attr_ip4(nl.IFA_ADDRESS, addr)
    body += nl.attr_u32(IFA_FLAGS, IFA_F_NOPREFIXROUTE)
    return Request(nl.RTM_NEWADDR, nl.NLM_F_ACK | nl.NLM_F_CREATE | nl.NLM_F_EXCL, body)


def _mac(text: str) -> bytes:
    return bytes(int(part, 16) for part in text.split(":"))


# -- applying ----------------------------------------------------------------------------


class GatewayLinks:
    """Creates, converges and deletes gateway devices on one host.

    ``apply`` leaves a device that must be up down (``pending_up``); ``bring_up`` is
    called by the applier once the sysctls of the same plan are written.
    """

    def __init__(self, host: Host) -> None:
        self.host = host
        self.pending_up: list[str] = []

    def apply(self, op: str, key: Key, want: GatewayDevice | None) -> None:
        """Make the link ``key[1]`` match ``want`` (``op`` remove: delete it if ours).

        Raises:
            DataplaneError: the kernel refused, the parent is missing, or a link of that
                name exists and is not routerd's.
        """
        name = key[1]
        self.host.links.refresh()
        info = self.host.links.by_name.get(name)
        if op == "remove" or want is None:
            if info is not None and ours(info):
                self._send(f"link del {name}", [encode_delete(info.index)])
            return
        if info is not None and not ours(info):
            raise DataplaneError(
                f"link add {name}",
                f"a link named {name} exists and is not routerd's (no alias {MARK!r}); "
                "delete or rename it",
                errno=errno.EEXIST,
                retryable=False,
            )
        parent = self.host.links.by_name.get(want.parent)
        if parent is None:
            raise DataplaneError(
                f"link add {name}", f"capture interface {want.parent} missing", errno=errno.ENODEV
            )
        if info is not None and (info.parent != parent.index or info.mode != want.mode):
            self._send(f"link del {name}", [encode_delete(info.index)])
            info = None
        if info is None:
            info = self._create(want, parent.index)
        elif info.mac.lower() != want.mac:
            self._send(
                f"link set {name} address {want.mac}", [encode_set(info.index, mac=want.mac)]
            )
        self._addresses(info, want)
        if not want.up and info.up:
            self._send(f"link set {name} down", [encode_set(info.index, up=False)])
        elif want.up and not info.up:
            self.pending_up.append(name)

    def bring_up(self) -> dict[str, DataplaneError]:
        """Set every pending device up; the failures by device name."""
        failed: dict[str, DataplaneError] = {}
        names, self.pending_up = self.pending_up, []
        if names:
            self.host.links.refresh()
        for name in names:
            info = self.host.links.by_name.get(name)
            try:
                if info is None:
                    raise DataplaneError(f"link set {name} up", "device vanished", errno=19)
                self._send(f"link set {name} up", [encode_set(info.index, up=True)])
            except DataplaneError as exc:
                failed[name] = exc
        return failed

    def _create(self, want: GatewayDevice, parent: int) -> LinkInfo:
        name = want.ifname
        self._send(
            f"link add {name} link {want.parent} type macvlan",
            [encode_create(want, parent), encode_mark(name)],
        )
        try:
            write_sysctl(f"net.ipv6.conf.{name}.disable_ipv6", "1", self.host.sysctls.root)
        except DataplaneError as exc:  # no IPv6 in this kernel: nothing to silence
            LOG.debug("IPv6 stays as it is on %s: %s", name, exc)
        self.host.links.refresh()
        info = self.host.links.by_name.get(name)
        if info is None:
            raise DataplaneError(f"link add {name}", "created, then not found", errno=19)
        LOG.info("created anycast gateway %s on %s with %s", name, want.parent, want.mac)
        return info

    def _addresses(self, info: LinkInfo, want: GatewayDevice) -> None:
        have = [a for a in addresses.dump(self.host.sock) if a.ifindex == info.index]
        stale = [a for a in have if a.cidr not in want.addresses]
        missing = [c for c in want.addresses if c not in {a.cidr for a in have}]
        reqs = [addresses.encode_delete(a, exact=True) for a in stale]
        reqs += [encode_address(c, info.index) for c in missing]
        if reqs:
            self._send(f"addresses of {info.name}", reqs)

    def _send(self, op: str, reqs: list[Request]) -> None:
        """Send ``reqs``; the first real failure raises (a delete of something gone and an
        address already there are successes)."""
        with self.host.sock.lock:
            replies = self.host.sock.transact(reqs)
        for req, reply in zip(reqs, replies, strict=True):
            code = reply.errno
            if not code or (code in GONE and req.type in DELETES):
                continue
            if code == errno.EEXIST and req.type == nl.RTM_NEWADDR:
                continue
            reason = errno.errorcode.get(code, str(code))
            detail = f"{reason}: {reply.text}" if reply.text else reason
            raise DataplaneError(op, detail, errno=code, retryable=code not in PERMANENT)
