"""``routerctl doctor mobility``: address mobility and router pairs, one report.

The area's checks, in report order (docs/troubleshooting.md, "Mobility area", describes
each finding and what to do):

1. ``mobility_config``: each mobile domain and the speaker as validated, with the shape
   this router resolved (compare it across sites);
2. ``mobility_sessions``: gobgpd, each BGP session and what a down one costs, the import
   filter's refusals by reason;
3. per domain, ``mobility_homes``: conflicting homes, addresses captured at their home,
   unconfirmed and superseded homes, the speaker's announcements, presence evidence;
4. per on-prem domain, ``mobility_segment``: the anycast gateway and duplicate responders
   on the capture segment (one ARP sweep per capture interface);
5. ``mobility_pair``: each RedundancyGroup's role and how many routers are active.

Live state comes from the daemon's mobility port, route exchange and role source, read
once (``mobility_view``); host probes (the sweep, the proxy table, the VRRP listen) follow
the usual gating (``--no-host``, the sim backend). The checks run side by side, so the
sweep and the VRRP listen overlap: a run takes about as long as the longer of the two.
"""

from __future__ import annotations

from routerd.core.doctor import Check, Finding, Status
from routerd.core.mobility import MobileDomain
from routerd.core.resources.redundancy import RedundancyGroup
from routerd.doctor import (
    mobility_config,
    mobility_homes,
    mobility_pair,
    mobility_segment,
    mobility_sessions,
)
from routerd.doctor.inputs import Inputs
from routerd.doctor.mobility_view import MobilityView, finding, read

OFF = "no AddressMobilityDomain with spec.mobility: address mobility is off on this router"


def checks(inputs: Inputs) -> list[tuple[str, Check]]:
    """The area's named checks (``routerd.doctor.runner`` runs them)."""
    view = read(inputs)
    out: list[tuple[str, Check]] = []
    if not view.plan.domains:
        out.append(
            ("AddressMobilityDomain", lambda: [finding("AddressMobilityDomain", Status.SKIP, OFF)])
        )
    else:
        out.append(("mobility config", lambda: mobility_config.findings(view)))
        out.append(("route exchange", lambda: mobility_sessions.findings(view)))
        for dom in view.plan.domains:
            out += _domain_checks(view, dom)
    if view.plan.domains or inputs.config.of(RedundancyGroup):
        out.append(("RedundancyGroup", lambda: mobility_pair.findings(view)))
    return out


def _domain_checks(view: MobilityView, dom: MobileDomain) -> list[tuple[str, Check]]:
    ref = f"AddressMobilityDomain/{dom.name}"

    def homes() -> list[Finding]:
        return mobility_homes.findings(view, dom)

    def gateway() -> list[Finding]:
        return [mobility_segment.gateway(view, dom)]

    def responders() -> list[Finding]:
        return mobility_segment.duplicate_responders(view, dom)

    return [
        (f"{ref} homes", homes),
        (f"{ref} gateway", gateway),
        (f"{ref} duplicate responders", responders),
    ]
