"""The learned table: Adj-RIB-In keys, refusals, sessions going down, snapshots
(routerd.core.learned)."""

from __future__ import annotations

from routerd.core.exchange import ImportPolicy, LearnedPath, ReceivedPath, Refusal
from routerd.core.learned import Decoded, LearnedTable

ASN = 65000
A, B, RR = "10.99.0.11", "10.99.0.21", "10.99.0.1"
POLICY = ImportPolicy(ASN, ("10.77.0.0/16",), {1: frozenset({A}), 2: frozenset({B})})


def announce(address: str, site: int, seq: int, *, sender: str = A, via: str = RR, ident: int = 1):
    path = ReceivedPath(
        f"{address}/32",
        sender,
        via,
        via,
        sender if via != sender else "",
        ((ASN, 100, site), (ASN, 101, seq)),
    )
    return Decoded((via, f"{address}/32", ident), False, path)


def withdraw(address: str, *, via: str = RR, ident: int = 1) -> Decoded:
    return Decoded((via, f"{address}/32", ident), True, None)


def test_announce_replace_withdraw_by_adj_rib_in_key() -> None:
    t = LearnedTable(POLICY)
    assert t.apply(announce("10.77.0.5", 1, 7)) is True
    assert t.apply(announce("10.77.0.5", 1, 7)) is False, "the same path again is no change"
    assert t.paths() == {"10.77.0.5": (LearnedPath("10.77.0.5", 1, 7, A, RR, A),)}
    t.apply(announce("10.77.0.5", 1, 8))  # same key: implicit replacement
    assert [p.sequence for p in t.paths()["10.77.0.5"]] == [8]
    t.apply(announce("10.77.0.5", 2, 9, sender=B, ident=2))  # another path (add-path)
    assert sorted(p.site_id for p in t.paths()["10.77.0.5"]) == [1, 2]
    t.apply(withdraw("10.77.0.5"))
    assert [p.site_id for p in t.paths()["10.77.0.5"]] == [2]
    t.apply(withdraw("10.77.0.5", ident=2))
    assert dict(t.paths()) == {} and len(t) == 0
    assert t.apply(withdraw("10.77.0.99")) is False  # unknown key: nothing happens


def test_refusals_are_current_and_counted() -> None:
    t = LearnedTable(POLICY)
    t.apply(announce("10.77.0.5", 2, 1))  # site 2's identity from site 1's router
    t.apply(announce("10.88.0.1", 1, 1))  # outside the domain
    assert t.apply(announce("10.88.0.1", 1, 1)) is False  # repeated: not counted twice
    assert sorted(r.reason for r in t.refused()) == ["foreign-site-identity", "outside-domains"]
    assert dict(t.paths()) == {}
    # the sender corrects itself: the same key now carries an acceptable path
    t.apply(announce("10.77.0.5", 1, 2))
    assert t.refused() == (Refusal("10.88.0.1/32", RR, A, "outside-domains"),)
    t.apply(withdraw("10.88.0.1"))
    assert t.refused() == ()
    assert t.refused_counts == {"foreign-site-identity": 1, "outside-domains": 1}


def test_a_session_going_down_drops_what_came_over_it() -> None:
    t = LearnedTable(POLICY)
    t.apply(announce("10.77.0.5", 1, 1))
    t.apply(announce("10.77.0.5", 1, 1, via=A))  # the same home, also over a direct session
    t.apply(announce("10.77.0.6", 2, 1, via=A))  # refused (A speaks for site 2)
    assert len(t.paths()["10.77.0.5"]) == 2 and len(t.refused()) == 1
    assert t.drop_neighbor(A) is True
    assert t.paths() == {"10.77.0.5": (LearnedPath("10.77.0.5", 1, 1, A, RR, A),)}
    assert t.refused() == ()
    assert t.drop_neighbor(A) is False


def test_a_snapshot_never_changes_after_it_was_taken() -> None:
    t = LearnedTable(POLICY)
    t.apply(announce("10.77.0.5", 1, 1))
    before = t.paths()
    t.apply(announce("10.77.0.6", 1, 1))
    t.apply(withdraw("10.77.0.5"))
    assert set(before) == {"10.77.0.5"}
    assert set(t.paths()) == {"10.77.0.6"}
    t.clear()
    assert set(t.paths()) == set() and t.addresses() == 0
