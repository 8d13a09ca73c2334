"""The event bus: sequence numbers, the journal and live watchers see the same entries."""

from __future__ import annotations

import logging

from routerd.core.events import EventBus
from routerd.core.lifecycle import TransitionRecord
from routerd.core.state_port import JournalEntry
from routerd.state.store import Store


def _records(n: int) -> list[TransitionRecord]:
    return [
        TransitionRecord(f"c{i}", f"10.0.0.{i}/32", "pending", "captured", "capture", "r", "m", 5.0)
        for i in range(n)
    ]


def test_entry_is_the_record_with_seq_and_generation_around_it():
    # the bus builds an entry as (seq, *record, generation): the fields must line up
    assert JournalEntry._fields[1:-1] == TransitionRecord._fields


def test_publish_numbers_journals_and_streams_the_same_entries(tmp_path):
    store = Store.open(tmp_path)
    bus = EventBus(store)
    sub = bus.subscribe()
    first = bus.publish(_records(3), generation=7)
    second = bus.publish(iter(_records(2)), generation=8)
    assert [e.seq for e in first + second] == [1, 2, 3, 4, 5]
    assert first[1] == JournalEntry(
        2, "c1", "10.0.0.1/32", "pending", "captured", "capture", "r", "m", 5.0, 7
    )
    assert second[0].generation == 8 and second[0].claim == "c0"
    assert sub.get(timeout=0) == first + second
    assert store.journal() == first + second
    assert bus.publish([], generation=9) == [] and bus.seq == 5
    again = EventBus(store)  # a restarted daemon continues the sequence
    third = again.publish(_records(1), generation=9)
    assert third[0].seq == 6
    assert again.subscribe(after_seq=4).get(timeout=0) == [second[1], *third]


def test_transition_log_keeps_degrades_when_info_is_off(caplog):
    from routerd.core.engine import Engine

    records = _records(2)
    records.append(records[0]._replace(from_state="verified", to_state="degraded"))
    caplog.set_level(logging.WARNING, logger="routerd.core.engine")
    Engine._log_transitions(None, records)  # type: ignore[arg-type]  # reads no engine state
    assert [(r.levelname, r.kv_to) for r in caplog.records] == [("WARNING", "degraded")]
    caplog.clear()
    caplog.set_level(logging.INFO, logger="routerd.core.engine")
    Engine._log_transitions(None, records)  # type: ignore[arg-type]
    assert [r.kv_to for r in caplog.records] == ["captured", "captured", "degraded"]


def test_a_journal_of_many_batches_reads_back_whole_and_in_order(tmp_path):
    from routerd.state.store import JOURNAL_BATCH

    store = Store.open(tmp_path)
    bus = EventBus(store)
    n = 2 * JOURNAL_BATCH + 7  # whole batches and a rest
    entries = bus.publish(_records(n), generation=3)
    assert store.journal() == entries
    assert store.max_seq() == n
    assert store.journal(claim="c5") == [entries[5]]


def test_the_ring_keeps_the_newest_entries_of_a_publish_longer_than_it(tmp_path):
    bus = EventBus(Store.open(tmp_path), ring=4)
    first = bus.publish(_records(3), generation=1)
    assert list(bus._ring) == first
    second = bus.publish(_records(10), generation=2)  # more than the ring holds
    assert list(bus._ring) == second[-4:]
    assert bus.subscribe(after_seq=8).get(timeout=0) == second[-5:]  # from the journal
    assert bus.subscribe(after_seq=9).get(timeout=0) == second[-4:]  # from the ring
    third = bus.publish(_records(2), generation=3)
    assert list(bus._ring) == second[-2:] + third


def test_a_resume_point_the_journal_no_longer_holds_is_refused_with_the_oldest_kept(tmp_path):
    import pytest

    from routerd.core.events import ResumeError

    store = Store.open(tmp_path, journal_keep=10)
    bus = EventBus(store, ring=4)  # the ring holds only the newest 4
    for _ in range(5):
        bus.publish(_records(5), generation=1)  # 25 transitions; the journal keeps 16..25
    store.settle()
    assert [e.seq for e in store.journal()] == list(range(16, 26))
    assert [e.seq for e in bus.subscribe(after_seq=15).get(timeout=0)] == list(range(16, 26))
    with pytest.raises(ResumeError) as refused:
        bus.subscribe(after_seq=14)  # 15 is gone: a watcher would miss it unknowingly
    assert "no longer holds the transitions after 14: its oldest kept is 16" in str(refused.value)
    assert "routerctl watch claims --since 15" in refused.value.remedy
    # 0 asks for all the journal keeps
    assert [e.seq for e in bus.subscribe(after_seq=0).get(timeout=0)] == list(range(16, 26))
    store.close()
