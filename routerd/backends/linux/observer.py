"""Observation: read the host kind by kind, and assemble an ``Observed`` from the kinds.

Two halves, so that the observation cache (``cache.py``) can keep the expensive kinds
between passes and re-read only what changed:

* Readers fetch one kind each: routerd's routes (a dump filtered by protocol in the kernel),
  proxy entries, addresses, foreign ``local`` routes (D15 in docs/decisions.md), the nft table.
  ``read_all`` reads every kind into a ``Kinds``; never one request per route.
* ``assemble`` builds the ``Observed`` the engine diffs from a ``Kinds`` plus what is always
  read fresh because it is cheap and no event reports it: sysctls (``/proc/sys``) and
  WireGuard devices (config and handshakes over UAPI), and link states and anycast-gateway
  devices (``gateway.py``) from the link table.
  ``assemble_keys`` does the same for a scope naming its keys (a scoped pass): key by key,
  so its cost follows the keys asked for, not the size of the tables.

Every owned object is reported (so the diff removes what is no longer desired), plus
whatever the scope asks about. Objects that exist but belong to someone else are reported
*without* being owned when they already satisfy a desired key (a foreign proxy entry or a
pre-existing address): the diff then leaves them alone, which is how routerd avoids ever
adding over, relabelling or later deleting them. Proxy entries are read because an
earlier routerd made one per proxy-ARP capture: owned ones are reported so the diff
removes them (a capture is now its route, ``routerd.core.capture``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import cast

from routerd.backends.linux import addresses, gateway, neighbours, routes
from routerd.backends.linux.addresses import AddressEntry
from routerd.backends.linux.host import Host
from routerd.backends.linux.neighbours import ProxyEntry
from routerd.core.desired import (
    AbsentAddress,
    Address,
    DataplaneObject,
    Key,
    LinkState,
    MssClampTable,
    Observed,
    ObserveScope,
    ProxyNeighbour,
    Route,
    Sysctl,
)
from routerd.core.errors import DataplaneError

LOG = logging.getLogger(__name__)

ADDR_KIND = "addr"
LocalRoute = tuple[str, str, int]  # (address, dev, protocol) of a foreign local-table /32


@dataclass
class RouteKind:
    """routerd's routes by key; a key holding several (a metric changed under us) is in ``dups``."""

    single: dict[Key, Route] = field(default_factory=dict)
    dups: dict[Key, list[Route]] = field(default_factory=dict)

    @classmethod
    def of(cls, found: Iterable[Route]) -> RouteKind:
        out = cls()
        for r in found:
            key = r.key
            if key in out.dups:
                out.dups[key].append(r)
            elif key in out.single:
                out.dups[key] = [out.single.pop(key), r]
            else:
                out.single[key] = r
        return out

    def patch(self, route: Route, *, new: bool, replace: bool) -> bool:
        """Apply one route notification; False when only a re-read can say what is there.

        A route's identity in the kernel is (table, destination, metric); a key with a
        second route, or an add that matches an existing identity without replacing it (an
        append), is left to the dump, which reports duplicates in the kernel's own order.
        """
        key = route.key
        if key in self.dups:
            return False
        have = self.single.get(key)
        if new:
            if have is not None and not (replace and have.metric == route.metric):
                return False
            self.single[key] = route
        elif have is not None and have.metric == route.metric:
            del self.single[key]
        return True


@dataclass
class ProxyKind:
    """Proxy entries as observed objects: routerd's, and other owners' (reported when desired)."""

    owned: dict[Key, ProxyNeighbour] = field(default_factory=dict)
    foreign: dict[Key, ProxyNeighbour] = field(default_factory=dict)

    def put(self, obj: ProxyNeighbour, *, ours: bool) -> None:
        key = obj.key
        (self.foreign if ours else self.owned).pop(key, None)
        (self.owned if ours else self.foreign)[key] = obj

    def discard(self, key: Key) -> None:
        self.owned.pop(key, None)
        self.foreign.pop(key, None)

    def __contains__(self, key: object) -> bool:
        return key in self.owned or key in self.foreign

    def keys(self) -> set[Key]:
        return self.owned.keys() | self.foreign.keys()


@dataclass
class Kinds:
    """One reading of every cached kind (links live in ``host.links``)."""

    routes: RouteKind
    pneigh: ProxyKind
    addrs: list[AddressEntry]
    local: list[LocalRoute]
    nft: MssClampTable | None
    wants_proxies: bool = False
    """The last scope assembled from these kinds wanted proxy entries."""


