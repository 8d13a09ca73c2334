"""``tools/lab redundancy``: fail the active router of a pair in every way, measure, report.

Each failure kind runs ``runs`` times on the lab of ``redlab`` (``ra`` active at the start
of every run), with the client sweeping ARP for the captured address every 10 ms and
pinging the virtual address every 10 ms throughout:

* ``crash``: every process of the active router killed at once (routerd, keepalived,
  wireguard-go); it is started again and must come back standby;
* ``cut``: its switch port taken down, then up again: it must come back standby;
* ``pause``: every process of it stopped (SIGSTOP) for 1.5 s, then resumed: it must give
  the role up (the fence), and its kernel must stop answering while paused;
* ``routerd``: routerd alone killed and started again: nothing may change.

After each failing run ``routerctl failback`` on ``ra`` restores the start, without a
second outage. Figures (medians over the runs): ``failover_ms.<kind>`` (from the failure
to the first sweep answered by the standby alone), ``vip_outage_ms.cut`` and
``vip_outage_ms.routerd`` (lost pings to the virtual address × 10 ms; not for a crash or
a pause: the namespace's kernel outlives the processes and still answers pings for the
address keepalived left behind), ``failback_outage_ms`` and ``resume_overlap_ms`` (both
routers answered right after a paused router resumed). Checks: never two answers for the
captured address in any window that must have one (a failback's make-before-break moment
excepted), every role as expected, one gratuitous ARP per takeover, no Traceback in any
log. With the cloud pair (``redcloudrun``), its crash, cut and pause runs follow, with
their own checks and figures.
"""

from __future__ import annotations

import shutil
import statistics
import time
from collections.abc import Callable
from typing import Any

from tests.netns import pair_routers as pr
from tests.netns.pair import outages
from tests.support.netns import dump_evidence
from tests.support.wait import wait_until

from . import redcloudrun
from .evidence import EVIDENCE_ROOT
from .mobwatch import Report
from .redlab import RedundancyLab

KINDS = ("crash", "cut", "pause", "routerd")
PAIRS = ("onprem", "cloud")
TRAIN = 0.01


def _sleep_until(t: float) -> None:
    wait_until(lambda: None if pr.now() >= t else "waiting", timeout=30, interval=0.02)


def _lost_ms(proc: Any) -> float:
    out, _ = proc.communicate(timeout=60)
    return sum(lost for _, lost, _ in outages(out)) * TRAIN * 1000


def _two(lab: RedundancyLab, since: float, until: float) -> int:
    return sum(len(m) > 1 for t, m in lab.sweep(since) if t < until)


def _fail(lab: RedundancyLab, kind: str, r: Report, figures: dict[str, list[float]]) -> None:
    """One failure of the active router ``ra`` and its recovery (``rb`` active after)."""
    ra, rb = lab.routers["ra"], lab.routers["rb"]
    train = lab.ping_train(8)
    time.sleep(0.5)
    t0 = pr.now()
    if kind == "crash":
        ra.crash()
    elif kind == "cut":
        ra.cut()
    else:
        ra.pause()
    taken = pr.wait_answered_by(lab.sweep, rb.mac(), t0)
    figures[f"failover_ms.{kind}"].append((taken - t0) * 1000)
    rb.wait_role("active")
    resumed = pr.now()
    if kind == "crash":
        ra.start()
    elif kind == "cut":
        ra.cut(up=True)
    else:
        _sleep_until(t0 + 1.5)
        resumed = pr.now()
        ra.pause(resume=True)
    ra.wait_role("standby", timeout=20)
    rb.wait_role("active")
    settled = pr.now()
    _sleep_until(settled + 0.5)
    lost = _lost_ms(train)
    if kind == "cut":  # a crashed or paused router's kernel still answers for its stale VIP
        figures["vip_outage_ms.cut"].append(lost)
    r.check(f"{kind}: never two answers while failing", not _two(lab, t0, resumed), "")
    if kind == "pause":
        figures["resume_overlap_ms"].append(_two(lab, resumed, settled) * TRAIN * 1000)
    else:
        n = _two(lab, resumed, pr.now())
        r.check(f"{kind}: never two answers after recovery", not n, f"{n} sweeps")
    r.check(f"{kind}: the recovered router is standby", ra.role() == "standby", ra.role())
    grat = [m for m, op in lab.garps(t0) if op == 1]
    r.check(f"{kind}: the standby announced the takeover", rb.mac() in grat, str(grat))


def _failback(lab: RedundancyLab, r: Report, figures: dict[str, list[float]]) -> None:
    ra, rb = lab.routers["ra"], lab.routers["rb"]
    train = lab.ping_train(3)
    time.sleep(0.5)
    t0 = pr.now()
    ra.ctl("failback")
    pr.wait_answered_by(lab.sweep, ra.mac(), t0)
    ra.wait_role("active")
    rb.wait_role("standby")
    figures["failback_outage_ms"].append(_lost_ms(train))
    settled = pr.now()
    _sleep_until(settled + 0.3)
    n = _two(lab, settled, pr.now())
    r.check("failback: ra alone answers afterwards", not n, f"{n} sweeps")


