"""The pure decision, rule by rule (homes.decide): what each rule must do and must not."""

from __future__ import annotations

from dataclasses import replace

import pytest

from routerd.core.exchange import LearnedPath
from routerd.core.mobility.decision import Facts, Memory, Outcome
from routerd.core.mobility.homes import DUPLICATE_MOVES, DUPLICATE_WINDOW, decide, decide_all
from routerd.core.mobility.records import UNKNOWN, Explicit, Own, Pin, PresenceFact
from tests.unit.core.mobility.kit import A, absent, domain, down, path, present, up

DOM = domain("a")  # local site-a (siteID 1); site-b 2, site-c 3 (cloud)
DOM_B = domain("b")


def run(
    mem: Memory,
    now: float,
    presence: PresenceFact | None = None,
    paths: tuple[LearnedPath, ...] = (),
    *,
    sessions: dict | None = None,
    connected: bool = True,
    dom=DOM,
) -> Outcome:
    facts = Facts(presence, paths, up() if sessions is None else sessions, connected)
    return decide(A, dom, facts, mem, now)


def codes(o: Outcome) -> list[str]:
    return [c.code for c in o.conflicts]


# -- rule 1: arrival ----------


def test_arrival_originates_with_sequence_one_and_journals_the_move() -> None:
    o = run(Memory(), 10.0, present(10.0))
    assert o.origination is not None
    assert (o.origination.sequence, o.origination.site_id) == (1, 1)
    assert o.origination.next_hop == "10.255.0.11"
    assert o.home is not None and (o.home.site, o.home.origin) == ("site-a", "presence")
    assert o.home.evidence == "garp from 52:54:00:00:00:09"
    assert o.claim is None
    assert o.move is not None
    assert (o.move.from_site, o.move.to_site, o.move.cause, o.move.sequence) == (
        "",
        "site-a",
        "presence",
        1,
    )


def test_arrival_over_a_remote_home_takes_max_seen_plus_one() -> None:
    learned = run(Memory(), 10.0, None, (path(2, 4),))
    assert learned.home is not None and learned.home.site == "site-b"
    o = run(learned.memory, 11.0, present(11.0), (path(2, 4),))
    assert o.origination is not None and o.origination.sequence == 5
    assert o.claim is None
    assert o.move is not None and (o.move.from_site, o.move.to_site) == ("site-b", "site-a")


def test_evidence_older_than_the_remote_path_never_claims() -> None:
    learned = run(Memory(), 10.0, None, (path(2, 4),))
    o = run(learned.memory, 12.0, present(9.5), (path(2, 4),))
    assert o.origination is None
    assert o.home is not None and o.home.site == "site-b"
    assert o.verify  # a probe tells whether the host is still here
    assert o.claim is not None and (o.claim.site, o.claim.origin) == ("site-b", "bgp")


def test_arrival_uses_the_highest_sequence_ever_seen_even_after_it_was_withdrawn() -> None:
    o = run(Memory(), 1.0, None, (path(2, 9),))
    o = run(o.memory, 2.0, None, ())  # withdrawn while the session is up
    assert o.home is None
    o = run(o.memory, 3.0, present(3.0))
    assert o.origination is not None and o.origination.sequence == 10


# -- rule 2: a higher remote sequence ----------


def owning(seq: int = 5, cause: str = "presence", since: float = 1.0) -> Memory:
    own = Own(A, "lab", seq, since, cause)
    o = run(Memory(own=own, high=seq), since, present(since))
    assert o.origination is not None
    return o.memory


def test_higher_remote_sequence_withdraws_at_once() -> None:
    o = run(owning(5), 20.0, present(15.0), (path(3, 6),))
    assert o.origination is None
    assert o.home is not None and (o.home.site, o.home.sequence) == ("site-c", 6)
    assert o.claim is not None and o.claim.site == "site-c" and o.claim.sequence == 6
    assert o.memory.lost_at == 20.0
    assert o.move is not None and (o.move.from_site, o.move.to_site, o.move.cause) == (
        "site-a",
        "site-c",
        "bgp",
    )


