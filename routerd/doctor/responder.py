"""Duplicate ARP responders for a captured address: split brain on the capture segment.

Under a VRRP split brain both nodes proxy-ARPed the same /32 and the MVP doctor only
warned (OP-7, #86). This check broadcasts ARP requests for the address on the capture
interface (``arping -b``: keep broadcasting, so a second responder is not hidden behind
unicast retries) and lists every MAC that answers.

A host never answers its own ARP request, so for a proxy-ARP claim whose proxy neighbour is
installed this router is counted as a responder too: one foreign answer then means two
devices claim the address (the original host still there, or a second router). More than
one responder FAILs; one, or none, passes.
"""

from __future__ import annotations

import json
import re

from routerd.core.doctor import Finding, Status
from routerd.core.lowering import ClaimIntent
from routerd.doctor.host import NOT_FOUND, PERMISSION
from routerd.doctor.inputs import Inputs, claim_name

AREA = "hybrid"
CHECK = "duplicate responders"
ARPING_COUNT = "3"
ARPING_DEADLINE = "2"
_REPLY = re.compile(r"reply from (\d+\.\d+\.\d+\.\d+) \[([0-9A-Fa-f:]{17})\]")
REMEDY = (
    "two devices answer ARP for the address on the capture segment (split brain): keep the "
    "claim on exactly one router (remove it, or stop proxy-ARP, on the other) and make sure "
    "the original host no longer holds the address; "
    "see docs/troubleshooting.md#duplicate-responders"
)


def responders(text: str, ip: str) -> list[str]:
    """Distinct MACs (lower case, in order of first reply) that answered for ``ip``."""
    seen: dict[str, None] = {}
    for addr, mac in _REPLY.findall(text):
        if addr == ip:
            seen.setdefault(mac.lower(), None)
    return list(seen)


def _link_mac(inputs: Inputs, ifname: str) -> str:
    res = inputs.host.cached("ip", "-j", "link", "show", "dev", ifname)
    try:
        links = json.loads(res.stdout) if res.ok else []
    except ValueError:
        return ""
    return str(links[0].get("address", "")).lower() if links else ""


def proxy_present(inputs: Inputs, c: ClaimIntent) -> bool:
    """Whether the proxy neighbour for the claim is installed (shared with the live check)."""
    res = inputs.host.cached("ip", "-j", "neigh", "show", "proxy", c.ip, "dev", c.capture_interface)
    try:
        rows = json.loads(res.stdout) if res.ok and res.stdout.strip() else []
    except ValueError:
        return False
    return any(isinstance(r, dict) and r.get("dst") == c.ip for r in rows)


def check(inputs: Inputs, c: ClaimIntent) -> Finding:
    """The ``… duplicate responders`` finding for one claim."""
    name = claim_name(c.name, CHECK)
    ifname = c.capture_interface
    if not ifname:
        return Finding(AREA, name, Status.SKIP, "no capture interface", claim=c.name)
    res = inputs.host.command(
        "arping", "-b", "-c", ARPING_COUNT, "-w", ARPING_DEADLINE, "-I", ifname, c.ip
    )
    if res.failure in (NOT_FOUND, PERMISSION):
        return Finding(AREA, name, Status.SKIP, res.describe(), claim=c.name)
    macs = responders(res.stdout, c.ip)
    if not macs and res.rc not in (0, 1):
        return Finding(AREA, name, Status.SKIP, res.describe(), claim=c.name)
    own = _link_mac(inputs, ifname)
    labels = [f"{m} (this router)" if m == own else m for m in macs]
    if c.capture_type == "proxy-arp" and own not in macs and proxy_present(inputs, c):
        labels.append("this router (proxy-ARP; a host does not hear its own answer)")
    detail = f"{len(labels)} responder(s) for {c.ip} on {ifname}" + (
        f": {', '.join(labels)}" if labels else ""
    )
    if len(labels) > 1:
        return Finding(AREA, name, Status.FAIL, detail, REMEDY, claim=c.name)
    return Finding(AREA, name, Status.PASS, detail, claim=c.name)
