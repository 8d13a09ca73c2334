"""A simulated Linux host: interfaces, addresses, routes, sysctls, neighbours, filters.

The host keeps the state a kernel would, with the marks that make ownership discoverable
from the host itself (route ``proto``, address owner, nft table comment, a record of
sysctl values routerd replaced). Nothing about ownership lives only in
a backend object, so a backend created after a "restart" finds its objects and never
duplicates them.

Mutations used by the backend raise ``OpError`` carrying a kernel errno (ENODEV for a
missing device, EEXIST, ENOENT ...), so the backend maps them to ``ChangeResult`` the same
way the Linux backend maps netlink errors. Lookups are dict-based: the local-address index
answers "is this address mine, and on which interfaces?" in O(1).
"""

from __future__ import annotations

import errno as errno_mod
import ipaddress
from dataclasses import dataclass, field

from .fib import Fib, RouteEntry
from .nft import Firewall, NftTable, clamp_index
from .wireguard import WgDevice

IP_FORWARD = "net.ipv4.ip_forward"
_CONF = "net.ipv4.conf."
_NEIGH = "net.ipv4.neigh."
_CONF_DEFAULTS = {
    "proxy_arp": "0",
    "rp_filter": "0",
    "forwarding": "",
    "arp_ignore": "0",
    "arp_announce": "0",
    "medium_id": "0",
}
_NEIGH_DEFAULTS = {"proxy_delay": "80"}
_GLOBAL_DEFAULTS = {IP_FORWARD: "0"}


class OpError(Exception):
    """A failed host operation, as the kernel would report it."""

    def __init__(self, errno: int, message: str) -> None:
        super().__init__(f"{errno_mod.errorcode.get(errno, errno)}: {message}")
        self.errno = errno


@dataclass
class Interface:
    """A network interface.

    Attributes:
        addresses: interface-form CIDR (``10.40.8.5/24``) -> owner mark ("" = not routerd).
        kind: ethernet, bridge-port, wireguard, macvlan ...
        parent: a macvlan's lower interface: it sits on the parent's link, with its own MAC.
        owner: who created it ("" = not routerd; WireGuard devices keep their own marks).
    """

    name: str
    mac: str
    mtu: int = 1500
    up: bool = True
    kind: str = "ethernet"
    addresses: dict[str, str] = field(default_factory=dict)
    parent: str = ""
    owner: str = ""

    def first_address(self) -> str:
        for cidr in self.addresses:
            return cidr.split("/", 1)[0]
        return ""


def _split_conf(name: str, prefix: str = _CONF) -> tuple[str, str] | None:
    """``net.ipv4.conf.ens19.proxy_arp`` -> ("ens19", "proxy_arp") (``prefix`` the tree)."""
    if not name.startswith(prefix):
        return None
    ifname, _, param = name[len(prefix) :].rpartition(".")
    return (ifname, param) if ifname else None


