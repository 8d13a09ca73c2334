"""Evidence: which claims a pass checks, and what it keeps of the checks' answers."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from routerd.core.evidence import Evidence
from routerd.core.port import PathEvidence

INTERVAL = 60.0
NAMES = [f"c{i}" for i in range(6)]


def _one_wanted(e: Evidence, name: str, verified: bool, now: float) -> bool:
    """The rule for one claim: a check unless verified and checked less than the interval ago."""
    last = e._checked.get(name)
    return not (verified and last is not None and now - last < e.verify_interval)


@given(
    checked=st.lists(st.tuples(st.sampled_from(NAMES), st.floats(0, 200)), max_size=8),
    verified=st.sets(st.sampled_from(NAMES)),
    judged=st.lists(st.sampled_from(NAMES), unique=True),
    now=st.floats(0, 300),
)
def test_wanted_is_the_one_claim_rule_in_order(
    checked: list[tuple[str, float]], verified: set[str], judged: list[str], now: float
) -> None:
    """Also with nothing checked yet, where every claim is wanted without asking each."""
    e = Evidence(INTERVAL)
    for name, at in checked:
        e.record([name], {name: PathEvidence("wg0")}, at)
    want = [n for n in judged if _one_wanted(e, n, n in verified, now)]
    assert e.wanted(judged, verified.__contains__, now) == want


def test_record_keeps_what_was_found_in_check_order() -> None:
    e = Evidence(INTERVAL)
    old, new = PathEvidence("wg0"), PathEvidence("eth9")
    assert e.record(["a", "b"], {"a": old, "b": old}, 1.0) == {"a", "b"}
    assert e.record(["c", "a", "b"], {"a": new, "c": new}, 2.0) == {"a", "c"}
    assert e.of == {"a": new, "b": old, "c": new}
    assert e.due(2.0 + INTERVAL) == ["b", "c", "a"]
    assert e.due(1.0 + INTERVAL) == ["b"]


@given(
    rounds=st.lists(
        st.tuples(st.lists(st.sampled_from(NAMES), unique=True), st.sets(st.sampled_from(NAMES))),
        max_size=5,
    )
)
def test_record_is_one_claim_at_a_time_in_order(rounds: list[tuple[list[str], set[str]]]) -> None:
    """Each check's answer kept, the claim moved to the end of the check order."""
    e = Evidence(INTERVAL)
    of: dict[str, PathEvidence] = {}
    checked: dict[str, float] = {}
    for now, (names, answered) in enumerate(rounds):
        found = {n: PathEvidence(f"dev{now}") for n in names if n in answered}
        for name in names:
            if name in found:
                of[name] = found[name]
                checked.pop(name, None)
                checked[name] = float(now)
        assert e.record(names, found, float(now)) == set(found)
        assert e.of == of
        assert list(e._checked.items()) == list(checked.items())
