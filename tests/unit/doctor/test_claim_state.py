"""The engine's own verdict per claim: degraded FAILs with its reason code."""

from __future__ import annotations

from collections.abc import Callable

from routerd.core.doctor import Status
from tests.unit.doctor.kit import Scene, one

Recorded = Callable[[str], Scene]


def test_degraded_claim_fails_with_its_reason_code(recorded: Recorded) -> None:
    f = one(
        recorded("healthy").doctor(claim_states={"vm31": ("degraded", "handshake-stale")}),
        "vm31 state",
    )
    assert f.status is Status.FAIL
    assert "handshake-stale" in f.detail and "no recent WireGuard handshake" in f.detail
    assert f.remedy.endswith("#handshake-stale") and f.claim == "vm31"


def test_verified_passes_and_intermediate_states_warn(recorded: Recorded) -> None:
    s = recorded("healthy")
    assert (
        one(s.doctor(claim_states={"vm31": ("verified", "")}), "vm31 state").status is Status.PASS
    )
    f = one(s.doctor(claim_states={"vm31": ("captured", "route-not-installed")}), "vm31 state")
    assert f.status is Status.WARN and "route-not-installed" in f.detail


def test_no_engine_state_skips_and_state_runs_under_no_host(recorded: Recorded) -> None:
    s = recorded("healthy")
    assert one(s.doctor(host=False), "vm31 state").status is Status.SKIP
    f = one(
        s.doctor(host=False, claim_states={"vm31": ("degraded", "tunnel-missing")}), "vm31 state"
    )
    assert f.status is Status.FAIL
