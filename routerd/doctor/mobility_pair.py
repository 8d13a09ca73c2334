"""Router pairs in ``doctor mobility``: this router's role, and how many routers are active.

Only a pair's active router captures and originates: two capturers on one segment answer
ARP for the same addresses and hosts flip between them. Two findings per ``RedundancyGroup``:

* ``role``: this router's role and why, from the daemon's role source (what routerd acts
  on): active or standby pass, ``unknown`` (keepalived has not reported yet) warns,
  ``fault`` fails (the site runs without a spare, or not at all).
* ``active routers``: who acts as master now. This router's side is its role when the
  daemon reports one, else its own adverts on the wire; the partner's side is the wire:
  in VRRP only a master advertises, so a partner heard advertising (two adverts or more,
  priority above 0, still at the end of the listen) is active. Both active FAILs (a split
  brain: both capture); neither active FAILs (nobody serves the site); one passes. Two
  masters on the wire while routerd keeps this router standby is a VRRP split brain
  routerd contains: WARN; so is routerd acting as active while this router sends no
  adverts (keepalived hangs).

The listen lasts three advert intervals (``WINDOW_ADVERTS``) within ``MIN_WINDOW`` and
``MAX_WINDOW``; with adverts slower than that allows, silence proves nothing and
"neither" is not judged.
"""

from __future__ import annotations

from dataclasses import dataclass

from routerd.core.doctor import Finding, Status
from routerd.core.redundancy import PairPlan, Role, plan_group
from routerd.core.resources.redundancy import RedundancyGroup
from routerd.doctor.mobility_view import MobilityView, finding, when
from routerd.doctor.vrrp import Heard, Listen

WINDOW_ADVERTS = 3.5
MIN_WINDOW = 0.5
MAX_WINDOW = 5.0
LIVE_INTERVALS = 2.5
"""A master's last advert must fall within this many intervals of the listen's end."""
SPLIT_REMEDY = (
    "both routers of the pair capture the site's addresses: make the partners hear each "
    "other's VRRP adverts (IP protocol 112 between their addresses: host firewall, "
    "security group, the link), or stop routerd on one of them; see "
    "docs/troubleshooting.md#pair-active-routers"
)
NONE_REMEDY = (
    "no router of the pair serves the site: check keepalived on both (`routerctl status`), "
    "the VRRP interface, and the routers' logs; see docs/troubleshooting.md#pair-active-routers"
)
ROLE_REMEDY = "see docs/troubleshooting.md#pair-role"


def findings(view: MobilityView) -> list[Finding]:
    """Role and active routers per RedundancyGroup; one SKIP when the router has none."""
    groups = view.inputs.config.of(RedundancyGroup)
    if not groups:
        return [
            finding(
                "RedundancyGroup",
                Status.SKIP,
                "no RedundancyGroup: this router is its site's only router",
            )
        ]
    out = []
    for group in groups:
        plan = plan_group(group, view.inputs.config)
        out.append(role(view, plan))
        out.append(active_routers(view, plan))
    return out


def role(view: MobilityView, plan: PairPlan) -> Finding:
    name = f"{plan.ref} role"
    state = view.role
    if state is None:
        why = view.role_error or "no role source: no running daemon (--local)"
        return finding(name, Status.SKIP, why)
    detail = f"{state.role.value}: {state.why}; since {when(view.now, state.since)}"
    if state.role in (Role.ACTIVE, Role.STANDBY):
        return finding(name, Status.PASS, detail)
    if state.role is Role.UNKNOWN:
        return finding(name, Status.WARN, detail, ROLE_REMEDY)
    return finding(name, Status.FAIL, detail, ROLE_REMEDY)


def window(plan: PairPlan) -> float:
    """How long to listen for adverts."""
    return min(MAX_WINDOW, max(MIN_WINDOW, WINDOW_ADVERTS * plan.advert_interval))


