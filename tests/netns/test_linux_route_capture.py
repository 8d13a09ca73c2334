"""The Linux backend applying proxy-ARP captures as lowering makes them: routes, no entries.

Same segment as ``test_route_capture`` (``r`` between a host segment and a tunnel side),
with a ``LinuxBackend`` in ``r`` applying what lowering produces for proxy-ARP claims:
``ip_forward``, ``proxy_arp`` and ``forwarding`` on the capture interface and a ``/32``
route to the tunnel per claim (``routerd.core.capture``). Real ARP requests from the host
check the kernel agrees:

* applied, the kernel holds no proxy entry, answers for every claim and for nothing else,
  and the next pass has nothing to do;
* a route deleted behind routerd's back ends its capture until the next pass restores it;
* releasing a claim removes its route, and the kernel stops answering;
* proxy entries an earlier routerd made (one per capture) are owned and removed by the
  first pass, the captures answering throughout;
* ``verify`` looks each claim up as the kernel's ARP code does (an input route from the
  capture segment) and reports what it found: the tunnel, nothing with forwarding off, the
  capture interface itself under a foreign better route;
* a MAC change of the capture interface re-announces the captured addresses.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from routerd.core.capture import capture_sysctls, segment_source
from routerd.core.desired import DesiredBuilder, DesiredState, ProxyNeighbour, Route, Sysctl
from routerd.core.port import InputRoute, PathCheck
from tests.netns.capture_segment import CLAIMS, UNCLAIMED, Seg, build

pytestmark = [pytest.mark.netns, pytest.mark.timeout(120)]

NEW_MAC = "02:00:00:00:00:51"
SEGMENT_SOURCE = segment_source(["10.50.0.1/24"], CLAIMS[0])
"""What the engine asks from on this segment (``r`` holds 10.50.0.1/24 on ``cap``)."""


def want(s: Seg, claims: list[str] = CLAIMS, *, entries: bool = False) -> DesiredState:
    """What lowering makes of proxy-ARP claims on ``s.cap`` delivered to ``s.tun``.

    ``entries`` adds the proxy entry per claim that routerd made before it captured by route.
    """
    out = DesiredBuilder(generation=1)
    for a in claims:
        owner = f"RemoteAddressClaim/c{a.rsplit('.', 1)[1]}"
        objs = [Sysctl("net.ipv4.ip_forward", "1"), *capture_sysctls(s.cap)]
        objs.append(Route(f"{a}/32", s.tun, 120))
        if entries:
            objs.append(ProxyNeighbour(a, s.cap))
        for obj in objs:
            out.add(obj, owner, claim=owner)
    return out.build()


def proxy_entries(s: Seg) -> list[str]:
    return sorted(e["dst"] for e in s.r.ipj("neigh", "show", "proxy"))


def failures(results: list[tuple[str, bool, str]]) -> list[str]:
    return [f"{what}: {err}" for what, ok, err in results if not ok]


def check(s: Seg, address: str) -> PathCheck:
    return PathCheck(
        f"c{address}", address, s.tun, capture_interface=s.cap, capture_source=SEGMENT_SOURCE
    )


@pytest.fixture
def seg(lab: Any) -> Seg:
    """Name: seg / Scope: function / Depends: lab (tests/netns/conftest.py)."""
    s = build(lab)
    s.set(f"conf.{s.cap}.proxy_arp", "0")
    return s


@pytest.fixture
def routed(lab: Any, seg: Seg) -> Any:
    """Name: routed / Scope: function / Depends: lab, seg; a Linux backend in ``r``."""
    return lab.backend(seg.r, wireguard_go=None)


def test_captures_are_answered_without_entries_and_the_next_pass_is_empty(
    seg: Seg, routed: Any
) -> None:
    results = routed.reconcile(want(seg))

    assert failures(results) == []
    assert proxy_entries(seg) == []
    assert seg.r.sysctl(f"net.ipv4.conf.{seg.cap}.forwarding") == "1"
    got = seg.answered([*CLAIMS, UNCLAIMED])
    assert got == {**{a: [seg.mac()] for a in CLAIMS}, UNCLAIMED: []}
    assert routed.plan(want(seg)) == []
    assert routed.cache_mismatch(want(seg)) is None


def test_a_route_deleted_behind_routerd_ends_its_capture_until_restored(
    seg: Seg, routed: Any
) -> None:
    assert failures(routed.reconcile(want(seg))) == []
    seg.r.ip("route", "del", f"{CLAIMS[0]}/32", "dev", seg.tun)
    assert seg.answered(CLAIMS[:1]) == {CLAIMS[0]: []}

    planned = routed.plan(want(seg))
    healed = routed.reconcile(want(seg))

    assert planned == [f"add route {CLAIMS[0]}/32 dev {seg.tun} metric 120"]
    assert failures(healed) == []
    assert seg.answered(CLAIMS[:1]) == {CLAIMS[0]: [seg.mac()]}


def test_releasing_a_claim_removes_its_route_and_the_answer(seg: Seg, routed: Any) -> None:
    assert failures(routed.reconcile(want(seg))) == []

    results = routed.reconcile(want(seg, CLAIMS[1:]))

    assert [(what, ok) for what, ok, _ in results] == [
        (f"remove route {CLAIMS[0]}/32 dev {seg.tun} metric 120", True)
    ]
    assert seg.answered(CLAIMS[:2]) == {CLAIMS[0]: [], CLAIMS[1]: [seg.mac()]}


def test_entries_an_earlier_routerd_made_are_removed_and_captures_keep_answering(
    lab: Any, seg: Seg
) -> None:
    before = lab.backend(seg.r, state="a", wireguard_go=None)
    assert failures(before.reconcile(want(seg, entries=True))) == []
    assert proxy_entries(seg) == sorted(CLAIMS)
    before.close_backend(cleanup=False)
    seg.r.ip("neigh", "add", "proxy", UNCLAIMED, "dev", seg.cap)  # someone else's entry

    now = lab.backend(seg.r, state="a", wireguard_go=None)
    results = now.reconcile(want(seg))

    assert failures(results) == []
    assert sorted(what for what, _, _ in results) == sorted(
        f"remove proxy neighbour {a} dev {seg.cap}" for a in CLAIMS
    )
    assert proxy_entries(seg) == [UNCLAIMED]
    assert seg.answered(CLAIMS) == {a: [seg.mac()] for a in CLAIMS}
    assert now.plan(want(seg)) == []


def test_verify_looks_each_claim_up_as_the_kernels_arp_code_does(seg: Seg, routed: Any) -> None:
    assert failures(routed.reconcile(want(seg))) == []
    a, b = CLAIMS[0], CLAIMS[1]

    def found(address: str) -> InputRoute:
        return routed.verify([check(seg, address)])[f"c{address}"].capture

    assert found(a) == InputRoute(SEGMENT_SOURCE, "unicast", seg.tun)
    seg.r.ip("route", "add", f"{b}/32", "dev", seg.cap, "metric", "50", "proto", "static")
    assert found(b) == InputRoute(SEGMENT_SOURCE, "unicast", seg.cap)
    assert seg.answered([b]) == {b: []}  # the kernel agrees: no proxy through itself
    seg.set(f"conf.{seg.cap}.forwarding", "0")
    off = found(a)
    assert (off.type, off.dev) == ("", "") and off.error
    assert routed.verify([PathCheck("plain", a, seg.tun)])["plain"].capture is None


def test_a_capture_interface_mac_change_reannounces_its_captures(seg: Seg, routed: Any) -> None:
    assert failures(routed.reconcile(want(seg))) == []
    routed.observe(want(seg))  # the backend's view of what is captured

    seg.r.ip("link", "set", seg.cap, "address", NEW_MAC)
    deadline = time.monotonic() + 5
    while not routed.reannounced() and time.monotonic() < deadline:
        time.sleep(0.05)  # the event thread sees the change on its own

    assert routed.reannounced() == [(seg.cap, NEW_MAC, len(CLAIMS))]
    assert seg.answered(CLAIMS[:1]) == {CLAIMS[0]: [NEW_MAC]}
