"""The mobility API's pure parts: request checks, home states, the journal signal, the
journal follower's no-duplicate rule and the move waiter, without a server."""

from __future__ import annotations

import threading
import time

import grpc
import pytest

from routerd.api import mobility_input as check
from routerd.api.errors import REASON_KEY, REFUSAL_CODES, ApiError, status_for
from routerd.api.mobility_port import (
    MOVED,
    QUEUED,
    REFUSALS,
    Conflict,
    Home,
    JournalSignal,
    MobilityRefused,
    MoveRecord,
    MoveResult,
    home_state,
)
from routerd.api.mobility_watch import await_moves, read_after


@pytest.mark.parametrize(
    ("text", "want"),
    [("10.40.8.21", "10.40.8.21"), ("10.40.8.21/32", "10.40.8.21"), (" 10.40.8.21 ", "10.40.8.21")],
)
def test_an_address_is_accepted_bare_or_as_a_32(text, want):
    assert check.address(text, "address") == want


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("", "an address is required"),
        ("10.40.8.0/24", "is not one address"),
        ("10.40.8.21/", "is not one address"),
        ("10.40.8", "is not an IPv4 address"),
        ("010.40.8.21", "is not an IPv4 address"),
        ("fd00::1", "is IPv6"),
    ],
)
def test_a_bad_address_names_its_field(text, needle):
    with pytest.raises(ApiError) as info:
        check.address(text, "addresses[2]")
    assert info.value.code is grpc.StatusCode.INVALID_ARGUMENT
    assert info.value.message.startswith("addresses[2]: ") and needle in info.value.message


def test_addresses_keep_the_first_index_of_each():
    assert check.addresses(["10.0.0.2", "10.0.0.1/32", "10.0.0.2"]) == {
        "10.0.0.2": 0,
        "10.0.0.1": 1,
    }


def test_a_cause_is_one_printable_line():
    assert check.cause("  wave 3  ") == "wave 3"
    for bad in ("a\nb", "a\tb", "x" * (check.MAX_TEXT + 1)):
        with pytest.raises(ApiError):
            check.cause(bad)


def test_a_home_state_puts_conflict_first_then_staleness_then_where():
    h = Home("10.0.0.1", "lab", "site-b", "site-a")
    assert home_state(h) == "remote"
    assert home_state(Home("10.0.0.1", "lab", "site-a", "site-a")) == "local"
    assert home_state(Home("10.0.0.1", "lab", "", "site-a")) == "unknown"
    stale = Home("10.0.0.1", "lab", "site-b", "site-a", stale_until=5.0)
    assert home_state(stale) == "stale"
    both = Home(
        "10.0.0.1", "lab", "site-b", "site-a", stale_until=5.0, conflicts=(Conflict("tie", "x"),)
    )
    assert home_state(both) == "conflict"


def test_every_refusal_has_a_status_code_and_keeps_its_field_and_reason():
    assert set(REFUSAL_CODES) == set(REFUSALS)
    err = status_for(MobilityRefused("unknown-domain", "no domain 'x'", field="domain"))
    assert err.code is grpc.StatusCode.NOT_FOUND and err.message == "domain: no domain 'x'"
    assert dict(err.metadata)[REASON_KEY] == "unknown-domain"
    assert status_for(MobilityRefused("new-code", "m")).code is grpc.StatusCode.FAILED_PRECONDITION


def test_the_journal_signal_wakes_a_waiter_and_ignores_going_back():
    sig = JournalSignal(3)
    assert sig.wait(3, 0.01) == 3  # nothing after 3: times out
    threading.Timer(0.05, sig.advance, (5,)).start()
    started = time.monotonic()
    assert sig.wait(3, 5.0) == 5
    assert time.monotonic() - started < 4
    sig.advance(4)
    assert sig.head == 5


class Journal:
    """A port's history and signal only, with records set by the test."""

    def __init__(self, records: list[MoveRecord]) -> None:
        self.records = records
        self.signal = JournalSignal(max((r.seq for r in records), default=0))

    def history(self, *, address="", domain="", after=0, limit=1000):
        return [r for r in self.records if r.seq > after][:limit]

    def wait_for_moves(self, after: int, timeout: float) -> int:
        return self.signal.wait(after, timeout)


def rec(seq: int, address: str = "10.0.0.1", to_site: str = "site-a", sequence: int = 1):
    return MoveRecord(seq, address, "lab", "", to_site, sequence, "explicit", "", 0.0)


def test_reading_after_a_sequence_never_repeats_a_record_a_port_sends_twice():
    class Repeating(Journal):
        def history(self, *, address="", domain="", after=0, limit=1000):
            return self.records  # ignores `after`: a buggy port

    port = Repeating([rec(1), rec(2), rec(2), rec(3)])
    assert [r.seq for r in read_after(port, 0)] == [1, 2, 3]
    assert [r.seq for r in read_after(port, 2)] == [3]


def test_the_move_waiter_marks_moved_only_what_landed_at_the_site_asked():
    port = Journal([rec(1, "10.0.0.9"), rec(2, "10.0.0.1", to_site="site-b")])
    asked = [MoveResult("10.0.0.1", QUEUED), MoveResult("10.0.0.2", QUEUED)]
    threading.Timer(0.05, lambda: (port.records.append(rec(3, "10.0.0.2", sequence=7)),
                                   port.signal.advance(3))).start()  # fmt: skip
    out = await_moves(port, asked, "site-a", 0, 0.5, threading.Event())
    assert (out[1].status, out[1].sequence) == (MOVED, 7)
    assert out[0].status == QUEUED and "routerctl where 10.0.0.1" in out[0].message


def test_the_move_waiter_stops_at_shutdown():
    stopping = threading.Event()
    stopping.set()
    started = time.monotonic()
    out = await_moves(Journal([]), [MoveResult("10.0.0.1", QUEUED)], "site-a", 0, 30, stopping)
    assert out[0].status == QUEUED and time.monotonic() - started < 5


class Context:
    def is_active(self) -> bool:
        return False  # the client left: a follower that caught up returns


def test_a_follower_resuming_after_pruned_moves_is_refused_with_the_oldest_kept():
    from routerd.api.mobility_watch import follow

    port = Journal([rec(5), rec(6), rec(7)])  # 1..4 pruned
    every = follow(lambda: port, 3, lambda r: True, Context(), threading.Event())
    with pytest.raises(ApiError) as refused:
        next(every)
    assert refused.value.code == grpc.StatusCode.OUT_OF_RANGE
    assert "no longer holds the moves after 3: its oldest kept is 5" in refused.value.message
    assert "routerctl watch homes --since 4" in refused.value.message
    kept = follow(lambda: port, 4, lambda r: True, Context(), threading.Event())
    assert [r.seq for r in kept] == [5, 6, 7]
    everything = follow(lambda: port, 0, lambda r: True, Context(), threading.Event())
    assert [r.seq for r in everything] == [5, 6, 7]  # 0: all the journal keeps