# -- readers -------------------------------------------------------------------------------------


def read_routes(host: Host) -> RouteKind:
    return RouteKind.of(routes.dump_owned(host.sock, host.links.name))


def read_proxies(host: Host, previous: ProxyKind | None = None) -> ProxyKind:
    """Every proxy entry; objects of ``previous`` are reused (the poll reads 10,000 often)."""
    old = previous or ProxyKind()
    return proxies_of(host, neighbours.dump(host.sock), old)


def proxies_of(host: Host, entries: Iterable[ProxyEntry], old: ProxyKind) -> ProxyKind:
    records = host.pneigh_records()
    name = host.links.name
    out = ProxyKind()
    for entry in entries:
        dev = name(entry.ifindex)
        key = ("pneigh", entry.address, dev)
        obj = old.owned.get(key) or old.foreign.get(key) or ProxyNeighbour(entry.address, dev)
        if host.pneigh_is_ours(entry, dev, records):
            out.owned[key] = obj
        else:
            out.foreign[key] = obj
    return out


def confirm_proxies(host: Host, kind: ProxyKind, keys: Iterable[Key]) -> int:
    """Exact look-ups for entries a dump did not show; found ones are added to ``kind``.

    All namespaces' proxy entries share one kernel hash, so a dump racing another
    namespace's churn can skip entries (``neighbours.confirm``).
    """
    wanted = []
    for _, address, dev in keys:
        ifindex = host.links.index(dev)
        if ifindex is not None:
            wanted.append((address, ifindex))
    found = proxies_of(host, neighbours.confirm(host.sock, wanted), ProxyKind())
    for obj in found.owned.values():
        kind.put(obj, ours=True)
    for obj in found.foreign.values():
        kind.put(obj, ours=False)
    return len(found.owned) + len(found.foreign)


def read_addresses(host: Host) -> list[AddressEntry]:
    return addresses.dump(host.sock)


def read_local(host: Host) -> list[LocalRoute]:
    return routes.dump_foreign_local(host.sock, host.links.name)


def read_nft(host: Host) -> MssClampTable | None:
    table, _ = host.nft.observe()
    return table


def read_all(host: Host) -> Kinds:
    """Every kind, links first (the other kinds name devices through the link table)."""
    host.links.refresh()
    return Kinds(
        read_routes(host),
        read_proxies(host),
        read_addresses(host),
        read_local(host),
        read_nft(host),
    )


def observe_host(host: Host, scope: ObserveScope) -> Observed:
    """A full read, assembled (cleanup and forced full reads; the cache is not involved)."""
    return assemble(host, read_all(host), scope)


# -- assembly ------------------------------------------------------------------------------------


@dataclass
class _Wanted:
    """What the desired state alone says must be read (one pass over its keys)."""

    pneigh: list[Key] = field(default_factory=list)
    addr: list[Key] = field(default_factory=list)
    sysctls: set[str] = field(default_factory=set)
    wg: set[str] = field(default_factory=set)
    gateways: set[str] = field(default_factory=set)


def _wanted(desired: Mapping[Key, DataplaneObject]) -> _Wanted:
    keys: dict[str, list[Key]] = {k: [] for k in ("pneigh", "addr", "sysctl", "wg", gateway.KIND)}
    pick = keys.get
    for key in desired:  # 10,000s of routes: one comparison each
        kind = key[0]
        if kind == "route":
            continue
        found = pick(kind)
        if found is not None:
            found.append(key)
    return _Wanted(
        keys["pneigh"],
        keys["addr"],
        {k[1] for k in keys["sysctl"]},
        {k[1] for k in keys["wg"]},
        {k[1] for k in keys[gateway.KIND]},
    )


def _wanted_for(host: Host, desired: Mapping[Key, DataplaneObject]) -> _Wanted:
    """``_wanted``, remembered for the last desired mapping when that cannot change.

    A pass observes its desired state more than once (before and after its apply); the
    mapping is persistent (immutable), so what it says to read is the same each time.
    """
    memo = host.wanted_memo
    if memo is not None and memo[0] is desired:
        return cast(_Wanted, memo[1])
    wanted = _wanted(desired)
    if not isinstance(desired, MutableMapping):
        host.wanted_memo = (desired, wanted)
    return wanted


