"""Homes in ``doctor mobility``: conflicts, captures at home, stale and unconfirmed homes.

Each check is per mobile domain and reads the mobility port's homes (what this router
decided) against the route exchange (what the sites announce) and the host:

* ``conflicting homes``: the controller's conflicts (a sequence tie between two sites, an
  address damped as a duplicate, a contested pin, a host answering for an address pinned
  elsewhere, an unknown site identity), each FAIL with its remedy: two homes for one
  address is the one thing mobility must never leave standing.
* ``captured at its home``: an address whose home is this site while this router captures
  it (a claim for it, or a proxy-ARP entry on the capture interface): the router answers
  for a VM that lives on its own segment and sends its traffic away. FAIL.
* ``homes unconfirmed``: homes kept although their announcement went with a session that
  is down (WARN while within ``staleTime``; FAIL once past it: they should have gone).
* ``superseded sequences``: a site still announcing an address below the sequence of the
  address's home (that site's router never withdrew it: routerd stopped there while its
  speaker kept running, for example). WARN.
* ``announcements``: the speaker's own announcements against the homes here (missing,
  extra, or with another sequence). WARN: a decision and its sync are one pass apart.
* ``presence evidence``: homes here on presence whose latest evidence is older than the
  probes allow, and explicit moves here that no host has answered since. WARN. Only on an
  on-prem site: a cloud site hears no ARP (the provider's fabric answers for every
  address), so there an explicit move (later, the provider's inventory) is the evidence
  and nothing can answer after it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from routerd.core.doctor import Finding, Status
from routerd.core.exchange import ExchangeView, LearnedPath, choose_home
from routerd.core.mobility import MobileDomain
from routerd.doctor import kernel_tables
from routerd.doctor.mobility_view import (
    MobilityView,
    Problem,
    age,
    domain_name,
    finding,
    keyed,
    local_homes,
    named,
    stamp,
)

STALE_GRACE = 5.0
"""Seconds past ``staleTime`` before a kept home counts as stuck (a pass may be due)."""
EVIDENCE_SLACK = 2.0
"""Seconds added to the probe cycle before evidence counts as late."""
EXPLICIT_GRACE = 300.0
"""Seconds an explicit move may wait for its VM to answer before the doctor asks why."""
CAPTURED_REMEDY = (
    "this router answers for a VM that lives on its own segment and sends its traffic to "
    "another site: see docs/troubleshooting.md#captured-at-home"
)
UNCONFIRMED_REMEDY = (
    "restore the BGP session (see the neighbor findings); see "
    "docs/troubleshooting.md#home-unconfirmed"
)


def findings(view: MobilityView, dom: MobileDomain) -> list[Finding]:
    """Every homes check of one domain."""
    return [
        *conflicts(view, dom),
        *captured_at_home(view, dom),
        unconfirmed(view, dom),
        superseded(view, dom),
        announcements(view, dom),
        presence_evidence(view, dom),
    ]


def _of(view: MobilityView, dom: MobileDomain) -> list[Any]:
    return [h for h in view.homes or () if h.domain == dom.name]


def conflicts(view: MobilityView, dom: MobileDomain) -> list[Finding]:
    check = "conflicting homes"
    if view.homes is None:
        return [finding(domain_name(dom, check), Status.SKIP, view.homes_error)]
    mine = [
        c
        for c in view.conflicts
        if c.domain == dom.name or (not c.domain and view.plan.domain_of(c.address) is dom)
    ]
    problems = [Problem(c.address, f"{c.code}: {c.detail}", c.remedy) for c in mine]
    return keyed(dom, check, problems, "no address has two homes or a contested pin", Status.FAIL)


def captured_at_home(view: MobilityView, dom: MobileDomain) -> list[Finding]:
    check = "captured at its home"
    if view.homes is None:
        return [finding(domain_name(dom, check), Status.SKIP, view.homes_error)]
    claims = {c.ip: c for c in view.inputs.intents.values()}
    proxies = _proxies(view, dom)
    problems = []
    here = local_homes(view, dom)
    for h in here:
        why = []
        claim = claims.get(h.address)
        if claim is not None:
            why.append(
                f"RemoteAddressClaim/{claim.name} captures it ({claim.capture_type} on "
                f"{claim.capture_interface or '-'}, delivered to {claim.peer or claim.tunnel})"
            )
        if proxies is not None and h.address in proxies:
            why.append(f"a proxy-ARP entry answers for it on {dom.capture_ifname}")
        if why:
            text = f"home here ({h.origin}, sequence {h.sequence}) but " + "; ".join(why)
            problems.append(Problem(h.address, text, CAPTURED_REMEDY, claim.name if claim else ""))
    ok = f"none of the {len(here):,} address(es) homed here is captured by this router"
    if proxies is None and dom.capture.type == "proxy-arp":
        ok += f" (claims only: {view.inputs.host_gate or 'the proxy table could not be read'})"
    return keyed(dom, check, problems, ok, Status.FAIL)


def _proxies(view: MobilityView, dom: MobileDomain) -> set[str] | None:
    """Addresses with a proxy entry on the domain's capture interface (None: not read)."""
    inputs = view.inputs
    if inputs.host_gate or dom.capture.type != "proxy-arp" or not dom.capture_ifname:
        return None
    entries = kernel_tables.proxy_entries(inputs)
    if entries is None:
        return None
    return {ip for ip, dev in entries if dev == dom.capture_ifname}


