"""Proxy-ARP capture in ``doctor hybrid``: the kernel's own input-route lookup, forwarding on
the capture interface, warm standby, and proxy entries an earlier routerd left behind.

Each recording is r1 with one piece of the capture broken for real (``capture-route-missing``:
the /32 deleted, so the lookup finds the bridge's own subnet; ``capture-forwarding-off``:
``conf.<br>.forwarding=0``, so the kernel has no input route at all;
``leftover-proxy-entries``: a protocol-196 entry and a foreign one). Other shapes (a blackhole,
another device) edit the recorded answer of the one input-route batch.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from routerd.backends.linux.routes import ROUTERD_PROTO
from routerd.core.doctor import Status
from routerd.core.lowering import lower
from routerd.doctor import kernel_tables
from routerd.doctor.ip_batch import BATCH
from tests.unit.doctor.kit import Scene, not_found, one

Recorded = Callable[[str], Scene]
ADDRESSES = ("ip", "-j", "-4", "addr", "show")
FIX = "docs/troubleshooting.md#"


def _input_batch(s: Scene) -> dict[str, Any]:
    """The recorded input-route batch (its argv, stdin and answer) as a command doc."""
    k = next(k for k in s.host.answers if "iif" in k)
    argv, stdin = json.loads(k)
    res = s.host.answers[k]
    return {"argv": argv, "input": stdin, "rc": res.rc, "stdout": res.stdout, "stderr": ""}


def _answer_with(s: Scene, **route: str) -> Scene:
    doc = _input_batch(s)
    row = json.loads(doc["stdout"])[0]
    s.host.with_command(dict(doc, stdout=json.dumps([{**row, **route}]) + "\n"))
    return s


def test_the_route_deleted_warns_the_lookup_leaves_by_the_capture_interface(
    recorded: Recorded,
) -> None:
    s = recorded("capture-route-missing")
    report = s.doctor()
    f = one(report, "vm31 capture route")
    assert f.status is Status.WARN
    assert f"gives unicast dev {s.names['br']}" in f.detail
    assert f"leaves by {s.names['br']} itself" in f.detail
    assert f.remedy.endswith(f"{FIX}capture-route-missing")
    # the kernel answers nothing now: this router is no longer counted as a responder
    assert one(report, "vm31 duplicate responders").detail.startswith("0 responder(s)")


def test_forwarding_off_warns_and_the_lookup_says_why_it_found_nothing(
    recorded: Recorded,
) -> None:
    s = recorded("capture-forwarding-off")
    br = s.names["br"]
    report = s.doctor()
    fwd = one(report, f"vm31 forwarding {br}")
    assert fwd.status is Status.WARN
    assert fwd.detail.startswith(f"net.ipv4.conf.{br}.forwarding=0")
    assert fwd.remedy.endswith(f"{FIX}capture-forwarding-disabled")
    f = one(report, "vm31 capture route")
    assert f.status is Status.WARN
    assert "No route to host" in f.detail and f"forwarding is off on {br}" in f.detail
    assert f.remedy.endswith(f"{FIX}capture-forwarding-disabled")
    assert one(report, "vm31 duplicate responders").detail.startswith("0 responder(s)")


def test_a_blackhole_route_does_not_capture(recorded: Recorded) -> None:
    s = _answer_with(recorded("healthy"), type="blackhole", dev="lo")
    f = one(s.doctor(), "vm31 capture route")
    assert f.status is Status.WARN and "is blackhole" in f.detail
    assert f.remedy.endswith(f"{FIX}capture-route-missing")


def test_a_route_to_another_device_answers_arp_but_warns(recorded: Recorded) -> None:
    s = recorded("healthy")
    _answer_with(s, dev=f"{s.rec['topology']['prefix']}u1")
    f = one(s.doctor(), "vm31 capture route")
    assert f.status is Status.WARN
    assert f"expected {s.names['wg1']}" in f.detail
    assert f.remedy.endswith(f"{FIX}route-lookup-mismatch")


def test_without_an_asker_on_the_segment_the_check_skips_and_asks_nothing(
    recorded: Recorded,
) -> None:
    s = recorded("healthy")
    br = s.names["br"]

    def host_route_only(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for link in rows:
            if link["ifname"] == br:
                for a in link["addr_info"]:
                    a["prefixlen"] = 32
        return rows

    s.edit_json(ADDRESSES, host_route_only)
    f = one(s.doctor(), "vm31 capture route")
    assert f.status is Status.SKIP and "no IPv4 subnet" in f.detail
    assert s.host.calls.count(BATCH) == 1  # the route lookups only


def test_ip_missing_warns_with_the_reason(recorded: Recorded) -> None:
    s = recorded("healthy")
    doc = _input_batch(s)
    s.host.with_command({**not_found(*BATCH), "input": doc["input"]})
    f = one(s.doctor(), "vm31 capture route")
    assert f.status is Status.WARN and "ip is not installed" in f.detail


def test_a_standby_router_passes_with_capture_off_and_says_so(recorded: Recorded) -> None:
    s = recorded("healthy")
    br = s.names["br"]
    lowered = lower(s.config, capture_active={br: False})
    s.host.set_sysctl(f"net/ipv4/conf/{br}/proxy_arp", "0")
    report = s.doctor(lowered=lowered)
    f = one(report, f"vm31 proxy_arp {br}")
    assert f.status is Status.PASS
    assert "warm standby" in f.detail and "not a failure" in f.detail
    route = one(report, "vm31 capture route")
    assert route.status is Status.PASS and "standby" in route.detail
    assert one(report, "vm31 duplicate responders").detail.startswith("0 responder(s)")


def test_a_standby_router_that_still_answers_for_all_warns(recorded: Recorded) -> None:
    s = recorded("healthy")
    br = s.names["br"]
    s.host.set_sysctl(f"net/ipv4/conf/{br}/proxy_arp", "0")
    s.host.set_sysctl("net/ipv4/conf/all/proxy_arp", "1")
    f = one(s.doctor(lowered=lower(s.config, capture_active={br: False})), f"vm31 proxy_arp {br}")
    assert f.status is Status.WARN and "still answers ARP" in f.detail
    assert f.remedy.endswith(f"{FIX}capture-standby")


def test_the_same_sysctl_off_on_an_active_router_warns(recorded: Recorded) -> None:
    s = recorded("healthy")
    s.host.set_sysctl(f"net/ipv4/conf/{s.names['br']}/proxy_arp", "0")
    assert one(s.doctor(), f"vm31 proxy_arp {s.names['br']}").status is Status.WARN


def test_leftover_routerd_proxy_entries_warn_foreign_ones_do_not_count(
    recorded: Recorded,
) -> None:
    s = recorded("leftover-proxy-entries")
    f = one(s.doctor(), "leftover proxy entries")
    assert f.status is Status.WARN
    assert f.detail.endswith(f"(an earlier version's): 10.40.8.31 dev {s.names['br']}")
    assert "10.40.8.77" not in f.detail  # another tool's entry, not marked as routerd's
    assert f.remedy.endswith(f"{FIX}leftover-proxy-entries")
    assert one(recorded("healthy").doctor(), "leftover proxy entries").status is Status.PASS


def test_an_unreadable_proxy_table_skips_the_leftover_check(recorded: Recorded) -> None:
    s = recorded("healthy")
    s.host.with_command(not_found("ip", "-j", "neigh", "show", "proxy"))
    f = one(s.doctor(), "leftover proxy entries")
    assert f.status is Status.SKIP and "ip is not installed" in f.detail


def test_the_protocol_the_doctor_looks_for_is_the_one_the_backend_marks_with() -> None:
    assert str(ROUTERD_PROTO) in kernel_tables.ROUTERD_PROTOCOLS
