"""Apply a plan: group changes by kind, send each group in bulk, attribute every result.

Groups run in a fixed order, whatever order the plan lists them in, so each step finds its
prerequisites: removals first (clamp, proxy entries, routes, addresses, sysctl restores,
then devices), then anycast-gateway and WireGuard devices (routes and per-device sysctls
need the interface), addresses, sysctls (after which the gateway devices come up, fully
set: ``gateway.py``), OS-address absence, routes, proxy entries, the clamp table, and last
the announcements (gratuitous ARP) of captures the rest made.
Routes, proxy entries and addresses each go out as one pipelined netlink batch; every
message carries its own sequence number, so a failure lands on its own change and never
blocks the others. Results come back in the plan's order, one per change.

routerd's own lowering never asks for a proxy entry (a proxy-ARP capture is the claim's
route and the interface's ``proxy_arp``, ``routerd.core.capture``): entries an earlier
routerd made are observed as owned and removed here like any undesired object.
"""

from __future__ import annotations

import errno
import logging
from collections.abc import Callable, Sequence

from routerd.backends.linux import addresses, garp, neighbours, routes
from routerd.backends.linux import netlink_codec as nl
from routerd.backends.linux.addresses import AddressEntry
from routerd.backends.linux.gateway import GatewayLinks
from routerd.backends.linux.host import Host
from routerd.backends.linux.netlink_socket import Reply, Request
from routerd.backends.linux.observer import ADDR_KIND
from routerd.backends.linux.routes import RouteWrite
from routerd.core.desired import (
    AbsentAddress,
    Garp,
    GatewayDevice,
    MssClampTable,
    ProxyNeighbour,
    Route,
    Sysctl,
    WireGuardDevice,
)
from routerd.core.errors import DataplaneError
from routerd.core.frozen import maker
from routerd.core.port import Change, ChangeResult

LOG = logging.getLogger(__name__)

Batch = list[tuple[int, Change]]
Outcome = tuple[Change, Reply | None]  # a change and its first real failure (None: success)
DELETES = frozenset({nl.RTM_DELROUTE, nl.RTM_DELNEIGH, nl.RTM_DELADDR})
PERMANENT = {
    errno.EINVAL,
    errno.EOPNOTSUPP,
    errno.EAFNOSUPPORT,
    errno.ERANGE,
    errno.EPROTONOSUPPORT,
}
GONE = {errno.ENOENT, errno.ESRCH, errno.EADDRNOTAVAIL, errno.ENODEV}
"""Answers to a delete that mean "already gone": success (idempotent apply)."""
REMOVE_ORDER = ("nft", "pneigh", "route", "addr", "absent", "sysctl", "wg", "gateway")
SET_ORDER = ("gateway", "wg", "addr", "sysctl", "absent", "route", "pneigh", "nft", "garp")


_result = maker(ChangeResult)  # a cold apply settles a change or two per claim


def _done(change: Change) -> ChangeResult:
    """``ChangeResult(change, True)``, made by ``maker`` (a third of the dataclass's cost)."""
    return _result(change, True, "", None, True)


def failure(
    change: Change, code: int | None, text: str = "", *, retryable: bool | None = None
) -> ChangeResult:
    reason = errno.errorcode.get(code, str(code)) if code else "error"
    detail = f"{reason}: {text}" if text else reason
    if retryable is None:
        retryable = code not in PERMANENT
    return ChangeResult(change, False, f"{change.describe()}: {detail}", code, retryable)


def from_error(change: Change, exc: Exception, *, retryable: bool = True) -> ChangeResult:
    if isinstance(exc, DataplaneError):
        return ChangeResult(change, False, str(exc), exc.errno, exc.retryable)
    return ChangeResult(change, False, f"{change.describe()}: {exc}", None, retryable)


