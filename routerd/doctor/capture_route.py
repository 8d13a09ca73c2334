"""Proxy-ARP capture as the kernel decides it, asked of the kernel: the doctor's capture checks.

routerd captures an address A on interface D with no per-address object: ``proxy_arp`` and
``forwarding`` on D, and the claim's ``/32`` route to the tunnel (``routerd.core.capture``
has the kernel's rule). So the doctor asks exactly what the kernel's ARP code asks before it
answers for A on D: the input route ``ip route get A from S iif D``, with S an address of
the capture segment (``capture.segment_source``; a local source would be a martian). Every
claim's question goes to one ``ip -batch`` process per run (``ip_batch``), so 10,000 claims
cost one process, not 10,000.

Checks, per proxy-ARP claim:

* ``forwarding <if>``: the device's own ``net.ipv4.conf.D.forwarding``; off, the kernel
  answers no proxy ARP there (and the input lookup fails with "No route to host");
* ``capture route``: the lookup gives a unicast route leaving by another device, and that
  device is the tunnel.

A capture interface in warm standby (its ``proxy_arp`` held at 0 by routerd, a redundant
pair's standby router) answers nothing on purpose: ``proxy_arp <if>`` says so and passes,
and ``capture route`` still proves the kept route, which is what makes the switch-over one
sysctl write. Once per run, ``leftover proxy entries`` lists proxy entries an earlier
routerd marked as its own (routerd removes them; one that stays answers ARP even with
``proxy_arp`` off, a split brain in waiting on a standby router).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from routerd.core import capture
from routerd.core.doctor import Finding, Status
from routerd.core.lowering import ClaimIntent
from routerd.doctor import ip_batch, kernel_tables
from routerd.doctor.inputs import Inputs, claim_name

AREA = "hybrid"
CHECK = "capture route"
LEFTOVER = "leftover proxy entries"
DOC = "docs/troubleshooting.md#"
NAMED = 5


@dataclass(frozen=True)
class InputLookup:
    """The kernel's input route for a captured address, or why there is none.

    Attributes:
        asked: the question as an ``ip`` command line (``route get A from S iif D``).
        route: ``ip -j route get``'s object (None: no route, see ``error``).
        error: the kernel's or the batch's complaint ("" when there is a route).
    """

    asked: str
    route: dict[str, Any] | None
    error: str = ""

    @property
    def type(self) -> str:
        """The route type; ``ip -j`` prints a type only when it is not unicast."""
        return str(self.route.get("type", "unicast")) if self.route is not None else ""

    @property
    def dev(self) -> str:
        return str(self.route.get("dev", "")) if self.route is not None else ""


def standby(inputs: Inputs, ifname: str) -> bool:
    """Whether routerd holds capture on ``ifname`` switched off (warm standby)."""
    owners = inputs.desired.owners.get(("sysctl", capture.proxy_arp_key(ifname)), ())
    return capture.STANDBY_OWNER in owners


def questions(inputs: Inputs) -> dict[tuple[str, str], str]:
    """``(address, capture interface) -> question`` for every proxy-ARP claim that has one."""
    out: dict[tuple[str, str], str] = {}
    for c in inputs.intents.values():
        if c.capture_type != "proxy-arp" or not c.ip or not c.capture_interface:
            continue
        pair = (c.ip, c.capture_interface)
        if pair in out:
            continue
        source = capture.segment_source(kernel_tables.cidrs_of(inputs, c.capture_interface), c.ip)
        if source:
            out[pair] = f"route get {c.ip} from {source} iif {c.capture_interface}"
    return out


def lookups(inputs: Inputs) -> dict[tuple[str, str], InputLookup]:
    """Every claim's input-route lookup, asked in one batch, once per run."""
    return inputs.host.once(("capture-lookups",), lambda: _ask(inputs))  # type: ignore[return-value]


def _ask(inputs: Inputs) -> dict[tuple[str, str], InputLookup]:
    asked = questions(inputs)
    answers = ip_batch.ask(inputs.host, list(asked.values()))
    return {pair: _parse(q, a) for (pair, q), a in zip(asked.items(), answers, strict=True)}


def _parse(asked: str, answer: ip_batch.Answer) -> InputLookup:
    if answer.line is None:
        return InputLookup(asked, None, answer.error)
    try:
        doc = json.loads(answer.line)
    except ValueError:
        return InputLookup(asked, None, f"unreadable answer {answer.line[:80]!r}")
    rows = [d for d in doc if isinstance(d, dict)] if isinstance(doc, list) else []
    return InputLookup(asked, rows[0]) if rows else InputLookup(asked, None, "empty answer")


def _f(c: ClaimIntent, check: str, status: Status, detail: str, remedy: str = "") -> Finding:
    return Finding(AREA, claim_name(c.name, check), status, detail, remedy, claim=c.name)


def _sysctl(inputs: Inputs, ifname: str, name: str) -> str | None:
    return inputs.host.cached_sysctl("net/ipv4/conf", ifname, name)


def forwarding(inputs: Inputs, c: ClaimIntent) -> Finding:
    """``forwarding <if>``: the capture interface forwards (the kernel proxies only then)."""
    check = f"forwarding {c.capture_interface}"
    if not c.capture_interface:
        return _f(c, check, Status.SKIP, "capture.interface is empty")
    value = _sysctl(inputs, c.capture_interface, "forwarding")
    detail = f"{capture.forwarding_key(c.capture_interface)}={value}"
    if value == "1":
        return _f(c, check, Status.PASS, detail)
    return _f(
        c,
        check,
        Status.WARN,
        f"{detail}: the kernel answers no proxy ARP on {c.capture_interface}",
        "routerd sets it on reconcile; if it flips back, another tool owns it (a sysctl.d "
        f"file, a network manager): see {DOC}capture-forwarding-disabled",
    )


