"""Longest-prefix-match tables: the host routing table and WireGuard's allowed-IPs table.

Both answer "which entry covers this address, most specific first", at 10,000+ entries, on
every simulated packet. The table is a dict per prefix length (``{plen: {network: value}}``)
walked from the longest length present down, so a lookup costs one dict probe per distinct
prefix length (typically 3–5: /32 first), never a scan of the entries.

Routes carry a ``proto`` mark (``kernel`` for connected routes, ``routerd`` for routes
routerd installed, anything else for foreign ones): that mark, not backend memory, is what
makes a route routerd's, so a restarted backend finds its own objects again.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from routerd.core.desired import MAIN_TABLE

V = TypeVar("V")


def ip_int(address: str) -> int:
    """A bare IPv4 address as an integer."""
    return int(ipaddress.IPv4Address(address))


def split_cidr(cidr: str) -> tuple[int, int]:
    """``"10.40.8.0/24"`` -> (network as int, prefix length); host bits are masked off."""
    net = ipaddress.IPv4Network(cidr, strict=False)
    return int(net.network_address), net.prefixlen


def _mask(plen: int) -> int:
    return ((1 << 32) - 1) ^ ((1 << (32 - plen)) - 1)


class PrefixTable(Generic[V]):
    """A map from IPv4 prefixes to values with longest-prefix-match lookup."""

    __slots__ = ("_by_len", "_lens")

    def __init__(self) -> None:
        self._by_len: dict[int, dict[int, V]] = {}
        self._lens: list[int] = []

    def __len__(self) -> int:
        return sum(len(t) for t in self._by_len.values())

    def set(self, cidr: str, value: V) -> None:
        net, plen = split_cidr(cidr)
        table = self._by_len.get(plen)
        if table is None:
            table = self._by_len[plen] = {}
            self._lens = sorted(self._by_len, reverse=True)
        table[net] = value

    def get(self, cidr: str) -> V | None:
        """Exact-prefix lookup."""
        net, plen = split_cidr(cidr)
        return self._by_len.get(plen, {}).get(net)

    def pop(self, cidr: str) -> V | None:
        net, plen = split_cidr(cidr)
        table = self._by_len.get(plen)
        if table is None:
            return None
        value = table.pop(net, None)
        if not table:
            del self._by_len[plen]
            self._lens = sorted(self._by_len, reverse=True)
        return value

    def lookup(self, address: str) -> V | None:
        """The value of the most specific prefix containing ``address``."""
        addr = ip_int(address)
        for plen in self._lens:
            value = self._by_len[plen].get(addr & _mask(plen))
            if value is not None:
                return value
        return None

    def values(self) -> Iterator[V]:
        for table in self._by_len.values():
            yield from table.values()


@dataclass(frozen=True, slots=True)
class RouteEntry:
    """A route in a simulated kernel table.

    Attributes:
        dst: normalized CIDR.
        dev: output device ("" for blackhole).
        gateway: next hop ("" for device routes).
        metric: lower wins among routes for the same prefix.
        table: routing table number.
        type: unicast or blackhole.
        proto: owner mark: kernel, boot, static, routerd ...
        prefsrc: preferred source address (connected routes).
    """

    dst: str
    dev: str = ""
    gateway: str = ""
    metric: int = 0
    table: int = MAIN_TABLE
    type: str = "unicast"
    proto: str = "boot"
    prefsrc: str = ""


class Fib:
    """A host's routing tables. Lookups use the main table (no policy routing)."""

    __slots__ = ("_tables",)

    def __init__(self) -> None:
        # table -> prefix -> routes for that prefix, lowest metric first
        self._tables: dict[int, PrefixTable[list[RouteEntry]]] = {}

    def add(self, route: RouteEntry, *, append: bool = False) -> None:
        """Insert a route; one with the same (table, dst, metric) is replaced.

        ``append`` keeps same-metric routes via other devices, as the kernel does for the
        prefix routes of one subnet configured on two interfaces.
        """
        table = self._tables.setdefault(route.table, PrefixTable())

        def replaced(e: RouteEntry) -> bool:
            return e.metric == route.metric and (not append or e.dev == route.dev)

        entries = [e for e in table.get(route.dst) or () if not replaced(e)]
        entries.append(route)
        entries.sort(key=lambda e: e.metric)
        table.set(route.dst, entries)

    def remove(self, route: RouteEntry) -> bool:
        """Remove exactly this route; False when it is not there."""
        table = self._tables.get(route.table)
        entries = table.get(route.dst) if table is not None else None
        if table is None or not entries or route not in entries:
            return False
        rest = [e for e in entries if e != route]
        if rest:
            table.set(route.dst, rest)
        else:
            table.pop(route.dst)
        return True

    def routes_for(self, dst: str, table: int = MAIN_TABLE) -> list[RouteEntry]:
        """Every route for exactly this prefix, lowest metric first."""
        t = self._tables.get(table)
        return list((t.get(dst) if t is not None else None) or ())

    def lookup(self, address: str) -> RouteEntry | None:
        """Longest-prefix match in the main table, lowest metric among equals."""
        table = self._tables.get(MAIN_TABLE)
        entries = table.lookup(address) if table is not None else None
        return entries[0] if entries else None

    def all_routes(self) -> Iterator[RouteEntry]:
        for table in self._tables.values():
            for entries in table.values():
                yield from entries
