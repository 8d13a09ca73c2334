"""``doctor plugin``: is each Plugin runnable, has it run, is its part live?

Built on the plugin listing (``routerd.core.plugins.list_plugins``) so the doctor and
``routerctl plugin`` never disagree about a plugin's last run or part state. A part the
merge rejected (D3 in docs/decisions.md) is called out too: a plugin that runs fine but whose
output is ignored is exactly the failure nobody notices.
"""

from __future__ import annotations

import os
import stat
from datetime import UTC, datetime

from routerd.core.doctor import Finding, Status
from routerd.core.plugins import PluginInfo, list_plugins
from routerd.doctor.inputs import NO_HOST, Inputs

AREA = "plugin"


def findings(inputs: Inputs) -> list[Finding]:
    """Four findings per startup Plugin, or one SKIP when there are none."""
    plugins = list_plugins(inputs.ctx.startup, inputs.ctx.store, inputs.now)
    if not plugins:
        return [Finding(AREA, "Plugin", Status.SKIP, "no plugins configured")]
    out: list[Finding] = []
    for info in plugins:
        out += _executable(inputs, info)
        out.append(_last_run(inputs, info))
        out.append(_fresh(inputs, info))
    return out


def _executable(inputs: Inputs, info: PluginInfo) -> list[Finding]:
    exists, runnable = (
        f"Plugin/{info.name} executable exists",
        f"Plugin/{info.name} executable is executable",
    )
    if not inputs.ctx.host:
        return [Finding(AREA, exists, Status.SKIP, NO_HOST)]
    try:
        st = os.stat(info.executable)
    except OSError as e:
        return [
            Finding(
                AREA,
                exists,
                Status.FAIL,
                f"{info.executable}: {e.strerror}",
                "install the plugin or fix spec.executable",
            )
        ]
    if not stat.S_ISREG(st.st_mode):
        return [
            Finding(
                AREA,
                exists,
                Status.FAIL,
                f"{info.executable} is not a regular file",
                "point spec.executable at the plugin binary",
            )
        ]
    out = [Finding(AREA, exists, Status.PASS, info.executable)]
    if st.st_mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH):
        out.append(Finding(AREA, runnable, Status.PASS, f"mode {stat.filemode(st.st_mode)}"))
    else:
        out.append(
            Finding(
                AREA,
                runnable,
                Status.FAIL,
                f"mode {stat.filemode(st.st_mode)}",
                f"chmod 0755 {info.executable}",
            )
        )
    return out


def _when(ts: float | None) -> str:
    if ts is None:
        return "?"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _last_run(inputs: Inputs, info: PluginInfo) -> Finding:
    name = f"Plugin/{info.name} last run"
    if inputs.ctx.store is None:
        return Finding(AREA, name, Status.SKIP, "no state store")
    run = info.last_run
    if run is None:
        return Finding(AREA, name, Status.WARN, "never run", f"routerctl plugin run {info.name}")
    detail = (
        f"last run {_when(run.started_at)} ({run.trigger_type}), "
        f"status {run.status}, exit {run.exit_code}"
    )
    if run.status == "failed":
        lines = run.stderr.strip().splitlines()
        said = run.error or (lines[-1] if lines else "no error recorded")
        return Finding(
            AREA,
            name,
            Status.FAIL,
            f"{detail}: {said}",
            f"routerctl plugin run {info.name} to retry",
        )
    if run.status != "succeeded":
        return Finding(AREA, name, Status.WARN, detail + (f": {run.error}" if run.error else ""))
    return Finding(AREA, name, Status.PASS, detail)


def _fresh(inputs: Inputs, info: PluginInfo) -> Finding:
    name = f"Plugin/{info.name} last result fresh"
    if inputs.ctx.store is None:
        return Finding(AREA, name, Status.SKIP, "no state store")
    if info.latest_generation is None:
        return Finding(
            AREA, name, Status.WARN, "no part stored", f"routerctl plugin run {info.name}"
        )
    gen = info.latest_generation
    if info.part_state == "expired":
        return Finding(
            AREA,
            name,
            Status.WARN,
            f"stale (generation {gen} expired {_when(info.part_expires_at)})",
            "check the plugin's triggers and last run",
        )
    eff = inputs.effective
    rejected = (
        next((r for r in eff.rejected if r.source == info.source and r.generation == gen), None)
        if eff
        else None
    )
    if rejected is not None:
        return Finding(
            AREA,
            name,
            Status.WARN,
            f"generation {gen} is active but rejected by the merge: {'; '.join(rejected.reasons)}",
            "see `routerctl doctor dynamic`",
        )
    return Finding(
        AREA, name, Status.PASS, f"generation {gen} active until {_when(info.part_expires_at)}"
    )
