"""Route writes and lookups built from byte templates, checked against the kernel's own parse.

A seeded mix of route shapes (host routes and prefixes, the main table and a high one,
with and without a metric, via a gateway, blackholes) goes through the backend and then
changes (metric changes are delete + add, device changes replace in place, some routes
go). After each step ``ip route show`` must list exactly what was asked, the cache (patched
from the acknowledged writes: the kernel drops their echoes) must equal a full read, and
the lookup of every main-table destination must name the device the kernel picks.
"""

from __future__ import annotations

import random

import pytest

from routerd.core.desired import DesiredBuilder, Route
from routerd.core.port import PathCheck
from tests.netns.topology import Router, router

pytestmark = pytest.mark.netns

GATEWAY = "10.40.8.2"  # the LAN neighbour, on the capture segment
SEEDS = (3, 11)


def shapes(r: Router, rng: random.Random, n: int) -> list[Route]:
    out = []
    for i in range(n):
        dst = f"10.{70 + i % 3}.{i // 250}.{i % 250 + 1}/32"
        roll = rng.random()
        table = rng.choice((254, 254, 1000))
        metric = rng.choice((0, 0, 120, 4_000_000))
        if roll < 0.1:
            out.append(
                Route(
                    f"10.{80 + i % 100}.{i // 100}.0/24", "", metric, table=table, type="blackhole"
                )
            )
        elif roll < 0.3:
            out.append(Route(dst, r.cap, metric, gateway=GATEWAY, table=table))
        else:
            out.append(Route(dst, rng.choice((r.ov, r.cap)), metric, table=table))
    return out


def desired(found: list[Route]) -> DesiredBuilder:
    want = DesiredBuilder(generation=5)
    for route in found:
        want.add(route, "test")
    return want


def listed(r: Router) -> set[tuple[str, str, int, str, int, str]]:
    """What the kernel lists with routerd's protocol, as routes: the kernel's own parse."""
    out = set()
    for e in r.ns.ipj("route", "show", "table", "all", "proto", "196"):
        dst = e["dst"] if "/" in e["dst"] else f"{e['dst']}/32"
        table = {"main": 254}.get(str(e.get("table", "main")), e.get("table"))
        out.add(
            (
                dst,
                e.get("dev", ""),
                e.get("metric", 0),
                e.get("gateway", ""),
                int(table),
                e.get("type", "unicast"),
            )
        )
    return out


def expected(found: list[Route]) -> set[tuple[str, str, int, str, int, str]]:
    return {(x.dst, x.dev, x.metric, x.gateway, x.table, x.type) for x in found}


def ok(results: list[tuple[str, bool, str]]) -> None:
    failed = [r for r in results if not r[1]]
    assert not failed, failed[:3]


def check(r: Router, b, found: list[Route]) -> None:
    want = desired(found)
    assert listed(r) == expected(found)
    assert b.cache_mismatch(want) is None
    assert b.plan(want) == []
    main = [x for x in found if x.table == 254 and x.type == "unicast" and x.dst.endswith("/32")]
    checks = [PathCheck(x.dst, x.dst.split("/")[0], x.dev) for x in main]
    evidence = b.verify(checks)
    assert {c: e.route_dev for c, e in evidence.items()} == {x.dst: x.dev for x in main}


@pytest.mark.parametrize("seed", SEEDS)
def test_routes_encoded_from_templates_are_what_the_kernel_lists(lab, seed):
    r = router(lab)
    b = lab.backend(r.ns, full_read_interval=3600.0)
    rng = random.Random(seed)
    found = shapes(r, rng, 300)
    b.observe(desired(found))  # starts the event watcher: the kernel drops own echoes
    ok(b.reconcile(desired(found)))
    check(r, b, found)

    changed = []
    for x in found:
        roll = rng.random()
        if roll < 0.2:
            continue  # removed
        if roll < 0.4:
            x = Route(x.dst, x.dev, x.metric + 7, x.gateway, x.table, x.type)  # delete + add
        elif roll < 0.6 and x.type == "unicast" and not x.gateway:
            x = Route(x.dst, r.cap if x.dev == r.ov else r.ov, x.metric, table=x.table)
        changed.append(x)
    ok(b.reconcile(desired(changed)))
    check(r, b, changed)
    assert b.stats()["observe_full"] == 1  # every step above was served from the cache
