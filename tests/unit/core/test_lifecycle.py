"""The claim state machine: every state and transition, its policy, slim models."""

from __future__ import annotations

import pytest

from routerd.core.lifecycle import (
    FORWARD,
    TRANSITIONS,
    ClaimFSM,
    ClaimState,
    Lifecycle,
    TransitionRecord,
)


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


@pytest.mark.parametrize("start", [s for s in ClaimState if s is not ClaimState.RELEASED])
def test_release_is_a_transition_from_every_state(lc, start):
    m = lc.add("a", "10.0.0.1/32")
    if start is ClaimState.DEGRADED:
        lc.walk(m, ClaimState.VERIFIED)
    lc.walk(m, start)
    lc.drain()
    rec = lc.release("a", "claim-removed", "gone")
    assert rec is not None and (rec.from_state, rec.to_state, rec.trigger) == (
        start.value,
        "released",
        "release",
    )
    assert edges(lc) == [(start.value, "released", "release")]
    assert "a" not in lc.claims and lc.release("a", "", "") is None


def test_the_table_is_the_machines_and_allows_nothing_else(lc):
    allowed = {(src, trig) for src, trig in lc.table}
    for t in TRANSITIONS:
        sources = t["source"] if isinstance(t["source"], list) else [t["source"]]
        for src in sources:
            assert lc.table[(src, t["trigger"])] == t["dest"]
    assert len(allowed) == sum(
        len(t["source"]) if isinstance(t["source"], list) else 1 for t in TRANSITIONS
    )
    m = lc.add("a", "10.0.0.1/32")
    lc.release("a", "", "")
    with pytest.raises(RuntimeError, match="claim a"):
        lc.fire(m, "retry")  # nothing follows released


def test_models_carry_no_bound_methods(lc):
    m = lc.add("a", "10.0.0.1/32")
    assert not hasattr(m, "__dict__")  # slots only: nothing bound per instance
    assert isinstance(m, ClaimFSM) and not hasattr(m, "capture")


VERDICTS = [
    (level, reason, failed)
    for level in range(4)
    for reason in ("", "route-not-installed")
    for failed in (False, True)
    if not (failed and level > 1)
]


@pytest.mark.parametrize("first", VERDICTS)
@pytest.mark.parametrize("start", [ClaimState.PENDING, ClaimState.DELIVERING, ClaimState.VERIFIED])
def test_judging_a_verdict_again_moves_nothing(lc, start, first):
    # the engine judges only claims whose inputs moved: that is sound because a second
    # judgement of the same verdict never moves a claim, from any state it can be in
    m = lc.add("a", "10.0.0.1/32")
    lc.walk(m, start)
    level, reason, failed = first
    lc.judge(m, level, reason, "m", apply_failed=failed)
    lc.drain()
    state = m.state
    assert lc.judge(m, level, reason, "m", apply_failed=failed) is False
    assert lc.drain() == [] and m.state == state


def test_a_degraded_claim_waits_for_its_high_water_then_retries(lc):
    m = lc.add("a", "10.0.0.1/32")
    lc.judge(m, 3)
    lc.judge(m, 1, "route-not-installed")
    assert (m.state, m.high_water) == ("degraded", 3)
    lc.drain()
    lc.judge(m, 2, "handshake-stale")  # better, but not back where it was
    assert m.state == "degraded" and m.reason == "handshake-stale" and edges(lc) == []
    lc.judge(m, 3)
    assert m.state == "verified" and edges(lc)[0] == ("degraded", "pending", "retry")


def test_a_failed_step_degrades_and_capture_is_reported_once(lc):
    m = lc.add("a", "10.0.0.1/32")
    assert lc.judge(m, 1, "route-not-installed", "EPERM", apply_failed=True) is True
    assert m.state == "degraded" and [t for _, t, _ in edges(lc)] == ["captured", "degraded"]
    assert lc.judge(m, 1, "route-not-installed", "EPERM", apply_failed=True) is False
    assert lc.judge(m, 3) is True  # back from degraded: captured again, announce again
    assert m.state == "verified" and lc.judge(m, 3) is False


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


