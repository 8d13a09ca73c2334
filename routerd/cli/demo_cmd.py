"""``routerd demo``: watch an address move in the simulated lab, and see why it would not.

Scenarios (``--scenario``):
  smoke            both claims walk to verified; ping, a 100 MiB TCP copy each way, source
                   preserved, no NAT, gateways unchanged (the smoke of docs/lab.md).
  oci-no-clamp     the OCI path MTU black hole: without the MSS clamp ping passes but the
                   bulk copy stalls; with routerd's clamp it completes.
  oci-firewall     OCI's image firewall blocks WireGuard: claims wait at delivering with
                   handshake-stale until the documented host rule is applied.
  agent-readds     a guest agent re-adds the captured address to the cloud router's NIC:
                   the claim degrades (os-address-present) and heals.
  drift            the delivery route is deleted behind routerd's back: degraded, healed.
  live-migration   three sites with address mobility: a VM moves from site-a to site-b;
                   homes (sequence, evidence), packet traces before and after, the claims
                   and the outage in virtual time (examples/worlds/mobility.yaml).
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass

from routerd.backends.sim import lab as L
from routerd.backends.sim.fib import RouteEntry
from routerd.cli.common import EXIT_FAIL, EXIT_OK, add_output, table
from routerd.cli.demo_lab import DemoLab, build

MIB = 1024 * 1024


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    source_seen: str | None = None


def _ping(demo: DemoLab, src: str, dst: str, src_ip: str) -> Check:
    p = demo.lab.world.ping(src, dst)
    seen = p.request.source_seen
    detail = f"reply received, source seen {seen}" if p.ok else p.summary()
    return Check(f"ping {src} -> {dst}", p.ok and seen == src_ip, detail, seen)


def _copy(demo: DemoLab, src: str, dst: str, src_ip: str, *, expect: bool = True) -> Check:
    t = demo.lab.world.tcp_transfer(src, dst, 100 * MIB)
    ok = (
        (t.completed and t.source_seen == src_ip)
        if expect
        else (t.handshake_ok and not t.completed)
    )
    what = "100 MiB TCP copy" if expect else "100 MiB TCP copy stalls without the clamp"
    return Check(f"{what} {src} -> {dst}", ok, t.detail, t.source_seen)


def _gateways(demo: DemoLab, before: dict[str, list[RouteEntry]]) -> Check:
    after = _default_routes(demo)
    return Check(
        "client default gateways unchanged",
        after == before,
        "; ".join(f"{h}: via {r[0].gateway}" for h, r in after.items() if r),
    )


def _default_routes(demo: DemoLab) -> dict[str, list[RouteEntry]]:
    w = demo.lab.world
    return {h: w.hosts[h].fib.routes_for("0.0.0.0/0") for h in (L.CLOUD_VM, L.ONPREM_VM)}


def traffic_checks(demo: DemoLab, before: dict[str, list[RouteEntry]]) -> list[Check]:
    checks = [
        _ping(demo, L.CLOUD_VM, L.ONPREM_VM_IP, L.CLOUD_VM_IP),
        _ping(demo, L.ONPREM_VM, L.CLOUD_VM_IP, L.ONPREM_VM_IP),
        _copy(demo, L.CLOUD_VM, L.ONPREM_VM_IP, L.CLOUD_VM_IP),
        _copy(demo, L.ONPREM_VM, L.CLOUD_VM_IP, L.ONPREM_VM_IP),
    ]
    preserved = all(c.source_seen in (L.CLOUD_VM_IP, L.ONPREM_VM_IP) for c in checks)
    checks.append(
        Check(
            "no NAT: every packet arrived with its sender's address",
            preserved,
            "sources seen: " + ", ".join(sorted({c.source_seen or "-" for c in checks})),
        )
    )
    checks.append(_gateways(demo, before))
    return checks


def _claims_check(demo: DemoLab, state: str, reason: str = "") -> Check:
    claims = demo.claims()
    ok = all(c["state"] == state and (not reason or c["reason"] == reason) for c in claims)
    detail = ", ".join(
        f"{c['name']}={c['state']}{'/' + c['reason'] if c['reason'] else ''}" for c in claims
    )
    label = f"every claim {state}" + (f" ({reason})" if reason else "")
    return Check(label, ok, detail)


def _saw(demo: DemoLab, to_state: str, reason: str) -> Check:
    hit = [r for _, r in demo.journal if r.to_state == to_state and r.reason == reason]
    detail = (
        f"{hit[0].claim}: {hit[0].from_state} -> {to_state} ({reason}); {hit[0].message}"
        if hit
        else "not seen"
    )
    return Check(f"claim went {to_state} with reason {reason}", bool(hit), detail)


def smoke(provider: str) -> tuple[DemoLab, list[Check]]:
    demo = build(provider, firewall="opened" if provider == "oci" else None)
    before = _default_routes(demo)
    demo.settle()
    return demo, [_claims_check(demo, "verified"), *traffic_checks(demo, before)]


def oci_no_clamp(provider: str) -> tuple[DemoLab, list[Check]]:
    bad = build("oci", firewall="opened", clamp=False)
    bad.settle(rounds=6)
    checks = [
        _ping(bad, L.CLOUD_VM, L.ONPREM_VM_IP, L.CLOUD_VM_IP),
        _copy(bad, L.CLOUD_VM, L.ONPREM_VM_IP, L.CLOUD_VM_IP, expect=False),
        _saw(bad, "degraded", "mss-clamp-missing"),
    ]
    good = build("oci", firewall="opened")
    try:
        good.settle()
        for src, dst, ip in (
            (L.CLOUD_VM, L.ONPREM_VM_IP, L.CLOUD_VM_IP),
            (L.ONPREM_VM, L.CLOUD_VM_IP, L.ONPREM_VM_IP),
        ):
            check = _copy(good, src, dst, ip)
            check.name += " with routerd's MSS clamp"
            checks.append(check)
    finally:
        good.close()
    return bad, checks


def oci_firewall(provider: str) -> tuple[DemoLab, list[Check]]:
    demo = build("oci", firewall="image-default")
    demo.settle(rounds=6)
    checks = [_claims_check(demo, "delivering", "handshake-stale")]
    demo.lab.open_firewall()
    demo.settle()
    checks += [
        _claims_check(demo, "verified"),
        _ping(demo, L.CLOUD_VM, L.ONPREM_VM_IP, L.CLOUD_VM_IP),
    ]
    return demo, checks


def agent_readds(provider: str) -> tuple[DemoLab, list[Check]]:
    demo, _ = smoke(provider)
    demo.lab.agent_readds_address()
    demo.settle()
    return demo, [
        _saw(demo, "degraded", "os-address-present"),
        _claims_check(demo, "verified"),
        _ping(demo, L.CLOUD_VM, L.ONPREM_VM_IP, L.CLOUD_VM_IP),
    ]


def drift(provider: str) -> tuple[DemoLab, list[Check]]:
    demo, _ = smoke(provider)
    demo.lab.world.delete_route(L.CLOUD_ROUTER, f"{L.ONPREM_VM_IP}/32")
    demo.settle()
    return demo, [
        _saw(demo, "degraded", "route-not-installed"),
        _claims_check(demo, "verified"),
        _ping(demo, L.CLOUD_VM, L.ONPREM_VM_IP, L.CLOUD_VM_IP),
    ]


SCENARIOS: dict[str, Callable[[str], tuple[DemoLab, list[Check]]]] = {
    "smoke": smoke,
    "oci-no-clamp": oci_no_clamp,
    "oci-firewall": oci_firewall,
    "agent-readds": agent_readds,
    "drift": drift,
}

LIVE_MIGRATION = "live-migration"
"""A world of routerd daemons rather than the two-engine lab (``demo_mobility``)."""


def render_text(provider: str, scenario: str, demo: DemoLab, checks: list[Check]) -> str:
    lines = [f"routerd demo: {provider} x on-prem, scenario {scenario} (simulated lab)", ""]
    rows = [
        [c["router"], c["name"], c["address"], c["state"], c["reason"] or "-"]
        for c in demo.claims()
    ]
    lines.append(table(rows, ["ROUTER", "CLAIM", "ADDRESS", "STATE", "REASON"]))
    lines.append("")
    for router, rec in demo.journal:
        why = f"  ({rec.reason})" if rec.reason and rec.to_state == "degraded" else ""
        lines.append(f"  {router:<14} {rec.claim:<14} {rec.from_state} -> {rec.to_state}{why}")
    lines.append("")
    for c in checks:
        mark = "ok  " if c.ok else "FAIL"
        lines.append(f"  {mark} {c.name}")
        if c.detail:
            lines.append(f"       {c.detail}")
    failed = sum(not c.ok for c in checks)
    lines.append("")
    lines.append("All checks passed." if not failed else f"{failed} check(s) failed.")
    return "\n".join(lines)


def cmd_demo(args: argparse.Namespace) -> int:
    logger = logging.getLogger("routerd")
    saved = logger.level
    if args.log_level == "info":  # the journey is printed; engine INFO lines would repeat it
        logger.setLevel(logging.WARNING)
    try:
        return _run_demo(args)
    finally:
        logger.setLevel(saved)


def _run_demo(args: argparse.Namespace) -> int:
    if args.scenario == LIVE_MIGRATION:
        from routerd.cli import demo_mobility

        return demo_mobility.main(args.output)
    run = SCENARIOS[args.scenario]
    provider = "oci" if args.scenario.startswith("oci-") else args.provider
    demo, checks = run(provider)
    try:
        if args.output == "json":
            claims = [
                {k: c[k] for k in ("router", "name", "address", "state", "reason")}
                for c in demo.claims()
            ]
            doc = {
                "provider": provider,
                "scenario": args.scenario,
                "claims": claims,
                "checks": [asdict(c) for c in checks],
            }
            print(json.dumps(doc, indent=2))
        else:
            print(render_text(provider, args.scenario, demo, checks))
    finally:
        demo.close()
    return EXIT_OK if all(c.ok for c in checks) else EXIT_FAIL


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "demo",
        help="watch an address move in a simulated cloud/on-prem lab",
        description="Build the namespace lab's topology in the simulated dataplane, run one "
        "engine per router on the example configs, and show the claims walking to verified "
        "plus the traffic checks. Exit 0 when every check passes.",
        epilog=__doc__.split("Scenarios", 1)[1].replace("(``--scenario``):", "scenarios:"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--provider",
        choices=("azure", "aws", "oci", "gcp"),
        default="azure",
        help="cloud profile (default azure; oci-* scenarios always use oci)",
    )
    p.add_argument("--scenario", choices=(*SCENARIOS, LIVE_MIGRATION), default="smoke")
    add_output(p, ("text", "json"), "text")
    p.set_defaults(func=cmd_demo)
