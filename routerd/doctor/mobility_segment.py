"""The capture segment in ``doctor mobility``: the anycast gateway and duplicate responders.

A live-migrated VM keeps its default gateway and its ARP cache, so every on-prem site of a
domain answers for the gateway address with the same MAC. What one router can check is its
own segment: who answers ARP for the gateway address there, against the IP and MAC its
config declares. The segment is asked with one ARP sweep per capture interface
(``routerd.doctor.arp``: the gateway and every captured address at once), and this router's
own answers, which a sweep never hears, are read from the kernel:

* the interface holding the gateway address, and its MAC (``ip -j -4 addr``/``link``);
* ARP flux: with ``arp_ignore`` 0 Linux answers ARP for *any* of its addresses on *every*
  interface, so while the gateway lives on a child of the capture interface (a macvlan),
  the capture interface answers for it too, with its own MAC. Measured on veths: a host on
  the segment hears both MACs. ``arp_ignore`` 1 leaves the answer to the child and does not
  touch proxy-ARP, which the kernel handles apart from local addresses.

Exactly one MAC, the configured one, passes. Any other MAC is a host holding the gateway
address, a router configured with another MAC, or this router's own interface; nobody
answering means a VM that moves here loses its way out. A site whose config declares
another MAC answers consistently with itself, so sites are compared by their reports: the
``config`` finding prints the gateway each site resolved.

``duplicate responders`` is the hybrid area's split-brain check (``responder``) applied to
the domain's captured addresses: two devices answering for one address FAIL.
"""

from __future__ import annotations

from routerd.core.doctor import Finding, Status
from routerd.core.exchange import ipv4_int
from routerd.core.lowering import ClaimIntent
from routerd.core.mobility import MobileDomain
from routerd.doctor import kernel_tables, responder
from routerd.doctor.arp import Sweep
from routerd.doctor.mobility_view import MobilityView, Problem, domain_name, finding, keyed

NO_SOURCE = "0.0.0.0"
GATEWAY_REMEDY = (
    "every on-prem site answers for the gateway with the configured MAC and nothing else "
    "may: remove the address from the host holding it, make every site's "
    "spec.mobility.gateway the same, set net.ipv4.conf.<capture interface>.arp_ignore=1; "
    "see docs/troubleshooting.md#anycast-gateway"
)
SILENT_REMEDY = (
    "routerd answers for the gateway on the capture interface of the site's active router; "
    "check the daemon log for the gateway interface, and the pair's roles; see "
    "docs/troubleshooting.md#anycast-gateway"
)


def captured(view: MobilityView, dom: MobileDomain) -> list[ClaimIntent]:
    """The claims capturing addresses of ``dom`` on its capture interface, by address."""
    out = []
    for c in view.inputs.intents.values():
        value = ipv4_int(c.ip)
        if c.capture_interface == dom.capture_ifname and value is not None and dom.covers(value):
            out.append(c)
    return sorted(out, key=lambda c: ipv4_int(c.ip) or 0)


def sweep_of(view: MobilityView, ifname: str) -> Sweep:
    """The run's one sweep of ``ifname``: every gateway and captured address there."""
    inputs = view.inputs

    def run() -> Sweep:
        targets: list[str] = []
        for dom in view.plan.domains:
            if dom.capture_ifname == ifname:
                targets += [dom.gateway] if dom.gateway else []
                targets += [c.ip for c in captured(view, dom)]
        source = kernel_tables.first_ipv4(inputs, ifname) or NO_SOURCE
        return inputs.host.arp(ifname, list(dict.fromkeys(targets)), source)

    return inputs.host.once(("mobility-sweep", ifname), run)  # type: ignore[return-value]


def _not_swept(view: MobilityView, dom: MobileDomain) -> str:
    """Why the segment is not asked ("" when it is)."""
    if dom.local.kind == "cloud" or dom.capture.type != "proxy-arp":
        return "cloud site: the provider's fabric answers ARP here, so ARP proves nothing"
    if not dom.capture_ifname:
        return "no capture interface"
    return view.inputs.host_gate