def _routerd_alone(lab: RedundancyLab, r: Report, figures: dict[str, list[float]]) -> None:
    ra, rb = lab.routers["ra"], lab.routers["rb"]
    train = lab.ping_train(4)
    time.sleep(0.5)
    t0 = pr.now()
    ra.kill_routerd()
    _sleep_until(t0 + 1.0)
    ra.start()
    _sleep_until(pr.now() + 0.5)
    figures["vip_outage_ms.routerd"].append(_lost_ms(train))
    heard = pr.answerers(lab.sweep(t0))
    r.check("routerd: only ra answered throughout", heard == {ra.mac()}, str(heard))
    r.check(
        "routerd: roles unchanged",
        (ra.role(), rb.role()) == ("active", "standby"),
        f"ra {ra.role()}, rb {rb.role()}",
    )


def run(
    lab: RedundancyLab,
    kinds: list[str],
    runs: int,
    echo: Callable[[str], None],
    pairs: tuple[str, ...] = PAIRS,
) -> Report:
    report = Report()
    figures: dict[str, list[float]] = {}
    for kind in kinds if "onprem" in pairs else []:
        echo(f"-- {kind} x{runs}")
        names = [f"vip_outage_ms.{kind}"] if kind in ("cut", "routerd") else []
        for name in names + ([f"failover_ms.{kind}"] if kind != "routerd" else []):
            figures.setdefault(name, [])
        figures.setdefault("failback_outage_ms", [])
        figures.setdefault("resume_overlap_ms", [])
        for _ in range(runs):
            r = Report()
            if kind == "routerd":
                _routerd_alone(lab, r, figures)
            else:
                _fail(lab, kind, r, figures)
                _failback(lab, r, figures)
            for c in r.checks:
                if not c.ok:
                    echo(f"FAIL  {c.name}: {c.detail}")
            report.extend(r)
        echo("   " + ", ".join(f"{k}={v[-runs:]}" for k, v in figures.items() if kind in k))
    if lab.cloud is not None:
        _cloud(lab, kinds, runs, echo, report, figures)
    bad = [str(p) for p in lab.logs() if p.is_file() and "Traceback" in p.read_text()]
    report.check("logs: no Traceback", not bad, ", ".join(bad) or "ok")
    for name, values in sorted(figures.items()):
        if values:
            report.figure(name, statistics.median(values))
    return _merged(report)


def _cloud(
    lab: RedundancyLab,
    kinds: list[str],
    runs: int,
    echo: Callable[[str], None],
    report: Report,
    figures: dict[str, list[float]],
) -> None:
    assert lab.cloud is not None
    figures.setdefault("provider_api_ms", [])
    figures.setdefault("cloud_failback_ms", [])
    for kind in [k for k in kinds if k in redcloudrun.KINDS]:
        echo(f"-- cloud {kind} x{runs}")
        figures[f"cloud_failover_ms.{kind}"] = []
        figures[f"cloud_failover_all_ms.{kind}"] = []
        for _ in range(runs):
            r = Report()
            redcloudrun.one(lab.cloud, kind, r, figures)
            for c in r.checks:
                if not c.ok:
                    echo(f"FAIL  {c.name}: {c.detail}")
            report.extend(r)
        echo(f"   cloud_failover_ms.{kind}={figures[f'cloud_failover_ms.{kind}']}")
        echo(f"   cloud_failover_all_ms.{kind}={figures[f'cloud_failover_all_ms.{kind}']}")


def _merged(report: Report) -> Report:
    """One check per name: failing when any run failed it (details of the failures)."""
    out = Report(figures=report.figures)
    seen: dict[str, list[Any]] = {}
    for c in report.checks:
        seen.setdefault(c.name, []).append(c)
    for name, checks in seen.items():
        failed = [c.detail for c in checks if not c.ok]
        out.check(name, not failed, "; ".join(failed) or f"{len(checks)} runs")
    return out


def main(
    kinds: list[str],
    runs: int,
    keep: bool,
    echo: Callable[[str], None],
    pairs: tuple[str, ...] = PAIRS,
) -> tuple[dict[str, Any], bool]:
    """Build, run, tear down (unless ``keep``); (the JSON report, whether all passed)."""
    lab = RedundancyLab.up(log=lambda s: echo(f"   {s}"), cloud="cloud" in pairs)
    report = Report()
    try:
        report = run(lab, kinds, runs, echo, pairs)
    except Exception as exc:
        report.check("completed", False, f"{type(exc).__name__}: {exc}")
    finally:
        if not report.ok:
            dest = EVIDENCE_ROOT / f"{lab.run_id}-redundancy"
            nss = [lab.sw, lab.client, *(r.ns for r in lab.routers.values())]
            if lab.cloud is not None:
                nss += [lab.cloud.fab, lab.cloud.vm, *(r.ns for r in lab.cloud.routers.values())]
            dump_evidence(nss, dest)
            for log in lab.logs():  # routerd's and keepalived's logs say why
                if log.is_file():
                    name = "-".join(log.relative_to(lab.dir).parts)
                    shutil.copyfile(log, dest / name)
            echo(f"evidence written to {dest}")
        if keep:
            echo(f"run {lab.run_id} kept: tear down with tools/lab down --run {lab.run_id}")
        else:
            errors = lab.down()
            report.check("teardown: everything released", not errors, "; ".join(errors) or "ok")
    for c in report.checks:
        echo(f"{'PASS' if c.ok else 'FAIL'}  {c.name}: {c.detail}")
    for f in report.figures:
        echo(f"      {f.name} = {f.value} {f.unit}")
    return {"run": lab.run_id, "runs": runs, **report.as_json()}, report.ok