def test_lower_remote_sequence_is_ignored() -> None:
    o = run(owning(5), 20.0, present(15.0), (path(2, 4),))
    assert o.origination is not None and o.origination.sequence == 5
    assert o.move is None and o.conflicts == ()


def test_after_losing_stale_presence_does_not_pull_the_address_back() -> None:
    lost = run(owning(5), 20.0, present(19.0), (path(3, 6),))
    for now in (21.0, 30.0, 100.0):
        o = run(lost.memory, now, present(19.0), (path(3, 6),))
        assert o.origination is None, now
    gone = run(lost.memory, 40.0, present(19.0), ())  # site-c withdrew (VM gone there)
    assert gone.origination is None


def test_new_evidence_after_losing_claims_again_with_a_higher_sequence() -> None:
    lost = run(owning(5), 20.0, present(19.0), (path(3, 6),))
    o = run(lost.memory, 25.0, present(25.0, "probe-answer"), (path(3, 6),))
    assert o.origination is not None and o.origination.sequence == 7


def test_tie_lower_site_id_keeps_it_and_reports_the_conflict() -> None:
    o = run(owning(5), 20.0, present(15.0), (path(2, 5),))  # site-a (1) vs site-b (2)
    assert o.origination is not None and o.origination.sequence == 5
    assert codes(o) == ["tie"]


def test_tie_higher_site_id_withdraws_and_reports_the_conflict() -> None:
    own = Own(A, "lab", 5, 1.0, "presence")
    o = run(Memory(own=own, high=5), 20.0, present(15.0), (path(1, 5),), dom=DOM_B)
    assert o.origination is None
    assert o.home is not None and o.home.site == "site-a"
    assert codes(o) == ["tie"]


# -- rule 3: absence ----------


def test_absent_withdraws_and_the_home_becomes_unknown() -> None:
    o = run(owning(5), 20.0, absent(20.0, 14.0))
    assert o.origination is None and o.home is None and o.claim is None
    assert o.move is not None and (o.move.from_site, o.move.to_site, o.move.cause) == (
        "site-a",
        "",
        "absent",
    )


def test_unknown_presence_never_withdraws() -> None:
    o = run(owning(5), 20.0, PresenceFact(UNKNOWN, 20.0))
    assert o.origination is not None
    o = run(owning(5), 20.0, None)
    assert o.origination is not None


# -- rule 4: home = best remote ----------------------------------------------------------------


def test_best_remote_is_the_highest_sequence_then_the_lowest_site() -> None:
    o = run(Memory(), 1.0, None, (path(2, 3), path(3, 4)))
    assert o.home is not None and o.home.site == "site-c"
    o = run(Memory(), 1.0, None, (path(3, 4), path(2, 4)))
    assert o.home is not None and o.home.site == "site-b"
    assert codes(o) == ["tie"]


def test_own_site_paths_are_not_remote_but_raise_the_sequence() -> None:
    """A path from this site's other router (the redundant pair) is not another home."""
    partner = LearnedPath(A, 1, 8, "10.255.0.12", "10.255.0.1", "10.255.0.12")
    o = run(Memory(), 1.0, None, (partner,))
    assert o.home is None and o.claim is None
    o = run(o.memory, 2.0, present(2.0), (partner,))
    assert o.origination is not None and o.origination.sequence == 9


def test_a_path_from_a_site_this_domain_does_not_list_is_a_conflict_and_ignored() -> None:
    o = run(Memory(), 1.0, None, (path(9, 3),))
    assert o.home is None and codes(o) == ["unknown-site"]


# -- rule 5: lost paths ----------


def homed_at_b() -> Memory:
    return run(Memory(), 1.0, None, (path(2, 3),)).memory


