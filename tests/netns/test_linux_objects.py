"""Each object kind through the Linux backend: applied, observed back, changed, removed.

Foreign objects of the same kind (another route protocol, an unlabelled proxy entry, an
address routerd did not add, an nft table without the owner marker) are placed first and
checked to survive apply, change and removal untouched.
"""

from __future__ import annotations

import json
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
)
from routerd.core.port import Change
from tests.netns import backend_host as bh
from tests.netns.topology import addresses, proxies, router, routes
from tests.support.wait import wait_until

pytestmark = pytest.mark.netns


def desired(*objs: object) -> DesiredBuilder:
    want = DesiredBuilder(generation=7)
    for o in objs:
        want.add(o, "test")  # type: ignore[arg-type]
    return want


def all_ok(results: list[tuple[str, bool, str]]) -> None:
    bad = [r for r in results if not r[1]]
    assert not bad, bad


def test_backend_implements_the_port(lab):
    r = router(lab)
    assert lab.backend(r.ns).conforms_to_port()


def test_registry_builds_it_without_touching_the_hosts_etc(lab):
    r = router(lab)
    conf = Path("/etc/iproute2/rt_protos.d/routerd.conf")
    before = conf.stat().st_mtime_ns if conf.exists() else None
    w = lab.worker(r.ns)
    assert w.call(bh.build_through_registry, str(lab.tmp / "state-reg")) == ("LinuxBackend", False)
    assert (conf.stat().st_mtime_ns if conf.exists() else None) == before


def test_routes_applied_changed_removed_and_foreign_untouched(lab):
    r = router(lab)
    r.ns.ip("route", "add", "10.60.0.1/32", "dev", r.ov, "proto", "static")
    r.ns.ip("route", "add", "10.50.0.1/32", "dev", r.ovp, "metric", "50")  # same dst, boot
    foreign = routes(r.ns) - routes(r.ns, "proto", "196")
    b = lab.backend(r.ns)

    want = desired(
        Route("10.50.0.1/32", r.ov, 120),
        Route("10.50.0.2/32", r.ov, 120),
        Route("10.50.9.0/24", "", 0, table=100, type="blackhole"),
    )
    all_ok(b.reconcile(want))
    assert routes(r.ns, "proto", "196") == {
        ("10.50.0.1", r.ov, 120, "unicast"),
        ("10.50.0.2", r.ov, 120, "unicast"),
        ("10.50.9.0/24", "", 0, "blackhole"),
    }
    obs = b.observe(want)
    assert {k for k in obs.owned if k[0] == "route"} == {k for k in want.objects}
    assert b.plan(want) == []

    changed = desired(Route("10.50.0.1/32", r.ovp, 130), Route("10.50.0.2/32", r.ov, 120))
    all_ok(b.reconcile(changed))
    mine = routes(r.ns, "proto", "196")
    assert {(dst, dev, m) for dst, dev, m, _ in mine} == {
        ("10.50.0.1", r.ovp, 130),
        ("10.50.0.2", r.ov, 120),
    }
    assert foreign <= routes(r.ns)

    all_ok(b.reconcile(desired()))
    assert routes(r.ns, "proto", "196") == set()
    assert routes(r.ns) == foreign


def test_route_to_missing_device_fails_alone(lab):
    r = router(lab)
    b = lab.backend(r.ns)
    want = desired(Route("10.50.0.1/32", r.ov, 120), Route("10.50.0.2/32", "nosuchdev0", 120))
    results = dict((c, (ok, err)) for c, ok, err in b.reconcile(want))
    assert results[f"add route 10.50.0.1/32 dev {r.ov} metric 120"] == (True, "")
    ok, err = results["add route 10.50.0.2/32 dev nosuchdev0 metric 120"]
    assert not ok and "nosuchdev0" in err


def test_route_clashing_with_foreign_route_is_reported_not_replaced(lab):
    r = router(lab)
    r.ns.ip("route", "add", "10.50.0.3/32", "dev", r.ovp, "metric", "120", "proto", "static")
    b = lab.backend(r.ns)
    [(_, ok, err)] = b.reconcile(desired(Route("10.50.0.3/32", r.ov, 120)))
    assert not ok and "not routerd's" in err
    assert routes(r.ns, "proto", "static") == {("10.50.0.3", r.ovp, 120, "unicast")}
    assert routes(r.ns, "proto", "196") == set()


