"""``doctor mobility``: gobgpd, each BGP session and what a down one costs, refused paths."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from routerd.core.doctor import Status
from routerd.core.exchange import REFUSALS, Refusal, SessionState
from tests.unit.doctor.mobility_kit import NOW, RR, doctor, exchange, named, path, port

SPEAKER = "BGPSpeaker/bgp speaker"
NEIGHBOR = f"BGPSpeaker/bgp neighbor {RR}"


def test_an_established_session_and_a_readable_speaker_pass(tmp_path: Path) -> None:
    ex = exchange(path("10.77.3.9", "site-b", 4), originated=[("10.77.1.5", 2)])
    report, _ = doctor(tmp_path, mobility=port(), ex=ex)
    speaker = named(report, SPEAKER)
    assert speaker.status is Status.PASS
    assert "1 path(s) learned for 1 address(es); announcing 1" in speaker.detail
    session = named(report, NEIGHBOR)
    assert session.status is Status.PASS
    assert session.detail.startswith("established (rr-1) since ")  # no error to report
    assert "5m ago" in session.detail
    assert named(report, "BGPSpeaker/bgp import filter").status is Status.PASS


def test_a_down_session_fails_with_since_its_error_and_the_homes_it_leaves_unconfirmed(
    tmp_path: Path,
) -> None:
    mob = port()
    for address in ("10.77.3.9", "10.77.3.10"):
        mob.set_home(address, "site-b", 4, "bgp", "BGP", kind="bgp", peer=RR,
                     stale_until=NOW + 90)  # fmt: skip
    mob.set_home("10.77.4.1", "site-c", 2, "bgp", "BGP", kind="bgp", peer="10.255.0.9",
                 stale_until=NOW + 10)  # fmt: skip
    ex = exchange(state="active")
    ex.current = replace(
        ex.current,
        sessions={RR: SessionState(RR, "active", NOW - 45, "rr-1", "hold timer expired")},
    )
    report, _ = doctor(tmp_path, mobility=mob, ex=ex)
    f = named(report, NEIGHBOR)
    assert f.status is Status.FAIL
    assert f.detail.startswith("active (rr-1), last error: hold timer expired; since ")
    assert "(45s ago)" in f.detail
    # only the homes whose path came over this session are its cost
    assert "2 home(s) learned over it unconfirmed (10.77.3.9, 10.77.3.10)" in f.detail
    assert "10.77.4.1" not in f.detail
    assert "troubleshooting.md#bgp-session" in f.remedy
    assert report.overall is Status.FAIL


def test_a_down_session_without_a_port_says_its_cost_is_unknown(tmp_path: Path) -> None:
    report, _ = doctor(tmp_path, ex=exchange(state="idle"))
    f = named(report, NEIGHBOR)
    assert f.status is Status.FAIL and "what it costs is unknown" in f.detail


def test_a_neighbor_gobgpd_does_not_know_fails_and_an_unlisted_one_warns(tmp_path: Path) -> None:
    ex = exchange()
    ex.current = replace(
        ex.current, sessions={"10.255.0.99": SessionState("10.255.0.99", "established", NOW)}
    )
    report, _ = doctor(tmp_path, mobility=port(), ex=ex)
    assert named(report, NEIGHBOR).status is Status.FAIL
    assert "no session for this neighbor" in named(report, NEIGHBOR).detail
    extra = named(report, "BGPSpeaker/bgp neighbor 10.255.0.99")
    assert extra.status is Status.WARN and "does not list" in extra.detail


def test_an_unreadable_speaker_fails_once_and_judges_no_session(tmp_path: Path) -> None:
    mob = port()
    mob.set_home("10.77.3.9", "site-b", 4, "bgp", "BGP", kind="bgp", peer=RR,
                 stale_until=NOW + 60)  # fmt: skip
    ex = exchange(connected=False, error="gobgpd: connection refused")
    report, _ = doctor(tmp_path, mobility=mob, ex=ex)
    f = named(report, SPEAKER)
    assert f.status is Status.FAIL
    assert "gobgpd: connection refused" in f.detail and "1 home(s) unconfirmed now" in f.detail
    assert not [x for x in report.findings if " neighbor " in x.name]


def test_without_an_exchange_the_speaker_is_skipped_with_the_reason(tmp_path: Path) -> None:
    report, _ = doctor(tmp_path, mobility=port())
    f = named(report, SPEAKER)
    assert f.status is Status.SKIP and "no route exchange" in f.detail


def test_an_exchange_that_raises_is_a_reason_not_a_crash(tmp_path: Path) -> None:
    class Broken:
        def view(self) -> None:
            raise RuntimeError("speaker thread died")

    report, _ = doctor(tmp_path, mobility=port(), ex=Broken())
    f = named(report, SPEAKER)
    assert f.status is Status.SKIP
    assert "route exchange did not answer: RuntimeError: speaker thread died" in f.detail


def test_paths_refused_now_fail_per_reason_with_the_reasons_remedy(tmp_path: Path) -> None:
    refused = tuple(
        Refusal(f"10.77.9.{i}/32", RR, "10.255.0.66", "foreign-site-identity") for i in range(7)
    )
    ex = exchange(
        refused=refused,
        refused_counts={"foreign-site-identity": 9, "outside-domains": 2, "no-sequence": 0},
    )
    report, _ = doctor(tmp_path, mobility=port(), ex=ex)
    now = named(report, "BGPSpeaker/bgp refused foreign-site-identity")
    assert now.status is Status.FAIL
    assert now.detail.startswith("7 path(s) refused now, 9 since start: ")
    assert "10.77.9.0/32 from 10.255.0.66 via 10.255.0.1" in now.detail and "+2 more" in now.detail
    assert REFUSALS["foreign-site-identity"] in now.remedy
    past = named(report, "BGPSpeaker/bgp refused outside-domains")
    assert past.status is Status.WARN and past.detail == "2 path(s) refused since start, none now"
    assert not [f for f in report.findings if f.name.endswith("no-sequence")]
    assert not [f for f in report.findings if f.name.endswith("import filter")]
