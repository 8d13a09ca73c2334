"""Summary findings: one per per-claim check, worst status, non-pass claims named."""

from __future__ import annotations

from collections.abc import Callable

from routerd.core.doctor import Finding, Status
from routerd.doctor.summary import NAMED, is_summary, summaries
from tests.unit.doctor.kit import Scene, one

Recorded = Callable[[str], Scene]


def claim(n: int, status: Status, detail: str = "", remedy: str = "") -> Finding:
    name = f"vm-{n}"
    return Finding(
        "hybrid", f"RemoteAddressClaim/{name} capture route", status, detail, remedy, name
    )


def test_a_hybrid_run_ends_with_one_summary_per_check(recorded: Recorded) -> None:
    report = recorded("healthy").doctor()
    per_claim = {f.name.split(" ", 1)[1] for f in report.findings if f.claim == "vm31"}
    tail = [f for f in report.findings if is_summary(f)]
    assert {f.name for f in tail} == {f"{check} (all claims)" for check in per_claim}
    assert report.findings[-len(tail) :] == tail
    captured = one(tail, "capture route (all claims)")
    assert (captured.status, captured.detail, captured.claim) == (Status.PASS, "1 pass", "")


def test_warnings_are_counted_named_and_keep_a_shared_remedy() -> None:
    findings = [claim(i, Status.PASS) for i in range(9998)]
    findings += [
        claim(7, Status.WARN, "no route a", "fix it"),
        claim(9, Status.WARN, "b", "fix it"),
    ]
    (s,) = summaries("hybrid", findings)
    assert s.name == "capture route (all claims)"
    assert s.status is Status.WARN
    assert s.detail == "9,998 pass, 2 warn (vm-7, vm-9)"
    assert s.remedy == "fix it"


def test_long_lists_are_cut_and_a_shared_detail_is_said_once() -> None:
    why = "no engine state (no running daemon)"
    (s,) = summaries("hybrid", [claim(i, Status.SKIP, why) for i in range(NAMED + 3)])
    assert s.status is Status.SKIP and s.remedy == ""
    names = ", ".join(f"vm-{i}" for i in range(NAMED))
    assert s.detail == f"{NAMED + 3} skip ({names}, +3 more): {why}"


def test_failures_win_and_different_remedies_point_at_the_claims() -> None:
    findings = [
        claim(1, Status.WARN, "a", "x"),
        claim(2, Status.FAIL, "b", "y"),
        claim(3, Status.PASS),
    ]
    (s,) = summaries("hybrid", findings)
    assert s.status is Status.FAIL
    assert s.detail == "1 pass; 1 warn (vm-1): a; 1 fail (vm-2): b"
    assert "each claim" in s.remedy


def test_findings_about_no_claim_are_not_summarised() -> None:
    peer = Finding("hybrid", "OverlayPeer/cloud WireGuard handshake", Status.WARN, "stale")
    assert summaries("hybrid", [peer]) == []
    assert not is_summary(peer)
