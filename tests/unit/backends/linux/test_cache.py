"""The observation cache's bookkeeping on crafted notifications (no kernel involved).

What a notification patches, what it only marks for a re-read, what an apply changes, and
when ``observe`` reads everything (the root test ``tests/netns/test_linux_cache.py`` checks
the result against a real full read).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from routerd.backends.linux import addresses, routes
from routerd.backends.linux import netlink_codec as nl
from routerd.backends.linux import observer as ob
from routerd.backends.linux.cache import DEVICE_KINDS, KINDS, ObservationCache
from routerd.backends.linux.events import LazySet
from routerd.backends.linux.links import IFF_LOWER_UP, IFF_UP, LinkInfo
from routerd.core.desired import ObserveScope, ProxyNeighbour, Route
from routerd.core.port import Change, ChangeResult

UP = IFF_UP | IFF_LOWER_UP
OWN = 4242
"""The port id of routerd's command socket in these tests (notifications with pid 0 are
someone else's)."""


class FakeLinks:
    def __init__(self, *infos: LinkInfo) -> None:
        self.by_index = {i.index: i for i in infos}
        self.by_name = {i.name: i for i in infos}
        self.refreshes = 0

    def refresh(self) -> None:
        self.refreshes += 1

    def name(self, index: int) -> str:
        return self.by_index[index].name if index in self.by_index else f"if{index}"


def link(index: int, name: str, flags: int = UP) -> LinkInfo:
    return LinkInfo(index, name, bool(flags & IFF_UP), 1500, "veth", "", flags)


def kinds(*found: Route) -> ob.Kinds:
    return ob.Kinds(ob.RouteKind.of(found), ob.ProxyKind(), [], [], None)


@pytest.fixture
def cache(monkeypatch: pytest.MonkeyPatch) -> ObservationCache:
    """Name: cache / Scope: function / Depends: monkeypatch (readers replaced by fakes).

    A cache over a fake host with links ``ov`` (3) and ``cap`` (4), already filled by a
    full read of one route, nothing dirty.
    """
    host: Any = SimpleNamespace(
        links=FakeLinks(link(3, "ov"), link(4, "cap")),
        sock=SimpleNamespace(portid=OWN),
    )
    monkeypatch.setattr(ob, "read_all", lambda h: kinds(Route("10.50.0.1/32", "ov", 120)))
    monkeypatch.setattr(ob, "assemble", lambda h, k, scope: k)
    c = ObservationCache(host, full_interval=60.0, clock=lambda: 0.0)
    c.observe(ObserveScope(), trusted=True)
    assert not c.dirty
    return c


def route_msg(
    kind: int, route: Route, oif: int = 3, *, flags: int = 0, **fields: int
) -> nl.Message:
    body = bytearray(routes.encode_add(route, oif).body)
    for offset, name in ((3, "tos"), (5, "proto"), (7, "type")):
        if name in fields:
            body[offset] = fields[name]
    return nl.Message(kind, flags, 0, 0, bytes(body))


def link_msg(kind: int, index: int, name: str, flags: int = UP) -> nl.Message:
    body = nl.IFINFOMSG.pack(0, 0, index, flags, 0) + nl.attr(nl.IFLA_IFNAME, name.encode() + b"\0")
    return nl.Message(kind, 0, 0, 0, body)


def single(c: ObservationCache) -> dict[Any, Route]:
    assert c.kinds is not None
    return c.kinds.routes.single


def test_route_kind_patches_what_one_notification_settles():
    a, b = Route("10.1.0.1/32", "ov", 120), Route("10.1.0.1/32", "cap", 120)
    rk = ob.RouteKind.of([a])
    assert rk.patch(b, new=True, replace=True) and rk.single == {b.key: b}
    assert not rk.patch(a, new=True, replace=False)  # an append: same identity twice
    assert not rk.patch(Route("10.1.0.1/32", "ov", 130), new=True, replace=False)
    assert rk.patch(Route("10.1.0.1/32", "ov", 130), new=False, replace=False)  # not ours
    assert rk.patch(b, new=False, replace=False) and rk.single == {}
    dup = ob.RouteKind.of([a, Route("10.1.0.1/32", "ov", 130)])
    assert dup.single == {} and len(dup.dups[a.key]) == 2
    assert not dup.patch(a, new=False, replace=False)