def unconfirmed(view: MobilityView, dom: MobileDomain) -> Finding:
    name = domain_name(dom, "homes unconfirmed")
    if view.homes is None:
        return finding(name, Status.SKIP, view.homes_error)
    stale = [h for h in _of(view, dom) if h.stale_until > 0]
    if not stale:
        return finding(
            name, Status.PASS, "every home learned from another site is announced by it now"
        )
    stuck = [h for h in stale if view.now > h.stale_until + STALE_GRACE]
    if stuck:
        return finding(
            name,
            Status.FAIL,
            f"{len(stuck):,} home(s) kept past staleTime ({dom.stale_time:.0f}s): "
            f"{named([h.address for h in stuck])}; routerd should have dropped them",
            "report it as a routerd bug with `routerctl history address ADDRESS`; "
            "see docs/troubleshooting.md#home-unconfirmed",
        )
    sessions = sorted({_via(h) for h in stale} - {""})
    return finding(
        name,
        Status.WARN,
        f"{len(stale):,} home(s) unconfirmed: {named([h.address for h in stale])}; their "
        f"announcements went with BGP session(s) {', '.join(sessions) or '?'}; kept (traffic "
        f"flows, not verified) until {stamp(min(h.stale_until for h in stale))} at the latest",
        UNCONFIRMED_REMEDY,
    )


def _via(home: Any) -> str:
    return str(getattr(getattr(home, "evidence", None), "peer", ""))


def superseded(view: MobilityView, dom: MobileDomain) -> Finding:
    name = domain_name(dom, "superseded sequences")
    ex = view.exchange
    if ex is None or not ex.connected:
        why = view.exchange_error or f"gobgpd cannot be read: {ex.error if ex else ''}"
        return finding(name, Status.SKIP, why)
    behind: dict[str, list[str]] = {}
    for address, paths in ex.paths.items():
        if view.plan.domain_of(address) is not dom:
            continue
        for site, text in _behind(dom, address, paths, ex):
            behind.setdefault(site, []).append(text)
    if not behind:
        return finding(name, Status.PASS, "no site announces an address below its home's sequence")
    parts = [
        f"{site} still announces, below the home's sequence: {named(items)}"
        for site, items in sorted(behind.items())
    ]
    return finding(
        name,
        Status.WARN,
        "; ".join(parts) + "; that router has not withdrawn them",
        "check routerd on that site's router (is it running? its `routerctl doctor mobility`); "
        "see docs/troubleshooting.md#superseded-sequences",
    )