class Host:
    """One simulated machine (VM, router, gateway, internet core)."""

    def __init__(self, name: str, *, mac_prefix: int) -> None:
        self.name = name
        self.interfaces: dict[str, Interface] = {}
        self.fib = Fib()
        self.sysctls: dict[str, str] = {}
        self.saved_sysctls: dict[str, str] = {}  # routerd's record: name -> value it replaced
        self.neighbours: dict[tuple[str, str], str] = {}  # (dev, address) -> MAC (GARP etc.)
        self.nft: dict[tuple[str, str], NftTable] = {}
        self.firewall = Firewall()
        self.wireguard: dict[str, WgDevice] = {}
        self.clamp_supported = True
        self.local_ips: dict[str, dict[str, str]] = {}  # address -> {ifname: cidr}
        self._mac_prefix = mac_prefix
        self._clamps: dict[tuple[str, str], int] = {}

    # -- interfaces and addresses -------------------------------------------------------

    def add_interface(self, name: str, *, mtu: int = 1500, kind: str = "ethernet") -> Interface:
        mac = f"02:{self._mac_prefix:02x}:00:00:{len(self.interfaces) // 256:02x}:"
        mac += f"{len(self.interfaces) % 256:02x}"
        iface = Interface(name, mac, mtu=mtu, kind=kind)
        self.interfaces[name] = iface
        return iface

    def children(self, parent: str) -> list[Interface]:
        """The macvlan children of ``parent`` (they share its link)."""
        return [i for i in self.interfaces.values() if i.parent == parent]

    def delete_interface(self, name: str) -> None:
        iface = self.interfaces.get(name)
        if iface is None:
            raise OpError(errno_mod.ENODEV, f"Cannot find device {name!r}")
        for child in self.children(name):  # as in Linux, children go with their lower device
            self.delete_interface(child.name)
        for cidr in list(iface.addresses):
            self.remove_address(name, cidr)
        for route in [r for r in self.fib.all_routes() if r.dev == name]:
            self.fib.remove(route)
        self.wireguard.pop(name, None)
        del self.interfaces[name]

    def iface(self, name: str) -> Interface:
        iface = self.interfaces.get(name)
        if iface is None:
            raise OpError(errno_mod.ENODEV, f"Cannot find device {name!r}")
        return iface

    def add_address(self, ifname: str, cidr: str, owner: str = "") -> None:
        """Assign an address; the first one of a subnet brings its connected route.

        As in Linux, a further address of the same subnet on the same device is secondary:
        it adds no route, and removing the primary promotes it.
        """
        iface = self.iface(ifname)
        if cidr in iface.addresses:
            raise OpError(errno_mod.EEXIST, f"address {cidr} already on {ifname}")
        iface.addresses[cidr] = owner
        ip = cidr.split("/", 1)[0]
        self.local_ips.setdefault(ip, {})[ifname] = cidr
        net = ipaddress.IPv4Interface(cidr).network
        if net.prefixlen < 32 and self._connected(ifname, net) is None:
            self.fib.add(RouteEntry(str(net), ifname, proto="kernel", prefsrc=ip), append=True)

    def remove_address(self, ifname: str, cidr: str) -> None:
        iface = self.iface(ifname)
        if iface.addresses.pop(cidr, None) is None:
            raise OpError(errno_mod.EADDRNOTAVAIL, f"address {cidr} not on {ifname}")
        ip = cidr.split("/", 1)[0]
        where = self.local_ips.get(ip, {})
        where.pop(ifname, None)
        if not where:
            self.local_ips.pop(ip, None)
        net = ipaddress.IPv4Interface(cidr).network
        route = self._connected(ifname, net)
        if route is None or route.prefsrc != ip:
            return
        self.fib.remove(route)
        for other in iface.addresses:  # promote a secondary of the same subnet
            if ipaddress.IPv4Interface(other).network == net:
                promoted = RouteEntry(str(net), ifname, proto="kernel", prefsrc=other.split("/")[0])
                self.fib.add(promoted, append=True)
                return

    def _connected(self, ifname: str, net: ipaddress.IPv4Network) -> RouteEntry | None:
        for route in self.fib.routes_for(str(net)):
            if route.proto == "kernel" and route.dev == ifname:
                return route
        return None

    def is_local(self, address: str) -> bool:
        return address in self.local_ips

    def source_for(self, route: RouteEntry) -> str:
        """The source address Linux would pick for a locally originated packet."""
        if route.prefsrc:
            return route.prefsrc
        iface = self.interfaces.get(route.dev)
        if iface is not None and iface.addresses:
            return iface.first_address()
        return next(iter(self.local_ips), "")

    # -- sysctls ---------------------------------------------------------------------------

    def get_sysctl(self, name: str) -> str | None:
        """Current value; None when the key does not exist (e.g. interface missing)."""
        conf = _split_conf(name)
        if conf is not None:
            ifname, param = conf
            if ifname not in ("all", "default") and ifname not in self.interfaces:
                return None
            if param == "forwarding" and name not in self.sysctls:
                return self.sysctls.get(IP_FORWARD, "0")
            return self.sysctls.get(name, _CONF_DEFAULTS.get(param))
        neigh = _split_conf(name, _NEIGH)
        if neigh is not None:
            if neigh[0] != "default" and neigh[0] not in self.interfaces:
                return None
            return self.sysctls.get(name, _NEIGH_DEFAULTS.get(neigh[1]))
        return self.sysctls.get(name, _GLOBAL_DEFAULTS.get(name))

    def set_sysctl(self, name: str, value: str) -> None:
        conf = _split_conf(name) or _split_conf(name, _NEIGH)
        if conf is not None and conf[0] not in ("all", "default", *self.interfaces):
            raise OpError(errno_mod.ENOENT, f"no such sysctl {name} (interface missing)")
        if name == IP_FORWARD:
            # as in Linux, writing ip_forward resets every interface's forwarding flag
            for key in [k for k in self.sysctls if k.endswith(".forwarding")]:
                del self.sysctls[key]
        self.sysctls[name] = value

    def forwarding(self, ifname: str) -> bool:
        return self.get_sysctl(f"{_CONF}{ifname}.forwarding") == "1"

    def proxy_arp(self, ifname: str) -> bool:
        return "1" in (
            self.get_sysctl(f"{_CONF}all.proxy_arp"),
            self.get_sysctl(f"{_CONF}{ifname}.proxy_arp"),
        )

    def medium_id(self, ifname: str) -> int:
        return int(self.get_sysctl(f"{_CONF}{ifname}.medium_id") or 0)

    def arp_ignore(self, ifname: str) -> int:
        """The effective ``arp_ignore`` of ``ifname`` (the larger of ``all`` and its own)."""
        values = (
            self.get_sysctl(f"{_CONF}all.arp_ignore"),
            self.get_sysctl(f"{_CONF}{ifname}.arp_ignore"),
        )
        return max(int(v or 0) for v in values)

    def rp_filter(self, ifname: str) -> int:
        values = (
            self.get_sysctl(f"{_CONF}all.rp_filter"),
            self.get_sysctl(f"{_CONF}{ifname}.rp_filter"),
        )
        return max(int(v or 0) for v in values)

    # -- nftables --------------------------------------------------------------------------

    def set_nft(self, table: NftTable | None, family: str, name: str) -> None:
        """Create/replace (``table``) or delete (None) an nft table; refresh clamp index."""
        if table is None:
            self.nft.pop((family, name), None)
        else:
            self.nft[(family, name)] = table
        self._clamps = clamp_index(self.nft.values())

    def clamp_for(self, iif: str, oif: str) -> int | None:
        return self._clamps.get((iif, oif))
