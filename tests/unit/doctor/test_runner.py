"""run_doctor: area dispatch, host gating, and D7 (effective config, tunnel from the peer).

D7 is an entry of docs/decisions.md.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from routerd.core.doctor import AREAS, DoctorContext, Status
from routerd.core.dynamic import DynamicPart
from routerd.core.effective import build_effective
from routerd.core.resources import RemoteAddressClaim
from routerd.doctor import run_doctor
from tests.unit.doctor.kit import Scene, one

Recorded = Callable[[str], Scene]


def test_unknown_area_names_the_known_ones(recorded: Recorded) -> None:
    s = recorded("healthy")
    with pytest.raises(ValueError) as err:
        run_doctor("sam", DoctorContext(startup=s.config), host=s.host)
    for area in AREAS:
        assert area in str(err.value)


def test_healthy_router_has_no_warning_or_failure(recorded: Recorded) -> None:
    report = recorded("healthy").doctor("hybrid", probe=True)
    bad = [(f.name, f.detail) for f in report.findings if f.status in (Status.WARN, Status.FAIL)]
    assert bad == []
    assert report.overall is Status.PASS


def test_no_host_gives_one_skip_per_claim_and_keeps_config_checks(recorded: Recorded) -> None:
    s = recorded("healthy")
    report = s.doctor("hybrid", host=False)
    gated = [f for f in report.findings if f.detail == "host commands disabled by --no-host"]
    assert [(f.claim, f.status) for f in gated] == [("vm31", Status.SKIP)]
    assert one(report, "vm31 capture.type").status is Status.PASS
    assert s.host.calls == []


def test_sim_backend_skips_host_probes_with_that_reason(recorded: Recorded) -> None:
    s = recorded("healthy")
    report = s.doctor("hybrid", backend="sim")
    gated = one(report, "vm31 live checks")
    assert gated.status is Status.SKIP and "sim" in gated.detail
    assert s.host.calls == []
    assert s.doctor("firewall", backend="sim").overall is Status.SKIP


def test_claim_without_tunnel_interface_is_checked_against_the_peers_tunnel(
    recorded: Recorded,
) -> None:
    s = recorded("healthy")
    claim = s.config.get(RemoteAddressClaim, "vm31")
    assert claim is not None and claim.spec.delivery.tunnel_interface == ""
    report = s.doctor("hybrid")
    tunnel = s.names["wg1"]
    assert one(report, "vm31 delivery tunnel").detail.startswith(tunnel)
    assert f"dev {tunnel}" in one(report, "vm31 delivery route").detail
    assert one(report, "vm31 delivery route").status is Status.PASS
    assert one(report, f"vm31 rp_filter {tunnel}").status is Status.PASS


def test_a_claim_only_in_a_dynamic_part_gets_the_live_checks(recorded: Recorded) -> None:
    s = recorded("healthy")
    claim = s.config.get(RemoteAddressClaim, "vm31")
    assert claim is not None
    startup = s.config.replace(r for r in s.config if r.kind != "RemoteAddressClaim")
    now = s.host.clock()
    part = DynamicPart("Plugin/inventory", 3, now - 10, 300.0, (claim,))
    effective = build_effective(startup, [part], now)
    assert effective.rejected == []

    report = s.doctor("hybrid", startup=startup, effective=effective)

    live = [f for f in report.findings if f.claim == "vm31"]
    assert {"delivery route", "capture route", "MSS clamp", "host firewall"} <= {
        f.name.split(" ", 1)[1] for f in live
    }
    assert "from Plugin/inventory@3" in one(report, "vm31 domainRef").detail
    assert report.overall is Status.PASS
    # the startup config alone has no claim: without the effective view nothing is checked
    assert not [f for f in s.doctor("hybrid", startup=startup).findings if f.claim]


def test_effective_config_is_rebuilt_from_the_store_when_not_given(
    recorded: Recorded, tmp_path
) -> None:
    from routerd.state.store import Store

    s = recorded("healthy")
    claim = s.config.get(RemoteAddressClaim, "vm31")
    assert claim is not None
    startup = s.config.replace(r for r in s.config if r.kind != "RemoteAddressClaim")
    store = Store.open(tmp_path / "state")
    try:
        store.put_part(DynamicPart("Plugin/inventory", 1, s.host.clock() - 5, 300.0, (claim,)))
        report = s.doctor("hybrid", startup=startup, store=store)
    finally:
        store.close()
    assert one(report, "vm31 capture route").status is Status.PASS


def test_a_crashing_check_is_a_fail_finding_not_an_exception(recorded: Recorded) -> None:
    s = recorded("healthy")

    def broken(argv: object, *, timeout: float = 5.0) -> object:
        raise OSError("runner vanished")

    s.host.run = broken  # type: ignore[assignment]
    report = s.doctor("hybrid")
    crashed = [f for f in report.findings if "check raised OSError" in f.detail]
    assert crashed and report.overall is Status.FAIL
