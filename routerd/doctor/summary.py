"""One summary finding per per-claim check, so 10,000 claims still read in a screenful.

A hybrid run reports ~20 findings per claim; scripts need every one of them (and keep
getting them), but a person needs "which check, how many claims, which ones are not fine".
So after the per-claim findings the report carries one more finding per check::

    warn   capture route (all claims)   9,998 pass, 2 warn (cloud-vm-7, cloud-vm-9)

The name *ends* with the marker, so a script that picks a check by the end of its name
(``endswith("capture route")``) still gets only the per-claim findings. Its ``claim`` is
empty (it is about no single claim) and its status is the check's worst, by the same rule
as ``Report.overall``, so it agrees with the lines it summarises. Non-pass claims are
named, at most ``NAMED`` per status, with the detail they share when they all share one;
the remedy is the one every warning or failing claim shares, else a pointer to their own.
``routerctl doctor`` prints these first and the per-claim lines only when they warn or
fail (``--all`` or ``-o json|yaml`` for everything).
"""

from __future__ import annotations

from routerd.core.doctor import Finding, Report, Status

SUMMARY_SUFFIX = " (all claims)"
NAMED = 5
ORDER = (Status.PASS, Status.WARN, Status.FAIL, Status.SKIP)


def is_summary(f: Finding) -> bool:
    return not f.claim and f.name.endswith(SUMMARY_SUFFIX)


def summaries(area: str, findings: list[Finding]) -> list[Finding]:
    """One finding per per-claim check, in the order the checks first appear."""
    groups: dict[str, list[Finding]] = {}
    for f in findings:
        head = f"RemoteAddressClaim/{f.claim} "
        if f.claim and f.name.startswith(head):
            groups.setdefault(f.name[len(head) :], []).append(f)
    return [_summary(area, check, members) for check, members in groups.items()]


def _summary(area: str, check: str, members: list[Finding]) -> Finding:
    by_status: dict[Status, list[Finding]] = {}
    for f in members:
        by_status.setdefault(f.status, []).append(f)
    parts = [_part(s, by_status[s]) for s in ORDER if s in by_status]
    status = Report(list(members)).overall
    joined = "; ".join(parts) if any(": " in p for p in parts) else ", ".join(parts)
    bad = [f for f in members if f.status in (Status.WARN, Status.FAIL)]
    remedies = {f.remedy for f in bad}
    remedy = ""
    if len(remedies) == 1:
        remedy = remedies.pop()
    elif bad:
        remedy = "remedies differ by claim: see each claim's finding below"
    return Finding(area, f"{check}{SUMMARY_SUFFIX}", status, joined, remedy)


def _part(status: Status, group: list[Finding]) -> str:
    text = f"{len(group):,} {status.value}"
    if status is Status.PASS:
        return text
    names = [f.claim for f in group[:NAMED]]
    if len(group) > NAMED:
        names.append(f"+{len(group) - NAMED:,} more")
    text += f" ({', '.join(names)})"
    details = {f.detail for f in group}
    if len(details) == 1:
        text += f": {details.pop()}"
    return text
