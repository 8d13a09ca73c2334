"""Item 4: the claim state machine at 100,000 claims (``routerd.core.lifecycle``).

Figures and their same-run baselines:

* memory per claim, by ``tracemalloc`` (Python allocations only, so it is not blurred by
  the allocator's arenas as an RSS delta would be): ``Lifecycle.add`` for N claims vs the
  same ``ClaimFSM`` objects kept in a plain dict (the model alone, no machine). The name and
  address strings exist before the measurement starts: they belong to the config.
* time to add and to remove all N: ``Lifecycle.add`` / ``Lifecycle.release`` vs inserting
  into / popping from a plain dict (the O(1) floor the registry must stay near).
* journaled transitions per second: every claim walked pending -> verified (3 transitions)
  with the records drained, sequenced, written to a real SQLite ``Store`` in a temp dir and
  published on an ``EventBus`` in batches of ``PASS_CLAIMS`` claims (one transaction per
  batch, as the engine does once per pass), vs the same walk without the bus and store.
* a restart's journal write: the rows of a first pass at N claims appended in one
  transaction to a journal already holding three earlier first passes (as much as it keeps
  when ``journal_keep`` is three passes' worth), vs the same rows into an empty journal.
"""

from __future__ import annotations

import gc
import statistics
import tempfile
import time
import tracemalloc
from collections.abc import Callable

from bench.result import Result, Target
from routerd.core.events import EventBus
from routerd.core.lifecycle import ClaimFSM, ClaimState, Lifecycle
from routerd.core.state_port import JournalEntry
from routerd.state.store import Store

PASS_CLAIMS = 10_000
REPS = 3
FULL_N = 100_000
MEMORY_TARGET = Target("value", "<=", 2048, "B")
RATE_TARGET = Target("value", ">=", 20_000, "transitions/s")
SECONDS_PER_100K = 5.0


def _clock() -> float:
    return 1_000_000.0


def _identities(n: int) -> list[tuple[str, str]]:
    return [
        (f"claim-{i}", f"10.{16 + i // 65536}.{(i // 256) % 256}.{i % 256}/32") for i in range(n)
    ]


