"""PresenceTracker: arrival at once, absence only after the hysteresis, stale evidence, probes.

Times are plain numbers on an injected clock (seconds); every test drives the tracker the
way the engine does: observe what was drained, then ask for due probes.
"""

from __future__ import annotations

import math

import pytest

from routerd.core.presence import (
    ABSENT,
    PRESENT,
    UNKNOWN,
    PresenceEvidence,
    PresenceTracker,
)

A, B, C = "10.40.8.10", "10.40.8.11", "10.40.8.12"
VM = "02:00:00:00:0a:01"
OTHER = "02:00:00:00:0b:01"
GW = "02:00:00:28:08:fe"


def ev(
    address: str, at: float, kind: str = "garp", mac: str = VM, dev: str = "lan"
) -> PresenceEvidence:
    return PresenceEvidence(address, kind, mac, dev, at)


def rounds(t: PresenceTracker, start: float, n: int, interval: float = 1.0) -> list[str]:
    """Run n probe rounds one interval apart from ``start``; the states after each."""
    out = []
    for i in range(n):
        t.due_probes(start + i * interval, interval)
        out.append(t.get(A).state)  # type: ignore[union-attr]
    return out


def test_unknown_before_anything_then_present_on_the_first_evidence() -> None:
    t = PresenceTracker()
    t.track([A])
    p = t.get(A)
    assert p is not None and (p.state, p.since, p.evidence) == (UNKNOWN, None, None)
    [tr] = t.observe([ev(A, 5.0)])
    assert (tr.address, tr.old, tr.new, tr.at, tr.cause) == (A, UNKNOWN, PRESENT, 5.0, "garp")
    p = t.get(A)
    assert p is not None and p.state == PRESENT and p.since == 5.0 and p.evidence == ev(A, 5.0)
    assert t.present(A)
    # more evidence from the same host on the same interface is no transition
    assert t.observe([ev(A, 6.0, "arp-request")]) == []
    assert t.get(A).since == 5.0  # type: ignore[union-attr]


def test_absent_after_exactly_absent_after_unanswered_rounds_not_before() -> None:
    t = PresenceTracker(absent_after=3)
    t.track([A])
    t.observe([ev(A, 0.5)])
    # round 0 at 1.0, then verdicts at 2.0, 3.0, 4.0: three misses
    states = []
    for now in (1.0, 2.0, 3.0):
        r = t.due_probes(now, 1.0)
        assert r.addresses == (A,)
        assert r.transitions == ()
        states.append(t.get(A).state)  # type: ignore[union-attr]
    assert states == [PRESENT, PRESENT, PRESENT]
    assert t.get(A).misses == 2  # type: ignore[union-attr]
    r = t.due_probes(4.0, 1.0)
    [tr] = r.transitions
    assert (tr.old, tr.new, tr.at, tr.cause) == (PRESENT, ABSENT, 4.0, "probes-unanswered")
    p = t.get(A)
    assert p is not None and p.state == ABSENT and p.since == 4.0
    assert p.evidence == ev(A, 0.5)  # the last thing heard stays visible


def test_a_blink_shorter_than_the_hysteresis_stays_present() -> None:
    t = PresenceTracker(absent_after=3)
    t.track([A])
    t.observe([ev(A, 0.1)])
    t.due_probes(1.0, 1.0)  # answered below
    t.observe([ev(A, 1.01, "probe-answer")])
    t.due_probes(2.0, 1.0)  # link down: unanswered
    t.due_probes(3.0, 1.0)  # unanswered
    assert t.get(A).misses == 1  # type: ignore[union-attr]
    t.observe([ev(A, 3.5, "garp")])  # back
    r = t.due_probes(4.0, 1.0)
    assert r.transitions == ()
    p = t.get(A)
    assert p is not None and p.state == PRESENT and p.misses == 0 and p.since == 0.1