def test_proxy_neighbours_labelled_and_foreign_entries_untouched(lab):
    r = router(lab)
    r.ns.ip("neigh", "add", "proxy", "10.60.0.2", "dev", r.cap)  # foreign, not desired
    r.ns.ip("neigh", "add", "proxy", "10.50.0.9", "dev", r.cap)  # foreign, equal to a desired one
    b = lab.backend(r.ns)
    want = desired(ProxyNeighbour("10.50.0.1", r.cap), ProxyNeighbour("10.50.0.9", r.cap))

    all_ok(b.reconcile(want))
    assert proxies(r.ns) == {
        ("10.50.0.1", r.cap): "196",
        ("10.50.0.9", r.cap): "",  # satisfied as is: never relabelled as routerd's
        ("10.60.0.2", r.cap): "",
    }
    obs = b.observe(want)
    assert ("pneigh", "10.50.0.1", r.cap) in obs.owned
    assert ("pneigh", "10.50.0.9", r.cap) not in obs.owned
    assert b.plan(want) == []

    all_ok(b.reconcile(desired(ProxyNeighbour("10.50.0.2", r.cap))))
    assert proxies(r.ns) == {
        ("10.50.0.2", r.cap): "196",
        ("10.50.0.9", r.cap): "",
        ("10.60.0.2", r.cap): "",
    }
    all_ok(b.reconcile(desired()))
    assert proxies(r.ns) == {("10.50.0.9", r.cap): "", ("10.60.0.2", r.cap): ""}


def test_proxy_entry_missed_by_a_racing_dump_is_confirmed_not_reported_missing(lab):
    r = router(lab)
    b = lab.backend(r.ns)
    entry = ProxyNeighbour("10.40.8.21", r.cap)
    want = desired(entry)
    all_ok(b.reconcile(want))
    obs = b.observe_with_lossy_dump(want, "10.40.8.21")
    assert obs.objects.get(entry.key) == entry and entry.key in obs.owned
    assert b.plan(want) == []


def test_addresses_added_removed_and_os_address_kept_absent(lab):
    r = router(lab)
    r.ns.ip("addr", "add", "10.40.8.31/24", "dev", r.cap)
    r.ns.ip("addr", "add", "10.40.8.31/32", "dev", r.ovp)
    r.ns.ip("addr", "add", "10.255.41.1/31", "dev", r.ovp)  # foreign and desired
    b = lab.backend(r.ns)
    want = desired(
        Address(r.ov, "10.255.40.1/31"),
        Address(r.ovp, "10.255.41.1/31"),
        AbsentAddress("10.40.8.31"),
    )
    before = b.observe(want).objects[("absent", "10.40.8.31")]
    assert set(before.present_on) == {(r.cap, "10.40.8.31/24"), (r.ovp, "10.40.8.31/32")}

    all_ok(b.reconcile(want))
    have = addresses(r.ns)
    assert (r.ov, "10.255.40.1/31") in have
    assert not {a for a in have if a[1].startswith("10.40.8.31/")}
    assert (r.cap, "10.40.8.1/24") in have  # the router's own address stays
    obs = b.observe(want)
    assert ("addr", r.ov, "10.255.40.1/31") in obs.owned
    assert ("addr", r.ovp, "10.255.41.1/31") not in obs.owned
    assert b.plan(want) == []

    all_ok(b.reconcile(desired()))
    have = addresses(r.ns)
    assert (r.ov, "10.255.40.1/31") not in have
    assert (r.ovp, "10.255.41.1/31") in have  # routerd did not add it
    assert not {a for a in have if a[1].startswith("10.40.8.31/")}  # never re-added


