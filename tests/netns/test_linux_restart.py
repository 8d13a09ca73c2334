"""Ownership across daemon restarts: adopt, never duplicate or orphan, clean up on request.

A backend applies a full SAM state (routes, proxy entries, address, sysctls, clamp table,
a wireguard-go tunnel), then goes away twice: once politely (``close()``, what SIGTERM
does) and once by SIGKILL. Each successor must adopt everything without a single change,
a one-claim change must touch only that claim's objects, and ``close(cleanup=True)`` must
remove all routerd owns (stopping the wireguard-go it started, restoring sysctls) while the
foreign objects placed at the start survive.
"""

from __future__ import annotations

import json

import pytest

from routerd.backends.linux.wgsupervisor import process_start_time
from routerd.core.desired import DesiredBuilder
from tests.netns.test_linux_events import full_state
from tests.netns.topology import Router, addresses, proxies, router, routes

pytestmark = pytest.mark.netns


def snapshot(r: Router) -> dict[str, object]:
    return {
        "routes": routes(r.ns, "proto", "196"),
        "proxies": proxies(r.ns),
        "addresses": addresses(r.ns),
        "nft": r.ns.exec("nft", "-a", "list", "table", "inet", "routerd_mss", check=False),
        "forward": r.ns.sysctl("net.ipv4.ip_forward"),
    }


def wg_pid(b, ifname: str) -> int:
    return int(json.loads(b.wg_records()[ifname])["pid"])


def without_claim(want: DesiredBuilder, claim: str) -> DesiredBuilder:
    out = DesiredBuilder(generation=want.generation + 1)
    for key, obj in want.objects.items():
        owners = want.owners[key] - {claim}
        if owners:
            out.add(obj, sorted(owners)[0])
    return out


def ok(results: list[tuple[str, bool, str]]) -> None:
    assert not [x for x in results if not x[1]], results


def test_restart_adopts_and_cleanup_removes_only_owned(lab):
    r = router(lab)
    wg = lab.name("wg")
    r.ns.ip("route", "add", "10.60.0.1/32", "dev", r.ov, "proto", "static")
    r.ns.ip("neigh", "add", "proxy", "10.60.0.2", "dev", r.cap)
    r.ns.exec("nft", "add", "table", "inet", "foreign")
    foreign_routes = routes(r.ns, "proto", "static")
    want = full_state(r, wg, lab.tmp / "keys")

    first = lab.backend(r.ns)
    ok(first.reconcile(want))
    pid = wg_pid(first, wg)
    before = snapshot(r)
    first.close_backend(cleanup=False)  # what SIGTERM does
    first.worker.close()
    assert snapshot(r) == before
    assert process_start_time(pid) is not None  # the tunnel outlives the daemon

    second = lab.backend(r.ns)
    assert second.plan(want) == []
    owned = second.observe(want).owned
    changed_sysctls = {
        ("sysctl", "net.ipv4.ip_forward"),
        ("sysctl", f"net.ipv4.conf.{r.cap}.proxy_arp"),
    }  # the new tunnel's rp_filter was already loose (0): found right, so not routerd's
    assert {k for k in want.objects if k[0] not in ("absent", "sysctl")} | changed_sysctls <= owned
    assert ("sysctl", f"net.ipv4.conf.{wg}.rp_filter") not in owned
    second.kill()  # SIGKILL: no cleanup code runs
    assert snapshot(r) == before and process_start_time(pid) is not None

    third = lab.backend(r.ns)
    assert third.plan(want) == []
    assert wg_pid(third, wg) == pid
    smaller = without_claim(want, "claim-2")
    assert sorted(third.plan(smaller)) == [
        f"remove proxy neighbour 10.50.0.2 dev {r.cap}",
        f"remove route 10.50.0.2/32 dev {wg} metric 120",
    ]
    ok(third.reconcile(smaller))
    after = snapshot(r)
    assert after["routes"] == before["routes"] - {("10.50.0.2", wg, 120, "unicast")}
    assert after["nft"] == before["nft"] and after["addresses"] == before["addresses"]
    assert snapshot(r) == after and third.plan(smaller) == []

    third.close_backend(cleanup=True)
    assert routes(r.ns, "proto", "196") == set()
    assert proxies(r.ns) == {("10.60.0.2", r.cap): ""}
    assert r.ns.exec("nft", "list", "tables").split() == ["table", "inet", "foreign"]
    assert r.ns.sysctl("net.ipv4.ip_forward") == "0"
    assert r.ns.sysctl(f"net.ipv4.conf.{r.cap}.proxy_arp") == "0"
    assert process_start_time(pid) is None
    assert wg not in {link["ifname"] for link in r.ns.ipj("link", "show")}
    assert routes(r.ns, "proto", "static") == foreign_routes