def _timed(fn: Callable[[], object]) -> float:
    gc.collect()
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def _traced_bytes(fn: Callable[[], object]) -> int:
    """Bytes still allocated after ``fn`` (whose result is kept alive while measuring)."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        keep = fn()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    del keep
    return after - before


def _lifecycle_with(ids: list[tuple[str, str]]) -> Lifecycle:
    lc = Lifecycle(_clock)
    for name, address in ids:
        lc.add(name, address)
    return lc


def _plain_dict(ids: list[tuple[str, str]]) -> dict[str, ClaimFSM]:
    return {name: ClaimFSM(name, address) for name, address in ids}


def memory(n: int) -> Result:
    ids = _identities(n)
    mine = _traced_bytes(lambda: _lifecycle_with(ids)) / n
    floor = _traced_bytes(lambda: _plain_dict(ids)) / n
    return Result(
        f"fsm.memory_per_claim.{n}",
        mine,
        "B",
        floor,
        MEMORY_TARGET,
        "tracemalloc bytes per claim after Lifecycle.add (model and index entries) "
        "vs the same ClaimFSM objects in a plain dict",
    )


def _add_remove_once(ids: list[tuple[str, str]]) -> tuple[float, float, float, float]:
    lc = Lifecycle(_clock)
    add = _timed(lambda: [lc.add(name, address) for name, address in ids])
    remove = _timed(lambda: [lc.release(name, "", "") for name, _ in ids])
    plain: dict[str, ClaimFSM] = {}
    floor_add = _timed(lambda: [plain.setdefault(nm, ClaimFSM(nm, a)) for nm, a in ids])
    floor_remove = _timed(lambda: [plain.pop(name) for name, _ in ids])
    return add, remove, floor_add, floor_remove


def add_remove(n: int) -> list[Result]:
    ids = _identities(n)
    runs = [_add_remove_once(ids) for _ in range(REPS)]
    add, remove, floor_add, floor_remove = (
        statistics.median(col) for col in zip(*runs, strict=True)
    )
    limit = SECONDS_PER_100K * n / FULL_N
    target = Target("value", "<", limit, "s")
    scaled = "" if n == FULL_N else f" (the 5 s per 100,000 target scaled to {n:,})"
    return [
        Result(
            f"fsm.add_all.{n}",
            add,
            "s",
            floor_add,
            target,
            f"Lifecycle.add of {n:,} claims vs dict inserts of the same models, median of "
            f"{REPS}{scaled}",
        ),
        Result(
            f"fsm.remove_all.{n}",
            remove,
            "s",
            floor_remove,
            target,
            f"Lifecycle.release of {n:,} claims vs dict pops, median of {REPS}{scaled}",
        ),
    ]


def _walk_all(lc: Lifecycle, bus: EventBus | None) -> int:
    """Walk every claim to verified in pass-sized batches; returns the transitions made."""
    models = list(lc.claims.values())
    total = 0
    for start in range(0, len(models), PASS_CLAIMS):
        for model in models[start : start + PASS_CLAIMS]:
            lc.walk(model, ClaimState.VERIFIED, "", "")
        records = lc.drain()
        total += len(records)
        if bus is not None:
            bus.publish(records, 1)
    return total


def _bare_rate(ids: list[tuple[str, str]]) -> float:
    lc = _lifecycle_with(ids)
    gc.collect()
    t0 = time.perf_counter()
    count = _walk_all(lc, None)
    return count / (time.perf_counter() - t0)


def _journaled_rate(ids: list[tuple[str, str]]) -> float:
    n = len(ids)
    with tempfile.TemporaryDirectory(prefix="rdbench-fsm-") as tmp:
        store = Store.open(tmp)
        bus = EventBus(store)
        lc = _lifecycle_with(ids)
        gc.collect()
        t0 = time.perf_counter()
        count = _walk_all(lc, bus)
        seconds = time.perf_counter() - t0
        journaled = store.max_seq()
        bus.close()
        store.close()
    if journaled != count or count != 3 * n:
        raise RuntimeError(f"journal holds {journaled} of {count} transitions (expected {3 * n})")
    return count / seconds


def journaled_rate(n: int) -> Result:
    ids = _identities(n)
    bare, journaled = [], []
    for _ in range(REPS):  # interleaved, so drift on a shared machine hits both alike
        bare.append(_bare_rate(ids))
        journaled.append(_journaled_rate(ids))
    count = 3 * n
    return Result(
        f"fsm.journaled_transitions_per_s.{n}",
        statistics.median(journaled),
        "transitions/s",
        statistics.median(bare),
        RATE_TARGET,
        f"{count:,} transitions (pending->captured->delivering->verified per claim) walked, "
        f"sequenced, journaled to SQLite (WAL) and published, one transaction per "
        f"{PASS_CLAIMS:,} claims, vs the same walk without EventBus and Store; median of {REPS}",
    )


RESTART_TARGET = Target("ratio", "<=", 1.5)
RESTARTS_KEPT = 3


def _entries(n: int, first: int) -> list[JournalEntry]:
    """A first pass's journal rows for ``n`` claims from sequence ``first``: three each,
    claim by claim, as the engine writes them."""
    steps = (("pending", "captured"), ("captured", "delivering"), ("delivering", "verified"))
    rows, seq = [], first
    for name, address in _identities(n):
        for before, after in steps:
            rows.append(JournalEntry(seq, name, address, before, after, "pass", "", "", 1.0, 1))
            seq += 1
    return rows


def _first_pass_append(n: int, restarts: int) -> float:
    """Seconds to journal a first pass of ``n`` claims onto ``restarts`` earlier ones, in a
    store keeping ``RESTARTS_KEPT`` of them (the pruning the append triggers runs apart)."""
    with tempfile.TemporaryDirectory(prefix="rdbench-journal-") as tmp:
        store = Store.open(tmp, journal_keep=RESTARTS_KEPT * 3 * n)
        for k in range(restarts):
            store.append_journal(_entries(n, 1 + k * 3 * n))
            store.settle()
        rows = _entries(n, 1 + restarts * 3 * n)
        seconds = _timed(lambda: store.append_journal(rows))
        store.close()
    return seconds


def journal_restart(n: int) -> Result:
    fresh, again = [], []
    for _ in range(REPS):  # interleaved, so drift on a shared machine hits both alike
        fresh.append(_first_pass_append(n, 0))
        again.append(_first_pass_append(n, RESTARTS_KEPT))
    return Result(
        f"fsm.journal_restart.{n}",
        statistics.median(again),
        "s",
        statistics.median(fresh),
        RESTART_TARGET,
        f"a restart's first pass journaled ({3 * n:,} rows, one transaction) onto a journal "
        f"holding {RESTARTS_KEPT} earlier ones (the most it keeps), vs the same rows into an "
        f"empty journal; median of {REPS}",
    )


def run(n: int) -> list[Result]:
    return [memory(n), *add_remove(n), journaled_rate(n), journal_restart(n)]