def test_only_evidence_heard_after_a_round_was_sent_answers_it() -> None:
    t = PresenceTracker(absent_after=1)
    t.track([A])
    t.due_probes(0.0, 1.0)
    [arrived] = t.observe([ev(A, 0.2, "probe-answer")])
    assert arrived.new == PRESENT
    assert t.due_probes(1.0, 1.0).transitions == ()  # answered
    t.observe([ev(A, 2.0)])  # answers the round sent at 1.0 ...
    assert t.due_probes(2.0, 1.0).transitions == ()
    # ... but not the one sent at 2.0, the same instant
    [tr] = t.due_probes(3.0, 1.0).transitions
    assert (tr.new, tr.at) == (ABSENT, 3.0)


def test_absent_comes_back_present_on_new_evidence() -> None:
    t = PresenceTracker(absent_after=2)
    t.track([A])
    t.observe([ev(A, 0.0)])
    assert rounds(t, 1.0, 3) == [PRESENT, PRESENT, ABSENT]
    [tr] = t.observe([ev(A, 7.5, "rarp")])
    assert (tr.old, tr.new, tr.cause) == (ABSENT, PRESENT, "rarp")
    assert t.get(A).since == 7.5  # type: ignore[union-attr]


def test_never_heard_probed_addresses_go_from_unknown_to_absent() -> None:
    t = PresenceTracker(absent_after=2)
    t.track([A])
    assert rounds(t, 0.0, 3) == [UNKNOWN, UNKNOWN, ABSENT]


def test_ignored_macs_are_never_presence() -> None:
    t = PresenceTracker(ignore_macs=[GW.upper()])
    t.track([A, B])
    assert t.observe([ev(A, 1.0, mac=GW), ev(B, 1.0, "probe-answer", mac=GW)]) == []
    assert not t.present(A) and not t.present(B)
    assert t.stats["ignored-mac"] == 2
    t.ignore([OTHER.replace(":", "-")])
    assert t.observe([ev(A, 2.0, mac=OTHER)]) == []
    [tr] = t.observe([ev(A, 3.0, mac=GW)])  # no longer ignored
    assert tr.new == PRESENT


def test_stale_evidence_never_claims_again_only_newer_evidence_does() -> None:
    t = PresenceTracker()
    t.track([A])
    t.observe([ev(A, 1.0)])
    tr = t.stale(A, 2.0)  # the address moved away at 2.0
    assert tr is not None and (tr.old, tr.new, tr.cause) == (PRESENT, UNKNOWN, "stale")
    assert not t.present(A)
    # evidence heard before the move, drained late: still not enough
    assert t.observe([ev(A, 1.5, "arp-request"), ev(A, 2.0, "neighbour")]) == []
    assert t.stats["stale"] == 2 and not t.present(A)
    [tr2] = t.observe([ev(A, 2.001, "garp")])  # the VM came back
    assert (tr2.old, tr2.new) == (UNKNOWN, PRESENT)


def test_stale_before_the_latest_evidence_changes_nothing() -> None:
    t = PresenceTracker()
    t.track([A])
    t.observe([ev(A, 5.0)])
    assert t.stale(A, 4.0) is None  # heard again after the move: it is back
    assert t.present(A)
    assert t.stale("10.9.9.9", 1.0) is None  # untracked


def test_evidence_for_untracked_addresses_is_dropped_and_forgetting_works() -> None:
    t = PresenceTracker()
    t.track([A, B])
    t.observe([ev(A, 1.0), ev(C, 1.0)])
    assert t.get(C) is None and t.stats["untracked"] == 1
    t.track([B])
    assert t.get(A) is None and len(t) == 1
    t.track([A, B])
    assert t.get(A).state == UNKNOWN  # type: ignore[union-attr]  # a fresh start


def test_late_evidence_older_than_what_was_heard_is_ignored() -> None:
    t = PresenceTracker()
    t.track([A])
    t.observe([ev(A, 5.0, dev="lanb")])
    assert t.observe([ev(A, 4.0, "neighbour", dev="lana")]) == []
    assert t.get(A).evidence.interface == "lanb"  # type: ignore[union-attr]
    assert t.stats["late"] == 1


