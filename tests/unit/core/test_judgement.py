"""Judgement: judging many claims against one observation gives each claim's own verdict.

Every case takes an observation that supports delivering and breaks one thing, shared by
the shape (a sysctl, the tunnel, the peer, the clamp) or the claim's own (its route, the
peer's allowed IPs, the provider's answer); ``Judgement`` must agree with
``assess_delivery`` and ``path_check`` of the claim alone, also when a claim of the same
shape was judged first with another outcome (what it remembers per shape must not leak
what belongs to one claim).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace as dataclass_replace

import pytest

from routerd.core.assess import assess_delivery, assess_path, path_check
from routerd.core.assignment import Assignment
from routerd.core.desired import (
    AbsentAddress,
    LinkState,
    MssClampTable,
    MssRule,
    Observed,
    Route,
    Sysctl,
    WgPeer,
    WireGuardDevice,
)
from routerd.core.judgement import Judgement
from routerd.core.lowering import ClaimIntent
from routerd.core.port import InputRoute, PathEvidence
from tests.unit.core.test_assess import CLOUD, KEY, ONPREM, healthy, replace

Break = Callable[[Observed, ClaimIntent], None]


def _sysctl(name: str, value: str) -> Break:
    def br(o: Observed, c: ClaimIntent) -> None:
        del c
        o.objects[("sysctl", name)] = Sysctl(name, value)

    return br


def _drop(key: tuple[str, ...]) -> Break:
    def br(o: Observed, c: ClaimIntent) -> None:
        del c
        o.objects.pop(key, None)

    return br


def _route(dev: str, kind: str = "unicast") -> Break:
    def br(o: Observed, c: ClaimIntent) -> None:
        o.objects[("route", "254", c.address)] = Route(c.address, dev, 120, type=kind)

    return br


def _link(name: str, state: LinkState | None) -> Break:
    def br(o: Observed, c: ClaimIntent) -> None:
        del c
        if state is None:
            o.links.pop(name, None)
        else:
            o.links[name] = state

    return br


def _peer(allowed: frozenset[str] | None) -> Break:
    def br(o: Observed, c: ClaimIntent) -> None:
        peers = () if allowed is None else (WgPeer(KEY, allowed),)
        o.objects[("wg", c.tunnel)] = WireGuardDevice(c.tunnel, peers=peers)

    return br


def _answer(status: str) -> Break:
    def br(o: Observed, c: ClaimIntent) -> None:
        o.assignments = {c.ip: Assignment(status, f"{status} on eni-1")}  # type: ignore[arg-type]

    return br


def _present(o: Observed, c: ClaimIntent) -> None:
    o.objects[("absent", c.ip)] = AbsentAddress(c.ip, present_on=(("ens5", c.address),))


def _clamp(mss: int | None) -> Break:
    def br(o: Observed, c: ClaimIntent) -> None:
        del c
        if mss is None:
            o.objects.pop(("nft", "inet", "routerd_mss"), None)
        else:
            table = MssClampTable(frozenset({MssRule("ens19", "wg0", mss)}))
            o.objects[table.key] = table

    return br


def _nothing(o: Observed, c: ClaimIntent) -> None:
    del o, c


BREAKS: dict[str, Break] = {
    "healthy": _nothing,
    "ip-forward-off": _sysctl("net.ipv4.ip_forward", "0"),
    "ip-forward-unknown": _drop(("sysctl", "net.ipv4.ip_forward")),
    "capture-interface-missing": lambda o, c: _link(c.capture_interface, None)(o, c),
    "forwarding-off": _sysctl("net.ipv4.conf.ens19.forwarding", "0"),
    "proxy-arp-off": _sysctl("net.ipv4.conf.ens19.proxy_arp", "0"),
    "route-missing": lambda o, c: _drop(("route", "254", c.address))(o, c),
    "route-blackhole": _route("", "blackhole"),
    "route-via-capture": _route("ens19"),
    "route-via-other": _route("eth9"),
    "tunnel-missing": _link("wg0", None),
    "tunnel-down": _link("wg0", LinkState("wg0", up=False)),
    "tunnel-gone": _link("wg0", LinkState("wg0", exists=False)),
    "wg-device-missing": _drop(("wg", "wg0")),
    "peer-missing": _peer(None),
    "peer-not-covering": _peer(frozenset({"10.9.9.9/32"})),
    "provider-not-assigned": _answer("not-assigned"),
    "provider-pending": _answer("pending"),
    "provider-assigned": _answer("assigned"),
    "address-present": _present,
    "clamp-missing": _clamp(None),
    "clamp-too-high": _clamp(1500),
    "clamp-ok": _clamp(1300),
}
ALL_PROXY = _sysctl("net.ipv4.conf.all.proxy_arp", "1")
CLAMPED = replace(ONPREM, mss=1360, mss_paths=(("ens19", "wg0"),))
CLAIMS = {"proxy-arp": ONPREM, "provider": CLOUD, "proxy-arp-clamped": CLAMPED}
STANDBY = [frozenset(), frozenset({"ens19"})]


def _observed(c: ClaimIntent, *breaks: Break) -> Observed:
    o = healthy(c)
    if c.mss_paths:
        _clamp(1360)(o, c)
    for br in breaks:
        br(o, c)
    return o


def _sibling(c: ClaimIntent) -> ClaimIntent:
    """Another claim of ``c``'s shape (same facts), with its own address."""
    return dataclass_replace(c, name=c.name + "-b", address="10.40.8.99/32", ip="10.40.8.99")


