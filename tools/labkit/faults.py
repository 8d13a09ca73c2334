"""Step 7 of the smoke: break the dataplane behind routerd's back, and crash routerd.

Each drift fault changes one kernel object routerd relies on, then reads routerd's own
journal (``routerctl history claim NAME -o json``) for a transition to ``degraded`` with the
expected reason *after* the fault, and waits for the claim to be ``verified`` again with
the same routerd process (no restart):

* ``fault-route``: the cloud router's ``/32`` delivery route deleted -> route-not-installed;
* ``fault-capture-route``: the on-prem router's ``/32`` delivery route deleted: with it goes
  the proxy-ARP capture (the kernel answers ARP on ``ens19`` through that route) ->
  capture-route-missing;
* ``fault-forwarding``: forwarding switched off on the on-prem capture interface (the
  kernel answers no proxy ARP there) -> capture-forwarding-disabled;
* ``fault-agent-address``: a guest agent puts 10.40.8.31 back on the cloud NIC (D15,
  docs/decisions.md) ->
  os-address-present (and routerd removes it again).

``fault-unprovisioned`` checks the lab itself: with the secondary IP taken off the router
NIC (the provider step undone), the fabric must stop delivering 10.40.8.31, and delivery
must resume once it is assigned again; a fabric that forwarded everything would make the
whole smoke meaningless.

``fault-kill9`` SIGKILLs each routerd in turn and starts it again on the same state
directory: the kernel objects afterwards (links, addresses, routes in every table, proxy
neighbours (none: routerd makes none), the nft ruleset without handles and counters) must
equal those before — no duplicate, nothing orphaned — the same single wireguard-go must
still serve the tunnel (adopted, not restarted), and every claim must return to verified.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tests.support.netns import Netns
from tests.support.wait import wait_until

from .smoke import wait_verified
from .steps import Step
from .topology import CLOUD_VM, CLOUD_VM_IP, FABRIC_ROUTER_PORT, ONPREM_VM_IP

if TYPE_CHECKING:
    from .lab import Lab
    from .routers import Router

DEGRADE_TIMEOUT = 30.0
RECOVER_TIMEOUT = 60.0
VOLATILE_NFT_KEYS = ("handle", "counter", "packets", "bytes")


def claim_for(router: Router, address: str) -> str:
    for c in router.claims():
        if c.get("address", "").split("/")[0] == address:
            return str(c["name"])
    raise AssertionError(f"{router.side} router has no claim for {address}")


def last_seq(router: Router, claim: str) -> int:
    return max((int(e["seq"]) for e in router.history(claim)), default=0)


def degrades_and_recovers(
    lab: Lab, router: Router, address: str, reason: str, fault: Callable[[], object]
) -> str:
    """Apply ``fault``; the claim goes degraded(reason), then verified, same routerd."""
    claim = claim_for(router, address)
    pid = router.pid
    since = last_seq(router, claim)
    fault()

    def degraded() -> str | None:
        new = [e for e in router.history(claim) if int(e["seq"]) > since]
        if any(e.get("toState") == "degraded" and e.get("reason") == reason for e in new):
            return None
        seen = [f"{e.get('toState')}({e.get('reason') or '-'})" for e in new]
        return f"{claim} transitions since the fault: {seen or 'none'}"

    wait_until(degraded, timeout=DEGRADE_TIMEOUT, interval=0.2, what=f"{claim} degraded {reason}")
    wait_verified(lab, RECOVER_TIMEOUT)
    if router.pid != pid or not router.running():
        raise AssertionError(f"routerd ({router.side}) was restarted or died during the fault")
    return f"{claim}: degraded ({reason}) -> verified, same routerd (pid {pid})"


def fault_route(lab: Lab) -> str:
    r = lab.cloud
    dst = f"{ONPREM_VM_IP}/32"
    text = degrades_and_recovers(
        lab, r, ONPREM_VM_IP, "route-not-installed",
        lambda: r.ns.ip("route", "del", dst, "dev", r.tunnel),
    )  # fmt: skip
    if not r.ns.ipj("route", "show", dst, "dev", r.tunnel):
        raise AssertionError(f"{dst} dev {r.tunnel} not back on the cloud router")
    return text


def fault_capture_route(lab: Lab) -> str:
    r = lab.onprem
    dst = f"{CLOUD_VM_IP}/32"
    text = degrades_and_recovers(
        lab, r, CLOUD_VM_IP, "capture-route-missing",
        lambda: r.ns.ip("route", "del", dst, "dev", r.tunnel),
    )  # fmt: skip
    if not r.ns.ipj("route", "show", dst, "dev", r.tunnel):
        raise AssertionError(f"{dst} dev {r.tunnel} not back on the on-prem router")
    return text


def fault_forwarding(lab: Lab) -> str:
    r = lab.onprem
    key = f"net.ipv4.conf.{r.capture_if}.forwarding"
    text = degrades_and_recovers(
        lab, r, CLOUD_VM_IP, "capture-forwarding-disabled",
        lambda: r.ns.exec("sysctl", "-qw", f"{key}=0"),
    )  # fmt: skip
    value = r.ns.exec("sysctl", "-n", key).strip()
    if value != "1":
        raise AssertionError(f"{key}={value} on the on-prem router after recovery")
    return text


def fault_agent_address(lab: Lab) -> str:
    r = lab.cloud
    text = degrades_and_recovers(
        lab, r, ONPREM_VM_IP, "os-address-present",
        lambda: r.ns.ip("addr", "add", f"{ONPREM_VM_IP}/24", "dev", r.capture_if),
    )  # fmt: skip
    if r.ns.ipj("-4", "addr", "show", "to", ONPREM_VM_IP):
        raise AssertionError(f"{ONPREM_VM_IP} still on a cloud router interface")
    return text


def fault_unprovisioned(lab: Lab) -> str:
    """Provider side: without the secondary IP the fabric no longer delivers 10.40.8.31."""
    lab.fabric.unassign(FABRIC_ROUTER_PORT, ONPREM_VM_IP)
    try:
        got, text = lab.vms.ping(CLOUD_VM, ONPREM_VM_IP)
    finally:
        lab.fabric.assign(FABRIC_ROUTER_PORT, ONPREM_VM_IP)
    if got:
        raise AssertionError(f"the fabric delivered {ONPREM_VM_IP} to an unassigned NIC: {text}")

    def delivered() -> str | None:
        again, out = lab.vms.ping(CLOUD_VM, ONPREM_VM_IP)
        return None if again == 3 else out

    wait_until(delivered, timeout=20, interval=0.5, what="delivery after re-provisioning")
    return f"unassigned: 0/3 replies to {ONPREM_VM_IP}; assigned again: 3/3"


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in VOLATILE_NFT_KEYS}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def kernel_objects(ns: Netns) -> dict[str, list[str]]:
    """What routerd may create or remove, in a comparable form (sorted JSON lines)."""

    def rows(items: Any, keep: tuple[str, ...]) -> list[str]:
        return sorted(json.dumps({k: i.get(k) for k in keep}, sort_keys=True) for i in items)

    addrs = [
        {"ifname": link["ifname"], "addr": f"{a['local']}/{a['prefixlen']}"}
        for link in ns.ipj("addr", "show")
        for a in link.get("addr_info", [])
    ]
    route_keys = ("dst", "dev", "table", "protocol", "metric", "type", "scope", "gateway")
    nft = json.loads(ns.exec("nft", "-j", "list", "ruleset") or '{"nftables": []}')
    return {
        "links": rows(ns.ipj("link", "show"), ("ifname", "mtu", "operstate")),
        "addresses": rows(addrs, ("ifname", "addr")),
        "routes": rows(ns.ipj("route", "show", "table", "all"), route_keys),
        "proxy": rows(ns.ipj("neigh", "show", "proxy"), ("dst", "dev", "protocol")),
        "nft": sorted(
            json.dumps(_strip(i), sort_keys=True)
            for i in nft.get("nftables", [])
            if "metainfo" not in i
        ),
    }


def diff_objects(before: dict[str, list[str]], after: dict[str, list[str]]) -> list[str]:
    out = []
    for kind in before:
        gone = sorted(set(before[kind]) - set(after[kind]))
        new = sorted(set(after[kind]) - set(before[kind]))
        dup = len(after[kind]) - len(set(after[kind]))
        out += [f"{kind} gone: {g}" for g in gone] + [f"{kind} new: {n}" for n in new]
        if dup:
            out.append(f"{kind}: {dup} duplicate(s)")
    return out


def kill9_restart(lab: Lab, router: Router) -> str:
    wait_verified(lab)
    before = kernel_objects(router.ns)
    wg_before = router.wireguard_go_pids()
    router.kill9()
    router.start(lab.registry)
    wait_verified(lab, RECOVER_TIMEOUT)
    problems = diff_objects(before, kernel_objects(router.ns))
    wg_after = router.wireguard_go_pids()
    if wg_after != wg_before or len(wg_after) != 1:
        problems.append(f"wireguard-go before {wg_before}, after {wg_after}")
    if problems:
        raise AssertionError(f"after kill -9 and restart ({router.side}): " + "; ".join(problems))
    counts = ", ".join(f"{len(v)} {k}" for k, v in before.items())
    return f"{router.side}: identical kernel objects ({counts}), wireguard-go {wg_after} kept"


def fault_kill9(lab: Lab) -> str:
    return "; ".join(kill9_restart(lab, r) for r in lab.routers.values())


FAULTS: list[tuple[str, Step]] = [
    ("fault-route", fault_route),
    ("fault-capture-route", fault_capture_route),
    ("fault-forwarding", fault_forwarding),
    ("fault-agent-address", fault_agent_address),
    ("fault-unprovisioned", fault_unprovisioned),
    ("fault-kill9", fault_kill9),
]