@dataclass(frozen=True)
class Masters:
    """Who advertised as master during one listen, and who still did at its end.

    A router counts as master when it sent two adverts or more with priority above 0 and
    the last one within ``LIVE_INTERVALS`` intervals of the window's end: a takeover inside
    the window (one stops, the other starts) leaves one master, not two.

    Attributes:
        own: this router's adverts (outgoing) with priority above 0.
        partners: source -> another router's adverts with priority above 0.
        window: how long the listen lasted.
        interval: the group's advert interval.
    """

    own: tuple[Heard, ...]
    partners: dict[str, tuple[Heard, ...]]
    window: float
    interval: float

    @classmethod
    def of(cls, heard: Listen, plan: PairPlan) -> Masters:
        mine = [a for a in heard.adverts if a.vrid == plan.vrid and a.priority > 0]
        partners: dict[str, list[Heard]] = {}
        for a in mine:
            if not a.outgoing:
                partners.setdefault(a.source, []).append(a)
        own = tuple(a for a in mine if a.outgoing)
        return cls(
            own,
            {s: tuple(v) for s, v in partners.items()},
            heard.window,
            plan.advert_interval,
        )

    def live(self, adverts: tuple[Heard, ...]) -> bool:
        end = self.window - LIVE_INTERVALS * self.interval
        return len(adverts) >= 2 and adverts[-1].at >= end

    @property
    def this_router(self) -> bool:
        return self.live(self.own)

    @property
    def live_partners(self) -> list[str]:
        return sorted(s for s, a in self.partners.items() if self.live(a))

    def describe(self, plan: PairPlan) -> str:
        partners = [
            f"{s} ({len(a)} adverts, priority {a[-1].priority}"
            f"{', stopped' if not self.live(a) else ''}"
            f"{'' if s in plan.peers else ', not in spec.peers: another pair on this VRID?'})"
            for s, a in sorted(self.partners.items())
        ]
        return (
            f"heard on {plan.interface} for {self.window:.1f}s, VRID {plan.vrid}: this router "
            f"{len(self.own)} adverts{'' if self.this_router or not self.own else ' (stopped)'}; "
            f"others: {', '.join(partners) or 'none'}"
        )


def active_routers(view: MobilityView, plan: PairPlan) -> Finding:
    name = f"{plan.ref} active routers"
    if view.inputs.host_gate:
        return finding(name, Status.SKIP, view.inputs.host_gate)
    heard = view.inputs.host.vrrp(plan.interface, window(plan))
    if heard.error:
        return finding(name, Status.SKIP, heard.error)
    m = Masters.of(heard, plan)
    wire = m.describe(plan)
    partners = m.live_partners
    if view.role is not None:
        this, basis = view.role.active, f"routerd's role {view.role.role.value}"
    else:
        this, basis = m.this_router, "this router's own adverts"
    if this and partners:
        detail = f"both active ({basis}; {', '.join(partners)} advertising as master): {wire}"
        return finding(name, Status.FAIL, detail, SPLIT_REMEDY)
    if not this and not partners:
        if plan.advert_interval * 2 > m.window:
            why = f"advertInterval {plan.advert_interval:g}s is too slow to judge silence"
            return finding(name, Status.SKIP, f"{why}: {wire}")
        return finding(name, Status.FAIL, f"neither active ({basis}): {wire}", NONE_REMEDY)
    return _one(view, name, m, wire, partners)


def _one(view: MobilityView, name: str, m: Masters, wire: str, partners: list[str]) -> Finding:
    """Exactly one router is active by routerd's account; the wire may still disagree."""
    if m.this_router and partners:
        return finding(
            name,
            Status.WARN,
            f"two VRRP masters on the wire, routerd keeps this router standby: {wire}",
            SPLIT_REMEDY,
        )
    if view.role is not None and view.role.active and not m.this_router:
        return finding(
            name,
            Status.WARN,
            f"routerd acts as active, but this router sends no VRRP adverts: {wire}",
            "keepalived may hang: routerd's advert watchdog restarts it; if this stays, see "
            "docs/troubleshooting.md#pair-active-routers",
        )
    who = "this router" if not partners else partners[0]
    return finding(name, Status.PASS, f"one active router, {who}: {wire}")