def _with_sibling(c: ClaimIntent, o: Observed) -> Observed:
    """``o`` where ``c``'s sibling is healthy on its own objects."""
    s = _sibling(c)
    route = o.objects.get(("route", "254", c.address))
    o.objects[("route", "254", s.address)] = Route(s.address, c.tunnel, 120)
    del route
    dev = o.objects.get(("wg", c.tunnel))
    if isinstance(dev, WireGuardDevice):
        peers = tuple(
            WgPeer(p.public_key, p.allowed_ips | {s.address}) if p.public_key == KEY else p
            for p in dev.peers
        )
        o.objects[dev.key] = WireGuardDevice(c.tunnel, peers=peers)
    if c.capture_type != "proxy-arp":
        o.objects[("absent", s.ip)] = AbsentAddress(s.ip)
    return o


@pytest.mark.parametrize("standby", STANDBY, ids=["active", "standby"])
@pytest.mark.parametrize("all_proxy", [False, True], ids=["own-proxy", "all-proxy"])
@pytest.mark.parametrize("broken", sorted(BREAKS))
@pytest.mark.parametrize("kind", sorted(CLAIMS))
def test_judgement_agrees_with_judging_each_claim_alone(
    kind: str, broken: str, all_proxy: bool, standby: frozenset[str]
) -> None:
    c = CLAIMS[kind]
    breaks = [BREAKS[broken], *([ALL_PROXY] if all_proxy else [])]
    o = _with_sibling(c, _observed(c, *breaks))
    sibling = _sibling(c)
    alone = assess_delivery(c, o, standby)
    assert Judgement(o, standby).delivery(c) == alone
    # a claim of the same shape judged first, in both orders, changes nothing
    j = Judgement(o, standby)
    assert j.delivery(sibling) == assess_delivery(sibling, o, standby)
    assert j.delivery(c) == alone
    assert j.delivery(sibling) == assess_delivery(sibling, o, standby)
    assert j.path_check(c) == path_check(c, o)
    assert j.path_check(sibling) == path_check(sibling, o)


def test_the_breaks_reach_every_outcome() -> None:
    """The cases above cover passing and each failing level (else they prove little)."""
    seen = set()
    for c in CLAIMS.values():
        for br in BREAKS.values():
            v = assess_delivery(c, _observed(c, br))
            seen.add((v.level, v.reason) if v is not None else None)
    assert None in seen
    assert {r for _, r in filter(None, seen)} >= {
        "ip-forward-disabled",
        "capture-interface-missing",
        "capture-forwarding-disabled",
        "proxy-arp-disabled",
        "capture-route-missing",
        "tunnel-missing",
        "tunnel-down",
        "route-not-installed",
        "peer-not-covered",
        "mss-clamp-missing",
        "provider-ip-not-assigned",
        "provider-check-pending",
        "os-address-present",
    }