class Applier:
    """Turns a list of changes into kernel operations against one ``Host``."""

    def __init__(self, host: Host, *, refresh_links: Callable[[], None] | None = None) -> None:
        """``refresh_links`` brings the link table up to date before a plan is sent."""
        self.host = host
        self._refresh_links = refresh_links or host.links.refresh
        self.gateways = GatewayLinks(host)
        self.route_writes: list[RouteWrite] = []
        """What each successful route change did, in kernel order; the backend takes it
        after every apply to patch its observation cache (its own echoes are not read)."""
        self._handlers: dict[str, Callable[[Batch], dict[int, ChangeResult]]] = {
            "route": self._routes,
            "pneigh": self._proxy_neighbours,
            "addr": self._addresses,
            "absent": self._absent,
            "sysctl": self._each(self._sysctl),
            "wg": self._each(self._wireguard),
            "nft": self._each(self._nft),
            "garp": self._garps,
            "gateway": self._each(self._gateway),
        }

    def apply(self, changes: Sequence[Change]) -> list[ChangeResult]:
        groups: dict[tuple[bool, str], Batch] = {}
        for i, c in enumerate(changes):
            groups.setdefault((c.op == "remove", c.key[0]), []).append((i, c))
        results: dict[int, ChangeResult] = {}
        if groups:
            self._refresh_links()
        phases = [(True, k) for k in REMOVE_ORDER] + [(False, k) for k in SET_ORDER]
        for phase in phases:
            batch = groups.pop(phase, [])
            if batch:
                results.update(self._run(phase[1], batch))
            if phase == (False, "sysctl"):
                results.update(self._gateways_up(changes))
        for batch in groups.values():  # kinds this backend does not know
            results.update(
                {i: failure(c, errno.EOPNOTSUPP, "unknown object kind") for i, c in batch}
            )
        return [results[i] for i in range(len(changes))]

    def _run(self, kind: str, batch: Batch) -> dict[int, ChangeResult]:
        try:
            return self._handlers[kind](batch)
        except Exception as exc:  # a broken socket must not lose the other results
            LOG.exception("applying %d %s changes failed", len(batch), kind)
            return {i: from_error(c, exc) for i, c in batch}

    def _each(self, one: Callable[[Change], None]) -> Callable[[Batch], dict[int, ChangeResult]]:
        def run(batch: Batch) -> dict[int, ChangeResult]:
            out = {}
            for i, c in batch:
                try:
                    one(c)
                    out[i] = _done(c)
                except Exception as exc:
                    out[i] = from_error(c, exc)
            return out

        return run

    def _plan(
        self, batch: Batch, build: Callable[[Change], list[Request] | ChangeResult]
    ) -> tuple[list[tuple[int, Change, list[Request]]], dict[int, ChangeResult]]:
        """Requests per change; a change settled without the kernel, or unencodable, is done."""
        planned, done = [], {}
        for i, c in batch:
            try:
                built = build(c)
            except (DataplaneError, OSError, ValueError) as exc:  # a bad object fails alone
                done[i] = from_error(c, exc, retryable=False)
                continue
            if isinstance(built, ChangeResult):
                done[i] = built
            else:
                planned.append((i, c, built))
        return planned, done

    def _send(self, planned: list[tuple[int, Change, list[Request]]]) -> dict[int, Outcome]:
        """One pipelined batch for many changes; each change gets its first real failure."""
        flat = [req for _, _, reqs in planned for req in reqs]
        with self.host.sock.lock:
            replies = self.host.sock.transact(flat)
        if not any(r.errno for r in replies):  # the usual case: every request succeeded
            return {i: (c, None) for i, c, _ in planned}
        out: dict[int, Outcome] = {}
        pos = 0
        for i, c, reqs in planned:
            end = pos + len(reqs)
            out[i] = (c, _first_failure(reqs, replies[pos:end]))
            pos = end
        return out

    # -- routes ----------------------------------------------------------------------------

    def _route_requests(self, c: Change) -> tuple[list[Request], list[RouteWrite]]:
        """The requests of one route change, and what each successful one writes."""
        if c.op == "remove":
            old = c.old if isinstance(c.old, Route) else None
            stale = self.host.route_duplicates.pop(c.key, [old] if old else [])
            if not stale:
                gone = Route(dst=c.key[2], table=int(c.key[1]))
                return [routes.encode_delete(gone)], [(False, False, gone)]
            return [routes.encode_delete(r) for r in stale], [(False, False, r) for r in stale]
        assert isinstance(c.new, Route)
        new = c.new
        ifindex = self.host.links.index(new.dev) if new.dev else None
        if new.dev and ifindex is None:
            raise DataplaneError(c.describe(), f"device {new.dev} missing", errno=errno.ENODEV)
        old = c.old if isinstance(c.old, Route) else None
        stale = self.host.route_duplicates.pop(c.key, [old] if old else [])
        if len(stale) == 1 and stale[0].metric == new.metric:
            request, write = routes.add_write(new, ifindex, replace=True)
            return [request], [write]
        request, write = routes.add_write(new, ifindex)
        return [routes.encode_delete(r) for r in stale] + [request], [
            *((False, False, r) for r in stale),
            write,
        ]

    def _plan_routes(self, batch: Batch) -> _RoutePlan:
        """``_plan`` for routes, with each planned change's writes (in the same order).

        A fresh add (nothing observed under its key) is the whole of a cold start: its
        body is built here directly (``routes.add_bodies``), the device's index looked up
        once per device, and sent without a ``Request`` of its own.
        """
        plan = _RoutePlan()
        dups = self.host.route_duplicates
        index = self.host.links.index
        ifindexes: dict[str, int | None] = {"": None}
        fresh: list[tuple[int, Change]] = []
        adds: list[tuple[Route, int | None]] = []
        for i, c in batch:
            new = c.new
            if c.op == "add" and c.old is None and type(new) is Route and c.key not in dups:
                dev = new.dev
                ifindex = (
                    ifindexes[dev] if dev in ifindexes else ifindexes.setdefault(dev, index(dev))
                )
                if ifindex is not None or not dev:
                    fresh.append((i, c))
                    adds.append((new, ifindex))
                    continue
            try:
                reqs, writes = self._route_requests(c)
            except (DataplaneError, OSError, ValueError) as exc:  # a bad object fails alone
                plan.done[i] = from_error(c, exc, retryable=False)
                continue
            plan.planned.append((i, c, reqs))
            plan.effects.append(writes)
        plan.bodies, plan.writes, errors = routes.add_bodies(adds)
        if errors:
            for pos, error in errors.items():
                i, c = fresh[pos]
                plan.done[i] = from_error(c, error, retryable=False)
            fresh = [f for pos, f in enumerate(fresh) if pos not in errors]
        plan.fresh = fresh
        return plan

    def _routes(self, batch: Batch) -> dict[int, ChangeResult]:
        plan = self._plan_routes(batch)
        out = plan.done
        sent = self._send(plan.planned) if plan.planned else {}
        with self.host.sock.lock:
            failed = self.host.sock.change_all(nl.RTM_NEWROUTE, routes.ADD_FLAGS, plan.bodies)
        fresh = plan.fresh
        if not failed:  # the usual case: every fresh add succeeded
            out.update({i: _done(c) for i, c in fresh})
        else:
            for pos, (i, c) in enumerate(fresh):
                sent[i] = (c, failed.get(pos))
        exists: list[int] = []
        for i, (c, bad) in sent.items():
            if bad is not None and bad.errno == errno.EEXIST:
                exists.append(i)
            out[i] = _done(c) if bad is None else failure(c, bad.errno, bad.text)
        if exists:
            mine = {r.key: r for r in routes.dump_owned(self.host.sock, self.host.links.name)}
            for i in exists:
                c = out[i].change
                if mine.get(c.key) == c.new and isinstance(c.new, Route):
                    out[i] = _done(c)
                else:
                    msg = "a route with this destination and metric exists and is not routerd's"
                    out[i] = failure(c, errno.EEXIST, msg)
        writes = self.route_writes
        for (i, _, _), effect in zip(plan.planned, plan.effects, strict=True):
            if out[i].ok:
                writes.extend(effect)
        if not failed:
            writes.extend(plan.writes)
        else:
            writes.extend(w for (i, _), w in zip(fresh, plan.writes, strict=True) if out[i].ok)
        return out

    # -- proxy neighbours ------------------------------------------------------------------

    def _proxy_request(self, c: Change) -> list[Request] | ChangeResult:
        obj = c.new if c.op != "remove" else c.old
        if not isinstance(obj, ProxyNeighbour):
            obj = ProxyNeighbour(c.key[1], c.key[2])
        ifindex = self.host.links.index(obj.dev)
        if ifindex is None:
            if c.op != "remove":
                return failure(c, errno.ENODEV, f"capture interface {obj.dev} missing")
            self.host.pneigh_removed(obj.address, obj.dev)  # gone with its interface
            return _done(c)
        encode = neighbours.encode_delete if c.op == "remove" else neighbours.encode_add
        return [encode(obj.address, ifindex)]

    def _proxy_neighbours(self, batch: Batch) -> dict[int, ChangeResult]:
        planned, out = self._plan(batch, self._proxy_request)
        for i, (c, bad) in self._send(planned).items():
            out[i] = _done(c) if bad is None else failure(c, bad.errno, bad.text)
            if bad is None:
                _, address, dev = c.key
                if c.op == "remove":
                    self.host.pneigh_removed(address, dev)
                else:
                    self.host.pneigh_added(address, dev)
        return out

    # -- addresses -------------------------------------------------------------------------

    def _address_request(self, c: Change) -> list[Request] | ChangeResult:
        _, dev, cidr = c.key
        ifindex = self.host.links.index(dev)
        if ifindex is None:
            if c.op != "remove":
                return failure(c, errno.ENODEV, f"interface {dev} missing")
            self.host.store.drop_owned(ADDR_KIND, f"{dev} {cidr}")  # gone with its interface
            return _done(c)
        if c.op == "remove":
            addr, _, plen = cidr.partition("/")
            entry = AddressEntry(ifindex, addr, int(plen or 32))
            return [addresses.encode_delete(entry, exact=True)]
        return [addresses.encode_add(cidr, ifindex)]

    def _addresses(self, batch: Batch) -> dict[int, ChangeResult]:
        planned, out = self._plan(batch, self._address_request)
        for i, (c, bad) in self._send(planned).items():
            out[i] = _done(c) if bad is None else failure(c, bad.errno, bad.text)
            if bad is None:
                _, dev, cidr = c.key
                if c.op == "remove":
                    self.host.store.drop_owned(ADDR_KIND, f"{dev} {cidr}")
                else:
                    self.host.store.set_owned(ADDR_KIND, f"{dev} {cidr}", "")
        return out

    def _absent(self, batch: Batch) -> dict[int, ChangeResult]:
        """Delete the address from every interface, whatever the prefix; never re-add it."""
        out: dict[int, ChangeResult] = {}
        current = addresses.dump(self.host.sock)
        planned = []
        for i, c in batch:
            if c.op == "remove":
                out[i] = _done(c)
                continue
            target = c.key[1]
            reqs = [addresses.encode_delete(a, exact=False) for a in current if a.address == target]
            seen = c.old if isinstance(c.old, AbsentAddress) else None
            for dev, proto in seen.local_routes if seen else ():
                LOG.info("removing foreign local route %s/32 dev %s proto %d", target, dev, proto)
                reqs.append(routes.encode_delete_local(target, self.host.links.index(dev), proto))
            planned.append((i, c, reqs))
            for a in current:
                if a.address == target:
                    LOG.info(
                        "removing OS address %s from %s", a.cidr, self.host.links.name(a.ifindex)
                    )
        for i, (c, bad) in self._send(planned).items():
            out[i] = _done(c) if bad is None else failure(c, bad.errno, bad.text)
        return out

    # -- one at a time -----------------------------------------------------------------------

    def _sysctl(self, c: Change) -> None:
        if c.op == "remove":
            self.host.sysctls.restore(c.key[1])
        else:
            assert isinstance(c.new, Sysctl)
            self.host.sysctls.set(c.new.name, c.new.value, c.new.accept)

    def _wireguard(self, c: Change) -> None:
        if c.op == "remove":
            self.host.wg.remove(c.key[1])
        else:
            assert isinstance(c.new, WireGuardDevice)
            self.host.wg.apply(c.new)

    def _nft(self, c: Change) -> None:
        if c.op == "remove":
            self.host.nft.delete()
        else:
            assert isinstance(c.new, MssClampTable)
            self.host.nft.apply(c.new)

    def _gateway(self, c: Change) -> None:
        """Create, converge or delete an anycast-gateway device (``gateway.py``); one that
        must be up comes up in ``_gateways_up``, once the plan's sysctls are written."""
        want = c.new if isinstance(c.new, GatewayDevice) else None
        self.gateways.apply(c.op, c.key, want)

    def _gateways_up(self, changes: Sequence[Change]) -> dict[int, ChangeResult]:
        """Bring up the gateway devices this apply left down; a failure lands on the
        device's change."""
        failed = self.gateways.bring_up()
        if not failed:  # the usual case: no need to look through a plan of 10,000 routes
            return {}
        return {
            i: from_error(c, failed[c.key[1]])
            for i, c in enumerate(changes)
            if c.key[0] == "gateway" and c.key[1] in failed
        }

    def _garps(self, batch: Batch) -> dict[int, ChangeResult]:
        """Announce freshly captured addresses (D9, docs/decisions.md), and tell arriving
        hosts about addresses they may hold stale entries for; never observed or removed
        (a frame, not a kernel object). One socket per device and recipient."""
        groups: dict[tuple[str, str], Batch] = {}
        for i, c in batch:
            assert isinstance(c.new, Garp)
            groups.setdefault((c.new.dev, c.new.to), []).append((i, c))
        out: dict[int, ChangeResult] = {}
        for (dev, to), items in groups.items():
            addresses = [c.new.address for _, c in items if isinstance(c.new, Garp)]
            try:
                garp.send_many(addresses, dev, to=to)
                out.update({i: _done(c) for i, c in items})
            except Exception as exc:
                out.update({i: from_error(c, exc) for i, c in items})
        return out


class _RoutePlan:
    """What ``Applier._plan_routes`` makes of a batch of route changes.

    Attributes:
        planned: changes sent as requests (anything but a fresh add), with ``effects``, the
            writes each makes when it succeeds (in the same order).
        fresh: fresh adds sent as bare bodies (``bodies``, in the same order), with
            ``writes``, one per add.
        done: changes settled without the kernel (unencodable ones).
    """

    __slots__ = ("bodies", "done", "effects", "fresh", "planned", "writes")

    def __init__(self) -> None:
        self.planned: list[tuple[int, Change, list[Request]]] = []
        self.effects: list[list[RouteWrite]] = []
        self.fresh: list[tuple[int, Change]] = []
        self.bodies: list[bytes] = []
        self.writes: list[RouteWrite] = []
        self.done: dict[int, ChangeResult] = {}


def _first_failure(reqs: list[Request], replies: list[Reply]) -> Reply | None:
    """The first reply that is a real failure (a delete of something gone is success)."""
    for req, reply in zip(reqs, replies, strict=True):
        if reply.errno and not (req.type in DELETES and reply.errno in GONE):
            return reply
    return None