def test_path_lost_with_its_session_keeps_a_stale_home_for_stale_time() -> None:
    o = run(homed_at_b(), 10.0, None, (), sessions=down())
    assert o.home is not None and o.home.site == "site-b"
    assert o.home.stale_until == 10.0 + DOM.stale_time
    assert o.claim is not None and o.claim.stale
    assert o.wake_at == 10.0 + DOM.stale_time
    assert o.move is None
    again = run(o.memory, 50.0, None, (), sessions=down())
    assert again.home == o.home and again.claim == o.claim
    expired = run(o.memory, 10.0 + DOM.stale_time, None, (), sessions=down())
    assert expired.home is None and expired.claim is None
    assert expired.move is not None and expired.move.cause == "stale-expired"


def test_path_lost_while_not_connected_is_stale_too() -> None:
    o = run(homed_at_b(), 10.0, None, (), sessions={}, connected=False)
    assert o.claim is not None and o.claim.stale


def test_path_withdrawn_while_its_session_is_up_ends_the_home() -> None:
    o = run(homed_at_b(), 10.0, None, ())
    assert o.home is None and o.claim is None
    assert o.move is not None and (o.move.from_site, o.move.to_site, o.move.cause) == (
        "site-b",
        "",
        "withdrawn",
    )


def test_stale_home_whose_session_returns_without_the_path_ends() -> None:
    stale = run(homed_at_b(), 10.0, None, (), sessions=down())
    o = run(stale.memory, 12.0, None, ())
    assert o.home is None and o.move is not None and o.move.cause == "withdrawn"


def test_stale_home_whose_path_returns_is_confirmed() -> None:
    stale = run(homed_at_b(), 10.0, None, (), sessions=down())
    o = run(stale.memory, 12.0, None, (path(2, 3),))
    assert o.home is not None and o.home.stale_until == 0 and o.claim is not None
    assert not o.claim.stale and o.home.since == 1.0


# -- rule 6: explicit moves ----------


def test_explicit_move_originates_above_everything_and_is_consumed() -> None:
    mem = replace(homed_at_b(), explicit=Explicit(A, 5.0, "cutover"))
    o = run(mem, 5.0, None, (path(2, 3),))
    assert o.origination is not None and o.origination.sequence == 4
    assert o.home is not None and (o.home.origin, o.home.evidence) == (
        "explicit",
        "explicit: cutover",
    )
    assert o.memory.explicit is None
    assert o.move is not None and o.move.cause == "explicit"


def test_explicit_home_survives_absence_until_a_higher_sequence() -> None:
    mem = replace(Memory(), explicit=Explicit(A, 5.0, ""))
    o = run(mem, 5.0, None)
    o = run(o.memory, 10.0, absent(10.0))
    assert o.origination is not None
    o = run(o.memory, 11.0, absent(10.0), (path(2, 2),))
    assert o.origination is None and o.home is not None and o.home.site == "site-b"


def test_explicit_move_to_where_it_already_is_keeps_the_sequence() -> None:
    mem = replace(owning(5), explicit=Explicit(A, 5.0, ""))
    o = run(mem, 5.0, present(5.0))
    assert o.origination is not None and o.origination.sequence == 5


# -- rule 7: pins ----------


def pinned(site: str, claim: str = "") -> Memory:
    return Memory(pin=Pin(A, "lab", site, 1.0, "maintenance", claim))


def test_pinned_here_originates_above_any_remote_and_reports_it() -> None:
    o = run(pinned("site-a"), 2.0, None, (path(2, 7),))
    assert o.origination is not None and o.origination.sequence == 8
    assert o.home is not None and o.home.origin == "pin"
    assert codes(o) == ["pin-contested"]
    o = run(o.memory, 3.0, None, (path(2, 9),))  # contested again: re-originate above
    assert o.origination is not None and o.origination.sequence == 10


def test_pinned_here_bumps_are_damped() -> None:
    o = run(pinned("site-a"), 2.0, None, ())
    seq, now = 1, 3.0
    for _ in range(DUPLICATE_MOVES + 3):
        seq = o.origination.sequence + 1
        o = run(o.memory, now, None, (path(2, seq),))
        now += 1
    assert o.origination is not None
    assert o.origination.sequence < seq  # stopped out-bidding a site that keeps bidding
    assert "pin-contested" in codes(o)


