"""``routerd demo --scenario live-migration``: a VM moves between two of three sites.

The world is the shipped ``examples/worlds/mobility.yaml`` (two on-prem proxy-ARP sites and
a cloud site, a BGP route reflector), served by real routerd daemons in this process on the
simulated dataplane and a virtual clock. The on-prem VMs announce themselves (each site
homes its own by their gratuitous ARP) and the cloud VM's address is moved to the cloud
site explicitly. Then ``migrant`` live-migrates from site-a to site-b: the demo shows the
homes (site, mobility sequence, evidence) and a packet trace from the cloud VM before and
after, the claims every router derived, and the outage the simulator measures: the virtual
time from the VM's gratuitous ARP at site-b until a ping works both ways between it and a
VM at each other site.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from routerd.cli.common import EXIT_FAIL, EXIT_OK, table
from routerd.examples import world_file

MIGRANT, MIGRANT_IP = "migrant", "10.77.1.50"
CLOUD_VM, CLOUD_VM_IP = "vm-c", "10.77.3.10"
PEERS = ("vm-a", "vm-b", "vm-c")
STEP = 0.001
"""Virtual seconds between outage checks."""
GIVE_UP = 5.0
"""Virtual seconds after which the outage counts as not ended."""


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


def _homes(world: Any, router: str) -> list[dict[str, Any]]:
    return [
        {
            "address": h.address,
            "home": h.home,
            "sequence": h.sequence,
            "origin": h.origin,
            "evidence": h.evidence.detail or h.evidence.kind,
        }
        for h in world.mobility.homes(router).values()
    ]


def _trace(world: Any) -> dict[str, Any]:
    t = world.trace(CLOUD_VM, MIGRANT_IP)
    via = [h.host for h in t.hops if h.event == "forward"]
    return {"delivered_to": t.delivered_to, "via": via, "drop": t.drop_reason}


def _both_ways(world: Any) -> bool:
    oracle = world.host.world
    return all(
        oracle.ping(vm, MIGRANT_IP).ok and oracle.ping(MIGRANT, ip).ok
        for vm, ip in (("vm-a", "10.77.1.10"), ("vm-b", "10.77.2.10"), (CLOUD_VM, CLOUD_VM_IP))
    )


def run() -> dict[str, Any]:
    """Run the scenario; everything the demo prints, as data."""
    from routerd.testing import running_world

    with running_world(file=world_file("mobility")) as world:
        for vm in ("vm-a", MIGRANT, "vm-b"):
            world.announce_vm(vm)
        world.mobility.move("rc", [CLOUD_VM_IP], "site-c", cause="the cloud VM")
        world.advance(5)
        before = {"homes": _homes(world, "rc"), "trace": _trace(world)}
        moved = world.move_vm(MIGRANT, "lan-b")
        waited = 0.0
        while not _both_ways(world) and waited < GIVE_UP:
            world.advance(STEP)
            waited += STEP
        outage_ms = round(waited * 1000, 1)
        world.advance(5)  # path checks and handshakes settle: the claims walk to verified
        after: dict[str, Any] = {"homes": _homes(world, "rc"), "trace": _trace(world)}
        wheres = {r: world.mobility.where(r, MIGRANT_IP) for r in world.routers}
        claims = [
            {"router": r, "name": c.name, "state": c.state, "reason": c.reason}
            for r in world.routers
            for c in world.claims(r)
        ]
        checks = [
            Check(
                "every router agrees: migrant lives at site-b with the next sequence",
                all((w.home, w.sequence) == ("site-b", 2) for w in wheres.values()),
                ", ".join(f"{r}: {w.home or '-'}/{w.sequence}" for r, w in wheres.items()),
            ),
            Check(
                "traffic flows both ways with every other site after the move",
                waited < GIVE_UP,
                f"{outage_ms} ms of virtual time from the gratuitous ARP heard by "
                f"{', '.join(moved.heard_by) or 'nobody'}",
            ),
            Check(
                "the cloud VM's packets now go through site-b's router",
                "rb" in after["trace"]["via"] and "ra" not in after["trace"]["via"],
                " -> ".join(after["trace"]["via"]),
            ),
            Check(
                "every derived claim is verified",
                all(c["state"] == "verified" for c in claims),
                f"{len(claims)} claims",
            ),
        ]
        errors = world.errors
    if errors:
        checks.append(Check("no router pass failed", False, "; ".join(errors[:3])))
    return {
        "scenario": "live-migration",
        "world": "examples/worlds/mobility.yaml",
        "move": {"vm": MIGRANT, "address": MIGRANT_IP, "from": "site-a", "to": "site-b"},
        "outage_ms": outage_ms,
        "before": before,
        "after": after,
        "claims": claims,
        "checks": [asdict(c) for c in checks],
    }


def _homes_table(homes: list[dict[str, Any]]) -> str:
    rows = [
        [h["address"], h["home"] or "-", str(h["sequence"]), h["origin"], h["evidence"]]
        for h in homes
    ]
    return table(rows, ["ADDRESS", "HOME", "SEQUENCE", "ORIGIN", "EVIDENCE"])


def render_text(doc: dict[str, Any]) -> str:
    """The scenario for people."""
    m = doc["move"]
    lines = [f"routerd demo: scenario live-migration ({doc['world']}, simulated)", ""]
    for when in ("before", "after"):
        part = doc[when]
        t = part["trace"]
        lines += [f"{when.capitalize()} the move, as site-c's router (rc) sees the homes:"]
        lines += [_homes_table(part["homes"]), ""]
        path = " -> ".join(t["via"]) or "-"
        lines += [f"  trace {CLOUD_VM} -> {m['address']}: via {path}, delivered to "
                  f"{t['delivered_to'] or 'nobody (' + t['drop'] + ')'}", ""]  # fmt: skip
        if when == "before":
            lines += [
                f"{m['vm']} ({m['address']}) live-migrates {m['from']} -> {m['to']}: "
                f"outage {doc['outage_ms']} ms (virtual time, gratuitous ARP to both ways)",
                "",
            ]
    rows = [[c["router"], c["name"], c["state"], c["reason"] or "-"] for c in doc["claims"]]
    lines += [table(rows, ["ROUTER", "CLAIM", "STATE", "REASON"]), ""]
    for c in doc["checks"]:
        lines.append(f"  {'ok  ' if c['ok'] else 'FAIL'} {c['name']}")
        if c["detail"]:
            lines.append(f"       {c['detail']}")
    failed = sum(not c["ok"] for c in doc["checks"])
    lines += ["", "All checks passed." if not failed else f"{failed} check(s) failed."]
    return "\n".join(lines)


def main(output: str) -> int:
    """Run and print (``output``: text or json); exit 0 when every check passes."""
    doc = run()
    print(json.dumps(doc, indent=2) if output == "json" else render_text(doc))
    return EXIT_OK if all(c["ok"] for c in doc["checks"]) else EXIT_FAIL
