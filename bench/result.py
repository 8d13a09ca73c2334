"""One measured figure, its same-run baseline, the ratio and the target it is checked against.

Every figure the bench prints is a ``Result``. Speed goals are ratios against a baseline
measured in the same run (or plain limits where a goal states one), never timing asserts
in tests: a VM with ±30% run-to-run spread (docs/background.md) makes absolute thresholds flaky,
and a ratio keeps the meaning ("3x the kernel floor") when the machine changes.

A figure whose prerequisites are missing is ``skipped`` with the reason and ``ok`` is
``None``: a skipped item is never reported as passing.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

Op = Literal["<", "<=", ">", ">=", "=="]
_OPS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
}


@dataclass(frozen=True)
class Target:
    """A check on either the value or the value/baseline ratio, e.g. ``ratio <= 3``."""

    on: Literal["value", "ratio"]
    op: Op
    limit: float
    unit: str = ""

    def describe(self) -> str:
        unit = f" {self.unit}" if self.unit and self.on == "value" else ""
        return f"{self.on} {self.op} {self.limit:g}{unit}"

    def check(self, value: float | None, ratio: float | None) -> bool | None:
        x = value if self.on == "value" else ratio
        return None if x is None else _OPS[self.op](x, self.limit)


@dataclass
class Result:
    """One row of the bench output (see the module docstring).

    Attributes:
        name: dotted identifier, e.g. ``cold_apply.proxy-arp.10000``.
        value: the measured figure (median over repetitions where there are several).
        unit: unit of ``value`` and ``baseline``.
        baseline: the same-run baseline in the same unit (None where there is none).
        target: the check, or None for figures reported for information.
        note: what was measured, and where a target is missed, what bounds it.
        skipped: why the figure could not be measured ("" when it was).
        error: the item failed while measuring ("" when it did not); never ok.
    """

    name: str
    value: float | None
    unit: str
    baseline: float | None = None
    target: Target | None = None
    note: str = ""
    skipped: str = ""
    error: str = ""

    @property
    def ratio(self) -> float | None:
        if self.value is None or not self.baseline:
            return None
        return self.value / self.baseline

    @property
    def ok(self) -> bool | None:
        if self.error:
            return False
        if self.skipped or self.target is None:
            return None
        return self.target.check(self.value, self.ratio)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "baseline": self.baseline,
            "ratio": self.ratio,
            "target": self.target.describe() if self.target else None,
            "ok": self.ok,
        }
        if self.note:
            out["note"] = self.note
        if self.skipped:
            out["skipped"] = self.skipped
        if self.error:
            out["error"] = self.error
        return out


def skipped(name: str, unit: str, reason: str, target: Target | None = None) -> Result:
    """A figure that could not be measured, with the reason."""
    return Result(name, None, unit, target=target, skipped=reason)


def _num(x: float | None) -> str:
    if x is None:
        return "-"
    if x == 0 or abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 1:
        return f"{x:.2f}"
    return f"{x:.3g}"


def _status(r: Result) -> str:
    if r.error:
        return "ERROR"
    if r.skipped:
        return "skipped"
    return {True: "ok", False: "NOT OK", None: "info"}[r.ok]


def render_table(results: Iterable[Result]) -> str:
    """A Markdown table plus numbered notes (the format docs/performance.md keeps)."""
    rows = [
        "| figure | value | unit | baseline | ratio | target | status |",
        "|---|---:|---|---:|---:|---|---|",
    ]
    notes: list[str] = []
    for r in results:
        status = _status(r)
        text = r.error or r.skipped or r.note
        if text:
            notes.append(text)
            status += f" [{len(notes)}]"
        ratio = "-" if r.ratio is None else f"{r.ratio:.2f}x"
        target = r.target.describe() if r.target else "-"
        rows.append(
            f"| {r.name} | {_num(r.value)} | {r.unit} | {_num(r.baseline)} | {ratio} "
            f"| {target} | {status} |"
        )
    lines = rows + [""] + [f"[{i}] {t}" for i, t in enumerate(notes, 1)]
    return "\n".join(lines) + "\n"


def render_json(results: Iterable[Result], meta: dict[str, Any] | None = None) -> str:
    doc: dict[str, Any] = {"results": [r.to_json() for r in results]}
    if meta:
        doc["machine"] = meta
    return json.dumps(doc, indent=2) + "\n"
