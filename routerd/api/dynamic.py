"""Dynamic config parts over the API: put (with a trial merge), list with status, delete.

A put is checked the way the engine will judge it, *before* anything is stored: the part is
decoded (every problem with its field path), then merged on trial with the stored parts
through the same pure ``build_effective`` the engine runs. A part the merge would reject as
a whole (D3 in docs/decisions.md: disallowed mask, missing target, conflicting identity, invalid
result) is refused with INVALID_ARGUMENT and the store is left untouched, so an operator's typo
never becomes a stored-but-ignored row. Accepted parts are stored and the engine is marked
dirty.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Any

import grpc

from routerd.api import convert
from routerd.api.errors import ApiError, not_found
from routerd.api.view import DaemonView
from routerd.core.dynamic import DynamicPart, PartDecodeError, part_from_doc
from routerd.core.effective import EffectiveResult, build_effective
from routerd.core.loader import parse_yaml
from routerd.v1 import config_pb2

_PUT_LOCK = threading.Lock()
"""Serializes trial-then-store so two puts cannot both pass a trial that only one may win."""


def _parse(document: str) -> Any:
    if not document.strip():
        raise PartDecodeError([("", "empty document: send one DynamicConfigPart (YAML or JSON)")])
    # The same bounded parser as config files: size, nesting and alias expansion are
    # limited, so a hostile document costs a clear error, not the daemon's memory.
    data, _, issues = parse_yaml(document)
    if issues:
        where = [f"line {i.line}: " if i.line else "" for i in issues]
        raise PartDecodeError([(i.path, w + i.message) for i, w in zip(issues, where, strict=True)])
    return data


def _merge(daemon: DaemonView, parts: list[DynamicPart], now: float) -> EffectiveResult:
    engine = daemon.engine
    return build_effective(engine.startup, parts, now, extra_checks=engine.extra_checks)


def _next_generation(part: DynamicPart, stored: list[DynamicPart]) -> int:
    latest = max((p.generation for p in stored if p.source == part.source), default=0)
    if part.generation == 0:
        return latest + 1
    if part.generation < latest:
        raise ApiError(
            grpc.StatusCode.FAILED_PRECONDITION,
            f"spec.generation: {part.generation} is older than the stored generation {latest} "
            f"of {part.source}; omit spec.generation to store the next one",
        )
    return part.generation


def put_part(daemon: DaemonView, document: str) -> config_pb2.DynamicPart:
    """Decode, trial-merge and store one part.

    Raises:
        PartDecodeError: the document is not a valid DynamicConfigPart.
        ApiError: INVALID_ARGUMENT when the merge would reject it (nothing stored).
    """
    now = daemon.engine.clock()
    part = part_from_doc(_parse(document), received_at=now)
    with _PUT_LOCK:
        stored = daemon.store.list_parts()
        part = replace(part, generation=_next_generation(part, stored))
        others = [p for p in stored if p.label != part.label]
        trial = _merge(daemon, [*others, part], now)
        for r in trial.rejected:
            if (r.source, r.generation) == (part.source, part.generation):
                reasons = "\n".join(f"  - {x}" for x in r.reasons)
                raise ApiError(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"DynamicConfigPart {part.label} would be rejected; nothing was stored:\n"
                    + reasons,
                )
        saved = daemon.store.put_part(part)
    daemon.engine.mark_dirty()
    return convert.dynamic_part(saved, "active")


def part_status(eff: EffectiveResult, part: DynamicPart) -> tuple[str, tuple[str, ...]]:
    """``active``/``expired``/``superseded``/``rejected`` (with reasons) for one part."""
    for r in eff.rejected:
        if (r.source, r.generation) == (part.source, part.generation):
            return "rejected", r.reasons
    if part.label in eff.expired:
        return "expired", ()
    if part.label in eff.superseded:
        return "superseded", ()
    return "active", ()


def list_parts(daemon: DaemonView, source: str) -> list[config_pb2.DynamicPart]:
    """Stored parts (one source or all) with the status a merge at ``now`` gives them."""
    everything = daemon.store.list_parts()
    eff = _merge(daemon, everything, daemon.engine.clock())
    chosen = [p for p in everything if not source or p.source == source]
    if source and not chosen:
        raise not_found("dynamic source", source, sorted({p.source for p in everything}))
    return [convert.dynamic_part(p, *part_status(eff, p)) for p in chosen]


def delete_source(daemon: DaemonView, source: str) -> int:
    if not source:
        raise ApiError(grpc.StatusCode.INVALID_ARGUMENT, "source: required (e.g. Plugin/x)")
    deleted = daemon.store.delete_source(source)
    if deleted == 0:
        known = sorted({p.source for p in daemon.store.list_parts()})
        raise not_found("dynamic source", source, known)
    daemon.engine.mark_dirty()
    return deleted
