"""What the sim backend's ``observe`` reports: owned objects plus what the scope asks for.

Ownership is read from the marks on the host (``routerd.backends.sim.changes`` writes them),
never from backend memory, so a freshly started backend sees exactly what an earlier one
left behind. Beyond the owned objects the report holds:

* for every desired key, the matching object on the host even when routerd does not own it
  (present, so nothing is re-added, but not owned, so it is never removed: adoption without
  taking foreign objects hostage);
* the scope's sysctls, absent-address probes (every ``(dev, cidr)`` where the address is),
  links and WireGuard devices, and handshake ages keyed ``(ifname, peer public key)``.

Every step is a dict walk over owned objects or scope items: O(objects), no per-object scans.
A scope naming its keys (a scoped pass) is answered key by key (``observe_keys``), with the
same rules: owned objects are reported owned, foreign ones only where a key is desired.
"""

from __future__ import annotations

from routerd.core.desired import (
    MACVLAN_BRIDGE,
    MSS_TABLE,
    AbsentAddress,
    Address,
    DataplaneObject,
    GatewayDevice,
    Key,
    LinkState,
    MssClampTable,
    Observed,
    ObserveScope,
    Route,
    Sysctl,
)

from .changes import OWNER
from .fib import RouteEntry
from .host import Host, Interface
from .nft import comment_generation

MSS_FAMILY = "inet"


def observe_host(host: Host, scope: ObserveScope, now: float) -> Observed:
    """Build the observation of ``host`` for ``scope`` at clock time ``now``."""
    if scope.keys is not None:
        return observe_keys(host, scope, now)
    obs = Observed()
    _routes(host, obs)
    _addresses(host, obs)
    _sysctls(host, obs, scope)
    _absent(host, obs, scope)
    _wireguard(host, obs, scope, now)
    _nft(host, obs)
    _gateways(host, obs)
    _adopt(host, obs, scope)
    _links(host, obs, scope)
    return obs


def gateway_object(host: Host, iface: Interface) -> GatewayDevice:
    """What a link is, in ``GatewayDevice`` terms (the sim models one macvlan mode)."""
    return GatewayDevice(
        iface.name,
        iface.parent,
        iface.mac,
        tuple(sorted(iface.addresses)),
        iface.up,
        MACVLAN_BRIDGE if iface.kind == "macvlan" else "",
        iface.kind,
    )


def _gateways(host: Host, obs: Observed) -> None:
    for iface in host.interfaces.values():
        if iface.kind == "macvlan" and iface.owner == OWNER:
            obj = gateway_object(host, iface)
            obs.objects[obj.key] = obj
            obs.owned.add(obj.key)


def route_object(r: RouteEntry) -> Route:
    return Route(r.dst, r.dev, r.metric, r.gateway, r.table, r.type)


def _routes(host: Host, obs: Observed) -> None:
    for r in host.fib.all_routes():
        if r.proto == OWNER:
            obj = route_object(r)
            obs.objects[obj.key] = obj
            obs.owned.add(obj.key)


def _addresses(host: Host, obs: Observed) -> None:
    for iface in host.interfaces.values():
        for cidr, owner in iface.addresses.items():
            if owner == OWNER:
                obj = Address(iface.name, cidr)
                obs.objects[obj.key] = obj
                obs.owned.add(obj.key)


def _sysctls(host: Host, obs: Observed, scope: ObserveScope) -> None:
    for name in scope.sysctls | set(host.saved_sysctls):
        value = host.get_sysctl(name)
        if value is not None:
            obs.objects[("sysctl", name)] = Sysctl(name, value)
    obs.owned.update(("sysctl", name) for name in host.saved_sysctls)


def _absent(host: Host, obs: Observed, scope: ObserveScope) -> None:
    """An ``AbsentAddress`` for each address the scope asks about that is present here."""
    for address in scope.absent_addresses:
        where = host.local_ips.get(address)
        if where:
            obs.objects[("absent", address)] = AbsentAddress(address, tuple(sorted(where.items())))


