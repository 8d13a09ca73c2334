"""The config part of ``doctor mobility``: each mobile domain and the speaker, as validated.

A daemon only runs a config that validates, so what this finding adds is not a second
opinion but the same one, where an operator looking at mobility reads it: the errors (a
``--local`` run of a file being edited), the warnings (no gateway on an on-prem site, a
vendor MAC, an overlay peer that reaches another router than the site's) and, on a pass,
the resolved shape (local site, each site's overlay peer, the speaker, the capture), which
is what to compare across the sites' reports. The rules themselves are
``routerd.core.validation`` (mobility: ``routerd.core.validation_mobility``); nothing is
re-implemented here.
"""

from __future__ import annotations

from routerd.core.doctor import Finding, Status
from routerd.core.errors import ConfigIssue
from routerd.core.mobility import MobileDomain
from routerd.core.resources import AddressMobilityDomain, BGPSpeaker
from routerd.core.validation import validate_config
from routerd.doctor.mobility_view import MobilityView, domain_name, finding

CHECK = "config"
REMEDY = "fix the fields named above (`routerd validate -c FILE` lists every issue), then reload"


def findings(view: MobilityView) -> list[Finding]:
    """One ``config`` finding per mobile domain and one for the speaker."""
    config = view.inputs.config
    errors, warnings = validate_config(config)
    out = [_domain(view, dom, errors, warnings) for dom in view.plan.domains]
    for speaker in config.of(BGPSpeaker):
        out.append(_speaker(speaker, errors, warnings))
    return out


def _of(ref: str, issues: list[ConfigIssue]) -> list[str]:
    return [f"{i.path}: {i.message}" if i.path else i.message for i in issues if i.resource == ref]


def _judged(
    name: str, ref: str, errors: list[ConfigIssue], warnings: list[ConfigIssue], ok: str
) -> Finding:
    bad, doubtful = _of(ref, errors), _of(ref, warnings)
    if bad:
        return finding(name, Status.FAIL, "; ".join(bad + doubtful), REMEDY)
    if doubtful:
        return finding(name, Status.WARN, "; ".join(doubtful), REMEDY)
    return finding(name, Status.PASS, ok)


def _domain(
    view: MobilityView,
    dom: MobileDomain,
    errors: list[ConfigIssue],
    warnings: list[ConfigIssue],
) -> Finding:
    ref = f"{AddressMobilityDomain.KIND}/{dom.name}"
    return _judged(domain_name(dom, CHECK), ref, errors, warnings, shape(view.plan.speaker, dom))


def shape(speaker: BGPSpeaker | None, dom: MobileDomain) -> str:
    """The domain as this router resolved it, in one line (compare it across sites)."""
    local = dom.local
    others = [
        f"{s.name} (siteID {s.site_id}, {s.kind}) via OverlayPeer/{s.peer_ref}"
        for s in dom.sites.values()
        if s.name != local.name
    ]
    capture = dom.capture.type + (f" on {dom.capture_ifname}" if dom.capture_ifname else "")
    gateway = f"; gateway {dom.gateway} {dom.gateway_mac}" if dom.gateway else ""
    speaker_ref = f"BGPSpeaker/{speaker.name}" if speaker is not None else "no speaker"
    return (
        f"{dom.prefix}: local site {local.name} (siteID {local.site_id}, {local.kind}); "
        f"{'; '.join(others) or 'no other site'}; {speaker_ref}; capture {capture}{gateway}"
    )


def _speaker(
    speaker: BGPSpeaker,
    errors: list[ConfigIssue],
    warnings: list[ConfigIssue],
) -> Finding:
    s = speaker.spec
    neighbors = ", ".join(
        f"{n.address}" + (f" ({n.description})" if n.description else "") for n in s.neighbors
    )
    ok = f"AS {s.asn}, routerID {s.router_id}; neighbors: {neighbors or 'none'}"
    return _judged(f"{speaker.ref} {CHECK}", speaker.ref, errors, warnings, ok)
