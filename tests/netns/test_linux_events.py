"""Idempotence and drift: a second pass changes nothing; drift is reported and healed.

The drift tests run a minimal engine inside the backend's namespace that reconciles only
when the backend calls ``on_change`` (no periodic resync), so a healed object proves the
event path (or, for proxy entries, which raise no kernel events, the backend's poll).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from routerd.core.desired import (
    AbsentAddress,
    Address,
    DesiredBuilder,
    MssClampTable,
    MssRule,
    ProxyNeighbour,
    Route,
    Sysctl,
    WgPeer,
    WireGuardDevice,
)
from routerd.core.wgkey import public_key
from routerd.keys import generate_private_key
from tests.netns.topology import Router, addresses, proxies, router, routes
from tests.support.netns import IpMonitor
from tests.support.wait import wait_until

pytestmark = pytest.mark.netns

PEER_KEY = public_key(generate_private_key())


def full_state(r: Router, wg: str, key_dir: Path, n: int = 3) -> DesiredBuilder:
    want = DesiredBuilder(generation=4)
    for o in (
        Sysctl("net.ipv4.ip_forward", "1"),
        Sysctl(f"net.ipv4.conf.{r.cap}.proxy_arp", "1"),
        Sysctl(f"net.ipv4.conf.{wg}.rp_filter", "2", frozenset({"0", "2"})),
        AbsentAddress("10.40.8.31"),
        Address(wg, "10.255.40.1/31"),
        MssClampTable(
            frozenset({MssRule(r.cap, wg, 1300), MssRule(wg, r.cap, 1300)}), generation=4
        ),
        WireGuardDevice(
            wg,
            private_key_file=str(key_dir / "wg.key"),
            listen_port=51820,
            mtu=1420,
            peers=(WgPeer(PEER_KEY, frozenset({"10.255.40.0/32", "10.50.0.0/24"}), "", 25),),
        ),
    ):
        want.add(o, "test")  # type: ignore[arg-type]
    for i in range(1, n + 1):
        want.add(Route(f"10.50.0.{i}/32", wg, 120), f"claim-{i}")
        want.add(ProxyNeighbour(f"10.50.0.{i}", r.cap), f"claim-{i}")
    return want


def ok(results: list[tuple[str, bool, str]]) -> None:
    assert not [x for x in results if not x[1]], results


def test_second_pass_sends_no_change(lab):
    r = router(lab)
    wg = lab.name("wg")
    b = lab.backend(r.ns)
    want = full_state(r, wg, lab.tmp / "keys")
    ok(b.reconcile(want))
    monitor = IpMonitor(r.ns, lab.cleanup)
    requests = b.stats()["netlink_requests"]
    nft_before = r.ns.exec("nft", "-a", "list", "table", "inet", "routerd_mss")
    second: list[tuple[str, bool, str]] = []

    events = monitor.window(lambda: second.extend(b.reconcile(want)))

    assert second == []
    assert events == []
    assert b.stats()["netlink_requests"] == requests
    assert r.ns.exec("nft", "-a", "list", "table", "inet", "routerd_mss") == nft_before


def test_own_changes_are_not_reported_as_drift(lab):
    r = router(lab)
    b = lab.backend(r.ns)
    want = DesiredBuilder()
    for i in range(50):
        want.add(Route(f"10.50.1.{i}/32", r.ov, 120), "test")
    want.add(Address(r.ov, "10.255.40.1/31"), "test")
    want.add(MssClampTable(frozenset({MssRule(r.cap, r.ov, 1300)}), generation=1), "test")
    b.observe(want)  # tells the watcher what matters
    ok(b.reconcile(want))

    def echoes_seen() -> str | None:
        s = b.stats()
        return None if s["events_own"] >= 1 and s["events_nft_own"] >= 1 else str(s)

    wait_until(echoes_seen, what="the apply's own address and nft echoes")
    s = b.stats()
    assert (s["events_relevant"], s["on_change"]) == (0, 0), s
    # The kernel drops the echoes of routerd's own route writes (a socket filter): the
    # cache took the 50 routes from the acknowledged writes, and nothing else read them.
    assert s["route_patches"] == 50 and s["events_own"] < 50, s
    assert b.cache_mismatch(want) is None
    b.drain()  # what drifted before (the first read) is not this test's business

    r.ns.ip("route", "del", "10.50.1.7/32", "dev", r.ov, "metric", "120")
    wait_until(lambda: None if b.stats()["on_change"] >= 1 else "no on_change yet")
    # An operator's delete of routerd's route still reaches the cache, and as drift.
    assert b.cache_mismatch(want) is None
    drift = b.drain()
    assert not drift["everything"] and Route("10.50.1.7/32").key in drift["keys"], drift


def _present(check, what: str):
    def probe() -> str | None:
        return None if check() else f"{what} not healed"

    return probe


def test_drift_is_healed_from_events(lab):
    r = router(lab)
    b = lab.backend(r.ns)
    want = DesiredBuilder(generation=2)
    for o in (
        Sysctl(f"net.ipv4.conf.{r.cap}.proxy_arp", "1"),
        Route("10.50.0.1/32", r.ov, 120),
        ProxyNeighbour("10.50.0.1", r.cap),
        AbsentAddress("10.40.8.31"),
        MssClampTable(frozenset({MssRule(r.cap, r.ov, 1300)}), generation=2),
    ):
        want.add(o, "test")  # type: ignore[arg-type]
    ok(b.reconcile(want))
    b.observe(want)
    b.start_loop(want)
    healed: dict[str, float] = {}

    def heal(name: str, break_it, is_ok) -> None:
        start = time.monotonic()
        break_it()
        wait_until(_present(is_ok, name), what=f"{name} healed by the on_change loop")
        healed[name] = time.monotonic() - start

    heal(
        "deleted route",
        lambda: r.ns.ip("route", "del", "10.50.0.1/32", "dev", r.ov, "metric", "120"),
        lambda: ("10.50.0.1", r.ov, 120, "unicast") in routes(r.ns, "proto", "196"),
    )
    heal(
        "deleted proxy neighbour",
        lambda: r.ns.ip("neigh", "del", "proxy", "10.50.0.1", "dev", r.cap),
        lambda: proxies(r.ns).get(("10.50.0.1", r.cap)) == "196",
    )
    heal(
        "OS address re-added by an agent",
        lambda: r.ns.ip("addr", "add", "10.40.8.31/24", "dev", r.cap),
        lambda: (r.cap, "10.40.8.31/24") not in addresses(r.ns),
    )
    heal(
        "flushed nft table",
        lambda: r.ns.exec("nft", "flush", "table", "inet", "routerd_mss"),
        lambda: "maxseg size set 1300" in r.ns.exec("nft", "list", "table", "inet", "routerd_mss"),
    )
    print("heal latency (s):", {k: round(v, 3) for k, v in healed.items()})
    assert b.plan(want) == []


def test_drain_names_what_changed_behind_routerds_back(lab):
    r = router(lab)
    b = lab.backend(r.ns)
    want = DesiredBuilder(generation=2)
    for o in (
        Sysctl(f"net.ipv4.conf.{r.cap}.proxy_arp", "1"),
        Route("10.50.0.1/32", r.ov, 120),
        Route("10.50.0.2/32", r.ov, 120),
        ProxyNeighbour("10.50.0.1", r.cap),
        AbsentAddress("10.40.8.31"),
    ):
        want.add(o, "test")  # type: ignore[arg-type]
    ok(b.reconcile(want))
    b.observe(want)
    b.drain()
    route = ("route", "254", "10.50.0.1/32")
    pneigh = ("pneigh", "10.50.0.1", r.cap)
    absent = ("absent", "10.40.8.31")
    ok(b.reconcile(want))  # nothing to do, and routerd's own changes are not drift
    assert b.drain() == {"keys": [], "everything": False}

    r.ns.ip("route", "del", "10.50.0.1/32", "dev", r.ov, "metric", "120")
    r.ns.ip("addr", "add", "10.40.8.31/24", "dev", r.cap)
    r.ns.ip("neigh", "del", "proxy", "10.50.0.1", "dev", r.cap)
    seen: set[tuple[str, ...]] = set()

    def named() -> str | None:
        d = b.drain()
        assert not d["everything"], d
        seen.update(tuple(k) for k in d["keys"])
        wanted = {route, absent, pneigh}
        return None if wanted <= seen else f"drift so far {sorted(seen)}"

    wait_until(named, what="the route, the address and the proxy entry named as drift")
    assert ("route", "254", "10.50.0.2/32") not in seen  # untouched, not named

    scoped = b.observe_keys(want, [route, pneigh, absent])
    full = b.observe(want)
    for key in (route, pneigh, absent):
        assert scoped.objects.get(key) == full.objects.get(key), key
    assert scoped.owned <= {route, pneigh, absent}
    assert ("route", "254", "10.50.0.2/32") not in scoped.objects


def test_a_scoped_observation_of_keys_nobody_wants_reports_only_what_is_owned(lab):
    # drift names whatever changed, including addresses routerd has nothing to do with
    r = router(lab)
    b = lab.backend(r.ns)
    want = DesiredBuilder(generation=1)
    want.add(Address(r.ov, "10.255.40.1/31"), "test")
    ok(b.reconcile(want))
    r.ns.ip("addr", "add", "127.77.0.2/32", "dev", "lo")
    stray = [("addr", "lo", "127.77.0.2/32"), ("route", "254", "10.99.0.0/24")]
    scoped = b.observe_keys(want, [*stray, ("addr", r.ov, "10.255.40.1/31")])
    assert set(scoped.objects) == {("addr", r.ov, "10.255.40.1/31")}
    assert scoped.owned == {("addr", r.ov, "10.255.40.1/31")}
