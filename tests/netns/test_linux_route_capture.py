"""The Linux backend with ``proxy_capture="route"``: captures without proxy entries.

Same segment as ``test_route_capture`` (``r`` between a host segment and a tunnel side),
with a ``LinuxBackend`` in ``r`` applying what lowering produces for proxy-ARP claims:
``ip_forward``, ``proxy_arp`` on the capture interface, a ``/32`` route to the tunnel and a
``ProxyNeighbour`` per claim. Real ARP requests from the host check what the backend says:

* applied, the kernel holds no proxy entry, answers for every claim and for nothing else,
  and the next pass has nothing to do (the captures are observed covered, not owned);
* a route deleted behind routerd's back uncovers its capture (a scoped observation of the
  claim's keys says so as the full one does); the next pass restores both;
* forwarding off on the capture interface fails the captures with a message naming it;
* releasing a claim removes its route only, and the kernel stops answering;
* entries made by an ``entries`` backend stay owned and go with their claims;
* a MAC change of the capture interface re-announces the covered captures.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from routerd.core.desired import DesiredBuilder, DesiredState, ProxyNeighbour, Route, Sysctl
from tests.netns.capture_segment import CLAIMS, UNCLAIMED, Seg, build
from tests.support.wait import wait_until

pytestmark = [pytest.mark.netns, pytest.mark.timeout(120)]

NEW_MAC = "02:00:00:00:00:51"


def want(s: Seg, claims: list[str] = CLAIMS) -> DesiredState:
    """What lowering makes of proxy-ARP claims on ``s.cap`` delivered to ``s.tun``."""
    out = DesiredBuilder(generation=1)
    for a in claims:
        owner = f"RemoteAddressClaim/c{a.rsplit('.', 1)[1]}"
        for obj in (
            Sysctl("net.ipv4.ip_forward", "1"),
            Sysctl(f"net.ipv4.conf.{s.cap}.proxy_arp", "1"),
            ProxyNeighbour(a, s.cap),
            Route(f"{a}/32", s.tun, 120),
        ):
            out.add(obj, owner, claim=owner)
    return out.build()


def pneigh_keys(claims: list[str], dev: str) -> set[tuple[str, ...]]:
    return {("pneigh", a, dev) for a in claims}


def proxy_entries(s: Seg) -> list[str]:
    return sorted(e["dst"] for e in s.r.ipj("neigh", "show", "proxy"))


def failures(results: list[tuple[str, bool, str]]) -> list[str]:
    return [f"{what}: {err}" for what, ok, err in results if not ok]


@pytest.fixture
def seg(lab: Any) -> Seg:
    """Name: seg / Scope: function / Depends: lab (tests/netns/conftest.py)."""
    return build(lab)


@pytest.fixture
def routed(lab: Any, seg: Seg) -> Any:
    """Name: routed / Scope: function / Depends: lab, seg; a route-capture backend in ``r``."""
    s = seg
    s.set(f"conf.{s.cap}.proxy_arp", "0")
    return lab.backend(s.r, proxy_capture="route", wireguard_go=None)


def test_captures_are_answered_without_entries_and_the_next_pass_is_empty(
    seg: Seg, routed: Any
) -> None:
    results = routed.reconcile(want(seg))

    assert failures(results) == []
    assert proxy_entries(seg) == []
    got = seg.answered([*CLAIMS, UNCLAIMED])
    assert got == {**{a: [seg.mac()] for a in CLAIMS}, UNCLAIMED: []}
    assert routed.plan(want(seg)) == []
    obs = routed.observe(want(seg))
    assert pneigh_keys(CLAIMS, seg.cap) <= obs.objects.keys()
    assert not pneigh_keys(CLAIMS, seg.cap) & obs.owned
    assert routed.cache_mismatch(want(seg)) is None


def test_a_route_deleted_behind_routerd_uncovers_its_capture_until_restored(
    seg: Seg, routed: Any
) -> None:
    assert failures(routed.reconcile(want(seg))) == []
    seg.r.ip("route", "del", f"{CLAIMS[0]}/32", "dev", seg.tun)

    planned = routed.plan(want(seg))
    healed = routed.reconcile(want(seg))

    assert sorted(planned) == [
        f"add proxy neighbour {CLAIMS[0]} dev {seg.cap}",
        f"add route {CLAIMS[0]}/32 dev {seg.tun} metric 120",
    ]
    assert failures(healed) == []
    assert seg.answered(CLAIMS[:1]) == {CLAIMS[0]: [seg.mac()]}
    assert routed.plan(want(seg)) == []


def test_a_scoped_observation_judges_coverage_as_the_full_one_does(seg: Seg, routed: Any) -> None:
    # A scoped pass observes only a claim's keys: its capture must still be seen covered by
    # its route (not looked up as a missing entry), and uncovered once the route is gone.
    assert failures(routed.reconcile(want(seg))) == []
    routed.observe(want(seg))
    routed.drain()
    claim = CLAIMS[0]
    keys = [("pneigh", claim, seg.cap), ("route", "254", f"{claim}/32")]

    def same_as_full() -> None:
        scoped = routed.observe_keys(want(seg), keys)
        full = routed.observe(want(seg))
        for key in keys:
            assert scoped.objects.get(key) == full.objects.get(key), key
        assert not {keys[0]} & scoped.owned  # covered, never owned

    same_as_full()
    assert keys[0] in routed.observe_keys(want(seg), keys).objects
    seg.r.ip("route", "del", f"{claim}/32", "dev", seg.tun)
    wait_until(
        lambda: None if keys[1] in set(map(tuple, routed.drain()["keys"])) else "not yet",
        what="the deleted route named as drift",
    )
    same_as_full()
    assert keys[0] not in routed.observe_keys(want(seg), keys).objects


def test_forwarding_off_on_the_capture_interface_fails_the_captures_by_name(
    seg: Seg, routed: Any
) -> None:
    assert failures(routed.reconcile(want(seg))) == []
    seg.set(f"conf.{seg.cap}.forwarding", "0")

    failed = failures(routed.reconcile(want(seg)))

    assert len(failed) == len(CLAIMS)
    assert all(f"net.ipv4.conf.{seg.cap}.forwarding is not 1" in f for f in failed), failed
    assert seg.answered(CLAIMS[:1]) == {CLAIMS[0]: []}  # the kernel agrees: no answer


def test_releasing_a_claim_removes_its_route_and_the_answer(seg: Seg, routed: Any) -> None:
    assert failures(routed.reconcile(want(seg))) == []

    results = routed.reconcile(want(seg, CLAIMS[1:]))

    assert [(what, ok) for what, ok, _ in results] == [
        (f"remove route {CLAIMS[0]}/32 dev {seg.tun} metric 120", True)
    ]
    assert seg.answered(CLAIMS[:2]) == {CLAIMS[0]: [], CLAIMS[1]: [seg.mac()]}


def test_entries_left_by_entries_mode_stay_owned_and_go_with_their_claim(
    lab: Any, seg: Seg
) -> None:
    seg.set(f"conf.{seg.cap}.proxy_arp", "0")
    entries = lab.backend(seg.r, state="a", wireguard_go=None)
    assert failures(entries.reconcile(want(seg))) == []
    assert proxy_entries(seg) == sorted(CLAIMS)
    entries.close_backend(cleanup=False)

    routed = lab.backend(seg.r, state="a", proxy_capture="route", wireguard_go=None)
    assert routed.plan(want(seg)) == []
    results = routed.reconcile(want(seg, CLAIMS[1:]))

    assert failures(results) == []
    assert sorted(what for what, _, _ in results) == [
        f"remove proxy neighbour {CLAIMS[0]} dev {seg.cap}",
        f"remove route {CLAIMS[0]}/32 dev {seg.tun} metric 120",
    ]
    assert proxy_entries(seg) == sorted(CLAIMS[1:])


def test_a_capture_interface_mac_change_reannounces_covered_captures(seg: Seg, routed: Any) -> None:
    assert failures(routed.reconcile(want(seg))) == []
    routed.observe(want(seg))  # the backend's view of what is captured

    seg.r.ip("link", "set", seg.cap, "address", NEW_MAC)
    deadline = time.monotonic() + 5
    while not routed.reannounced() and time.monotonic() < deadline:
        time.sleep(0.05)  # the event thread sees the change on its own

    assert routed.reannounced() == [(seg.cap, NEW_MAC, len(CLAIMS))]


def test_an_unknown_capture_mode_is_refused_with_the_choices(lab: Any, seg: Seg) -> None:
    with pytest.raises(Exception, match="proxy_capture must be one of entries, route"):
        lab.backend(seg.r, proxy_capture="pneigh", wireguard_go=None)