def proxy_arp(inputs: Inputs, c: ClaimIntent) -> Finding:
    """``proxy_arp <if>``: on (active), or off on purpose (standby) and nothing else answers."""
    check = f"proxy_arp {c.capture_interface}"
    if not c.capture_interface:
        return _f(c, check, Status.SKIP, "capture.interface is empty")
    own = _sysctl(inputs, c.capture_interface, "proxy_arp")
    every = inputs.host.cached_sysctl("net/ipv4/conf/all/proxy_arp")
    detail = f"{capture.proxy_arp_key(c.capture_interface)}={own}, {capture.ALL_PROXY_ARP}={every}"
    if standby(inputs, c.capture_interface):
        if own != "1" and every != "1":
            return _f(
                c,
                check,
                Status.PASS,
                f"{detail}: warm standby, capture switched off on purpose on this router "
                "(routes kept); capture-standby is not a failure here",
            )
        return _f(
            c,
            check,
            Status.WARN,
            f"{detail}: this router is in standby but still answers ARP for its captures",
            f"set {capture.ALL_PROXY_ARP}=0 (routerd sets the interface's own value); "
            f"see {DOC}capture-standby",
        )
    if own == "1" or every == "1":
        return _f(c, check, Status.PASS, detail)
    return _f(
        c, check, Status.WARN, detail, f"routerd sets it on reconcile; see {DOC}proxy-arp-disabled"
    )


def check(inputs: Inputs, c: ClaimIntent) -> Finding:
    """``capture route``: the kernel's input lookup for the address, as ARP makes it."""
    ifname = c.capture_interface
    if not ifname:
        return _f(c, CHECK, Status.SKIP, "capture.interface is empty")
    got = lookups(inputs).get((c.ip, ifname))
    if got is None:
        return _f(
            c,
            CHECK,
            Status.SKIP,
            f"{ifname} has no IPv4 subnet with room for an asker: the kernel's lookup "
            "cannot be asked from the capture segment",
        )
    if got.route is None:
        fwd = _sysctl(inputs, ifname, "forwarding")
        why = f" (forwarding is off on {ifname}: see that check)" if fwd != "1" else ""
        fix = (
            f"turn forwarding on for {ifname} first: see {DOC}capture-forwarding-disabled"
            if why
            else _route_fix(c, "capture-route-missing")
        )
        said = got.error if got.error.startswith(f"ip {got.asked}") else f"{got.asked}: {got.error}"
        return _f(c, CHECK, Status.WARN, said + why, fix)
    detail = f"{got.asked} gives {got.type} dev {got.dev or '-'}"
    why = capture.route_answers(got.type, got.dev, c.ip, ifname)
    if why:
        return _f(c, CHECK, Status.WARN, f"{detail}: {why}", _route_fix(c, "capture-route-missing"))
    if got.dev != c.tunnel:
        return _f(
            c,
            CHECK,
            Status.WARN,
            f"{detail}, expected {c.tunnel}: ARP is answered but the traffic leaves elsewhere",
            f"a more specific or lower-metric route, or a policy rule, wins: `ip {got.asked}`; "
            f"see {DOC}route-lookup-mismatch",
        )
    note = "; standby: answered once capture is switched on" if standby(inputs, ifname) else ""
    return _f(c, CHECK, Status.PASS, detail + note)


def _route_fix(c: ClaimIntent, anchor: str) -> str:
    return (
        f"routerd installs `{c.address} dev {c.tunnel} metric 120`, the route the kernel "
        f"proxies ARP through; check the daemon log and see {DOC}{anchor}"
    )


def answers_arp(inputs: Inputs, c: ClaimIntent) -> bool:
    """Whether the kernel answers ARP for the claim's address on its capture interface.

    Every condition of the kernel's rule, as this run saw it: forwarding and proxy ARP on
    the interface, and an input route leaving by another device (shared with the
    duplicate-responder count, which cannot hear this router's own answers).
    """
    ifname = c.capture_interface
    if c.capture_type != "proxy-arp" or not ifname:
        return False
    if _sysctl(inputs, ifname, "forwarding") != "1":
        return False
    every = inputs.host.cached_sysctl("net/ipv4/conf/all/proxy_arp")
    if _sysctl(inputs, ifname, "proxy_arp") != "1" and every != "1":
        return False
    got = lookups(inputs).get((c.ip, ifname))
    return (
        got is not None
        and got.route is not None
        and not capture.route_answers(got.type, got.dev, c.ip, ifname)
    )


def leftover(inputs: Inputs) -> Finding:
    """``leftover proxy entries``: proxy entries an earlier routerd made (it removes them)."""
    entries = kernel_tables.owned_proxy_entries(inputs)
    if entries is None:
        why = kernel_tables.dump(inputs, *kernel_tables.PROXIES).describe()
        return Finding(AREA, LEFTOVER, Status.SKIP, why)
    if not entries:
        return Finding(AREA, LEFTOVER, Status.PASS, "no proxy entry marked as routerd's")
    shown = [f"{ip} dev {dev}" for ip, dev in entries[:NAMED]]
    if len(entries) > NAMED:
        shown.append(f"+{len(entries) - NAMED:,} more")
    return Finding(
        AREA,
        LEFTOVER,
        Status.WARN,
        f"{len(entries):,} proxy entr{'y' if len(entries) == 1 else 'ies'} marked as routerd's "
        f"(an earlier version's): {', '.join(shown)}",
        "routerd captures by route and removes these on its next pass; if they stay, see "
        f"{DOC}leftover-proxy-entries",
    )