def test_pinned_here_ignores_absence() -> None:
    o = run(pinned("site-a"), 2.0, absent(2.0))
    assert o.origination is not None


def test_pinned_elsewhere_never_originates_and_captures_for_that_site() -> None:
    o = run(replace(owning(5), pin=Pin(A, "lab", "site-b", 30.0, "")), 30.0, present(31.0))
    assert o.origination is None
    assert o.home is not None and (o.home.site, o.home.origin) == ("site-b", "pin")
    assert o.claim is not None and (o.claim.site, o.claim.origin) == ("site-b", "pin")
    assert "host-at-pinned-elsewhere" in codes(o)
    assert o.move is not None and o.move.cause == "pin"


def test_static_claim_pin_derives_no_claim() -> None:
    o = run(pinned("site-b", claim="pinned-vm"), 2.0, None, (path(2, 1),))
    assert o.claim is None and o.origination is None
    assert o.home is not None and o.home.evidence == "static claim pinned-vm"


def test_pin_elsewhere_contested_by_another_site() -> None:
    o = run(pinned("site-b"), 2.0, None, (path(3, 4),))
    assert "pin-contested" in codes(o) and o.claim is not None and o.claim.site == "site-b"


def test_unpin_falls_back_to_bgp_and_journals_it() -> None:
    o = run(pinned("site-b"), 2.0, None, ())
    o = run(replace(o.memory, pin=None), 3.0, None, ())
    assert o.home is None and o.move is not None and o.move.cause == "unpin"


# -- damping (duplicate detection) ----------


def test_a_host_answering_at_two_sites_stops_being_claimed_after_the_limit() -> None:
    o = run(Memory(), 0.0, present(0.0))
    seq, now = o.origination.sequence, 1.0
    claims = 0
    for _ in range(DUPLICATE_MOVES + 3):
        seq = o.memory.high + 1
        o = run(o.memory, now, present(now - 0.5), (path(2, seq),))  # the other site wins
        assert o.origination is None
        o = run(o.memory, now + 0.5, present(now + 0.5), (path(2, seq),))  # answers here again
        claims += o.origination is not None
        now += 2
    assert claims == DUPLICATE_MOVES
    assert "duplicate" in codes(o) and o.wake_at is not None
    later = run(o.memory, o.wake_at, present(o.wake_at), (path(2, seq),))
    assert later.origination is not None  # the window passed


def test_an_explicit_move_clears_the_damping() -> None:
    mem = replace(homed_at_b(), reclaims=(1.0,) * DUPLICATE_MOVES, explicit=Explicit(A, 2.0, ""))
    o = run(mem, 2.0, present(2.0), (path(2, 3),))
    assert o.origination is not None and o.memory.reclaims == ()
    assert DUPLICATE_WINDOW > 0


# -- level-triggered ----------


@pytest.mark.parametrize(
    "presence,paths",
    [
        (present(5.0), ()),
        (None, (path(2, 3),)),
        (present(0.5), (path(2, 3),)),
        (absent(5.0), (path(3, 1), path(2, 1))),
    ],
)
def test_deciding_again_on_the_same_inputs_changes_nothing(presence, paths) -> None:
    first = run(Memory(), 5.0, presence, paths)
    second = run(first.memory, 6.0, presence, paths)
    assert second.move is None
    assert second.origination == first.origination
    assert second.home == first.home and second.claim == first.claim
    assert second.memory == first.memory


def test_decide_all_collects_the_views() -> None:
    b = "10.77.3.10"
    d = decide_all(
        {
            A: (DOM, Facts(present(1.0)), Memory()),
            b: (DOM, Facts(None, (path(2, 3, address=b),), up()), Memory()),
        },
        1.0,
    )
    assert set(d.originations) == {A}
    assert set(d.homes) == {A, b}
    assert set(d.claims) == {b}
    assert len(d.moves) == 2 and d.conflicts == []
