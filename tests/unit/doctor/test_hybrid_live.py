"""Live per-claim kernel checks: ip_forward, routes, proxy-ARP capture, rp_filter, OS address.

A captured address on a local interface is swallowed by the kernel (D15, docs/decisions.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from routerd.core.doctor import Status
from routerd.doctor.ip_batch import BATCH
from tests.unit.doctor.kit import Scene, one

Recorded = Callable[[str], Scene]
LINKS = ("ip", "-j", "link", "show")
ROUTES = ("ip", "-j", "-4", "route", "show", "table", "main")
ADDRESSES = ("ip", "-j", "-4", "addr", "show")


def test_reference_order_for_a_proxy_arp_claim(recorded: Recorded) -> None:
    s = recorded("healthy")
    br, wg = s.names["br"], s.names["wg1"]
    names = [f.name.split(" ", 1)[1] for f in s.doctor().findings if f.claim == "vm31"]
    live = names[names.index("state") + 1 :]
    assert live[:5] == ["ip_forward", "delivery route", "route get", "MSS clamp", "host firewall"]
    assert live[5:13] == [
        "proxy-arp interface",
        f"forwarding {br}",
        f"proxy_arp {br}",
        "capture route",
        f"rp_filter {br}",
        "FORWARD policy",
        "tunnel",
        f"rp_filter {wg}",
    ]


def test_ip_forward_off_warns(recorded: Recorded) -> None:
    s = recorded("healthy")
    s.host.set_sysctl("net/ipv4/ip_forward", "0")
    f = one(s.doctor(), "vm31 ip_forward")
    assert f.status is Status.WARN and "ip_forward=0" in f.detail


def test_proxy_arp_off_warns(recorded: Recorded) -> None:
    s = recorded("healthy")
    s.host.set_sysctl(f"net/ipv4/conf/{s.names['br']}/proxy_arp", "0")
    f = one(s.doctor(), f"proxy_arp {s.names['br']}")
    assert f.status is Status.WARN and "#proxy-arp-disabled" in f.remedy


def test_proxy_arp_for_all_interfaces_also_answers(recorded: Recorded) -> None:
    s = recorded("healthy")
    s.host.set_sysctl(f"net/ipv4/conf/{s.names['br']}/proxy_arp", "0")
    s.host.set_sysctl("net/ipv4/conf/all/proxy_arp", "1")
    assert one(s.doctor(), f"proxy_arp {s.names['br']}").status is Status.PASS


def test_strict_rp_filter_from_conf_all_warns(recorded: Recorded) -> None:
    s = recorded("healthy")
    s.host.set_sysctl("net/ipv4/conf/all/rp_filter", "1")
    f = one(s.doctor(), f"rp_filter {s.names['br']}")
    assert f.status is Status.WARN and "effective 1" in f.detail
    assert "=2" in f.remedy


def test_missing_capture_interface_fails(recorded: Recorded) -> None:
    s = recorded("healthy")
    br = s.names["br"]
    s.edit_json(LINKS, lambda rows: [r for r in rows if r["ifname"] != br])
    f = one(s.doctor(), "vm31 proxy-arp interface")
    assert f.status is Status.FAIL and "missing" in f.detail


def test_tunnel_up_passes_down_or_missing_fails(recorded: Recorded) -> None:
    s = recorded("healthy")
    wg = s.names["wg1"]
    f = one(s.doctor(), "vm31 tunnel")
    assert f.status is Status.PASS and f"{wg} mtu 1420" in f.detail

    def down(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for r in rows:
            if r["ifname"] == wg:
                r["flags"] = [x for x in r["flags"] if x != "UP"]
                r["operstate"] = "DOWN"
        return rows

    s.edit_json(LINKS, down)
    assert one(s.doctor(), "vm31 tunnel").status is Status.FAIL
    s.edit_json(LINKS, lambda rows: [r for r in rows if r["ifname"] != wg])
    f = one(s.doctor(), "vm31 tunnel")
    assert f.status is Status.FAIL and "does not exist" in f.detail


def test_delivery_route_absent_warns(recorded: Recorded) -> None:
    s = recorded("healthy")
    s.edit_json(ROUTES, lambda rows: [r for r in rows if r["dst"] != "10.40.8.31"])
    f = one(s.doctor(), "vm31 delivery route")
    assert f.status is Status.WARN and "no route" in f.detail


def test_address_present_on_the_cloud_nic_warns_with_the_41_remedy(recorded: Recorded) -> None:
    s = recorded("cloud-os-address")
    report = s.doctor()
    f = one(report, "onprem-vm-10 local OS address")
    assert f.status is Status.WARN
    assert f"10.40.8.10/24 on {s.names['u2']}" in f.detail
    assert "cloud-init/netplan" in f.remedy
    # the kernel answers locally instead of via the tunnel: route get says so
    assert one(report, "onprem-vm-10 route get").status is Status.WARN
    assert "proxy neighbor" not in {f.name.split(" ", 1)[1] for f in report.findings if f.claim}


def test_address_absent_from_the_cloud_nic_passes(recorded: Recorded) -> None:
    s = recorded("cloud-os-address")

    def drop(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for link in rows:
            link["addr_info"] = [a for a in link["addr_info"] if a["local"] != "10.40.8.10"]
        return rows

    s.edit_json(ADDRESSES, drop)
    f = one(s.doctor(), "onprem-vm-10 local OS address")
    assert f.status is Status.PASS and "absent" in f.detail


def test_unreadable_rp_filter_skips(recorded: Recorded) -> None:
    s = recorded("healthy")
    (s.host.sys_root / "net" / "ipv4" / "conf" / s.names["br"] / "rp_filter").unlink()
    assert one(s.doctor(), f"rp_filter {s.names['br']}").status is Status.SKIP


def test_each_capture_route_question_is_asked_in_one_batch(recorded: Recorded) -> None:
    s = recorded("healthy")
    f = one(s.doctor(), "vm31 capture route")
    br, wg = s.names["br"], s.names["wg1"]
    assert f.status is Status.PASS
    # the highest free host address of br's /24 asks, as a host on the segment would
    assert f.detail == f"route get 10.40.8.31 from 10.40.8.254 iif {br} gives unicast dev {wg}"
    inputs = [k for k in s.host.answers if "iif" in k]
    assert len(inputs) == 1 and s.host.calls.count(BATCH) == 2  # route get, input routes
