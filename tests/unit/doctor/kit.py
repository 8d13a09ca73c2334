"""Helpers for doctor unit tests: recorded scenarios, contexts, finding look-ups.

A ``Scene`` is one recording from ``tests/fixtures/doctor`` (real outputs of real tools,
see that directory's README) plus the router config it was recorded with; ``doctor()``
replays it through ``run_doctor``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from routerd.core.config import RouterConfig
from routerd.core.doctor import DoctorContext, Finding, Report, Status
from routerd.core.loader import load_text
from routerd.doctor import run_doctor
from routerd.doctor.host import CommandResult
from tests.fixtures.doctor.replay import ReplayHost, key, load


def config_of(text: str) -> RouterConfig:
    result = load_text(text)
    assert result.config is not None, [e.render() for e in result.errors]
    return result.config


@dataclass
class Scene:
    """A recording ready to replay. ``names`` maps topology roles to the recorded names."""

    rec: dict[str, Any]
    host: ReplayHost
    config: RouterConfig
    names: dict[str, str] = field(default_factory=dict)

    def doctor(self, area: str = "hybrid", **ctx: Any) -> Report:
        ctx.setdefault("startup", self.config)
        return run_doctor(area, DoctorContext(**ctx), host=self.host)

    def adopt(self, doc: dict[str, Any]) -> Scene:
        """Serve a samples.json answer, renamed to this recording's interfaces."""
        old, new = load("samples.json")["prefix"], self.rec["topology"]["prefix"]
        renamed = dict(doc, argv=[a.replace(old, new) for a in doc["argv"]])
        renamed["stdout"] = doc["stdout"].replace(old, new)
        self.host.with_command(renamed)
        return self

    def recorded(self, *argv: str) -> CommandResult:
        found = self.host.answers.get(key(argv))
        assert found is not None, f"not recorded: {argv}"
        return found

    def edit_json(self, argv: tuple[str, ...], edit: Callable[[list[Any]], list[Any]]) -> Scene:
        """Serve a recorded ``ip -j`` dump changed by ``edit`` (rows in, rows out)."""
        rows = json.loads(self.recorded(*argv).stdout)
        doc = {"argv": list(argv), "rc": 0, "stdout": json.dumps(edit(rows)), "stderr": ""}
        self.host.with_command(doc)
        return self


def scene(name: str, sys_root: Path) -> Scene:
    rec = load(f"{name}.json")
    host = ReplayHost.from_recording(rec, sys_root)
    prefix = rec["topology"]["prefix"]
    names = {
        "br": f"{prefix}br",
        "wg1": f"{prefix}wg1",
        "wg2": f"{prefix}wg2",
        "u2": f"{prefix}u2",
    }
    return Scene(rec, host, config_of(rec["topology"]["config"]), names)


def sample(what_prefix: str, argv0: str = "") -> dict[str, Any]:
    """One recorded failing command from samples.json (by its description and tool)."""
    for s in load("samples.json")["samples"]:
        if s["what"].startswith(what_prefix) and (not argv0 or s["argv"][0] == argv0):
            return dict(s)
    raise KeyError(what_prefix)


def one(report: Report | list[Finding], suffix: str) -> Finding:
    """The single finding whose name ends with ``suffix``."""
    findings = report.findings if isinstance(report, Report) else report
    hits = [f for f in findings if f.name.endswith(suffix)]
    assert len(hits) == 1, (suffix, [f.name for f in findings])
    return hits[0]


def statuses(report: Report) -> dict[str, Status]:
    return {f.name: f.status for f in report.findings}


def answering(sys_root: Path, *docs: dict[str, Any], now: float = 0.0) -> ReplayHost:
    """A host that knows only the given recorded commands."""
    rec = {"sysctls": {}, "now": now, "commands": [dict(d) for d in docs]}
    return ReplayHost.from_recording(rec, sys_root)


def not_found(*argv: str) -> dict[str, Any]:
    """What the runner returns when the tool is not installed (FileNotFoundError)."""
    return {"argv": list(argv), "rc": 127, "stdout": "", "stderr": "", "failure": "not-found"}
