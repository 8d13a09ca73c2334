"""The route exchange in ``doctor mobility``: gobgpd, each BGP session, the import filter.

Homes travel between sites over BGP (docs/route-exchange.md), so when a session is down
this router neither tells the others where its addresses are nor learns where theirs went:
homes learned over the session are kept, unconfirmed, for the domain's ``staleTime`` and
then dropped. Each finding therefore says what the failure costs now, counted from the
mobility port's homes (``home-unconfirmed`` ones whose path came over that session).

* ``BGPSpeaker/<n> speaker``: the exchange reads gobgpd (its API answers and its tables
  were read in full); while it does not, nothing it shows can be trusted.
* ``BGPSpeaker/<n> neighbor <address>``: each configured neighbor's session, FAIL when not
  established, with since when, gobgpd's last error and the homes it leaves unconfirmed.
* ``BGPSpeaker/<n> refused <reason>``: received paths the import rule refuses, by reason,
  with that reason's remedy (``routerd.core.exchange.REFUSALS``); FAIL while some are
  refused now (a site's announcement is being ignored), WARN when only counted earlier.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from routerd.core.doctor import Finding, Status
from routerd.core.exchange import REFUSALS, ExchangeView, Refusal, SessionState
from routerd.core.resources import BGPSpeaker
from routerd.doctor.mobility_view import MobilityView, finding, named, stamp, when

SESSION_REMEDY = (
    "check the overlay path to the neighbor (WireGuard handshake, `ping -I <routerID> "
    "<neighbor>`), the neighbor's side (`birdc show protocols` on a BIRD reflector) and both "
    "sides' AS and hold timers; see docs/troubleshooting.md#bgp-session"
)
SPEAKER_REMEDY = (
    "routerd restarts gobgpd when it dies; check the daemon log and gobgpd.log in the "
    "speaker's run directory; see docs/troubleshooting.md#bgp-speaker"
)
REFUSED_DOC = "see docs/troubleshooting.md#refused-paths"


def findings(view: MobilityView) -> list[Finding]:
    """The speaker, its sessions and its import filter (nothing without a speaker)."""
    speaker = view.speaker
    if speaker is None:
        return []
    head = f"{speaker.ref} speaker"
    ex = view.exchange
    if ex is None:
        return [finding(head, Status.SKIP, view.exchange_error)]
    stale = _unconfirmed(view)
    if not ex.connected:
        cost = f"; {len(stale):,} home(s) unconfirmed now" if stale else ""
        detail = f"routerd cannot read gobgpd: {ex.error or 'no reason given'}{cost}"
        return [finding(head, Status.FAIL, detail, SPEAKER_REMEDY)]
    learned = sum(len(p) for p in ex.paths.values())
    out = [
        finding(
            head,
            Status.PASS,
            f"gobgpd answers; {learned:,} path(s) learned for {len(ex.paths):,} address(es); "
            f"announcing {len(ex.originated):,}",
        )
    ]
    out += sessions(view, speaker, ex, stale)
    out += refusals(speaker, ex)
    return out


def _unconfirmed(view: MobilityView) -> list[Any]:
    return [h for h in view.homes or () if h.stale_until > 0]


def sessions(
    view: MobilityView, speaker: BGPSpeaker, ex: ExchangeView, stale: Sequence[Any]
) -> list[Finding]:
    """One finding per configured neighbor, and one per session the config does not list."""
    out = []
    configured = [n.address for n in speaker.spec.neighbors]
    for address in configured:
        name = f"{speaker.ref} neighbor {address}"
        state = ex.sessions.get(address)
        if state is None:
            out.append(
                finding(
                    name,
                    Status.FAIL,
                    "gobgpd has no session for this neighbor: routerd has not configured it",
                    SPEAKER_REMEDY,
                )
            )
            continue
        out.append(_session(view, name, state, [h for h in stale if _via(h) == address]))
    for address, state in sorted(ex.sessions.items()):
        if address not in configured:
            out.append(
                finding(
                    f"{speaker.ref} neighbor {address}",
                    Status.WARN,
                    f"gobgpd has a session ({state.state}) the config does not list",
                    "routerd removes it on its next sync; if it stays, restart routerd",
                )
            )
    return out


def _via(home: Any) -> str:
    evidence = getattr(home, "evidence", None)
    return str(getattr(evidence, "peer", "")) if evidence is not None else ""


def _session(view: MobilityView, name: str, s: SessionState, stale: Sequence[Any]) -> Finding:
    label = f" ({s.description})" if s.description else ""
    if s.state == "established":
        return finding(name, Status.PASS, f"established{label} since {when(view.now, s.since)}")
    error = f", last error: {s.last_error}" if s.last_error else ""
    detail = f"{s.state}{label}{error}; since {when(view.now, s.since)}"
    if view.homes is None:
        detail += "; what it costs is unknown (no mobility port to count homes)"
    elif stale:
        until = min(h.stale_until for h in stale)
        detail += (
            f"; costs: {len(stale):,} home(s) learned over it unconfirmed "
            f"({named([h.address for h in stale])}), kept until {stamp(until)} at the latest "
            "(staleTime), then dropped"
        )
    else:
        detail += "; no home learned over it is unconfirmed now"
    return finding(name, Status.FAIL, detail, SESSION_REMEDY)


def refusals(speaker: BGPSpeaker, ex: ExchangeView) -> list[Finding]:
    """One finding per refusal reason ever counted; one PASS when there is none."""
    counted = {r: n for r, n in ex.refused_counts.items() if n > 0}
    now: dict[str, list[Refusal]] = {}
    for r in ex.refused:
        now.setdefault(r.reason, []).append(r)
    if not counted and not now:
        return [finding(f"{speaker.ref} import filter", Status.PASS, "no received path refused")]
    out = []
    for reason in sorted(set(counted) | set(now)):
        current = now.get(reason, [])
        total = max(counted.get(reason, 0), len(current))
        meaning = REFUSALS.get(reason, "an unknown refusal reason")
        name = f"{speaker.ref} refused {reason}"
        remedy = f"the path {meaning}; {REFUSED_DOC}"
        if current:
            shown = named([_path(r) for r in current])
            detail = f"{len(current):,} path(s) refused now, {total:,} since start: {shown}"
            out.append(finding(name, Status.FAIL, detail, remedy))
        else:
            detail = f"{total:,} path(s) refused since start, none now"
            out.append(finding(name, Status.WARN, detail, remedy))
    return out


def _path(r: Refusal) -> str:
    via = f" via {r.neighbor}" if r.neighbor != r.sender else ""
    return f"{r.prefix} from {r.sender}{via}"
