"""Route-based proxy-ARP capture, proven on the kernel (root, namespaces; no routerd code).

``r`` routes claimed /32s from its capture segment (``cap``, host ``h`` behind it) to a
tunnel side (``tun``, ``far`` behind it), as routerd does. The facts routerd's capture
relies on, each asked with real ARP requests:

* with ``proxy_arp=1`` on the capture interface the ``/32`` route alone makes the kernel
  answer for a claimed address with the router's MAC; nothing answers for an unclaimed
  address of the segment, nor for a claimed address asked on the tunnel side;
* switching capture off is the one sysctl (routes kept: a warm standby) and switching it on
  again answers the very next request;
* a proxy entry without the route answers nothing, and with the route it answers even with
  ``proxy_arp=0``: entries cannot be switched off in one step;
* what else ``proxy_arp=1`` answers for (any route leaving by another device, off-subnet
  targets through a default route) and that forwarding off on the interface stops it all.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.netns.arp_ask import first_reply
from tests.netns.capture_segment import CLAIMS, HOST_IP, UNCLAIMED, Seg, build
from tests.support.netns import run_in_netns

pytestmark = [pytest.mark.netns, pytest.mark.timeout(120)]


@pytest.fixture
def seg(lab: Any) -> Seg:
    """Name: seg / Scope: function / Depends: lab (tests/netns/conftest.py)."""
    return build(lab)


def _routes(s: Seg) -> None:
    s.r.exec(
        "ip",
        "-batch",
        "-",
        input="".join(f"route add {a}/32 dev {s.tun} metric 120 proto 196\n" for a in CLAIMS),
    )


def _proxy_entries(s: Seg) -> list[str]:
    return [e["dst"] for e in s.r.ipj("neigh", "show", "proxy")]


def test_the_route_and_proxy_arp_answer_for_claims_and_for_nothing_else(seg: Seg) -> None:
    _routes(seg)
    seg.set(f"conf.{seg.cap}.proxy_arp", "1")
    mac = seg.mac()

    got = seg.answered([*CLAIMS, UNCLAIMED])

    assert _proxy_entries(seg) == []
    assert {a: got[a] for a in CLAIMS} == {a: [mac] for a in CLAIMS}
    assert got[UNCLAIMED] == []
    # The tunnel side never hears the router answer for a claim, even with proxy ARP on
    # everywhere: the claim's route leaves by the device the request came in on.
    seg.set("conf.all.proxy_arp", "1")
    seg.set(f"conf.{seg.tun}.proxy_arp", "1")
    assert seg.answered_far(CLAIMS) == {a: [] for a in CLAIMS}


def test_capture_off_is_one_sysctl_and_on_again_answers_the_next_request(seg: Seg) -> None:
    _routes(seg)
    seg.set(f"conf.{seg.cap}.proxy_arp", "1")
    assert seg.answered(CLAIMS[:1]) == {CLAIMS[0]: [seg.mac()]}

    seg.set(f"conf.{seg.cap}.proxy_arp", "0")  # warm standby: routes kept
    off = seg.answered(CLAIMS)
    routes = [r["dst"] for r in seg.r.ipj("route", "show", "proto", "196")]

    assert off == {a: [] for a in CLAIMS}
    assert sorted(routes) == sorted(CLAIMS)

    seg.set(f"conf.{seg.cap}.proxy_arp", "1")
    mac, _ = run_in_netns(seg.h.name, first_reply, seg.h_if, CLAIMS[1], HOST_IP)
    assert mac == seg.mac()


def test_proxy_entries_need_the_route_and_answer_even_with_proxy_arp_off(seg: Seg) -> None:
    _routes(seg)
    seg.set(f"conf.{seg.cap}.proxy_arp", "0")
    for a in (CLAIMS[0], UNCLAIMED):  # UNCLAIMED has an entry but no route
        seg.r.ip("neigh", "add", "proxy", a, "dev", seg.cap)

    got = seg.answered([CLAIMS[0], CLAIMS[1], UNCLAIMED])

    assert got == {CLAIMS[0]: [seg.mac()], CLAIMS[1]: [], UNCLAIMED: []}


def test_proxy_arp_answers_for_any_route_leaving_by_another_device(seg: Seg) -> None:
    """What else a capture interface with proxy_arp=1 answers for (and routerd's did before)."""
    seg.set(f"conf.{seg.cap}.proxy_arp", "1")
    foreign = "10.50.0.200"
    seg.r.ip("route", "add", f"{foreign}/32", "dev", seg.tun, "proto", "static")
    seg.r.ip("route", "add", "default", "dev", seg.tun)
    off_subnet = "192.0.2.7"  # asked by a host whose netmask is wider than the segment's

    got = seg.answered([foreign, off_subnet, UNCLAIMED])

    assert got == {foreign: [seg.mac()], off_subnet: [seg.mac()], UNCLAIMED: []}


def test_forwarding_off_on_the_capture_interface_stops_every_proxy_answer(seg: Seg) -> None:
    _routes(seg)
    seg.set(f"conf.{seg.cap}.proxy_arp", "1")
    seg.r.ip("neigh", "add", "proxy", CLAIMS[0], "dev", seg.cap)
    seg.set(f"conf.{seg.cap}.forwarding", "0")

    assert seg.r.sysctl("net.ipv4.ip_forward") == "1"
    assert seg.answered(CLAIMS[:2]) == {a: [] for a in CLAIMS[:2]}
