"""What ``doctor mobility`` reads of the daemon, once per run, and how its findings are named.

The mobility area judges three live sources besides the config and the host: the daemon's
mobility port (homes, with their conflicts), its route exchange (sessions, learned and
refused paths) and its role source (this router's place in its pair). Each is read once
here, before the checks run, into a ``MobilityView``; a source that is missing (``routerctl
doctor --local``, a daemon without mobility) or that fails to answer leaves its part empty
with the reason, and the checks that need it SKIP or FAIL with that reason instead of
crashing. Reading is cheap: the port and the exchange hand out immutable snapshots.

Naming: a finding about a domain is ``AddressMobilityDomain/<name> <check>``; about one
address ``AddressMobilityDomain/<name> <address> <check>``; about the speaker
``BGPSpeaker/<name> ...``; about a pair ``RedundancyGroup/<name> ...``. ``keyed`` turns a
list of problem addresses into one finding per address, at most ``LISTED`` of them, and one
domain-level finding for the rest, so a split brain over 10,000 addresses still reads.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from routerd.core.doctor import Finding, Status
from routerd.core.duration import format_duration
from routerd.core.exchange import ExchangeView
from routerd.core.mobility import CONFLICTS, MobileDomain, MobilityPlan
from routerd.core.redundancy import RoleState
from routerd.core.resources import BGPSpeaker
from routerd.doctor.inputs import Inputs

AREA = "mobility"
LISTED = 20
"""Per-address findings per check and domain; the rest are counted in one more finding."""
NAMED = 5
"""Addresses named in a domain-level detail before ``+N more``."""
NO_PORT = (
    "no mobility port: no running daemon (--local), or this daemon does not run address mobility"
)
NO_EXCHANGE = (
    "no route exchange: no running daemon (--local), or this daemon does not run a BGP speaker"
)


@dataclass(frozen=True)
class Noted:
    """A conflict on one address, whichever source reported it.

    Attributes:
        address: the bare address.
        domain: its domain ("" when the source did not say).
        code: a conflict code (``routerd.core.mobility.CONFLICTS``).
        detail: the sites and sequences involved.
        remedy: what to do.
    """

    address: str
    domain: str
    code: str
    detail: str
    remedy: str


@dataclass
class MobilityView:
    """One run's reading of the daemon's mobility state.

    Attributes:
        inputs: the run's resolved inputs (config, intents, host).
        plan: the mobility part of the effective config.
        homes: every known home from the port (``routerd.api.mobility_port.Home``), None
            when there is no port or it did not answer (``homes_error`` says why).
        conflicts: every current conflict.
        exchange: the route exchange's snapshot, None when there is none or it failed.
        role: this router's role in its pair, None without a role source.
    """

    inputs: Inputs
    plan: MobilityPlan
    homes: list[Any] | None = None
    homes_error: str = ""
    conflicts: list[Noted] = field(default_factory=list)
    exchange: ExchangeView | None = None
    exchange_error: str = ""
    role: RoleState | None = None
    role_error: str = ""

    @property
    def now(self) -> float:
        return self.inputs.now

    @property
    def speaker(self) -> BGPSpeaker | None:
        return self.plan.speaker


def read(inputs: Inputs) -> MobilityView:
    """Read every live source once; never raises (a failing source records why)."""
    view = MobilityView(inputs, MobilityPlan.of(inputs.config))
    ctx = inputs.ctx
    port: Any = ctx.mobility  # routerd.api.mobility_port.MobilityPort
    if port is None:
        view.homes_error = NO_PORT
    else:
        view.homes, view.homes_error = _ask("the mobility port", lambda: list(port.homes()))
        view.conflicts = _conflicts(port, view.homes or [])
    if ctx.exchange is None:
        view.exchange_error = NO_EXCHANGE
    else:
        exchange = ctx.exchange
        view.exchange, view.exchange_error = _ask("the route exchange", exchange.view)
    if ctx.role_source is not None:
        source = ctx.role_source
        view.role, view.role_error = _ask("the role source", source.role)
    return view


def _ask(what: str, call: Callable[[], Any]) -> tuple[Any, str]:
    try:
        return call(), ""
    except Exception as e:  # a broken source is reported by the checks that need it
        message = getattr(e, "message", "") or str(e)
        return None, f"{what} did not answer: {type(e).__name__}: {message}"


def _conflicts(port: object, homes: Sequence[Any]) -> list[Noted]:
    """Conflicts from each home, and from ``port.conflicts()`` when the port has it (that
    one also lists addresses without a known home)."""
    out: dict[tuple[str, str], Noted] = {}
    for h in homes:
        for c in h.conflicts:
            remedy = c.remedy or CONFLICTS.get(c.code, "")
            out.setdefault(
                (h.address, c.code), Noted(h.address, h.domain, c.code, c.detail, remedy)
            )
    extra = getattr(port, "conflicts", None)
    if callable(extra):
        try:
            listed = list(extra())
        except Exception:  # homes already carry what the port could tell
            listed = []
        for c in listed:
            address = str(getattr(c, "address", ""))
            remedy = getattr(c, "remedy", "") or CONFLICTS.get(c.code, "")
            noted = Noted(address, str(getattr(c, "domain", "")), c.code, c.detail, remedy)
            out.setdefault((address, c.code), noted)
    return sorted(out.values(), key=lambda n: (_ip_key(n.address), n.code))


def _ip_key(address: str) -> tuple[int, ...]:
    try:
        return tuple(int(x) for x in address.split("."))
    except ValueError:
        return (256,)


def domain_name(dom: MobileDomain, check: str) -> str:
    return f"AddressMobilityDomain/{dom.name} {check}"


def address_name(dom: MobileDomain, address: str, check: str) -> str:
    return f"AddressMobilityDomain/{dom.name} {address} {check}"


def finding(name: str, status: Status, detail: str, remedy: str = "", claim: str = "") -> Finding:
    return Finding(AREA, name, status, detail, remedy, claim)


@dataclass(frozen=True)
class Problem:
    """One address that fails a check: what was seen and what to do."""

    address: str
    detail: str
    remedy: str
    claim: str = ""


def keyed(
    dom: MobileDomain, check: str, problems: Sequence[Problem], ok: str, status: Status
) -> list[Finding]:
    """One finding per problem address (at most ``LISTED``), one for the rest, or one PASS.

    Args:
        dom: the domain.
        check: the check's name (the end of every finding's name).
        problems: the addresses failing it, in the order to report.
        ok: the PASS detail when there are none.
        status: the status of each problem.

    Returns:
        The findings.
    """
    if not problems:
        return [finding(domain_name(dom, check), Status.PASS, ok)]
    out = [
        finding(address_name(dom, p.address, check), status, p.detail, p.remedy, p.claim)
        for p in problems[:LISTED]
    ]
    rest = problems[LISTED:]
    if rest:
        remedies = {p.remedy for p in rest}
        remedy = remedies.pop() if len(remedies) == 1 else "see each address's finding above"
        out.append(
            finding(
                domain_name(dom, check),
                status,
                f"{len(rest):,} more address(es) not listed one by one: "
                f"{named([p.address for p in rest])}",
                remedy,
            )
        )
    return out


def named(addresses: Sequence[str]) -> str:
    """``a, b, c, d, e +N more``."""
    head = ", ".join(addresses[:NAMED])
    return head + (f" +{len(addresses) - NAMED:,} more" if len(addresses) > NAMED else "")


def stamp(t: float) -> str:
    """``2026-01-05T10:00:00Z`` (UTC), ``-`` when unknown."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t)) if t > 0 else "-"


def when(now: float, then: float) -> str:
    """``2026-01-05T10:00:00Z (4m30s ago)``, ``-`` when unknown."""
    return f"{stamp(then)} ({age(now, then)})" if then > 0 else "-"


def age(now: float, then: float) -> str:
    """``4m30s ago`` (``just now`` under a second, ``-`` when unknown)."""
    if then <= 0:
        return "-"
    if now - then < 1:
        return "just now"
    return f"{format_duration(now - then)} ago"


def local_homes(view: MobilityView, dom: MobileDomain) -> list[Any]:
    """The port's homes of ``dom`` that are this router's site."""
    return [h for h in view.homes or () if h.domain == dom.name and h.site == dom.local.name]