def test_a_new_mac_or_interface_for_a_present_address_is_reported() -> None:
    t = PresenceTracker()
    t.track([A])
    t.observe([ev(A, 1.0, dev="lana")])
    [moved] = t.observe([ev(A, 2.0, dev="lanb")])
    assert (moved.old, moved.new, moved.evidence.interface) == (PRESENT, PRESENT, "lanb")  # type: ignore[union-attr]
    [other] = t.observe([ev(A, 3.0, "arp-reply", mac=OTHER, dev="lanb")])
    assert other.evidence.mac == OTHER  # type: ignore[union-attr]
    # evidence naming no MAC (explicit) does not count as a MAC change
    assert t.observe([ev(A, 4.0, "explicit", mac="", dev="lanb")]) == []


def test_rarp_without_an_address_maps_the_mac_to_what_it_last_held() -> None:
    t = PresenceTracker(absent_after=1)
    t.track([A, B])
    t.observe([ev(A, 1.0, dev="lana")])
    t.due_probes(2.0, 1.0)
    t.due_probes(3.0, 1.0)  # A absent now
    assert t.get(A).state == ABSENT  # type: ignore[union-attr]
    [tr] = t.observe([PresenceEvidence("", "rarp", VM.upper(), "lanb", 3.5)])
    assert (tr.address, tr.new, tr.evidence.interface) == (A, PRESENT, "lanb")  # type: ignore[union-attr]
    assert t.get(A).evidence.kind == "rarp"  # type: ignore[union-attr]


def test_rarp_from_an_unknown_mac_sweeps_every_address_not_present() -> None:
    t = PresenceTracker()
    t.track([A, B, C], probe=[A])
    t.observe([ev(B, 1.0, mac=OTHER)])
    assert t.due_probes(1.0, 1.0).addresses == (A,)
    assert t.next_probe_at(1.0) == 2.0
    assert t.observe([PresenceEvidence("", "rarp", "02:00:00:00:0c:01", "lan", 1.2)]) == []
    assert t.next_probe_at(1.0) == -math.inf  # due now
    # B is present: not swept; A's round is not due yet: A not probed; C swept
    assert t.due_probes(1.3, 1.0).addresses == (A, C)


def test_sweep_probes_count_as_nothing_for_unprobed_addresses() -> None:
    t = PresenceTracker(absent_after=1)
    t.track([A, B], probe=[])
    t.sweep()
    assert t.due_probes(0.0, 1.0).addresses == (A, B)
    assert t.due_probes(5.0, 1.0) == t.due_probes(6.0, 1.0)
    assert t.get(A).state == UNKNOWN  # type: ignore[union-attr]
    assert t.next_probe_at(1.0) is None


def test_due_probes_schedule() -> None:
    t = PresenceTracker()
    assert t.next_probe_at(1.0) is None
    t.track([A, B], probe=[A])
    assert t.next_probe_at(1.0) == -math.inf  # new probed addresses: at once
    assert t.due_probes(10.0, 1.0).addresses == (A,)
    assert t.due_probes(10.5, 1.0).addresses == ()  # not yet
    assert t.next_probe_at(1.0) == 11.0
    t.track([A, B], probe=[A, B])
    assert t.due_probes(10.6, 1.0).addresses == (B,)
    assert t.due_probes(11.0, 1.0).addresses == (A,)
    assert t.due_probes(11.6, 1.0).addresses == (B,)
    t.track([A, B], probe=[B])  # A no longer probed: its pending round is void
    assert t.due_probes(12.0, 1.0).addresses == ()
    assert t.get(A).misses == 0  # type: ignore[union-attr]


def test_retracking_an_address_voids_its_old_round() -> None:
    t = PresenceTracker(absent_after=1)
    t.track([A])
    t.due_probes(0.0, 1.0)
    t.track([])
    t.track([A])
    r = t.due_probes(1.0, 1.0)  # the round from 0.0 belongs to a forgotten entry
    assert r.transitions == () and r.addresses == (A,)


def test_bad_input_is_refused_with_a_clear_message() -> None:
    with pytest.raises(ValueError, match="kind 'arp' is not one of"):
        PresenceEvidence(A, "arp", VM, "lan", 1.0)
    with pytest.raises(ValueError, match="garp presence evidence needs an address"):
        PresenceEvidence("", "garp", VM, "lan", 1.0)
    with pytest.raises(ValueError, match="absent_after must be at least 1"):
        PresenceTracker(absent_after=0)
