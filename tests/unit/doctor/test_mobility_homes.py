"""``doctor mobility``: conflicts, captures at home, unconfirmed/superseded homes, evidence."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from routerd.api.mobility_port import Conflict as PortConflict
from routerd.core.doctor import Status
from routerd.core.mobility import CONFLICTS, Conflict
from routerd.doctor.mobility_view import LISTED
from tests.support.configs import example_text, load, with_keys
from tests.support.fake_mobility import FakeMobility
from tests.unit.doctor.mobility_kit import (
    NOW,
    Segment,
    by_status,
    derived,
    doctor,
    domain,
    exchange,
    named,
    path,
    port,
)

D = "AddressMobilityDomain/lab"


def tie(detail: str = "sites site-a and site-b both at sequence 5") -> PortConflict:
    return PortConflict("tie", detail, CONFLICTS["tie"])


def test_a_tie_fails_keyed_by_its_address_with_what_to_do(tmp_path: Path) -> None:
    mob = port()
    mob.set_home("10.77.3.9", "site-a", 5, "presence", "garp", conflicts=(tie(),))
    mob.set_home("10.77.3.10", "site-b", 2, "bgp", "BGP", kind="bgp")
    report, _ = doctor(tmp_path, mobility=mob, ex=exchange())
    f = named(report, f"{D} 10.77.3.9 conflicting homes")
    assert f.status is Status.FAIL
    assert f.detail == "tie: sites site-a and site-b both at sequence 5"
    assert f.remedy == CONFLICTS["tie"]
    assert not [x for x in report.findings if x.name == f"{D} conflicting homes"]
    assert report.overall is Status.FAIL


def test_conflicts_of_addresses_without_a_home_come_from_the_ports_conflicts(
    tmp_path: Path,
) -> None:
    class WithConflicts(type(port())):  # type: ignore[misc]
        def conflicts(self) -> list[Conflict]:
            return [Conflict("10.77.6.6", "duplicate", "taken back 5 times in 180s")]

    mob = WithConflicts(port().domains)
    report, _ = doctor(tmp_path, mobility=mob, ex=exchange())
    f = named(report, f"{D} 10.77.6.6 conflicting homes")
    assert f.status is Status.FAIL and f.detail.startswith("duplicate: taken back 5 times")
    assert f.remedy == CONFLICTS["duplicate"]


def test_no_conflict_passes_once_per_domain(tmp_path: Path) -> None:
    mob = port()
    mob.set_home("10.77.3.10", "site-b", 2, "bgp", "BGP", kind="bgp")
    report, _ = doctor(tmp_path, mobility=mob, ex=exchange())
    assert named(report, f"{D} conflicting homes").status is Status.PASS


def test_past_the_listed_number_the_rest_are_counted_in_one_finding(tmp_path: Path) -> None:
    mob = port()
    for i in range(LISTED + 7):
        mob.set_home(f"10.77.5.{i}", "site-b", 3, "bgp", "BGP", kind="bgp", conflicts=(tie(),))
    report, _ = doctor(tmp_path, mobility=mob, ex=exchange())
    per_address = [f for f in report.findings if f.name.endswith(" conflicting homes")]
    assert len(per_address) == LISTED + 1
    rest = named(report, f"{D} conflicting homes")
    assert rest.status is Status.FAIL
    assert rest.detail.startswith("7 more address(es) not listed one by one: ")
    assert rest.remedy == CONFLICTS["tie"]


def test_a_claim_for_an_address_homed_here_is_a_capture_at_home(tmp_path: Path) -> None:
    mob = port()
    mob.set_home("10.77.3.9", "site-a", 6, "presence", "garp from 52:54:00:00:03:09")
    mob.set_home("10.77.3.10", "site-b", 2, "bgp", "BGP", kind="bgp")
    claims = [derived("10.77.3.9"), derived("10.77.3.10")]
    report, _ = doctor(tmp_path, mobility=mob, ex=exchange(), claims=claims)
    f = named(report, f"{D} 10.77.3.9 captured at its home")
    assert f.status is Status.FAIL
    assert f.claim == "mobility.lab.10-77-3-9"
    assert "home here (presence, sequence 6)" in f.detail
    assert "RemoteAddressClaim/mobility.lab.10-77-3-9 captures it (proxy-arp on ens19" in f.detail
    assert "troubleshooting.md#captured-at-home" in f.remedy
    assert f"{D} 10.77.3.10 captured at its home" not in [x.name for x in report.findings]


def test_a_proxy_entry_for_an_address_homed_here_is_a_capture_at_home(tmp_path: Path) -> None:
    mob = port()
    mob.set_home("10.77.3.9", "site-a", 6, "presence", "garp")
    segment = Segment(proxies=["10.77.3.9", "10.77.8.8"])
    report, _ = doctor(tmp_path, mobility=mob, ex=exchange(), segment=segment)
    f = named(report, f"{D} 10.77.3.9 captured at its home")
    assert f.status is Status.FAIL and "a proxy-ARP entry answers for it on ens19" in f.detail


def test_without_host_probes_only_claims_are_compared_and_the_pass_says_so(
    tmp_path: Path,
) -> None:
    mob = port()
    mob.set_home("10.77.3.9", "site-a", 6, "presence", "garp")
    report, host = doctor(tmp_path, mobility=mob, ex=exchange(), host=False)
    f = named(report, f"{D} captured at its home")
    assert f.status is Status.PASS
    assert "claims only: host commands disabled by --no-host" in f.detail
    assert host.calls == []


def test_unconfirmed_homes_warn_until_stale_time_and_fail_past_it(tmp_path: Path) -> None:
    mob = port()
    mob.set_home("10.77.3.9", "site-b", 4, "bgp", "BGP", kind="bgp", peer="10.255.0.1",
                 stale_until=NOW + 30)  # fmt: skip
    report, _ = doctor(tmp_path, mobility=mob, ex=exchange(state="active"))
    f = named(report, f"{D} homes unconfirmed")
    assert f.status is Status.WARN
    assert "1 home(s) unconfirmed: 10.77.3.9" in f.detail and "10.255.0.1" in f.detail
    mob.set_home("10.77.3.9", "site-b", 4, "bgp", "BGP", kind="bgp", peer="10.255.0.1",
                 stale_until=NOW - 60)  # fmt: skip
    report, _ = doctor(tmp_path, mobility=mob, ex=exchange(state="active"))
    f = named(report, f"{D} homes unconfirmed")
    assert f.status is Status.FAIL and "kept past staleTime (120s): 10.77.3.9" in f.detail


def test_a_site_announcing_below_the_homes_sequence_is_superseded(tmp_path: Path) -> None:
    ex = exchange(
        path("10.77.3.9", "site-b", 3),
        path("10.77.3.9", "site-c", 5),
        path("10.77.3.10", "site-b", 2),
        path("10.77.3.11", "site-b", 1),
        originated=[("10.77.3.11", 0), ("10.77.3.12", 4)],
    )
    report, _ = doctor(tmp_path, mobility=port(), ex=ex)
    f = named(report, f"{D} superseded sequences")
    assert f.status is Status.WARN
    assert "site-b still announces, below the home's sequence: 10.77.3.9 (3)" in f.detail
    assert "site-a (this router) still announces, below the home's sequence: 10.77.3.11 (0)" in (
        f.detail
    )
    assert "10.77.3.10" not in f.detail and "10.77.3.12" not in f.detail


def test_one_path_per_address_is_never_superseded(tmp_path: Path) -> None:
    ex = exchange(path("10.77.3.9", "site-b", 3), path("10.77.3.10", "site-c", 7))
    report, _ = doctor(tmp_path, mobility=port(), ex=ex)
    assert named(report, f"{D} superseded sequences").status is Status.PASS


def test_the_speakers_announcements_are_compared_with_the_homes_here(tmp_path: Path) -> None:
    mob = port()
    mob.set_home("10.77.1.1", "site-a", 3, "presence", "garp")
    mob.set_home("10.77.1.2", "site-a", 4, "presence", "garp")
    mob.set_home("10.77.1.3", "site-a", 5, "presence", "garp")
    ex = exchange(originated=[("10.77.1.1", 3), ("10.77.1.2", 2), ("10.77.1.4", 1)])
    report, _ = doctor(tmp_path, mobility=mob, ex=ex)
    f = named(report, f"{D} announcements")
    assert f.status is Status.WARN
    assert "not announced: 10.77.1.3" in f.detail
    assert "announced but not homed here: 10.77.1.4" in f.detail
    assert "announced with another sequence: 10.77.1.2 (2, home 4)" in f.detail
    ex = exchange(originated=[("10.77.1.1", 3), ("10.77.1.2", 4), ("10.77.1.3", 5)])
    report, _ = doctor(tmp_path, mobility=mob, ex=ex)
    assert named(report, f"{D} announcements").status is Status.PASS


def test_homes_here_without_recent_evidence_warn(tmp_path: Path) -> None:
    mob = port()
    mob.set_home("10.77.1.1", "site-a", 3, "presence", "probe-answer")  # at NOW - 60
    mob.set_home("10.77.1.2", "site-a", 4, "explicit", "wave 3")  # moved NOW - 60
    report, _ = doctor(tmp_path, mobility=mob, ex=exchange())
    f = named(report, f"{D} presence evidence")
    assert f.status is Status.WARN
    # probes every 1s, absent after 3: evidence older than 6s is late
    assert "longer than the probes allow (6s): 10.77.1.1 (last 1m ago)" in f.detail
    assert "10.77.1.2" not in f.detail  # an explicit move gets 5 minutes for its VM


def test_an_explicit_move_no_host_answered_for_minutes_warns(tmp_path: Path) -> None:
    mob = port()
    mob.clock = lambda: NOW - 900
    mob.set_home("10.77.1.2", "site-a", 4, "explicit", "wave 3")
    report, _ = doctor(tmp_path, mobility=mob, ex=exchange())
    f = named(report, f"{D} presence evidence")
    assert f.status is Status.WARN
    assert "no host has answered here since: 10.77.1.2 (moved 15m ago)" in f.detail


def test_fresh_evidence_passes(tmp_path: Path) -> None:
    mob = port()
    mob.clock = lambda: NOW - 0.5
    mob.set_home("10.77.1.1", "site-a", 3, "presence", "probe-answer")
    report, _ = doctor(tmp_path, mobility=mob, ex=exchange())
    assert named(report, f"{D} presence evidence").status is Status.PASS


def test_without_a_port_every_homes_check_skips_with_the_reason(tmp_path: Path) -> None:
    report, _ = doctor(tmp_path, ex=exchange())
    skipped = by_status(report, Status.SKIP)
    for check in ("conflicting homes", "captured at its home", "homes unconfirmed",
                  "announcements", "presence evidence"):  # fmt: skip
        assert f"{D} {check}" in skipped
        assert "no mobility port" in named(report, f"{D} {check}").detail


def test_a_port_that_is_not_ready_is_the_reason(tmp_path: Path) -> None:
    mob = port()
    mob.refuse = "not-ready"
    report, _ = doctor(tmp_path, mobility=mob, ex=exchange())
    f = named(report, f"{D} conflicting homes")
    assert f.status is Status.SKIP
    assert "mobility port did not answer: MobilityRefused: refused by the test" in f.detail


def test_an_explicit_move_to_a_cloud_site_is_its_evidence(tmp_path: Path) -> None:
    """A cloud site hears no ARP: nothing can answer after an explicit move there, so an
    old explicit home (or one kept on presence) is no finding."""
    cloud = replace(domain(), local_site="site-c")
    mob = FakeMobility([cloud], clock=lambda: NOW - 900)
    mob.set_home("10.77.1.2", "site-c", 4, "explicit", "wave 3")
    cfg = load(with_keys(example_text("mobility", "site-c"), Path("/nonexistent/keys")))
    report, _ = doctor(tmp_path, mobility=mob, ex=exchange(), cfg=cfg)
    f = named(report, f"{D} presence evidence")
    assert f.status is Status.PASS
    assert "an explicit move is its evidence" in f.detail
