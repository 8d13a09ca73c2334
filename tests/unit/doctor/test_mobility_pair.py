"""``doctor mobility`` for a router pair: the role, and how many routers are active.

The listen answers are adverts as ``routerd.doctor.vrrp.listen`` reports them (source,
VRID, priority, time into the listen, outgoing); tests/netns/test_doctor_mobility.py runs
the same check against two real keepalived.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from routerd.core.config import RouterConfig
from routerd.core.doctor import Status
from routerd.core.redundancy import Role, plan_group
from routerd.core.resources.redundancy import RedundancyGroup
from routerd.doctor.mobility_pair import window
from routerd.doctor.vrrp import Heard
from tests.support.configs import example_text, load, with_keys
from tests.unit.doctor.mobility_kit import (
    PAIR,
    FakeRoles,
    Segment,
    adverts,
    config,
    doctor,
    named,
    port,
)

G = "RedundancyGroup/site-a-pair"
ROLE = f"{G} role"
ACTIVE = f"{G} active routers"
ME = "10.77.0.2"
PARTNER = "10.77.0.3"


def run(tmp_path: Path, heard: list[Heard], role: Role | None = None, **seg: object):
    segment = Segment(adverts=heard, **seg)  # type: ignore[arg-type]
    roles = FakeRoles(role) if role is not None else None
    report, host = doctor(tmp_path, cfg=config(pair=True), mobility=port(), roles=roles,
                          segment=segment)  # fmt: skip
    return report, host


def test_the_role_passes_active_and_standby_warns_unknown_fails_fault(tmp_path: Path) -> None:
    for role, status in (
        (Role.ACTIVE, Status.PASS),
        (Role.STANDBY, Status.PASS),
        (Role.UNKNOWN, Status.WARN),
        (Role.FAULT, Status.FAIL),
    ):
        f = named(run(tmp_path / role.value, [], role)[0], ROLE)
        assert f.status is status, role
        assert f.detail.startswith(f"{role.value}: VRRP master of VRID 42 on ens19; since ")
        assert f.detail.endswith("(2m ago)")


def test_without_a_role_source_the_role_is_skipped(tmp_path: Path) -> None:
    f = named(run(tmp_path, adverts(ME, outgoing=True))[0], ROLE)
    assert f.status is Status.SKIP and "no role source" in f.detail


def test_active_here_and_a_partner_advertising_is_both_active(tmp_path: Path) -> None:
    heard = adverts(ME, outgoing=True) + adverts(PARTNER, priority=100, start=0.05)
    report, host = run(tmp_path, heard, Role.ACTIVE)
    f = named(report, ACTIVE)
    assert f.status is Status.FAIL
    assert f.detail.startswith(f"both active (routerd's role active; {PARTNER} advertising")
    assert "protocol 112" in f.remedy
    assert ("vrrp", "ens19", "0.5") in host.calls  # 100ms adverts: the 0.5s floor


def test_standby_here_and_nobody_advertising_is_neither_active(tmp_path: Path) -> None:
    f = named(run(tmp_path, [], Role.STANDBY)[0], ACTIVE)
    assert f.status is Status.FAIL
    assert f.detail.startswith("neither active (routerd's role standby)")


def test_standby_here_while_keepalived_advertises_is_still_neither(tmp_path: Path) -> None:
    # routerd acts on its role: it does not capture, and the partner is silent
    f = named(run(tmp_path, adverts(ME, outgoing=True), Role.STANDBY)[0], ACTIVE)
    assert f.status is Status.FAIL and f.detail.startswith("neither active")


def test_standby_here_and_the_partner_advertising_passes(tmp_path: Path) -> None:
    f = named(run(tmp_path, adverts(PARTNER, priority=100), Role.STANDBY)[0], ACTIVE)
    assert f.status is Status.PASS
    assert f.detail.startswith(f"one active router, {PARTNER}: ")
    assert f"{PARTNER} (5 adverts, priority 100)" in f.detail


def test_a_takeover_inside_the_listen_is_one_active_router(tmp_path: Path) -> None:
    heard = adverts(PARTNER, priority=100, end=0.2) + adverts(ME, outgoing=True, start=0.25)
    f = named(run(tmp_path, heard, Role.ACTIVE)[0], ACTIVE)
    assert f.status is Status.PASS, f.detail
    assert f"{PARTNER} (2 adverts, priority 100, stopped)" in f.detail


def test_without_a_role_the_wire_decides_both_sides(tmp_path: Path) -> None:
    both = adverts(ME, outgoing=True) + adverts(PARTNER, priority=100)
    f = named(run(tmp_path / "both", both)[0], ACTIVE)
    assert f.status is Status.FAIL
    assert f.detail.startswith("both active (this router's own adverts")
    f = named(run(tmp_path / "one", adverts(ME, outgoing=True))[0], ACTIVE)
    assert f.status is Status.PASS and f.detail.startswith("one active router, this router")


def test_two_masters_on_the_wire_while_standby_warns(tmp_path: Path) -> None:
    heard = adverts(ME, outgoing=True) + adverts(PARTNER, priority=100)
    f = named(run(tmp_path, heard, Role.STANDBY)[0], ACTIVE)
    assert f.status is Status.WARN and "two VRRP masters on the wire" in f.detail


def test_active_but_silent_warns_that_keepalived_may_hang(tmp_path: Path) -> None:
    f = named(run(tmp_path, [], Role.ACTIVE)[0], ACTIVE)
    assert f.status is Status.WARN and "sends no VRRP adverts" in f.detail


def test_other_vrids_and_priority_0_adverts_do_not_count(tmp_path: Path) -> None:
    heard = (
        adverts(ME, outgoing=True)
        + adverts("10.77.0.50", vrid=7)
        + adverts(PARTNER, priority=0)  # giving mastership up
    )
    f = named(run(tmp_path, heard, Role.ACTIVE)[0], ACTIVE)
    assert f.status is Status.PASS and "10.77.0.50" not in f.detail


def test_a_router_outside_the_pair_on_our_vrid_is_named(tmp_path: Path) -> None:
    heard = adverts(ME, outgoing=True) + adverts("10.77.0.50", priority=90)
    f = named(run(tmp_path, heard, Role.ACTIVE)[0], ACTIVE)
    assert f.status is Status.FAIL
    assert "10.77.0.50 (5 adverts, priority 90, not in spec.peers" in f.detail


def test_a_failed_listen_and_no_host_skip(tmp_path: Path) -> None:
    denied = "permission denied opening a packet socket (run the doctor as root)"
    f = named(run(tmp_path, [], Role.ACTIVE, listen_error=denied)[0], ACTIVE)
    assert f.status is Status.SKIP and f.detail == denied
    report, host = doctor(tmp_path / "n", cfg=config(pair=True), host=False)
    assert named(report, ACTIVE).status is Status.SKIP
    assert not [c for c in host.calls if c[0] == "vrrp"]


def test_the_listen_lasts_three_and_a_half_intervals_within_bounds() -> None:
    cfg = config(pair=True)
    plan = plan_group(cfg.of(RedundancyGroup)[0], cfg)
    assert window(plan) == 0.5
    assert window(replace(plan, advert_interval=1.0)) == 3.5
    assert window(replace(plan, advert_interval=10.0)) == 5.0


def test_silence_is_not_judged_with_adverts_slower_than_the_listen(tmp_path: Path) -> None:
    cfg = pair_with_interval("4s")
    report, _ = doctor(tmp_path, cfg=cfg, roles=FakeRoles(Role.STANDBY))
    f = named(report, ACTIVE)
    assert f.status is Status.SKIP and "too slow to judge silence" in f.detail


def test_without_a_pair_there_is_one_skip(tmp_path: Path) -> None:
    f = named(doctor(tmp_path)[0], "RedundancyGroup")
    assert f.status is Status.SKIP and "only router" in f.detail


def pair_with_interval(interval: str) -> RouterConfig:
    base = with_keys(example_text("mobility", "site-a"), Path("/nonexistent/keys"))
    return load(base + PAIR.replace("advertInterval: 100ms", f"advertInterval: {interval}"))