def test_routerd_route_notifications_patch_the_cache(cache):
    new = Route("10.50.0.2/32", "ov", 120)
    cache.feed(route_msg(nl.RTM_NEWROUTE, new))
    cache.feed(route_msg(nl.RTM_DELROUTE, Route("10.50.0.1/32", "ov", 120)))
    assert single(cache) == {new.key: new} and not cache.dirty
    assert cache.stats["route_patches"] == 2


@pytest.mark.parametrize(
    "msg",
    [
        route_msg(nl.RTM_NEWROUTE, Route("10.50.0.1/32", "ov", 130)),  # second route, one key
        route_msg(nl.RTM_NEWROUTE, Route("10.50.0.3/32", "ov", 120), oif=9),  # unknown device
        route_msg(nl.RTM_NEWROUTE, Route("10.50.0.3/32", "ov", 120), tos=8),
        route_msg(
            nl.RTM_NEWROUTE, Route("10.50.0.1/32", "ov", 120), flags=nl.NLM_F_REPLACE, proto=4
        ),  # a static route replacing ours in place
    ],
    ids=["duplicate", "unknown-device", "tos", "foreign-replace"],
)
def test_route_notifications_a_patch_cannot_settle_mark_routes(cache, msg):
    cache.feed(msg)
    assert cache.dirty == {"routes"}


def test_foreign_routes_are_ignored_and_local_routes_mark_their_kind(cache):
    cache.feed(route_msg(nl.RTM_NEWROUTE, Route("10.50.0.1/32", "ov", 50), proto=4))
    assert not cache.dirty
    local = Route("10.40.8.31/32", "cap", 0, table=255)
    cache.feed(route_msg(nl.RTM_NEWROUTE, local, 4, proto=66, type=nl.RTN_LOCAL))
    assert cache.dirty == {"local"}


def test_address_removal_marks_every_device_kind(cache):
    cache.feed(nl.Message(nl.RTM_NEWADDR, 0, 0, 0, addresses.encode_add("10.40.8.31/24", 4).body))
    assert cache.dirty == {"addr"}
    entry = addresses.AddressEntry(4, "10.40.8.31", 24)
    cache.feed(nl.Message(nl.RTM_DELADDR, 0, 0, 0, addresses.encode_delete(entry, exact=True).body))
    assert cache.dirty == set(DEVICE_KINDS)


@pytest.mark.parametrize(
    ("msg", "dirty"),
    [
        (link_msg(nl.RTM_NEWLINK, 3, "ov"), {"links"}),  # MTU or similar: link table only
        (link_msg(nl.RTM_NEWLINK, 3, "ov", IFF_UP), set(DEVICE_KINDS)),  # lost carrier
        (link_msg(nl.RTM_NEWLINK, 3, "ov", 0), set(DEVICE_KINDS)),  # taken down
        (link_msg(nl.RTM_NEWLINK, 3, "tun0"), set(DEVICE_KINDS)),  # renamed
        (link_msg(nl.RTM_NEWLINK, 7, "new0"), set(DEVICE_KINDS)),  # not seen before
        (link_msg(nl.RTM_DELLINK, 3, "ov"), set(DEVICE_KINDS)),
    ],
    ids=["same", "carrier", "down", "rename", "new", "delete"],
)
def test_link_notifications(cache, msg, dirty):
    cache.feed(msg)
    assert cache.dirty == dirty


def test_proxy_notifications_and_nft_transactions_mark_their_kind(cache):
    arp = nl.NDMSG.pack(nl.AF_INET, 4, 2, 0, 0)
    cache.feed(nl.Message(nl.RTM_NEWNEIGH, 0, 0, 0, arp))
    assert not cache.dirty
    proxy = nl.NDMSG.pack(nl.AF_INET, 4, 0x80, nl.NTF_PROXY, 0)
    cache.feed(nl.Message(nl.RTM_DELNEIGH, 0, 0, 0, proxy))
    cache.nft_touched()
    assert cache.dirty == {"pneigh", "nft"}


def result(op: str, obj: object, ok: bool = True) -> ChangeResult:
    key = obj.key  # type: ignore[attr-defined]
    new, old = (None, obj) if op == "remove" else (obj, None)
    return ChangeResult(Change(op, key, new=new, old=old), ok)  # type: ignore[arg-type]


def test_apply_patches_proxy_entries_and_marks_what_it_touched(cache):
    entry = ProxyNeighbour("10.50.0.1", "cap")
    cache.applied([result("add", entry)])
    assert cache.kinds.pneigh.owned == {entry.key: entry} and not cache.dirty
    cache.applied([result("remove", entry)])
    assert entry.key not in cache.kinds.pneigh
    route = Route("10.50.0.9/32", "ov", 120)
    cache.applied([result("add", route)])
    assert not cache.dirty  # routes follow their own echoes
    cache.applied([result("add", route, ok=False), result("add", entry, ok=False)])
    assert cache.dirty == {"routes", "pneigh"}


