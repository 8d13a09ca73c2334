"""The daemon's GC policy (``routerd.daemon.gcpolicy``): why it exists is in its docstring."""

from __future__ import annotations

import gc

from routerd.core.engine import PassResult
from routerd.daemon import gcpolicy


def test_apply_sets_rarer_young_collections_process_wide():
    before = gc.get_threshold()
    try:
        gcpolicy.apply()
        assert gc.get_threshold() == gcpolicy.THRESHOLDS
        assert gc.get_threshold()[0] > before[0] and gc.isenabled()
    finally:
        gc.set_threshold(*before)


def test_the_heap_is_trimmed_after_a_big_pass_only(monkeypatch):
    calls: list[int] = []
    monkeypatch.setattr(gcpolicy, "_TRIM", lambda pad: calls.append(pad) or 1)
    gcpolicy.trim_after_pass(PassResult(changes=3, failures=[], transitions=30, seconds=0.1))
    assert calls == []
    big = PassResult(changes=10_000, failures=[], transitions=30_000, seconds=3.0)
    gcpolicy.trim_after_pass(big)
    assert calls == [0]


def test_trim_hands_memory_back_on_glibc():
    # this machine runs glibc: the call must be bound, not silently absent
    assert gcpolicy._TRIM is not None
    gcpolicy.trim()


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_start_up_runs_without_the_collector_then_freezes_what_it_kept():
    assert gc.isenabled() and gc.get_freeze_count() == 0
    first = gcpolicy.FirstPass()
    try:
        first.begin()
        assert not gc.isenabled()
        kept = _Cycle()
        done = PassResult(changes=10_000, failures=[], transitions=30_000, seconds=3.0)
        first.after_pass(done)
        assert gc.isenabled()
        frozen = gc.get_freeze_count()
        assert frozen > 0
        assert not any(o is kept for o in gc.get_objects())  # no collection walks it now
        first.after_pass(done)  # acts once: later passes freeze nothing more
        assert gc.get_freeze_count() == frozen
        later = _Cycle()
        assert any(o is later for o in gc.get_objects())  # new objects are collected as usual
    finally:
        gc.unfreeze()
        gc.enable()