def _wireguard(host: Host, obs: Observed, scope: ObserveScope, now: float) -> None:
    wanted = set(scope.wireguard)
    if scope.desired is not None and scope.keys is None:  # a scoped one names its devices
        wanted.update(k[1] for k in scope.desired.objects if k[0] == "wg")
    for ifname, dev in host.wireguard.items():
        owned = OWNER in (dev.created_by, dev.configured_by)
        iface = host.interfaces.get(ifname)
        if iface is None or not (owned or ifname in wanted):
            continue
        obj = dev.as_desired(iface.mtu)
        obs.objects[obj.key] = obj
        if owned:
            obs.owned.add(obj.key)
        for peer in dev.peers.values():
            if peer.last_handshake is not None:
                obs.handshakes[(ifname, peer.public_key)] = max(0.0, now - peer.last_handshake)


def _nft(host: Host, obs: Observed) -> None:
    # Only the clamp table has an object type in the core's language; the sim models no
    # other nft tables routerd could have written.
    table = host.nft.get((MSS_FAMILY, MSS_TABLE))
    generation = comment_generation(table.comment) if table is not None else None
    if table is not None and generation is not None:
        obj = MssClampTable(table.rules, generation=generation)
        obs.objects[obj.key] = obj
        obs.owned.add(obj.key)


def _adopt(host: Host, obs: Observed, scope: ObserveScope) -> None:
    """Report foreign objects that match desired keys: present, but never owned."""
    if scope.desired is None:
        return
    for key in scope.desired.objects:
        if key in obs.objects:
            continue
        obj = _foreign(host, key)
        if obj is not None:
            obs.objects[key] = obj


def _foreign(host: Host, key: Key) -> DataplaneObject | None:
    kind = key[0]
    if kind == "route":
        routes = host.fib.routes_for(key[2], int(key[1]))
        return route_object(routes[0]) if routes else None
    if kind == "addr":
        iface = host.interfaces.get(key[1])
        return Address(key[1], key[2]) if iface is not None and key[2] in iface.addresses else None
    if kind == "nft":
        table = host.nft.get((key[1], key[2]))
        return MssClampTable(table.rules) if table is not None else None
    if kind == "gateway":
        iface = host.interfaces.get(key[1])
        return gateway_object(host, iface) if iface is not None else None
    return None


def _links(host: Host, obs: Observed, scope: ObserveScope) -> None:
    for name in scope.links:
        iface = host.interfaces.get(name)
        if iface is None:
            obs.links[name] = LinkState(name, exists=False, up=False)
            continue
        obs.links[name] = LinkState(
            name, up=iface.up, mtu=iface.mtu, kind=iface.kind, addresses=tuple(iface.addresses)
        )


def observe_keys(host: Host, scope: ObserveScope, now: float) -> Observed:
    """The observation of exactly ``scope.keys`` (plus links, WireGuard devices, sysctls)."""
    obs = Observed()
    keys = scope.keys or frozenset()
    desired = scope.desired.objects if scope.desired is not None else {}
    for key in keys:
        if key[0] in ("sysctl", "wg", "absent"):
            continue  # below, as in a full observation
        owned = _owned(host, key)
        if owned is not None:
            obs.objects[key] = owned
            obs.owned.add(key)
        elif key in desired:
            foreign = _foreign(host, key)
            if foreign is not None:
                obs.objects[key] = foreign
    for name in scope.sysctls:
        value = host.get_sysctl(name)
        if value is not None:
            obs.objects[("sysctl", name)] = Sysctl(name, value)
        if name in host.saved_sysctls:
            obs.owned.add(("sysctl", name))
    _absent(host, obs, scope)
    _wireguard(host, obs, scope, now)
    obs.owned.intersection_update(keys)
    _links(host, obs, scope)
    return obs


def _owned(host: Host, key: Key) -> DataplaneObject | None:
    """The object routerd owns under ``key``, if any (the marks ``changes`` writes)."""
    kind = key[0]
    if kind == "route":
        mine = [r for r in host.fib.routes_for(key[2], int(key[1])) if r.proto == OWNER]
        return route_object(mine[-1]) if mine else None
    if kind == "addr":
        iface = host.interfaces.get(key[1])
        owner = iface.addresses.get(key[2]) if iface is not None else None
        return Address(key[1], key[2]) if owner == OWNER else None
    if kind == "nft":
        table = host.nft.get((key[1], key[2]))
        generation = comment_generation(table.comment) if table is not None else None
        if table is not None and generation is not None:
            return MssClampTable(table.rules, generation=generation)
    if kind == "gateway":
        iface = host.interfaces.get(key[1])
        if iface is not None and iface.kind == "macvlan" and iface.owner == OWNER:
            return gateway_object(host, iface)
    return None
