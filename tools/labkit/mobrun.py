"""``tools/lab mobility``: build the three-site lab, run the scenarios, report, tear down.

The report is ``{"control", "run", "runs", "checks": [{name, ok, detail}], "figures":
[{name, value, unit}]}``; ``control`` says which control plane ran ("routerd" or
"hand-played"). A scenario that raises ends the run (the lab's state is then unknown) with a
failing ``<scenario>: completed`` check; failing checks do not. Every run also checks that
no controller or routerd log holds a Traceback. On any failure the namespaces' state, the
reflector's table, what each control plane says (homes, findings; the hand-played
controllers also their journals and pass timings) and every log are written to
``.lab-evidence/<run>-mobility/`` first.
"""

from __future__ import annotations

import shutil
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.support.netns import dump_evidence

from .evidence import EVIDENCE_ROOT
from .moblab import MobilityLab
from .mobscenarios import SCENARIOS
from .mobwatch import Report


def check_logs(lab: MobilityLab) -> Report:
    r = Report()
    logs = [p for p in lab.control_plane.logs() if p.is_file()]
    bad = [str(p) for p in logs if "Traceback" in p.read_text(errors="replace")]
    r.check("logs: no Traceback", not bad, ", ".join(bad) or f"{len(logs)} logs read")
    return r


def write_evidence(lab: MobilityLab) -> Path:
    dest = EVIDENCE_ROOT / f"{lab.run_id}-mobility"
    dump_evidence(lab.topo.ns.values(), dest)
    if lab.control is not None:
        lab.control.evidence(dest)
        for log in lab.control.logs():
            if log.is_file():
                shutil.copy(log, dest / str(log.relative_to(lab.dir)).replace("/", "-"))
    if lab.rr is not None:
        (dest / "rr-routes.txt").write_text(lab.rr.birdc("show route all"))
        (dest / "rr-protocols.txt").write_text(lab.rr.birdc("show protocols all"))
    return dest


def line(check: Any) -> str:
    return f"{'PASS' if check.ok else 'FAIL'}  {check.name}: {check.detail}"


def run(lab: MobilityLab, scenarios: list[str], runs: int, echo: Callable[[str], None]) -> Report:
    """Run ``scenarios`` in order on ``lab``; each check is echoed as it is known."""
    report = Report()
    report.extend(lab.startup)
    for c in lab.startup.checks:
        echo(line(c))
    for name in scenarios:
        started = time.monotonic()
        echo(f"-- {name}")
        try:
            r = SCENARIOS[name](lab, runs)
            error = ""
        except Exception as exc:
            r = Report()
            error = f"{type(exc).__name__}: {exc}"
            echo(traceback.format_exc())
        r.check(f"{name}: completed", not error, error or f"{time.monotonic() - started:.1f}s")
        for c in r.checks:
            echo(line(c))
        for f in r.figures:
            echo(f"      {f.name} = {f.value} {f.unit}")
        report.extend(r)
        if error:
            break
    logs = check_logs(lab)
    echo(line(logs.checks[0]))
    report.extend(logs)
    return report


def main(
    control: str,
    scenarios: list[str],
    runs: int,
    keep: bool,
    echo: Callable[[str], None],
    cloud_actions: bool = False,
) -> tuple[dict[str, Any], bool]:
    """Build, run, tear down (unless ``keep``); (the JSON report, whether all passed)."""
    lab = MobilityLab.up(control, cloud_actions=cloud_actions, log=lambda s: echo(f"   {s}"))
    report = Report()
    try:
        report = run(lab, scenarios, runs, echo)
        if not report.ok:
            echo(f"evidence written to {write_evidence(lab)}")
    finally:
        if keep:
            echo(
                f"run {lab.run_id} kept: namespaces lab{lab.run_id}-*, tear down with "
                f"tools/lab down --run {lab.run_id}"
                + (
                    " (the hand-played controllers ended with this process; gobgpd and the "
                    "kernel objects stay as they were)"
                    if lab.control_plane.mode == "hand-played"
                    else ""
                )
            )
        else:
            errors = lab.down()
            report.check("teardown: everything released", not errors, "; ".join(errors) or "ok")
    out = {"control": lab.control_plane.mode, "run": lab.run_id, "runs": runs, **report.as_json()}
    out["cloudActions"] = cloud_actions
    return out, report.ok
