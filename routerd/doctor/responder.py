"""Duplicate ARP responders for a captured address: split brain on the capture segment.

Under a VRRP split brain both nodes proxy-ARPed the same /32; a doctor that only warns then
hides the cause of flapping traffic, so two responders FAIL (D20, docs/decisions.md). This check
asks the capture segment who has the address and lists every MAC that answers. The asking is one
ARP sweep per capture interface per run (``routerd.doctor.arp``: all of the interface's claimed
addresses at once, ~1.5 s however many there are), through ``Host.arp`` so recorded replies can be
replayed in tests.

A host never answers its own ARP request, so for a proxy-ARP claim the kernel answers for
(forwarding and proxy ARP on, the input route leaving by another device:
``capture_route.answers_arp``) this router is counted as a responder too: one foreign
answer then means two devices claim the address (the original host still there, or a
second router). More than one responder FAILs; one, or none, passes.
"""

from __future__ import annotations

from routerd.core.doctor import Finding, Status
from routerd.core.lowering import ClaimIntent
from routerd.doctor import capture_route, kernel_tables
from routerd.doctor.arp import Sweep
from routerd.doctor.inputs import Inputs, claim_name

AREA = "hybrid"
CHECK = "duplicate responders"
NO_SOURCE = "0.0.0.0"
REMEDY = (
    "two devices answer ARP for the address on the capture segment (split brain): keep the "
    "claim on exactly one router (remove it, or stop proxy-ARP, on the other) and make sure "
    "the original host no longer holds the address; "
    "see docs/troubleshooting.md#duplicate-responders"
)


def sweep_of(inputs: Inputs, ifname: str) -> Sweep:
    """The run's one sweep of ``ifname``, for every claim captured there."""
    return inputs.host.once(("arp-sweep", ifname), lambda: _sweep(inputs, ifname))  # type: ignore[return-value]


def _sweep(inputs: Inputs, ifname: str) -> Sweep:
    targets = [c.ip for c in inputs.intents.values() if c.capture_interface == ifname and c.ip]
    source = kernel_tables.first_ipv4(inputs, ifname) or NO_SOURCE
    return inputs.host.arp(ifname, list(dict.fromkeys(targets)), source)


def capture_interfaces(inputs: Inputs) -> list[str]:
    """Every interface a sweep will run on (for running the sweeps side by side)."""
    return list(
        dict.fromkeys(c.capture_interface for c in inputs.intents.values() if c.capture_interface)
    )


def _link_mac(inputs: Inputs, ifname: str) -> str:
    row = kernel_tables.link(inputs, ifname)
    return str(row.get("address", "")).lower() if row else ""


def labels(inputs: Inputs, c: ClaimIntent, swept: Sweep) -> list[str]:
    """Every responder for the claim's address in ``swept``, this router included when its
    proxy-ARP answers (shared with ``doctor mobility``, which sweeps its own targets)."""
    macs = swept.responders(c.ip)
    own = swept.mac or _link_mac(inputs, swept.ifname)
    out = [f"{m} (this router)" if m == own else m for m in macs]
    if c.capture_type == "proxy-arp" and own not in macs and capture_route.answers_arp(inputs, c):
        out.append("this router (proxy-ARP; a host does not hear its own answer)")
    return out


def check(inputs: Inputs, c: ClaimIntent) -> Finding:
    """The ``… duplicate responders`` finding for one claim."""
    name = claim_name(c.name, CHECK)
    ifname = c.capture_interface
    if not ifname:
        return Finding(AREA, name, Status.SKIP, "no capture interface", claim=c.name)
    swept = sweep_of(inputs, ifname)
    if swept.error:
        return Finding(AREA, name, Status.SKIP, swept.error, claim=c.name)
    found = labels(inputs, c, swept)
    detail = f"{len(found)} responder(s) for {c.ip} on {ifname}" + (
        f": {', '.join(found)}" if found else ""
    )
    if len(found) > 1:
        return Finding(AREA, name, Status.FAIL, detail, REMEDY, claim=c.name)
    return Finding(AREA, name, Status.PASS, detail, claim=c.name)
