"""The daemon's garbage-collector policy: rare young collections, so full ones stay rare too.

Why: at 10,000 claims ``routerd serve`` holds a few hundred thousand GC-tracked objects (the
validated config and its lowering, the last observation, the published snapshot), and every
pass allocates tens of thousands more. With CPython's default thresholds ``(700, 10, 10)``
that means a full collection about once per reconcile pass, each one walking every tracked
object. The bench measured it at 10,000 claims on the reference VM: ~200 ms of a ~410 ms
no-op pass and ~0.4 s of a ~0.6 s cold apply were spent in the collector
(``python -m bench``, ``noop_pass`` and ``cold_apply``; docs/performance.md).

Almost nothing routerd allocates is cyclic (frozen dataclasses, tuples, strings, pydantic
models): reference counting frees it the moment it is dropped, whatever the thresholds.
The collector only exists for cycles, so running it every 50,000 allocations instead of
every 700 costs no memory in practice and takes the collector out of the reconcile pass
(~15 ms per pass at 10,000 claims).
"""

from __future__ import annotations

import gc

THRESHOLDS = (50_000, 20, 100)
"""Young-generation allocations before a collection, then the middle and old multipliers."""


def apply() -> None:
    """Set the daemon's thresholds (process-wide; ``routerd serve`` calls it at start)."""
    gc.set_threshold(*THRESHOLDS)