def test_guest_agent_local_route_is_removed_like_an_os_address(lab):
    # Google's guest agent makes an alias IP local with a route, not an address (the OS
    # address of D15, docs/decisions.md, in route form):
    # `ip route add local ADDR/32 dev NIC proto 66 table local`.
    r = router(lab)
    r.ns.ip("route", "add", "local", "10.40.8.31/32", "dev", r.cap, "proto", "66", "table", "local")
    b = lab.backend(r.ns)
    want = desired(AbsentAddress("10.40.8.31"))
    seen = b.observe(want).objects[("absent", "10.40.8.31")]
    assert seen.local_routes == ((r.cap, 66),) and seen.present_on == ()
    all_ok(b.reconcile(want))
    local = r.ns.ipj("route", "show", "table", "local")
    assert not [x for x in local if x.get("dst") == "10.40.8.31"]
    # the kernel's own local routes (for the router's real addresses) are untouched
    assert [x for x in local if x.get("dst") == "10.40.8.1"]
    assert b.plan(want) == []


def test_sysctls_set_and_restored(lab):
    r = router(lab)
    r.ns.exec("sysctl", "-qw", f"net.ipv4.conf.{r.ov}.rp_filter=1")
    r.ns.exec("sysctl", "-qw", f"net.ipv4.conf.{r.ovp}.proxy_arp=1")
    b = lab.backend(r.ns)
    want = desired(
        Sysctl("net.ipv4.ip_forward", "1"),
        Sysctl(f"net.ipv4.conf.{r.cap}.proxy_arp", "1"),
        Sysctl(f"net.ipv4.conf.{r.ovp}.proxy_arp", "1"),  # already so: not routerd's
        Sysctl(f"net.ipv4.conf.{r.ov}.rp_filter", "2", frozenset({"0", "2"})),
    )
    all_ok(b.reconcile(want))
    assert r.ns.sysctl("net.ipv4.ip_forward") == "1"
    assert r.ns.sysctl(f"net.ipv4.conf.{r.cap}.proxy_arp") == "1"
    assert r.ns.sysctl(f"net.ipv4.conf.{r.ov}.rp_filter") == "2"
    assert b.plan(want) == []

    all_ok(b.reconcile(desired()))
    assert r.ns.sysctl("net.ipv4.ip_forward") == "0"
    assert r.ns.sysctl(f"net.ipv4.conf.{r.cap}.proxy_arp") == "0"
    assert r.ns.sysctl(f"net.ipv4.conf.{r.ov}.rp_filter") == "1"
    assert r.ns.sysctl(f"net.ipv4.conf.{r.ovp}.proxy_arp") == "1"


def test_sysctl_of_missing_interface_fails_retryably(lab):
    r = router(lab)
    b = lab.backend(r.ns)
    s = Sysctl("net.ipv4.conf.nosuchdev0.proxy_arp", "1")
    [(ok, err, code)] = b.apply([Change("add", s.key, new=s)])
    assert not ok and code == 2 and "interface" in err


def _mss_table(r, generation: int, mss: int = 1300) -> MssClampTable:
    rules = frozenset({MssRule(r.cap, r.ov, mss), MssRule(r.ov, r.cap, mss)})
    return MssClampTable(rules, generation=generation)


def _nft_json(ns, table: str) -> list[dict]:
    out = ns.exec("nft", "-j", "list", "table", "inet", table, check=False)
    return json.loads(out)["nftables"] if out.strip() else []


def _nft_handle(ns, table: str) -> int | None:
    """The table's handle: a rewrite (delete + create) always gets a new one."""
    for item in _nft_json(ns, table):
        if "table" in item:
            return int(item["table"]["handle"])
    return None


def test_mss_table_written_with_marker_observed_and_removed(lab):
    r = router(lab)
    r.ns.exec("nft", "add", "table", "inet", "other")
    b = lab.backend(r.ns)
    all_ok(b.reconcile(desired(_mss_table(r, 7))))
    text = r.ns.exec("nft", "list", "table", "inet", "routerd_mss")
    assert 'comment "routerd.owner=routerd routerd.generation=7"' in text
    assert f'iifname "{r.cap}" oifname "{r.ov}" tcp flags syn / syn,rst' in text
    assert "tcp option maxseg size > 1300 tcp option maxseg size set 1300" in text
    assert "hook forward priority mangle; policy accept;" in text
    handle = _nft_handle(r.ns, "routerd_mss")

    again = desired(_mss_table(r, 8))  # a new generation alone is not a change
    assert b.plan(again) == []
    assert _nft_handle(r.ns, "routerd_mss") == handle

    all_ok(b.reconcile(desired(_mss_table(r, 9, mss=1280))))
    assert "maxseg size set 1280" in r.ns.exec("nft", "list", "table", "inet", "routerd_mss")

    all_ok(b.reconcile(desired()))
    assert _nft_json(r.ns, "routerd_mss") == []
    assert _nft_json(r.ns, "other") != []


