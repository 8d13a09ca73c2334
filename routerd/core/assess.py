"""Judge one claim against an observation: the furthest state it supports, and why not further.

Pure functions over (ClaimIntent, Observed, PathEvidence). Each check is a named step with a
stable lower-kebab-case reason code; the first failing step names the reason. The engine
walks the state machine to the level returned here (level-triggered reconcile).

Evidence is never assumed: an answer still on its way (the first overlay probe, the first
instance-metadata read) holds the claim where it is, with a ``-pending`` reason. Where a
piece of evidence cannot be had at all (no overlay address assigned on this end, no
metadata service), the claim is judged on the rest; for the provider side the verdict's
message says what stayed unproven.
"""

from __future__ import annotations

import sys
from typing import NamedTuple

from routerd.core import capture
from routerd.core.desired import (
    AbsentAddress,
    Key,
    MssClampTable,
    Observed,
    Route,
    WireGuardDevice,
)
from routerd.core.lifecycle import ClaimState
from routerd.core.lowering import IP_FORWARD, ClaimIntent
from routerd.core.mobility.verify import MOBILITY_REASONS
from routerd.core.port import InputRoute, PathCheck, PathEvidence

HANDSHAKE_MAX_AGE = 180.0

REASONS = {
    "capture-interface-missing": "the capture interface does not exist on this host",
    "ip-forward-disabled": "net.ipv4.ip_forward is not 1",
    "capture-standby": "proxy-ARP capture is switched off on this router (warm standby)",
    "capture-forwarding-disabled": "forwarding is off on the capture interface",
    "proxy-arp-disabled": "proxy_arp is enabled neither on the capture interface nor for all",
    "capture-route-missing": "no unicast route for the address leaves by another device",
    "os-address-present": "the captured address is assigned to a local interface",
    "provider-ip-not-assigned": "the provider's metadata does not show the address on the NIC",
    "provider-check-pending": "the first read of the provider's instance metadata is running",
    "tunnel-missing": "the delivery tunnel interface does not exist",
    "tunnel-down": "the delivery tunnel interface is down",
    "route-not-installed": "the /32 delivery route is not installed via the tunnel",
    "peer-not-covered": "the WireGuard peer's allowed IPs do not cover the address",
    "mss-clamp-missing": "the MSS clamp for a stepped-down path is not installed",
    "handshake-stale": "the overlay peer has no recent WireGuard handshake",
    "route-lookup-mismatch": "the kernel's route lookup does not pick the tunnel",
    "overlay-probe-pending": "the first probe of the peer's overlay address has not answered",
    "overlay-probe-failed": "the delivery path probe failed",
    "apply-failed": "routerd could not program an object this claim needs",
    **MOBILITY_REASONS,
}
HELD_AT = ClaimState.DELIVERING
"""Where a claim whose source holds it back (``held_back``) waits: its dataplane is proven,
what its source rests on is not (the home site of a derived claim no longer announces it)."""


_STATES = (
    ClaimState.PENDING,
    ClaimState.CAPTURED,
    ClaimState.DELIVERING,
    ClaimState.VERIFIED,
)


class Verdict(NamedTuple):
    """Where the observation puts a claim (a tuple: a full pass makes one per claim).

    Attributes:
        level: 0 pending .. 3 verified.
        reason: code of the first failing check ("" when verified).
        message: human detail for that check.
        key: the desired object behind the failure, when one is.
        apply_failed: that object could not be programmed.
    """

    level: int
    reason: str = ""
    message: str = ""
    key: Key | None = None
    apply_failed: bool = False

    @property
    def state(self) -> ClaimState:
        return _STATES[self.level]


VERIFIED = Verdict(3)
"""The verdict of a claim with every piece of evidence and nothing left unproven."""
_UNCONSULTED = sys.intern(
    "capture declared, provider side unproven: no provider metadata was consulted"
)
_DECLARED = Verdict(3, "", _UNCONSULTED)
"""Verified, the provider side unproven for want of metadata: one verdict for every such
claim of a full pass (provider-side claims on a host nobody asks the provider from)."""

Fail = tuple[str, str, Key | None]


