"""Profiles attached to missed targets: where the time of one run goes, in a line.

A missed target is only useful with its bound, so items re-run the slow step once under
``cProfile`` and keep the few routerd functions with the most cumulative time (library and
stdlib frames are folded into their routerd caller, which is where a fix would go).
"""

from __future__ import annotations

import cProfile
import pstats
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

OWN = ("/routerd/",)


def profiled(fn: Callable[[], T], *, top: int = 6) -> tuple[T, str]:
    """Run ``fn`` under cProfile; return its result and a one-line summary of the hot spots.

    The summary lists routerd functions by cumulative seconds, skipping the outermost
    frame (it always holds 100%), e.g. ``engine.py:_refresh 1.26s; lowering.py:lower 0.63s``.
    """
    prof = cProfile.Profile()
    prof.enable()
    try:
        result = fn()
    finally:
        prof.disable()
    return result, summarize(prof, top=top)


def summarize(prof: cProfile.Profile, *, top: int = 6) -> str:
    stats: dict[Any, Any] = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    rows = []
    for (path, line, func), (_cc, _nc, tottime, cumtime, _callers) in stats.items():
        if not any(p in path for p in OWN):
            continue
        short = path.rsplit("/routerd/", 1)[1]
        rows.append((cumtime, tottime, f"{short}:{line}({func})"))
    rows.sort(reverse=True)
    picked = rows[1 : top + 1]
    total = rows[0][0] if rows else 0.0
    body = "; ".join(f"{name} {cum:.3f}s cum/{tot:.3f}s self" for cum, tot, name in picked)
    return f"profile of one run ({total:.3f}s): {body}"