def assemble(host: Host, kinds: Kinds, scope: ObserveScope) -> Observed:
    """The ``Observed`` for ``scope`` from ``kinds`` plus fresh sysctls and WireGuard reads.

    Proxy entries the scope wants but ``kinds`` lacks are confirmed with exact look-ups
    and added to ``kinds`` when found.
    """
    desired: Mapping[Key, DataplaneObject] = scope.desired.objects if scope.desired else {}
    wanted = _wanted_for(host, desired)
    kinds.wants_proxies = bool(wanted.pneigh)
    obs = Observed()
    _routes(host, obs, kinds.routes, desired)
    _proxy_neighbours(host, obs, kinds, desired, wanted.pneigh)
    _addresses(host, obs, desired, kinds.addrs, wanted.addr)
    _absent(host, obs, scope.absent_addresses, kinds)
    _sysctls(host, obs, scope.sysctls | wanted.sysctls)
    _links(host, obs, scope.links, kinds.addrs)
    _wireguard(host, obs, scope.wireguard | wanted.wg, desired)
    _gateways(host, obs, kinds.addrs, desired, None, wanted.gateways)
    if kinds.nft is not None:
        obs.objects[kinds.nft.key] = kinds.nft
        obs.owned.add(kinds.nft.key)
    return obs


def _routes(
    host: Host, obs: Observed, kind: RouteKind, desired: Mapping[Key, DataplaneObject]
) -> None:
    obs.objects.update(kind.single)
    obs.owned.update(kind.single)
    host.route_duplicates = {}
    for key, found in kind.dups.items():
        # Two of our routes for one key (a metric changed under us): report one that
        # differs from the desired route so the diff replaces, and the applier removes all.
        want = desired.get(key)
        host.route_duplicates[key] = list(found)
        obs.objects[key] = sorted(found, key=lambda r: r == want)[0]
        obs.owned.add(key)


def _proxy_neighbours(
    host: Host,
    obs: Observed,
    kinds: Kinds,
    desired: Mapping[Key, DataplaneObject],
    wanted: list[Key],
) -> None:
    """Proxy entries; desired ones the dump lacks are confirmed with exact look-ups."""
    kind = kinds.pneigh
    missing = [k for k in wanted if k not in kind.owned and k not in kind.foreign]
    if missing:
        confirm_proxies(host, kind, missing)
    obs.objects.update(kind.owned)
    obs.owned.update(kind.owned)
    for key, obj in kind.foreign.items():
        if key in desired:
            obs.objects[key] = obj


def _addresses(
    host: Host,
    obs: Observed,
    desired: Mapping[Key, DataplaneObject],
    addrs: list[AddressEntry],
    wanted: list[Key],
) -> None:
    present = {(host.links.name(a.ifindex), a.cidr) for a in addrs}
    for record in host.store.owned(ADDR_KIND):
        dev, _, cidr = record.partition(" ")
        key = (ADDR_KIND, dev, cidr)
        if (dev, cidr) in present:
            obs.objects[key] = Address(dev, cidr)
            obs.owned.add(key)
        elif key not in desired:
            host.store.drop_owned(ADDR_KIND, record)  # gone with its interface
    for want in wanted:
        if (want[1], want[2]) in present:
            obs.objects.setdefault(want, desired[want])


def _absent(host: Host, obs: Observed, wanted: set[str], kinds: Kinds) -> None:
    """An ``AbsentAddress`` for each of ``wanted`` present on this host (assigned to an
    interface or a foreign ``local`` route); one present nowhere gets none (D15)."""
    if not wanted:
        return
    where: dict[str, list[tuple[str, str]]] = {}
    for a in kinds.addrs:
        if a.address in wanted:
            where.setdefault(a.address, []).append((host.links.name(a.ifindex), a.cidr))
    local: dict[str, list[tuple[str, int]]] = {}
    for ip, dev, proto in kinds.local:
        if ip in wanted:
            local.setdefault(ip, []).append((dev, proto))
    for address in where.keys() | local.keys():
        obj = AbsentAddress(
            address, tuple(sorted(where.get(address, ()))), tuple(sorted(local.get(address, ())))
        )
        obs.objects[obj.key] = obj


def _sysctls(host: Host, obs: Observed, names: set[str]) -> None:
    owned = host.sysctls.owned()
    for name in names | set(owned):
        value = host.sysctls.read(name)
        if value is not None:
            obs.objects[("sysctl", name)] = Sysctl(name, value)
        if name in owned:
            obs.owned.add(("sysctl", name))


