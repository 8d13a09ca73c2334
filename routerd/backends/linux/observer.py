"""Observation: read the host into an ``Observed`` the engine can diff against desired state.

Every owned object is reported (so the diff removes what is no longer desired), plus
whatever the scope asks about. Objects that exist but belong to someone else are reported
*without* being owned when they already satisfy a desired key (a foreign proxy entry or a
pre-existing address): the diff then leaves them alone, which is how routerd avoids ever
adding over, relabelling or later deleting them. Reads are a few kernel-filtered netlink
dumps (routes by protocol, proxy entries, addresses) plus per-object reads for sysctls,
WireGuard devices and the nft table; never one request per route.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from routerd.backends.linux import addresses, neighbours, routes
from routerd.backends.linux.addresses import AddressEntry
from routerd.backends.linux.host import Host
from routerd.core.desired import (
    AbsentAddress,
    Address,
    DataplaneObject,
    Key,
    LinkState,
    Observed,
    ObserveScope,
    ProxyNeighbour,
    Route,
    Sysctl,
)
from routerd.core.errors import DataplaneError

LOG = logging.getLogger(__name__)

ADDR_KIND = "addr"


def observe_host(host: Host, scope: ObserveScope) -> Observed:
    """One consistent-enough snapshot of everything routerd owns or was asked about."""
    host.links.refresh()
    desired: Mapping[Key, DataplaneObject] = scope.desired.objects if scope.desired else {}
    obs = Observed()
    _routes(host, obs, desired)
    _proxy_neighbours(host, obs, desired)
    addrs = addresses.dump(host.sock)
    _addresses(host, obs, desired, addrs)
    # The desired state alone is enough to know what to read; the scope may add more.
    absent = {o.address for o in desired.values() if isinstance(o, AbsentAddress)}
    sysctls = {o.name for o in desired.values() if isinstance(o, Sysctl)}
    _absent(host, obs, scope.absent_addresses | absent, addrs)
    _sysctls(host, obs, scope.sysctls | sysctls)
    _links(host, obs, scope.links, addrs)
    _wireguard(host, obs, scope.wireguard, desired)
    _nft(host, obs)
    return obs


def _routes(host: Host, obs: Observed, desired: Mapping[Key, DataplaneObject]) -> None:
    by_key: dict[Key, list[Route]] = {}
    for r in routes.dump_owned(host.sock, host.links.name):
        by_key.setdefault(r.key, []).append(r)
    host.route_duplicates = {}
    for key, found in by_key.items():
        want = desired.get(key)
        if len(found) > 1:
            # Two of our routes for one key (a metric changed under us): report one that
            # differs from the desired route so the diff replaces, and the applier removes all.
            host.route_duplicates[key] = found
            found = sorted(found, key=lambda r: r == want)
        obs.objects[key] = found[0]
        obs.owned.add(key)


def _proxy_neighbours(host: Host, obs: Observed, desired: Mapping[Key, DataplaneObject]) -> None:
    records = host.pneigh_records()
    expected: set[tuple[str, str]] = set()
    entries = neighbours.dump(host.sock)
    seen = {(e.address, e.ifindex) for e in entries}
    missing = []
    for want in desired.values():
        if isinstance(want, ProxyNeighbour):
            ifindex = host.links.index(want.dev)
            if ifindex is not None and (want.address, ifindex) not in seen:
                missing.append((want.address, ifindex))
    entries += neighbours.confirm(host.sock, missing)
    for entry in entries:
        dev = host.links.name(entry.ifindex)
        obj = ProxyNeighbour(entry.address, dev)
        ours = host.pneigh_is_ours(entry, dev, records)
        if ours:
            expected.add((entry.address, dev))
            obs.owned.add(obj.key)
        if ours or obj.key in desired:
            obs.objects[obj.key] = obj
    host.pneigh_expected = expected


def _addresses(
    host: Host, obs: Observed, desired: Mapping[Key, DataplaneObject], addrs: list[AddressEntry]
) -> None:
    present = {(host.links.name(a.ifindex), a.cidr) for a in addrs}
    for record in host.store.owned(ADDR_KIND):
        dev, _, cidr = record.partition(" ")
        obj = Address(dev, cidr)
        if (dev, cidr) in present:
            obs.objects[obj.key] = obj
            obs.owned.add(obj.key)
        elif obj.key not in desired:
            host.store.drop_owned(ADDR_KIND, record)  # gone with its interface
    for key, want in desired.items():
        if isinstance(want, Address) and (want.dev, want.cidr) in present:
            obs.objects.setdefault(key, want)


def _absent(host: Host, obs: Observed, wanted: set[str], addrs: list[AddressEntry]) -> None:
    if not wanted:
        return
    local: dict[str, list[tuple[str, int]]] = {}
    for ip, dev, proto in routes.dump_foreign_local(host.sock, host.links.name):
        if ip in wanted:
            local.setdefault(ip, []).append((dev, proto))
    for address in wanted:
        where = sorted((host.links.name(a.ifindex), a.cidr) for a in addrs if a.address == address)
        obj = AbsentAddress(address, tuple(where), tuple(sorted(local.get(address, ()))))
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
    wanted_names = {k[1] for k in desired if k[0] == "wg"}
    for name in names | set(owned) | wanted_names:
        key = ("wg", name)
        if name in owned:
            obs.owned.add(key)
            if name in wanted_names:
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


def _nft(host: Host, obs: Observed) -> None:
    table, _ = host.nft.observe()
    if table is not None:
        obs.objects[table.key] = table
        obs.owned.add(table.key)