def _capture(c: ClaimIntent, o: Observed, standby: frozenset[str]) -> Fail | None:
    if c.capture_interface and not o.link_exists(c.capture_interface):
        return ("capture-interface-missing", f"{c.capture_interface} not found", None)
    if o.sysctl(IP_FORWARD) != "1":
        return (
            "ip-forward-disabled",
            f"{IP_FORWARD}={o.sysctl(IP_FORWARD)}",
            ("sysctl", IP_FORWARD),
        )
    if c.capture_type == "proxy-arp":
        capif = c.capture_interface
        fail = capture.judge(c.ip, capif, o, standby=capif in standby)
        if fail is not None and fail[0] == "capture-route-missing":
            # the kernel deletes a device's routes when it goes down or away: the route is
            # missing because of the tunnel, and that is what the operator must fix
            return _tunnel(c, o) or fail
        return fail
    akey: Key = ("absent", c.ip)
    seen = o.objects.get(akey)
    if isinstance(seen, AbsentAddress) and (seen.present_on or seen.local_routes):
        where = ", ".join(
            [f"{cidr} on {dev}" for dev, cidr in seen.present_on]
            + [f"a local route on {dev} (proto {p})" for dev, p in seen.local_routes]
        )
        return (
            "os-address-present",
            f"{c.ip} is assigned locally ({where}); routerd removes it on every pass",
            akey,
        )
    answer = o.assignments.get(c.ip)
    if answer is not None and answer.status == "not-assigned":
        return ("provider-ip-not-assigned", answer.detail, None)
    if answer is not None and answer.status == "pending":
        return ("provider-check-pending", answer.detail, None)
    return None


def unproven(c: ClaimIntent, o: Observed) -> str:
    """What a capture that passed did not prove ("" when nothing): the provider's side.

    A provider-secondary-ip capture is *declared* when no metadata answer confirms it (none
    asked, none reachable, or the provider does not list secondary IPs).
    """
    if c.capture_type == "proxy-arp":
        return ""
    answer = o.assignments.get(c.ip)
    if answer is not None and answer.status == "assigned":
        return ""
    if answer is None:
        return _UNCONSULTED
    # one string for every claim with the same reason (a claim view keeps it per claim)
    return sys.intern(f"capture declared, provider side unproven: {answer.detail}")


def _tunnel(c: ClaimIntent, o: Observed) -> Fail | None:
    if not o.link_exists(c.tunnel):
        return ("tunnel-missing", f"{c.tunnel} not found", ("wg", c.tunnel))
    if not o.links[c.tunnel].up:
        return (
            "tunnel-down",
            f"{c.tunnel} is administratively or operationally down",
            ("wg", c.tunnel),
        )
    return None


def _deliver(c: ClaimIntent, o: Observed, standby: frozenset[str]) -> Fail | None:
    del standby
    fail = _tunnel(c, o)
    if fail is not None:
        return fail
    rkey: Key = ("route", "254", c.address)
    route = o.objects.get(rkey)
    if not isinstance(route, Route) or route.dev != c.tunnel:
        have = f"dev {route.dev}" if isinstance(route, Route) else "absent"
        return ("route-not-installed", f"{c.address} dev {c.tunnel} ({have})", rkey)
    if c.wg_public_key:
        dev = o.objects.get(("wg", c.tunnel))
        peer = dev.peer(c.wg_public_key) if isinstance(dev, WireGuardDevice) else None
        if peer is None or c.address not in peer.allowed_ips:
            return (
                "peer-not-covered",
                f"{c.address} not in the allowed IPs of peer "
                f"{c.wg_public_key[:8]}... on {c.tunnel}",
                ("wg", c.tunnel),
            )
    if c.mss_paths:
        table = o.objects.get(("nft", "inet", "routerd_mss"))
        for iif, oif in c.mss_paths:
            rule = table.covers(iif, oif) if isinstance(table, MssClampTable) else None
            if rule is None or (c.mss is not None and rule.mss > c.mss):
                return (
                    "mss-clamp-missing",
                    f"no clamp {iif} -> {oif} at MSS {c.mss}",
                    ("nft", "inet", "routerd_mss"),
                )
    return None


def _verify(c: ClaimIntent, o: Observed, ev: PathEvidence | None, max_age: float) -> Fail | None:
    if c.wg_public_key:
        age = o.handshakes.get((c.tunnel, c.wg_public_key))
        if age is None:
            return ("handshake-stale", f"no WireGuard handshake with peer {c.peer} yet", None)
        if age > max_age:
            return ("handshake-stale", f"last handshake with peer {c.peer} {age:.0f}s ago", None)
    if ev is None:
        return ("route-lookup-mismatch", "path not verified yet", None)
    if c.capture_type == "proxy-arp" and ev.capture is not None:
        fail = _input_route(c, ev.capture)
        if fail is not None:
            return fail
    if ev.route_dev != c.tunnel:
        return (
            "route-lookup-mismatch",
            f"route lookup for {c.ip} gives {ev.route_dev or 'nothing'}, expected {c.tunnel}",
            None,
        )
    if ev.probe_pending:
        return ("overlay-probe-pending", ev.detail or "the first probe is running", None)
    if ev.probe_ok is False:
        return ("overlay-probe-failed", ev.detail or "probe failed", None)
    return None


def _input_route(c: ClaimIntent, got: InputRoute) -> Fail | None:
    """The kernel's own lookup for a proxied target: what ``arp_process`` sees."""
    asked = f"route get {c.ip} from {got.source} iif {c.capture_interface}"
    if got.error:
        why = f"{asked}: {got.error}"
    else:
        why = capture.route_answers(got.type, got.dev, c.ip, c.capture_interface)
        if not why and got.dev != c.tunnel:
            return (
                "route-lookup-mismatch",
                f"{asked} gives dev {got.dev}, expected {c.tunnel}",
                None,
            )
        why = f"{asked} gives {got.type} dev {got.dev or '-'}: {why}" if why else ""
    if not why:
        return None
    return ("capture-route-missing", why, capture.route_key(c.ip))