def reader(reads: list[str], kind: str) -> Callable[..., Any]:
    def read(host: object, *_: object) -> object:
        reads.append(kind)
        return ob.RouteKind() if kind == "routes" else []

    return read


def test_observe_reads_everything_only_when_it_must(cache, monkeypatch):
    reads: list[str] = []
    monkeypatch.setattr(ob, "read_routes", reader(reads, "routes"))
    monkeypatch.setattr(ob, "read_addresses", reader(reads, "addr"))
    cache.invalidate(("routes",))
    cache.observe(ObserveScope(), trusted=True)
    cache.observe(ObserveScope(), trusted=True)
    assert reads == ["routes"]
    assert (cache.stats["observe_full"], cache.stats["observe_partial"]) == (1, 2)
    cache.observe(ObserveScope(), trusted=False)  # no complete event stream: read it all
    assert cache.stats["observe_full"] == 2 and cache.dirty == set(KINDS)
    cache.observe(ObserveScope(), trusted=True)
    assert cache.stats["observe_full"] == 3 and not cache.dirty
    cache.clock = lambda: 61.0  # the periodic safety net
    cache.observe(ObserveScope(), trusted=True)
    assert cache.stats["observe_full"] == 4


def test_lazy_interest_sets_are_built_once_on_first_use():
    builds: list[int] = []

    def build() -> set[str]:
        builds.append(1)
        return {"10.50.0.1/32"}

    lazy = LazySet(build)
    assert not builds
    assert "10.50.0.1/32" in lazy and "10.50.0.2/32" not in lazy
    assert builds == [1]


def test_drift_names_foreign_route_changes_and_not_routerds_own_echoes(cache):
    assert cache.drain(trusted=True).everything  # nothing drained since the first read
    mine = Route("10.50.0.2/32", "ov", 120)
    echo = route_msg(nl.RTM_NEWROUTE, mine, proto=routes.ROUTERD_PROTO)
    cache.feed(echo._replace(pid=OWN))
    assert cache.drain(trusted=True).keys == frozenset()
    cache.feed(route_msg(nl.RTM_DELROUTE, mine, proto=routes.ROUTERD_PROTO))
    drift = cache.drain(trusted=True)
    assert drift.keys == {mine.key} and not drift.everything
    assert cache.drain(trusted=True).keys == frozenset()  # taken once


def test_drift_names_what_a_reread_found_different(cache, monkeypatch):
    cache.drain(trusted=True)
    moved = Route("10.50.0.1/32", "cap", 120)
    monkeypatch.setattr(ob, "read_routes", lambda h: ob.RouteKind.of([moved]))
    cache.invalidate(("routes",))
    assert cache.drain(trusted=True).keys == {moved.key}
    cache.invalidate()  # events were lost: nobody can say what changed
    assert cache.drain(trusted=True).everything
    assert cache.drain(trusted=False).everything  # no event thread: the same


def test_written_routes_patch_as_one_patch_per_write_would():
    """``applied`` patches a plain add inline; the result must be ``RouteKind.patch``'s."""
    rng = random.Random(11)
    pool = [Route(f"10.7.0.{i}/32", "ov", metric) for i in range(6) for metric in (120, 130)]
    pool.append(Route("10.7.0.1/32", "cap", 120))
    for _ in range(300):
        start = rng.sample(pool, rng.randint(0, 3))
        writes: list[routes.RouteWrite] = []
        for _ in range(rng.randint(1, 6)):
            route = rng.choice([*pool, None]) if rng.random() < 0.1 else rng.choice(pool)
            writes.append((rng.random() < 0.8, rng.random() < 0.3, route))
        host: Any = SimpleNamespace(links=FakeLinks(link(3, "ov")))
        got = ObservationCache(host)
        got.kinds, _ = kinds(*start), got.dirty.clear()
        got.applied([], writes)
        want = ob.RouteKind.of(start)
        settled = all(
            route is not None and want.patch(route, new=new, replace=replace)
            for new, replace, route in writes
        )
        assert ("routes" not in got.dirty) == settled
        assert got.kinds.routes == want  # the writes before an unsettled one are patched too
        assert got.stats["route_patches"] == (len(writes) if settled else 0)