def test_a_walk_of_several_steps_says_why_only_where_it_stopped(lc):
    m = lc.add("a", "10.0.0.1/32")
    lc.walk(m, ClaimState.DELIVERING, "handshake-stale", "no handshake")
    recs = lc.drain()
    assert all(type(r) is TransitionRecord for r in recs)
    assert [(r.to_state, r.reason, r.message) for r in recs] == [
        ("captured", "", ""),
        ("delivering", "handshake-stale", "no handshake"),
    ]
    assert (m.state, m.reason, m.since) == ("delivering", "handshake-stale", recs[-1].at)
    lc.walk(m, ClaimState.DELIVERING, "overlay-probe-pending", "probing")  # no step: fields
    assert lc.drain() == [] and m.reason == "overlay-probe-pending"


def _at(lc: Lifecycle, state: str, high_water: int) -> ClaimFSM:
    """A claim brought to ``state`` through legal moves, with ``high_water`` when degraded."""
    m = lc.add(f"c{len(lc.claims)}", "10.0.0.1/32")
    if state == "degraded":
        lc.walk(m, FORWARD[high_water])
        lc.walk(m, ClaimState.DEGRADED, "x", "y")
    else:
        lc.walk(m, ClaimState(state))
    lc.drain()
    return m


@pytest.mark.parametrize("apply_failed", [False, True])
@pytest.mark.parametrize("level", [0, 1, 2, 3])
@pytest.mark.parametrize(
    ("state", "high_water"),
    [("pending", 0), ("captured", 0), ("delivering", 0), ("verified", 0)]
    + [("degraded", hw) for hw in (1, 2, 3)],
)
def test_judge_reports_the_capture_it_was_predicted_to_make(
    lc, state, high_water, level, apply_failed
):
    m = _at(lc, state, high_water)
    predicted = Lifecycle.captures(m, level, apply_failed=apply_failed)
    before = m.state
    assert lc.judge(m, level, "r", "m", apply_failed=apply_failed) is predicted
    moved = lc.drain()
    # a capture is exactly a move that passes through ``captured`` from below it
    assert predicted == any(r.to_state == "captured" for r in moved)
    assert all(r.from_state in (before, *[x.to_state for x in moved]) for r in moved)
    assert (m.reason, m.message) == ("r", "m")


STARTS = [("pending", 0), ("captured", 0), ("delivering", 0), ("verified", 0)] + [
    ("degraded", hw) for hw in (1, 2, 3)
]


def _clocked() -> Lifecycle:
    t = iter(range(1, 100_000))
    return Lifecycle(lambda: float(next(t)))


def test_judge_many_is_judge_of_each_in_order() -> None:
    """Every start state, level and apply outcome in one batch, the fast path's pending claims
    between the others and at several levels: the same records (times included), models and
    captures as judging each claim in turn."""
    cases = [
        (state, hw, level, failed)
        for state, hw in STARTS
        for level in (3, 0, 2, 1)
        for failed in (False, True)
    ]
    cases += [("pending", 0, level, False) for level in (3, 3, 1, 0, 2, 3)]
    one, many = _clocked(), _clocked()
    singles = [_at(one, state, hw) for state, hw, _, _ in cases]
    batch = [_at(many, state, hw) for state, hw, _, _ in cases]
    verdicts = [
        (level, f"r{i}", f"m{i}", None, failed) for i, (_, _, level, failed) in enumerate(cases)
    ]
    want = [
        one.judge(m, level, reason, message, apply_failed=failed)
        for m, (level, reason, message, _, failed) in zip(singles, verdicts, strict=True)
    ]
    assert many.judge_many(batch, verdicts) == want
    assert many.drain() == one.drain()
    fields = ("name", "address", "state", "reason", "message", "since", "high_water")
    for a, b in zip(singles, batch, strict=True):
        assert [getattr(a, f) for f in fields] == [getattr(b, f) for f in fields]