def held_back(verdict: Verdict, hold: tuple[str, str] | None) -> Verdict:
    """``verdict`` capped at ``HELD_AT`` with the hold's reason and message, when there is a
    hold (a claim source's verdict on what the dataplane cannot show, ``ClaimSource.hold``)."""
    if hold is None or verdict.level < 3:
        return verdict
    return Verdict(2, hold[0], hold[1])


def probe_source(c: ClaimIntent, o: Observed) -> str:
    """This router's overlay address when a probe can use it, else "".

    The probe needs both overlay addresses configured and this end's observed on the
    tunnel. ``OverlayPeer`` addresses are often only descriptive (nothing assigns them);
    probing from such an address fails forever while traffic flows.
    """
    if not c.local_overlay or not c.peer_overlay:
        return ""
    link = o.links.get(c.tunnel)
    if link is None or not any(a.split("/")[0] == c.local_overlay for a in link.addresses):
        return ""
    return c.local_overlay


def path_check(c: ClaimIntent, o: Observed) -> PathCheck:
    """The end-to-end check to ask the backend for, given what is observed now."""
    source = probe_source(c, o)
    segment = ""
    if c.capture_type == "proxy-arp" and c.capture_interface:
        link = o.links.get(c.capture_interface)
        segment = capture.segment_source(link.addresses if link else (), c.ip)
    return PathCheck(
        c.name,
        c.ip,
        c.tunnel,
        c.wg_public_key,
        source,
        c.peer_overlay if source else "",
        c.capture_interface,
        segment,
    )


def assess(
    c: ClaimIntent,
    o: Observed,
    evidence: PathEvidence | None,
    *,
    max_handshake_age: float = HANDSHAKE_MAX_AGE,
    standby: frozenset[str] = frozenset(),
) -> Verdict:
    """The furthest level ``o`` supports for claim ``c`` and the first failing check.

    Args:
        c: the claim's intent.
        o: the observation.
        evidence: the claim's latest path evidence (None: none yet).
        max_handshake_age: the age beyond which a WireGuard handshake is stale.
        standby: capture interfaces whose proxy-ARP capture is switched off on purpose.

    Returns:
        The verdict: ``assess_delivery``'s when capture or delivery fails, else
        ``assess_path``'s.
    """
    early = assess_delivery(c, o, standby)
    if early is not None:
        return early
    return assess_path(c, o, evidence, max_handshake_age=max_handshake_age)


def assess_delivery(
    c: ClaimIntent, o: Observed, standby: frozenset[str] = frozenset()
) -> Verdict | None:
    """The verdict when capture or delivery fails (level 0 or 1), else None.

    Reads no path evidence: a claim given new evidence after its path check keeps this
    part, and only ``assess_path`` is worked out again (one judgement per claim a pass).

    Args:
        c: the claim's intent.
        o: the observation.
        standby: capture interfaces whose proxy-ARP capture is switched off on purpose.

    Returns:
        The failing verdict, or None when the observation supports delivering.
    """
    fail = _capture(c, o, standby)
    if fail is not None:
        return Verdict(0, *fail)
    fail = _deliver(c, o, standby)
    if fail is not None:
        return Verdict(1, *fail)
    return None


def assess_path(
    c: ClaimIntent,
    o: Observed,
    evidence: PathEvidence | None,
    *,
    max_handshake_age: float = HANDSHAKE_MAX_AGE,
) -> Verdict:
    """The verdict of a claim whose capture and delivery hold (``assess_delivery`` None).

    Args:
        c: the claim's intent.
        o: the observation.
        evidence: the claim's latest path evidence (None: none yet).
        max_handshake_age: the age beyond which a WireGuard handshake is stale.

    Returns:
        Level 2 and why not further, or level 3.
    """
    fail = _verify(c, o, evidence, max_handshake_age)
    if fail is not None:
        return Verdict(2, *fail)
    return path_verified(c, o)


def path_holds(
    c: ClaimIntent, o: Observed, evidence: PathEvidence | None, max_handshake_age: float
) -> bool:
    """Whether every path check of ``assess_path`` passes.

    Whether they pass reads only the claim's shape (``c.facts``), the observation and the
    evidence: the claim's own address appears only in the message of a failing check.
    """
    return _verify(c, o, evidence, max_handshake_age) is None


def path_verified(c: ClaimIntent, o: Observed) -> Verdict:
    """``assess_path``'s verdict for a claim whose path checks all pass (level 3)."""
    why = unproven(c, o)
    if not why:
        return VERIFIED
    return _DECLARED if why is _UNCONSULTED else Verdict(3, "", why)
