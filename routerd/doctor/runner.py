"""Assemble each doctor area from its checks and run them through ``run_checks``.

``run_checks`` (routerd.core.doctor) runs named checks in parallel and turns a crashing
check into a FAIL finding, so this module only decides *which* checks an area has, keyed by
claim: one check per claim (its engine state, then its live findings in reference order),
one per overlay peer, one per HybridRoute destination. Host gating is decided once: with
``--no-host`` or the sim backend every claim gets exactly one SKIP saying why, while the
config-level findings and the engine's claim state still run.

A live hybrid run first starts every host read at once (``prefetch``: table dumps, one
batched route lookup, one ARP sweep per capture interface), so the per-claim checks only
look things up; the report then ends with one summary finding per per-claim check
(``summary``), which is what a person reads first at 10,000 claims.
"""

from __future__ import annotations

from collections.abc import Callable

from routerd.core.doctor import AREAS, Check, DoctorContext, Finding, Report, Status, run_checks
from routerd.core.lowering import ClaimIntent
from routerd.core.resources import HybridRoute, OverlayPeer
from routerd.doctor import (
    capture_mac,
    capture_route,
    claim_state,
    dynamic,
    hybrid_config,
    hybrid_live,
    mobility,
    mtu_probe,
    plugin,
    prefetch,
    provider_actions,
    stale_tables,
    summary,
    wireguard,
)
from routerd.doctor.host import Host
from routerd.doctor.inputs import Inputs, gated, resolve

Checks = list[tuple[str, Check]]
CHECK_WORKERS = 8
"""``run_checks``' pool for areas whose checks wait on the host themselves."""


def hybrid(inputs: Inputs) -> Checks:
    checks: Checks = [("hybrid config", lambda: hybrid_config.findings(inputs))]
    gate = inputs.host_gate
    for name, intent in inputs.intents.items():
        checks.append((f"RemoteAddressClaim/{name}", _claim_check(inputs, name, intent, gate)))
    if gate:
        return checks
    for peer in inputs.config.of(OverlayPeer):
        checks.append((f"{peer.ref} handshake", _handshake(inputs, peer)))
    proxied = {
        c.capture_interface for c in inputs.intents.values() if c.capture_type == "proxy-arp"
    }
    for ifname in sorted(proxied - {""}):
        checks.append((capture_mac.name(ifname), _capture_mac(inputs, ifname)))
    checks.append((capture_route.LEFTOVER, lambda: [capture_route.leftover(inputs)]))
    for hr in inputs.config.of(HybridRoute):
        via = inputs.config.get(OverlayPeer, hr.spec.peer_ref)
        dev = via.spec.underlay.interface if via else ""
        for cidr in hr.spec.destination_cidrs:
            checks.append((f"{hr.ref} route {cidr}", _route(inputs, hr.name, cidr, dev)))
    return checks


def _handshake(inputs: Inputs, peer: OverlayPeer) -> Check:
    return lambda: [wireguard.handshake(inputs, peer)]


def _capture_mac(inputs: Inputs, ifname: str) -> Check:
    return lambda: [capture_mac.check(inputs, ifname)]


def _route(inputs: Inputs, name: str, cidr: str, dev: str) -> Check:
    return lambda: [hybrid_live.hybrid_route_installed(inputs, name, cidr, dev)]


def _claim_check(inputs: Inputs, name: str, intent: ClaimIntent, gate: str) -> Check:
    def run() -> list[Finding]:
        out = [claim_state.check(inputs, name)]
        if gate:
            return out + gated("hybrid", [name], gate)
        out += hybrid_live.claim_findings(inputs, intent)
        if inputs.ctx.probe:
            out.append(mtu_probe.check(inputs, intent))
        return out

    return run


def firewall(inputs: Inputs) -> Checks:
    if inputs.host_gate:
        reason = inputs.host_gate
        return [
            ("firewall gate", lambda: [Finding("firewall", stale_tables.NAME, Status.SKIP, reason)])
        ]
    return [(stale_tables.NAME, lambda: stale_tables.check(inputs))]


AREA_CHECKS: dict[str, Callable[[Inputs], Checks]] = {
    "hybrid": hybrid,
    "dynamic": lambda i: [("dynamic", lambda: dynamic.findings(i))],
    "plugin": lambda i: [("plugin", lambda: plugin.findings(i))],
    "firewall": firewall,
    "mobility": mobility.checks,
    "provider": provider_actions.checks,
}


def run_doctor(area: str, ctx: DoctorContext, *, host: Host | None = None) -> Report:
    """Run one doctor area.

    Args:
        area: one of ``routerd.core.doctor.AREAS`` (hybrid, dynamic, plugin, firewall,
            mobility, provider).
        ctx: what to look at (configs, engine state, store, flags).
        host: how to reach the host; tests pass recorded command outputs. Defaults to the
            real host (subprocess runner, ``/proc/sys``, the system clock).

    Returns:
        The report; ``Report.overall`` is fail only when a check failed. A hybrid report
        ends with one ``<check> (all claims)`` summary per per-claim check (``summary``).

    Raises:
        ValueError: unknown area (the message lists the known ones).
    """
    if area not in AREAS:
        raise ValueError(f"unknown doctor area {area!r}; use one of: {', '.join(AREAS)}")
    inputs = resolve(ctx, (host or Host()).fresh())
    workers = CHECK_WORKERS
    if area == "hybrid" and not inputs.host_gate:
        prefetch.warm(inputs)
        workers = 1  # every read is done: the checks are CPU work, threads only add GIL churn
    report = run_checks(area, AREA_CHECKS[area](inputs), workers=workers)
    if area == "hybrid":
        report.findings += summary.summaries(area, report.findings)
    return report
