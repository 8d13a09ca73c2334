"""The route-exchange rules: how a home is encoded, which received paths are accepted, and
which path is the home (routerd.core.exchange)."""

from __future__ import annotations

import pytest

from routerd.core.exchange import (
    REFUSALS,
    ImportPolicy,
    LearnedPath,
    Neighbor,
    Origination,
    ReceivedPath,
    Refusal,
    SpeakerSettings,
    choose_home,
    encode,
    ipv4_int,
    judge,
)

ASN = 65000
A1, A2, B1, C1, RR = "10.99.0.11", "10.99.0.12", "10.99.0.21", "10.99.0.31", "10.99.0.1"
POLICY = ImportPolicy(
    ASN,
    ("10.77.0.0/16", "10.78.1.0/24"),
    {1: frozenset({A1, A2}), 2: frozenset({B1}), 3: frozenset({C1})},
)


def received(
    prefix: str = "10.77.0.5/32",
    communities: tuple[tuple[int, int, int], ...] = ((ASN, 100, 1), (ASN, 101, 7)),
    *,
    neighbor: str = RR,
    neighbor_id: str = RR,
    originator: str = A1,
) -> ReceivedPath:
    return ReceivedPath(prefix, A1, neighbor, neighbor_id, originator, communities)


def test_a_home_is_two_large_communities_and_local_pref_equal_to_the_sequence() -> None:
    local_pref, communities = encode(Origination("10.77.0.5", 3, 42, A1), ASN)
    assert local_pref == 42
    assert communities == ((ASN, 100, 3), (ASN, 101, 42))


def test_origination_problems_name_the_field() -> None:
    assert Origination("10.77.0.5", 1, 0, A1).problems() == []
    assert Origination("10.77.0.5", 1, 2**32 - 1, A1).problems() == []
    bad = Origination("10.77.0.5/32", 0, -1, "10.99.0").problems()
    assert len(bad) == 4, bad
    assert bad[0].startswith("address '10.77.0.5/32' is not an IPv4 address")
    assert bad[1].startswith("next_hop '10.99.0' is not an IPv4 address")
    assert "site_id 0 must be between 1" in bad[2]
    assert "sequence -1 must be between 0" in bad[3]
    assert "sequence 4294967296" in Origination("10.77.0.5", 1, 2**32, A1).problems()[0]


def test_a_reflected_path_from_the_sites_router_is_accepted() -> None:
    assert judge(received(), POLICY) == LearnedPath("10.77.0.5", 1, 7, A1, RR, A1)
    # the second router of site 1 may speak for it too
    assert isinstance(judge(received(originator=A2), POLICY), LearnedPath)
    # communities of another AS are not ours and do not count
    extra = ((ASN, 100, 1), (64999, 100, 2), (ASN, 101, 7), (64999, 101, 9))
    assert judge(received(communities=extra), POLICY) == LearnedPath("10.77.0.5", 1, 7, A1, RR, A1)


def test_on_a_direct_session_the_neighbor_is_the_sender() -> None:
    direct = received(neighbor=A1, neighbor_id=A1, originator="")
    assert judge(direct, POLICY) == LearnedPath("10.77.0.5", 1, 7, A1, A1, A1)
    foreign = received(neighbor=C1, neighbor_id=C1, originator="")
    assert judge(foreign, POLICY) == Refusal("10.77.0.5/32", C1, C1, "foreign-site-identity")


def test_the_originator_id_decides_not_the_reflector() -> None:
    # reflected by a router that is itself in site 1, but originated by site 3's router
    path = received(neighbor=A2, neighbor_id=A2, originator=C1)
    assert judge(path, POLICY) == Refusal("10.77.0.5/32", A2, C1, "foreign-site-identity")


S1, S2, S9, Q7, Q8 = (ASN, 100, 1), (ASN, 100, 2), (ASN, 100, 9), (ASN, 101, 7), (ASN, 101, 8)


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        (received("10.77.0.0/24"), "not-ipv4-host"),
        (received("2001:db8::1/128"), "not-ipv4-host"),
        (received("10.79.0.5/32"), "outside-domains"),
        (received("10.78.2.5/32"), "outside-domains"),
        (received(communities=(Q7,)), "no-site-identity"),
        (received(communities=(S1, S2, Q7)), "several-site-identities"),
        (received(communities=(S1,)), "no-sequence"),
        (received(communities=(S1, Q7, Q8)), "several-sequences"),
        (received(communities=(S9, Q7)), "unknown-site"),
        (received(communities=(S2, Q7)), "foreign-site-identity"),
    ],
)
def test_each_refusal_reason(path: ReceivedPath, reason: str) -> None:
    verdict = judge(path, POLICY)
    assert verdict == Refusal(path.prefix, RR, path.sender, reason)
    assert REFUSALS[reason] in verdict.describe()


def test_every_refusal_reason_is_covered_above() -> None:
    covered = {"not-ipv4-host", "outside-domains", "unknown-site", "foreign-site-identity"}
    covered |= {"no-site-identity", "several-site-identities", "no-sequence", "several-sequences"}
    assert covered == set(REFUSALS)


def test_domains_match_by_prefix_not_by_text() -> None:
    assert isinstance(judge(received("10.78.1.255/32"), POLICY), LearnedPath)
    assert judge(received("10.78.10.5/32"), POLICY) == Refusal(
        "10.78.10.5/32", RR, A1, "outside-domains"
    )
    with pytest.raises(ValueError, match="has host bits set"):
        ImportPolicy(ASN, ("10.77.0.1/16",), {})


def test_ipv4_int_is_strict() -> None:
    assert ipv4_int("10.77.0.5") == 0x0A4D0005
    assert ipv4_int("255.255.255.255") == 2**32 - 1
    bad = ["10.77.0", "10.77.0.5.1", "10.77.0.256", "10.077.0.5", "10.77.0.-1", "a.b.c.d", ""]
    for text in [*bad, "10.77.0.\u0665"]:  # the last: an Arabic-Indic digit five
        assert ipv4_int(text) is None, text


def path(site: int, seq: int, neighbor: str = RR) -> LearnedPath:
    return LearnedPath("10.77.0.5", site, seq, A1, neighbor, A1)


def test_the_highest_sequence_is_home_and_a_tie_goes_to_the_lowest_site() -> None:
    assert choose_home([]).home is None
    assert choose_home([path(2, 5), path(1, 4)]).home == path(2, 5)
    tie = choose_home([path(3, 5), path(2, 5), path(1, 4)])
    assert tie.home == path(2, 5)
    assert tie.conflicts == (path(3, 5),)
    # the same site heard twice (reflector and direct session) is no conflict
    twice = choose_home([path(2, 5), path(2, 5, neighbor=B1)])
    assert twice.conflicts == ()


def test_speaker_settings_problems() -> None:
    good = SpeakerSettings(ASN, 1, A1, A1, neighbors=(Neighbor(RR),))
    assert good.problems() == []
    bad = SpeakerSettings(
        0,
        0,
        "x",
        neighbors=(Neighbor(RR, hold_time=9, keepalive=5), Neighbor(RR), Neighbor("1.2")),
    ).problems()
    text = "\n".join(bad)
    assert "asn 0" in text and "site_id 0" in text and "router_id 'x'" in text
    assert "neighbors[2].address '1.2'" in text
    assert "neighbors[0]: hold_time 9" in text
    assert "listed twice" in text