def test_foreign_mss_table_without_marker_is_never_touched(lab):
    r = router(lab)
    r.ns.exec("nft", "add", "table", "inet", "routerd_mss")
    r.ns.exec("nft", "add", "chain", "inet", "routerd_mss", "keep")
    before = r.ns.exec("nft", "list", "table", "inet", "routerd_mss")
    b = lab.backend(r.ns)
    [(_, ok, err)] = b.reconcile(desired(_mss_table(r, 1)))
    assert not ok and "foreign" in err
    assert ("nft", "inet", "routerd_mss") not in b.observe(desired()).owned
    b.close_backend(cleanup=True)
    assert r.ns.exec("nft", "list", "table", "inet", "routerd_mss") == before


def test_gratuitous_arp_updates_lan_neighbours(lab):
    r = router(lab)
    r.lan.exec("sysctl", "-qw", f"net.ipv4.conf.{r.lan_if}.arp_accept=1")
    mac = r.ns.ipj("link", "show", r.cap)[0]["address"]
    b = lab.backend(r.ns)
    b.send_garp("10.40.8.77", r.cap)  # an announce change, applied by the backend

    def learned() -> str | None:
        entries = {e["dst"]: e.get("lladdr") for e in r.lan.ipj("neigh", "show", "dev", r.lan_if)}
        return None if entries.get("10.40.8.77") == mac else f"lan neighbours: {entries}"

    wait_until(learned, what="gratuitous ARP learned on the LAN")


def test_a_unicast_gratuitous_arp_reaches_only_its_host(lab):
    # what address mobility sends a VM that just arrived: one request, to its MAC only
    r = router(lab)
    r.lan.exec("sysctl", "-qw", f"net.ipv4.conf.{r.lan_if}.arp_accept=1")
    mac = r.ns.ipj("link", "show", r.cap)[0]["address"]
    lan_mac = r.lan.ipj("link", "show", r.lan_if)[0]["address"]
    b = lab.backend(r.ns)
    b.send_garp("10.40.8.78", r.cap, "02:00:00:00:99:99")  # another host: not heard here
    b.send_garp("10.40.8.79", r.cap, lan_mac)

    def learned() -> str | None:
        entries = {e["dst"]: e.get("lladdr") for e in r.lan.ipj("neigh", "show", "dev", r.lan_if)}
        return None if entries.get("10.40.8.79") == mac else f"lan neighbours: {entries}"

    wait_until(learned, what="unicast gratuitous ARP learned by its host")
    entries = {e["dst"] for e in r.lan.ipj("neigh", "show", "dev", r.lan_if)}
    assert "10.40.8.78" not in entries, "a frame for another MAC was taken"


def test_kernel_error_in_a_batch_lands_on_its_own_change(lab):
    r = router(lab)
    b = lab.backend(r.ns)
    routes_wanted = [Route(f"10.50.{2 + i // 256}.{i % 256}/32", r.ov, 120) for i in range(600)]
    bad = Route("10.50.9.1/32", r.ov, 120, gateway="10.99.0.1")  # gateway not on-link
    changes = [Change("add", x.key, new=x) for x in routes_wanted[:300]]
    changes += [Change("add", bad.key, new=bad)]
    changes += [Change("add", x.key, new=x) for x in routes_wanted[300:]]
    results = b.apply(changes)
    failed = [i for i, (ok, _, _) in enumerate(results) if not ok]
    assert failed == [300]
    _, err, code = results[300]
    assert code is not None and "10.50.9.1/32" in err
    assert len(routes(r.ns, "proto", "196")) == 600


def test_unencodable_object_fails_alone(lab):
    r = router(lab)
    b = lab.backend(r.ns)
    good, bad = Route("10.50.0.1/32", r.ov, 120), Route("10.50.0.300/32", r.ov, 120)
    results = b.apply([Change("add", bad.key, new=bad), Change("add", good.key, new=good)])
    assert [ok for ok, _, _ in results] == [False, True]
