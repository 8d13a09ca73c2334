"""The observation cache: the last reading of each kind, kept current by netlink events.

Why: at 10,000 claims a full read decodes 10,000 routes and 10,000 proxy entries into
~30,000 objects on every observe (~110 ms on the proxy-ARP side, twice in a pass that
changes something) although in steady state nothing changed. The cache keeps the last
reading per kind (``observer.Kinds``) and re-reads a kind only when something says it may
have changed; it is never trusted blindly. How each kind stays equal to a full read:

* routes (routerd's protocol): patched from RTM_NEWROUTE/DELROUTE in the order the kernel
  sent them (the backend calls ``EventWatcher.sync`` before each use: the kernel queues a
  notification before it answers the request that caused it). routerd's own route writes
  are patched from the applier's acknowledged writes instead (``applied``): the kernel
  drops their echoes (``events.own_route_echo_filter``), 10,000 datagrams on a cold
  apply, and the event thread is held while routerd writes, so foreign notifications
  still land in order around them. Whatever one notification (or write) cannot settle
  exactly (a second route for a key, an append, a foreign route replacing one of ours in
  place, a device the link table does not know yet) marks the kind for a re-read instead.
* proxy entries: the kernel reports no change to them. ``applied`` patches what routerd
  changed, ``poll_proxies`` (the backend's periodic drift check) replaces them with a fresh
  dump, and entries a scope wants but the cache lacks are confirmed with exact look-ups.
  routerd makes no entries any more (a proxy-ARP capture is its route): the poll runs
  only while owned entries an earlier version left are there to be removed.
* addresses, foreign ``local`` routes, the nft table and the link table are small: re-read
  when an event or an apply touched them. Anycast-gateway devices are read from the link
  table and the addresses (``gateway.py``): a foreign event on one names its key.
* what the kernel removes without a notification: taking a link down (or losing carrier),
  deleting or renaming it, or removing the last IPv4 address of a device flushes its routes
  and proxy entries silently. Any link event that changes a name or those flags, and any
  address removal, marks every device-bound kind for a re-read.

Sysctls and WireGuard devices are read fresh on every observe (``observer.assemble``).
Safety nets: every kind is read at the first observe, after an event overrun or a socket
failure (``invalidate``), on every observe while no event thread runs (``trusted=False``)
and every ``full_interval`` seconds whatever happened.

Drift (``drain``): the keys whose objects changed behind routerd's back, for the engine's
scoped passes. Foreign notifications name their key (routerd's own echoes, told apart by
the netlink port id, do not); a re-read, a proxy poll or a periodic full read names every
key whose object differs from the reading it replaces; when events were lost or no event
thread runs, the drift is "everything".
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence

from routerd.backends.linux import netlink_codec as nl
from routerd.backends.linux import observer as ob
from routerd.backends.linux import routes
from routerd.backends.linux.addresses import AddressEntry
from routerd.backends.linux.gateway import KIND as GATEWAY
from routerd.backends.linux.host import Host
from routerd.backends.linux.links import IFF_LOWER_UP, IFF_UP
from routerd.backends.linux.routes import RouteWrite
from routerd.core.desired import Key, Observed, ObserveScope, ProxyNeighbour
from routerd.core.mobility.gateway import PREFIX as GATEWAY_PREFIX
from routerd.core.port import Change, ChangeResult, Drift

KINDS = ("links", "routes", "pneigh", "addr", "local", "nft")
"""Cached kinds in re-read order: the link table first, the others name devices through it."""
DEVICE_KINDS = frozenset(KINDS) - {"nft"}
LINK_FLAGS = IFF_UP | IFF_LOWER_UP
"""Link flags whose change can flush routes and proxy entries without a notification."""
APPLIED = {
    "addr": ("addr",),
    "absent": ("addr", "local"),
    "nft": ("nft",),
    "wg": ("links",),
    "gateway": ("links", "addr"),
}
"""Kinds to re-read after a successful change (routes follow their own echoes)."""
FAILED = {**APPLIED, "route": ("routes",), "pneigh": ("pneigh",)}
"""Kinds to re-read after a failed change."""


class ObservationCache:
    """Per-kind readings of one host, their dirty marks, and the counters tests look at."""

    def __init__(
        self,
        host: Host,
        *,
        full_interval: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.host = host
        self.full_interval = full_interval
        self.clock = clock
        self.lock = threading.RLock()
        self.kinds: ob.Kinds | None = None
        self.dirty: set[str] = set(KINDS)
        self.stats: Counter[str] = Counter()
        """observe_full / observe_partial, reread_<kind>, route_patches, proxy_polls."""
        self._links_seen: dict[int, tuple[str, int]] = {}
        self._next_full = 0.0
        self._drift: set[Key] = set()
        self._drift_all = True  # nothing was read yet
        self._handlers: dict[int, Callable[[nl.Message], None]] = {
            nl.RTM_NEWROUTE: self._route_event,
            nl.RTM_DELROUTE: self._route_event,
            nl.RTM_NEWADDR: self._address_event,
            nl.RTM_DELADDR: self._address_event,
            nl.RTM_NEWLINK: self._link_event,
            nl.RTM_DELLINK: self._link_event,
            nl.RTM_NEWNEIGH: self._neighbour_event,
            nl.RTM_DELNEIGH: self._neighbour_event,
        }

    # -- reading -----------------------------------------------------------------------------

    def observe(self, scope: ObserveScope, *, trusted: bool) -> Observed:
        """The observation for ``scope``; ``trusted`` says the event stream is complete."""
        with self.lock:
            kinds = self._refresh(trusted)
            if scope.keys is not None:
                return ob.assemble_keys(self.host, kinds, scope)
            return ob.assemble(self.host, kinds, scope)

    def drain(self, *, trusted: bool) -> Drift:
        """What drifted since the last call; re-reads what events made dirty first."""
        with self.lock:
            self._refresh(trusted)
            everything = self._drift_all or not trusted
            out = Drift(everything=True) if everything else Drift(frozenset(self._drift))
            self._drift, self._drift_all = set(), False
            return out

    def invalidate(self, kinds: Iterable[str] = KINDS) -> None:
        """Re-read these kinds at the next observe (all of them: a full read)."""
        with self.lock:
            self.dirty.update(kinds)
            if self.dirty.issuperset(KINDS):
                self._drift_all = True  # events were lost: nobody can say what changed

    def _refresh(self, trusted: bool) -> ob.Kinds:
        now = self.clock()
        if not trusted or self.kinds is None or now >= self._next_full:
            self.dirty.update(KINDS)
        if self.kinds is None or self.dirty.issuperset(KINDS):
            old = self.kinds
            self.kinds = self._read_all(trusted, now)
            if old is None:
                self._drift_all = True
            else:
                self._drift.update(_differences(old, self.kinds))
            return self.kinds
        self.stats["observe_partial"] += 1
        for kind in KINDS:
            if kind in self.dirty:
                self._reread(self.kinds, kind)
        self.dirty.clear()
        return self.kinds

    def _read_all(self, trusted: bool, now: float) -> ob.Kinds:
        self.stats["observe_full"] += 1
        kinds = ob.read_all(self.host)
        self._links_seen = {
            i.index: (i.name, i.flags & LINK_FLAGS) for i in self.host.links.by_index.values()
        }
        self._next_full = now + self.full_interval
        if trusted:
            self.dirty.clear()
        return kinds

    def _reread(self, kinds: ob.Kinds, kind: str) -> None:
        self.stats[f"reread_{kind}"] += 1
        host = self.host
        drift = self._drift
        if kind == "links":
            host.links.refresh()
        elif kind == "routes":
            old_routes, kinds.routes = kinds.routes, ob.read_routes(host)
            drift.update(_route_differences(old_routes, kinds.routes))
        elif kind == "pneigh":
            old_proxies, kinds.pneigh = kinds.pneigh, self._fresh_proxies(kinds.pneigh)
            drift.update(_proxy_differences(old_proxies, kinds.pneigh))
        elif kind == "addr":
            old_addrs, kinds.addrs = kinds.addrs, ob.read_addresses(host)
            drift.update(_address_differences(host, old_addrs, kinds.addrs))
        elif kind == "local":
            old_local, kinds.local = kinds.local, ob.read_local(host)
            drift.update(("absent", a) for a, _, _ in set(old_local) ^ set(kinds.local))
        else:
            kinds.nft = ob.read_nft(host)

    # -- what routerd changed ----------------------------------------------------------------

    def applied(
        self, results: Sequence[ChangeResult], route_writes: Sequence[RouteWrite] = ()
    ) -> None:
        """Account for an apply: routes and proxy entries patched, other touched kinds marked.

        ``route_writes`` are the applier's successful route writes, given when the event
        watcher drops routerd's own route echoes; otherwise those echoes patch the routes.
        """
        with self.lock:
            touched = {(r.ok, r.change.key[0]) for r in results}  # 10,000 routes mark once
            if (True, "pneigh") in touched:  # proxy entries are patched, not re-read
                for r in results:
                    if r.ok and r.change.key[0] == "pneigh":
                        self._proxy_applied(r.change)
            for ok, kind in touched:
                self.dirty.update((APPLIED if ok else FAILED).get(kind, ()))
            if route_writes and self.kinds is not None and "routes" not in self.dirty:
                self._routes_written(self.kinds.routes, route_writes)

    def _routes_written(self, kind: ob.RouteKind, writes: Sequence[RouteWrite]) -> None:
        """Patch routes as their echoes would have; a write no echo could settle re-reads."""
        patch, single, dups = kind.patch, kind.single, kind.dups
        for new, replace, route in writes:
            if route is None:
                self.dirty.add("routes")
                return
            if new and not replace:  # a plain add (a cold start's every write): ``patch`` inline
                key = route.key
                if key in single or key in dups:
                    self.dirty.add("routes")
                    return
                single[key] = route
            elif not patch(route, new=new, replace=replace):
                self.dirty.add("routes")
                return
        self.stats["route_patches"] += len(writes)

    def _proxy_applied(self, change: Change) -> None:
        if self.kinds is None:
            return
        if change.op == "remove":
            self.kinds.pneigh.discard(change.key)
            return
        obj = change.new
        if not isinstance(obj, ProxyNeighbour):
            obj = ProxyNeighbour(change.key[1], change.key[2])
        self.kinds.pneigh.put(obj, ours=True)

    def poll_proxies(self) -> bool:
        """Re-read proxy entries (no event reports them); True when they changed.

        Entries the dump did not show are confirmed with exact look-ups before they count
        as gone (a dump racing another namespace's churn skips some): this is also what
        keeps the poll from reporting drift that is not there.
        """
        with self.lock:
            if self.kinds is None:
                return False
            self.stats["proxy_polls"] += 1
            if "links" in self.dirty:
                self.host.links.refresh()
                self.dirty.discard("links")
            old = self.kinds.pneigh
            fresh = self.kinds.pneigh = self._fresh_proxies(old)
            self.dirty.discard("pneigh")
            moved = _proxy_differences(old, fresh)
            self._drift.update(moved)
            return bool(moved)

    def _fresh_proxies(self, old: ob.ProxyKind) -> ob.ProxyKind:
        """A dump, with entries it did not show confirmed before they count as gone."""
        fresh = ob.read_proxies(self.host, old)
        gone = old.keys() - fresh.keys()
        if gone:
            ob.confirm_proxies(self.host, fresh, gone)
        return fresh

    def fresh_links(self, *, trusted: bool) -> None:
        """Bring ``host.links`` up to date, unless the event stream says it already is."""
        with self.lock:
            if trusted and self.kinds is not None and "links" not in self.dirty:
                return
            self.host.links.refresh()
            if trusted and self.kinds is not None:
                self.dirty.discard("links")

    def owns_proxies(self) -> bool:
        """Whether routerd has (or is asked for) proxy entries: the poll is worth running."""
        kinds = self.kinds
        return kinds is not None and (bool(kinds.pneigh.owned) or kinds.wants_proxies)

    # -- events ------------------------------------------------------------------------------

    def feed(self, msg: nl.Message) -> None:
        """One rtnetlink notification, in kernel order (called by the event watcher)."""
        handler = self._handlers.get(msg.type)
        if handler is not None:
            with self.lock:
                handler(msg)

    def nft_touched(self) -> None:
        self.invalidate(("nft",))

    def _foreign(self, msg: nl.Message) -> bool:
        """Whether a notification was caused by someone else than routerd's command socket."""
        return msg.pid != self.host.sock.portid

    def _route_event(self, msg: nl.Message) -> None:
        family, _, _, tos, _, proto, _, rtype, rflags = nl.RTMSG.unpack_from(msg.body, 0)
        if family != nl.AF_INET or rflags & routes.RTM_F_CLONED:
            return
        if rtype == nl.RTN_LOCAL and proto != routes.RTPROT_KERNEL:
            self.dirty.add("local")
        if self._foreign(msg) and (proto == routes.ROUTERD_PROTO or msg.flags & nl.NLM_F_REPLACE):
            key = routes.key_of(msg.body)
            if key is not None:
                self._drift.add(key)
        if self.kinds is None or "routes" in self.dirty:
            return
        if proto == routes.ROUTERD_PROTO:
            if tos or not self._patch_route(msg):
                self.dirty.add("routes")
        elif msg.type == nl.RTM_NEWROUTE and msg.flags & nl.NLM_F_REPLACE:
            # A foreign route replacing one of ours in place: only a dump tells.
            found = routes.decode(msg.body, str)
            mine = self.kinds.routes
            if found is not None and (found.key in mine.single or found.key in mine.dups):
                self.dirty.add("routes")

    def _patch_route(self, msg: nl.Message) -> bool:
        by_index = self.host.links.by_index
        try:
            route = routes.decode(msg.body, lambda i: by_index[i].name)
        except KeyError:
            return False  # a device the link table does not know yet
        if route is None or self.kinds is None:
            return True  # not an IPv4 route after all
        new = msg.type == nl.RTM_NEWROUTE
        replace = bool(msg.flags & nl.NLM_F_REPLACE)
        self.stats["route_patches"] += 1
        return self.kinds.routes.patch(route, new=new, replace=replace)

    def _address_event(self, msg: nl.Message) -> None:
        if msg.body[0] != nl.AF_INET:
            return
        self.dirty.add("addr")  # the re-read names the keys that changed
        if msg.type == nl.RTM_DELADDR:
            # Losing its last IPv4 address disables IP on the device: its routes and proxy
            # entries go with it, and the kernel says nothing about them.
            self.dirty.update(DEVICE_KINDS)

    def _link_event(self, msg: nl.Message) -> None:
        _, _, index, flags, _ = nl.IFINFOMSG.unpack_from(msg.body, 0)
        raw = nl.parse_attrs(msg.body, nl.IFINFOMSG.size).get(nl.IFLA_IFNAME)
        now = (nl.cstr(raw) if raw else "", flags & LINK_FLAGS)
        self.dirty.add("links")
        if now[0].startswith(GATEWAY_PREFIX) and self._foreign(msg):
            self._drift.add((GATEWAY, now[0]))  # someone changed an anycast-gateway device
        if msg.type == nl.RTM_DELLINK:
            self._links_seen.pop(index, None)
            self.dirty.update(DEVICE_KINDS)
        elif self._links_seen.get(index) != now:
            self._links_seen[index] = now
            self.dirty.update(DEVICE_KINDS)

    def _neighbour_event(self, msg: nl.Message) -> None:
        family, _, _, flags, _ = nl.NDMSG.unpack_from(msg.body, 0)
        if family == nl.AF_INET and flags & nl.NTF_PROXY:
            self.dirty.add("pneigh")  # kernels that do report proxy entries


def _differences(old: ob.Kinds, new: ob.Kinds) -> set[Key]:
    """Keys whose object differs between two full readings."""
    out = _route_differences(old.routes, new.routes) | _proxy_differences(old.pneigh, new.pneigh)
    out |= {("absent", a) for a, _, _ in set(old.local) ^ set(new.local)}
    if old.nft != new.nft:
        out.add(("nft", "inet", "routerd_mss"))
    return out


def _route_differences(old: ob.RouteKind, new: ob.RouteKind) -> set[Key]:
    out = {k for k in old.single.keys() ^ new.single.keys()}
    out |= {k for k, r in new.single.items() if k in old.single and old.single[k] != r}
    out |= old.dups.keys() | new.dups.keys()
    return out


def _proxy_differences(old: ob.ProxyKind, new: ob.ProxyKind) -> set[Key]:
    return (old.owned.keys() ^ new.owned.keys()) | (old.foreign.keys() ^ new.foreign.keys())


def _address_differences(host: Host, old: list[AddressEntry], new: list[AddressEntry]) -> set[Key]:
    out: set[Key] = set()
    name = host.links.name
    for entry in set(old) ^ set(new):
        dev = name(entry.ifindex)
        out.add(("absent", entry.address))
        out.add(("addr", dev, entry.cidr))
        if dev.startswith(GATEWAY_PREFIX):
            out.add((GATEWAY, dev))  # an anycast-gateway device's addresses are part of it
    return out
