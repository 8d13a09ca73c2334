"""The claim state machine: every state and transition, O(1) registry, slim models."""

from __future__ import annotations

import pytest

from routerd.core.lifecycle import ClaimFSM, ClaimState, Lifecycle


@pytest.fixture
def lc():
    t = iter(range(1, 10_000))
    return Lifecycle(lambda: float(next(t)))


def edges(lc: Lifecycle) -> list[tuple[str, str, str]]:
    return [(r.from_state, r.to_state, r.trigger) for r in lc.drain()]


def test_new_claim_is_pending(lc):
    m = lc.add("a", "10.0.0.1/32")
    assert m.state == "pending" and lc.counts()["pending"] == 1


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        (ClaimState.CAPTURED, [("pending", "captured", "capture")]),
        (
            ClaimState.DELIVERING,
            [("pending", "captured", "capture"), ("captured", "delivering", "deliver")],
        ),
        (
            ClaimState.VERIFIED,
            [
                ("pending", "captured", "capture"),
                ("captured", "delivering", "deliver"),
                ("delivering", "verified", "verify"),
            ],
        ),
    ],
)
def test_forward_walk_steps_through_each_state(lc, target, expected):
    m = lc.add("a", "10.0.0.1/32")
    lc.walk(m, target)
    assert m.state == target.value and edges(lc) == expected


@pytest.mark.parametrize("start", [ClaimState.CAPTURED, ClaimState.DELIVERING, ClaimState.VERIFIED])
def test_degrade_from_every_active_state(lc, start):
    m = lc.add("a", "10.0.0.1/32")
    lc.walk(m, start)
    lc.drain()
    lc.walk(m, ClaimState.DEGRADED, "route-not-installed", "gone")
    assert edges(lc) == [(start.value, "degraded", "degrade")]
    assert (m.reason, m.message) == ("route-not-installed", "gone")


def test_drop_in_level_degrades(lc):
    m = lc.add("a", "10.0.0.1/32")
    lc.walk(m, ClaimState.VERIFIED)
    lc.drain()
    lc.walk(m, ClaimState.CAPTURED, "route-not-installed")
    assert m.state == "degraded" and m.high_water == 3


def test_retry_then_forward(lc):
    m = lc.add("a", "10.0.0.1/32")
    lc.walk(m, ClaimState.VERIFIED)
    lc.walk(m, ClaimState.DEGRADED, "handshake-stale")
    lc.drain()
    lc.walk(m, ClaimState.VERIFIED)
    assert edges(lc)[0] == ("degraded", "pending", "retry")
    assert m.state == "verified" and m.reason == ""


def test_pending_cannot_degrade_but_records_reason(lc):
    m = lc.add("a", "10.0.0.1/32")
    lc.walk(m, ClaimState.DEGRADED, "capture-interface-missing", "ens19 not found")
    assert m.state == "pending" and m.reason == "capture-interface-missing"
    assert edges(lc) == []


def test_illegal_trigger_is_an_engine_bug(lc):
    m = lc.add("a", "10.0.0.1/32")
    with pytest.raises(RuntimeError, match="claim a"):
        lc.fire(m, "verify")


def test_registry_is_id_indexed_and_removal_is_exact(lc):
    a, b = lc.add("a", "10.0.0.1/32"), lc.add("b", "10.0.0.2/32")
    assert a in lc.machine.models and len(lc.machine.models) == 2
    lc.remove("a")
    assert a not in lc.machine.models and b in lc.machine.models
    assert lc.remove("a") is None


def test_models_carry_no_bound_methods(lc):
    m = lc.add("a", "10.0.0.1/32")
    assert not hasattr(m, "__dict__")  # slots only: nothing bound per instance
    assert isinstance(m, ClaimFSM) and not hasattr(m, "capture")


def test_transition_records_carry_reason_and_time(lc):
    m = lc.add("a", "10.0.0.1/32")
    lc.walk(m, ClaimState.CAPTURED, "peer-not-covered", "msg")
    (rec,) = lc.drain()
    assert (rec.claim, rec.address, rec.reason, rec.message) == (
        "a",
        "10.0.0.1/32",
        "peer-not-covered",
        "msg",
    )
    assert rec.at > 0
