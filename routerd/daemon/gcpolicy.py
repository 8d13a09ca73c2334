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

Start-up is the exception to "rare": loading the config and the first pass create almost
everything the daemon keeps (at 100,000 claims ~1.7 million tracked objects), so even rare
young collections keep promoting and re-walking it: ~1.7 s of a ~12 s first pass at 100,000
(~0.04 s of ~0.9 s at 10,000; the walks get slower per object as the heap outgrows the CPU
caches). ``FirstPass`` turns the collector off from before the load until the first pass
has completed, then freezes what is alive (``gc.freeze``: the long-lived start-up state
goes to the permanent generation, which no later collection walks either) and turns it
back on. What that leaves uncollected for good is the cyclic garbage of start-up alone, a
few thousand small objects (pyroute2's message parts: ~2,100 at 10,000 claims and the
same at 100,000), whatever the claim count; collecting instead of freezing would cost a
full collection of everything (~1.3 s of CPU at 100,000 claims).

The second half is the C heap. Loading a config and a first pass over thousands of claims
allocate far more than they keep (the parser's text and events, each claim's pydantic
validation, the pass's work lists); freed, that memory stays in glibc's heap and shows as
the daemon's resident size for good (~0.9 KB a claim after a 10,000-claim first pass, by
the bench's ``rss`` item). ``trim`` hands the free pages back (``malloc_trim``) after a
load and after any pass that changed or moved many things: a few milliseconds, never on a
quiet pass.
"""

from __future__ import annotations

import ctypes
import gc
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from routerd.core.engine import PassResult

THRESHOLDS = (50_000, 20, 100)
"""Young-generation allocations before a collection, then the middle and old multipliers."""


def apply() -> None:
    """Set the daemon's thresholds (process-wide; ``routerd serve`` calls it at start)."""
    gc.set_threshold(*THRESHOLDS)


class FirstPass:
    """The collector off during start-up (load and first pass), then start-up state frozen.

    ``begin`` before the config is loaded; ``after_pass`` as a pass hook (it acts once).
    """

    def __init__(self) -> None:
        self.paused = False

    def begin(self) -> None:
        """Turn the cyclic collector off until ``after_pass`` first runs."""
        gc.disable()
        self.paused = True

    def after_pass(self, result: PassResult | None = None) -> None:
        """After the first pass: freeze what is alive and turn the collector back on.

        Args:
            result: the pass's result (a pass hook's signature; not read).
        """
        if self.paused:
            self.paused = False
            gc.freeze()
            gc.enable()


TRIM_AFTER = 1_000
"""Changes plus transitions in one pass from which the heap is trimmed after it."""


def _malloc_trim() -> Callable[[int], int] | None:
    try:
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError):  # not glibc: nothing to hand back this way
        return None
    return trim


_TRIM = _malloc_trim()


def trim() -> None:
    """Return the C heap's free pages to the system (glibc; elsewhere nothing)."""
    if _TRIM is not None:
        _TRIM(0)


def trim_after_pass(result: PassResult) -> None:
    """A pass hook: ``trim`` after a pass that changed or moved at least ``TRIM_AFTER``."""
    if result.changes + result.transitions >= TRIM_AFTER:
        trim()