def _behind(
    dom: MobileDomain, address: str, paths: Iterable[LearnedPath], ex: ExchangeView
) -> list[tuple[str, str]]:
    """(site, ``address (seq < home's)``) for every site announcing below the best path."""
    all_paths = list(paths)
    own = ex.originated.get(address)
    best = choose_home(all_paths).home
    top = max(best.sequence if best else 0, own.sequence if own else 0)
    out = []
    seen: set[int] = set()
    for p in sorted(all_paths, key=lambda p: p.sequence):
        if p.sequence < top and p.site_id not in seen and p.site_id != dom.local.site_id:
            seen.add(p.site_id)
            site = dom.site_by_id(p.site_id)
            out.append((site.name if site else f"site {p.site_id}", f"{address} ({p.sequence})"))
    if own is not None and best is not None and own.sequence < best.sequence:
        out.append((f"{dom.local.name} (this router)", f"{address} ({own.sequence})"))
    return out


def announcements(view: MobilityView, dom: MobileDomain) -> Finding:
    name = domain_name(dom, "announcements")
    ex = view.exchange
    if view.homes is None or ex is None or not ex.connected:
        why = view.homes_error or view.exchange_error or "gobgpd cannot be read"
        return finding(name, Status.SKIP, why)
    want = {h.address: h for h in _of(view, dom) if h.originating}
    have = {a: o for a, o in ex.originated.items() if view.plan.domain_of(a) is dom}
    missing = sorted(set(want) - set(have))
    extra = sorted(set(have) - set(want))
    other = sorted(a for a in set(want) & set(have) if want[a].sequence != have[a].sequence)
    if not (missing or extra or other):
        return finding(name, Status.PASS, f"gobgpd announces exactly the {len(want):,} home(s)")
    parts = []
    if missing:
        parts.append(f"not announced: {named(missing)}")
    if extra:
        parts.append(f"announced but not homed here: {named(extra)}")
    if other:
        texts = [f"{a} ({have[a].sequence}, home {want[a].sequence})" for a in other]
        parts.append(f"announced with another sequence: {named(texts)}")
    return finding(
        name,
        Status.WARN,
        "; ".join(parts),
        "routerd syncs gobgpd after every decision, so this may be a pass in flight: run the "
        "doctor again; if it stays, look for sync errors in the daemon log",
    )


def presence_evidence(view: MobilityView, dom: MobileDomain) -> Finding:
    name = domain_name(dom, "presence evidence")
    if view.homes is None:
        return finding(name, Status.SKIP, view.homes_error)
    here = local_homes(view, dom)
    if dom.local.kind != "onprem":
        return finding(
            name,
            Status.PASS,
            f"{len(here):,} home(s) here; a cloud site hears no presence: an explicit move "
            "is its evidence",
        )
    late = dom.probe_interval * (dom.absent_after + 1) + EVIDENCE_SLACK
    old, waiting = [], []
    for h in here:
        at = float(getattr(h.evidence, "at", 0.0) or 0.0)
        if h.origin == "presence" and at and view.now - at > late:
            old.append(f"{h.address} (last {age(view.now, at)})")
        elif h.origin == "explicit" and h.since and view.now - h.since > EXPLICIT_GRACE:
            waiting.append(f"{h.address} (moved {age(view.now, h.since)})")
    if not old and not waiting:
        return finding(name, Status.PASS, f"{len(here):,} home(s) here, none without evidence")
    parts = []
    if old:
        parts.append(
            f"no presence evidence for longer than the probes allow ({late:.0f}s): {named(old)}"
        )
    if waiting:
        parts.append(f"moved here explicitly, no host has answered here since: {named(waiting)}")
    return finding(
        name,
        Status.WARN,
        "; ".join(parts),
        "is the VM running on this site's segment? see docs/troubleshooting.md#presence-evidence",
    )