def gateway(view: MobilityView, dom: MobileDomain) -> Finding:
    """``gateway <address>``: exactly one MAC, the configured one, answers for it."""
    if not dom.gateway:
        why = "no spec.mobility.gateway (see the config finding)"
        if dom.local.kind == "cloud":
            why = "cloud site: the provider's fabric is the gateway"
        return finding(domain_name(dom, "gateway"), Status.SKIP, why)
    name = domain_name(dom, f"gateway {dom.gateway}")
    why = _not_swept(view, dom)
    if why:
        return finding(name, Status.SKIP, why)
    ifname = dom.capture_ifname
    swept = sweep_of(view, ifname)
    if swept.error:
        return finding(name, Status.SKIP, swept.error)
    want = dom.gateway_mac.lower()
    answers = [(m, "on the segment") for m in swept.responders(dom.gateway)]
    answers += _local_answers(view, dom)
    wrong = [f"{mac} ({who})" for mac, who in answers if mac != want]
    right = [who for mac, who in answers if mac == want]
    if wrong:
        return finding(
            name,
            Status.FAIL,
            f"answered on {ifname} with another MAC than the configured {want}: "
            f"{', '.join(wrong)}" + (f"; and with {want} ({', '.join(right)})" if right else ""),
            GATEWAY_REMEDY,
        )
    if not right:
        return finding(
            name, Status.FAIL, f"nobody answers for {dom.gateway} on {ifname}", SILENT_REMEDY
        )
    return finding(name, Status.PASS, f"answered with {want} only ({', '.join(right)})")


def _local_answers(view: MobilityView, dom: MobileDomain) -> list[tuple[str, str]]:
    """(MAC, who) for each of this router's interfaces that answers for the gateway."""
    inputs = view.inputs
    out = []
    held = kernel_tables.addresses_of(inputs, dom.gateway) or []
    for entry in held:
        dev = entry.rsplit(" on ", 1)[-1]
        row = kernel_tables.link(inputs, dev) or {}
        out.append((str(row.get("address", "?")).lower(), f"this router's {dev}"))
        if dev != dom.capture_ifname and _flux(view, dom.capture_ifname):
            row = kernel_tables.link(inputs, dom.capture_ifname) or {}
            mac = str(row.get("address", "?")).lower()
            out.append((mac, f"this router's {dom.capture_ifname}: arp_ignore is 0"))
    return out


def _flux(view: MobilityView, ifname: str) -> bool:
    """Whether ``ifname`` answers ARP for addresses held by other interfaces."""
    values = [
        view.inputs.host.cached_sysctl("net/ipv4/conf", n, "arp_ignore") for n in ("all", ifname)
    ]
    known = [int(v) for v in values if v is not None and v.strip().isdigit()]
    return bool(known) and max(known) == 0


def duplicate_responders(view: MobilityView, dom: MobileDomain) -> list[Finding]:
    """Each captured address of the domain has at most one responder on the segment."""
    check = "duplicate responders"
    why = _not_swept(view, dom)
    if why:
        return [finding(domain_name(dom, check), Status.SKIP, why)]
    claims = captured(view, dom)
    if not claims:
        return [
            finding(
                domain_name(dom, check), Status.PASS, f"nothing captured on {dom.capture_ifname}"
            )
        ]
    swept = sweep_of(view, dom.capture_ifname)
    if swept.error:
        return [finding(domain_name(dom, check), Status.SKIP, swept.error)]
    problems = []
    for c in claims:
        found = responder.labels(view.inputs, c, swept)
        if len(found) > 1:
            text = f"{len(found)} responders on {dom.capture_ifname}: {', '.join(found)}"
            problems.append(Problem(c.ip, text, responder.REMEDY, c.name))
    ok = f"{len(claims):,} captured address(es) on {dom.capture_ifname}, one responder at most"
    return keyed(dom, check, problems, ok, Status.FAIL)
