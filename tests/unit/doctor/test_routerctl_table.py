"""``routerctl doctor`` table with summaries: summaries first, per-claim lines only when bad.

(The renderer lives in ``routerd/cli/ctl_doctor.py``; these tests sit with the doctor's
because they pin the shape the summary findings were designed for.)
"""

from __future__ import annotations

from collections.abc import Callable

from routerd.api.convert import doctor_report
from routerd.cli.ctl_doctor import render, shown
from tests.unit.doctor.kit import Scene

Recorded = Callable[[str], Scene]


def test_summaries_lead_and_only_bad_claim_lines_follow(recorded: Recorded) -> None:
    s = recorded("capture-forwarding-off")
    br = s.names["br"]
    report = doctor_report("hybrid", s.doctor())
    findings, hidden = shown(report)
    names = [f.name for f in findings]
    first_claim_line = next(i for i, f in enumerate(findings) if f.claim)
    assert all(n.endswith(" (all claims)") for n in names[:5])
    assert [f.status for f in findings[first_claim_line:]] == ["warn", "warn"]
    assert names[first_claim_line:] == [
        f"RemoteAddressClaim/vm31 forwarding {br}",
        "RemoteAddressClaim/vm31 capture route",
    ]
    per_claim = [f for f in report.findings if f.claim]
    assert hidden == len(per_claim) - 2

    text = render(report)
    rows = text.split("\n\n")[0].splitlines()
    assert rows[1].startswith("pass    domainRef (all claims)")
    assert f"warn    forwarding {br} (all claims)" in text
    assert f"1 warn (vm31): net.ipv4.conf.{br}.forwarding=0" in text
    assert rows[-1].startswith("warn    RemoteAddressClaim/vm31 capture route")
    assert f"{hidden:,} per-claim pass/skip findings" in text
    assert text.splitlines()[-1] == "hybrid: warn (pass 20, warn 2, fail 0, skip 3; 20 summaries)"


def test_all_lists_every_finding_in_report_order(recorded: Recorded) -> None:
    report = doctor_report("hybrid", recorded("healthy").doctor())
    findings, hidden = shown(report, show_all=True)
    assert (list(findings), hidden) == (list(report.findings), 0)
    assert "RemoteAddressClaim/vm31 ip_forward" in render(report, show_all=True)
    assert "RemoteAddressClaim/vm31 ip_forward" not in render(report)


def test_areas_without_summaries_print_as_before(recorded: Recorded) -> None:
    report = doctor_report("firewall", recorded("stale-tables").doctor("firewall"))
    findings, hidden = shown(report)
    assert (list(findings), hidden) == (list(report.findings), 0)
    assert "summaries" not in render(report)