@pytest.mark.parametrize(
    "addresses",
    [(), ("10.40.8.1/24",), ("10.40.8.254/24",), ("10.0.0.1/32", "10.40.8.253/30")],
)
@pytest.mark.parametrize("ip", ["10.40.8.254", "10.40.8.253", "10.40.8.21"])
def test_path_check_picks_the_same_segment_source(addresses: tuple[str, ...], ip: str) -> None:
    c = dataclass_replace(ONPREM, ip=ip, address=f"{ip}/32")
    o = healthy(c)
    o.links["ens19"] = LinkState("ens19", addresses=addresses)
    j = Judgement(o)
    j.path_check(ONPREM)  # another claim on the interface first
    assert j.path_check(c) == path_check(c, o)


_CAPTURES = [
    None,
    InputRoute("10.40.8.1", "unicast", "wg0"),
    InputRoute("10.40.8.1", "unicast", "ens19"),
    InputRoute("10.40.8.1", "unicast", "eth9"),
    InputRoute("10.40.8.1", "blackhole", ""),
    InputRoute("10.40.8.1", error="Network is unreachable"),
]
EVIDENCE: list[PathEvidence | None] = [
    None,
    *(PathEvidence("wg0", capture=cap) for cap in _CAPTURES),
    PathEvidence(None),
    PathEvidence("eth9"),
    PathEvidence("wg0", True),
    PathEvidence("wg0", False, "no answer"),
    PathEvidence("wg0", None, "running", probe_pending=True),
]
HANDSHAKES = {"fresh": 5.0, "stale": 500.0, "none": None}
ANSWERS = {
    "none": {},
    "mixed": {"10.40.8.31": "assigned", "10.40.8.21": "unknown", "10.40.8.99": "pending"},
    "assigned": {"10.40.8.31": "assigned", "10.40.8.21": "assigned", "10.40.8.99": "assigned"},
}


@pytest.mark.parametrize("answers", sorted(ANSWERS))
@pytest.mark.parametrize("handshake", sorted(HANDSHAKES))
@pytest.mark.parametrize("kind", sorted(CLAIMS))
def test_path_verdict_agrees_with_judging_each_claim_alone(
    kind: str, handshake: str, answers: str
) -> None:
    """``Judgement.path`` answers the path checks once per shape and evidence object: every
    claim still gets ``assess_path``'s verdict, whatever was judged before it (claims of the
    same shape with the same and with other evidence, and a claim of another shape)."""
    c = CLAIMS[kind]
    o = _with_sibling(c, _observed(c))
    age = HANDSHAKES[handshake]
    o.handshakes = {} if age is None else {(c.tunnel, KEY): age}
    o.assignments = {
        ip: Assignment(status, f"{status} on eni-1")  # type: ignore[arg-type]
        for ip, status in ANSWERS[answers].items()
    }
    sibling = _sibling(c)
    other = replace(c, tunnel="wg9")  # another shape: its tunnel is not observed
    max_age = 180.0
    j = Judgement(o, max_handshake_age=max_age)
    for first in EVIDENCE:
        for then in EVIDENCE:
            for claim, ev in [(c, first), (sibling, first), (other, first), (sibling, then)]:
                want = assess_path(claim, o, ev, max_handshake_age=max_age)
                assert j.path(claim, ev) == want, (claim.name, ev)
                assert j.path(claim, ev).message is want.message or want.level < 3
                assert j.path_check(claim) == path_check(claim, o)


def test_the_path_cases_reach_every_outcome() -> None:
    """The evidence above reaches verified and each failing path check."""
    seen = set()
    for c in CLAIMS.values():
        o = _observed(c)
        for ev in EVIDENCE:
            v = assess_path(c, o, ev)
            seen.add((v.level, v.reason))
    assert (3, "") in seen
    assert {r for level, r in seen if level == 2} >= {
        "route-lookup-mismatch",
        "capture-route-missing",
        "overlay-probe-pending",
        "overlay-probe-failed",
    }