def _links(host: Host, obs: Observed, names: set[str], addrs: list[AddressEntry]) -> None:
    for name in names:
        info = host.links.by_name.get(name)
        if info is None:
            obs.links[name] = LinkState(name, exists=False, up=False)
            continue
        cidrs = tuple(sorted(a.cidr for a in addrs if a.ifindex == info.index))
        obs.links[name] = LinkState(name, True, info.up, info.mtu, info.kind, cidrs)


def _wireguard(
    host: Host, obs: Observed, names: set[str], desired: Mapping[Key, DataplaneObject]
) -> None:
    owned = host.wg.owned()
    for name in names | set(owned):
        key = ("wg", name)
        if name in owned:
            obs.owned.add(key)
            if key in desired:
                host.wg.wanted.add(name)  # adopted after a restart: supervise it again
                host.wg.last.setdefault(name, desired[key])  # type: ignore[arg-type]
        try:
            state = host.wg.read(name)
        except DataplaneError as exc:
            LOG.warning("reading WireGuard device %s failed: %s", name, exc)
            continue
        if state is None:
            continue
        obs.objects[key] = state.device
        for peer, age in state.handshakes.items():
            obs.handshakes[(name, peer)] = age


def _gateways(
    host: Host,
    obs: Observed,
    addrs: list[AddressEntry],
    desired: Mapping[Key, DataplaneObject],
    keys: frozenset[Key] | None,
    desired_names: set[str] | None = None,
) -> None:
    """Anycast-gateway devices from the link table (``gateway.py``): owned ones, and a
    foreign link where a device is desired."""
    found, owned = gateway.observe(host, addrs, desired, keys, desired_names)
    obs.objects.update(found)
    obs.owned.update(owned)


def assemble_keys(host: Host, kinds: Kinds, scope: ObserveScope) -> Observed:
    """``assemble`` for exactly ``scope.keys`` (plus the scope's links and devices)."""
    keys = scope.keys or frozenset()
    desired: Mapping[Key, DataplaneObject] = scope.desired.objects if scope.desired else {}
    obs = Observed()
    wanted = _wanted(dict.fromkeys(keys))  # type: ignore[arg-type]
    for key in keys:
        if key[0] == "route":
            _route_key(host, obs, kinds.routes, key, desired)
        elif key[0] == "nft" and kinds.nft is not None and kinds.nft.key == key:
            obs.objects[key] = kinds.nft
            obs.owned.add(key)
    missing = _Wanted()
    for key in wanted.pneigh:
        _proxy_key(obs, kinds.pneigh, key, desired, missing)
    if missing.pneigh:
        confirm_proxies(host, kinds.pneigh, missing.pneigh)
        for key in missing.pneigh:
            _proxy_key(obs, kinds.pneigh, key, desired, _Wanted())
    if wanted.addr:  # drift may name addresses nobody wants: only owned ones are reported
        _addresses(host, obs, desired, kinds.addrs, [k for k in wanted.addr if k in desired])
    _absent(host, obs, scope.absent_addresses, kinds)  # the scope names the keys' absences
    _sysctls(host, obs, scope.sysctls | wanted.sysctls)
    _links(host, obs, scope.links, kinds.addrs)
    _wireguard(host, obs, scope.wireguard | wanted.wg, desired)
    _gateways(host, obs, kinds.addrs, desired, keys)
    obs.owned.intersection_update(keys)
    for key in [k for k in obs.objects if k[0] in ("route", "pneigh", "addr") and k not in keys]:
        del obs.objects[key]  # whole-table helpers report more than was asked for
    return obs


def _route_key(
    host: Host, obs: Observed, kind: RouteKind, key: Key, desired: Mapping[Key, DataplaneObject]
) -> None:
    found = kind.single.get(key)
    if found is not None:
        obs.objects[key] = found
        obs.owned.add(key)
        return
    dups = kind.dups.get(key)
    if dups:
        want = desired.get(key)
        host.route_duplicates[key] = list(dups)
        obs.objects[key] = sorted(dups, key=lambda r: r == want)[0]
        obs.owned.add(key)


def _proxy_key(
    obs: Observed,
    kind: ProxyKind,
    key: Key,
    desired: Mapping[Key, DataplaneObject],
    missing: _Wanted,
) -> None:
    mine = kind.owned.get(key)
    if mine is not None:
        obs.objects[key] = mine
        obs.owned.add(key)
        return
    theirs = kind.foreign.get(key)
    if theirs is not None:
        if key in desired:
            obs.objects[key] = theirs
    elif key in desired:
        missing.pneigh.append(key)  # confirmed with an exact look-up
