"""The three-site mobility lab (``tools/lab mobility``): every scenario's checks hold.

One lab is built for the module with routerd as the control plane (the product under test;
the hand-played controller is only the lab's floor) and the scenarios run on it in order, as the CLI
runs them, with two runs per timed case. Each test asserts its scenario's checks, not the
timing targets: those are figures, printed here and by ``tools/lab mobility -o json``.
After a failing scenario the remaining ones are skipped (the lab's state is then unknown)
and the lab's evidence is written. Teardown must release everything.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from tests.lab.conftest import _missing_tools
from tools.labkit.moblab import MobilityLab
from tools.labkit.mobrun import check_logs, write_evidence
from tools.labkit.mobscenarios import SCENARIOS
from tools.labkit.mobwatch import Report

pytestmark = [pytest.mark.lab, pytest.mark.timeout(600)]
RUNS = 2
MOBILITY_TOOLS = ("gobgpd", "bird", "birdc", "wireguard-go", "wg", "nft")


class Session:
    def __init__(self, lab: MobilityLab) -> None:
        self.lab = lab
        self.failed = ""


@pytest.fixture(scope="module")
def mobility() -> Iterator[Session]:
    """Name: mobility / Scope: module / Depends: root, tools/bootstrap (gobgpd, bird2)."""
    missing = _missing_tools() + [t for t in MOBILITY_TOOLS if not _which(t)]
    if missing:
        pytest.skip(f"the mobility lab needs {', '.join(missing)} (run tools/bootstrap)")
    lab = MobilityLab.up("routerd")
    session = Session(lab)
    try:
        yield session
        logs = check_logs(lab)
    finally:
        if session.failed:
            print(f"evidence written to {write_evidence(lab)}")
        errors = lab.down()
    assert not errors, f"teardown left things behind: {errors}"
    assert not any(n.startswith(f"lab{lab.run_id}-") for n in os.listdir("/var/run/netns"))
    assert logs.ok, logs.checks


def _which(tool: str) -> bool:
    return shutil.which(tool) is not None or shutil.which(tool, path="/usr/sbin:/sbin") is not None


def run_scenario(session: Session, name: str) -> Report:
    if session.failed:
        pytest.skip(f"scenario {session.failed} failed on this lab (see its evidence)")
    try:
        report = SCENARIOS[name](session.lab, RUNS)
    except BaseException:
        session.failed = name
        raise
    bad = [f"{c.name}: {c.detail}" for c in report.checks if not c.ok]
    if bad:
        session.failed = name
    assert not bad, f"{session.lab.control_plane.mode} control: " + "; ".join(bad)
    for f in report.figures:
        print(f"{f.name} = {f.value} {f.unit} ({session.lab.control_plane.mode})")
    return report


def figures(report: Report) -> dict[str, float]:
    return {f.name: f.value for f in report.figures}


def test_presence_homed_every_vm_at_startup(mobility: Session) -> None:
    bad = [f"{c.name}: {c.detail}" for c in mobility.lab.startup.checks if not c.ok]
    assert mobility.lab.startup.checks and not bad, bad


def test_the_lab_sees_a_failure_when_there_is_one(mobility: Session) -> None:
    run_scenario(mobility, "self-check")


def test_live_migration_keeps_tcp_and_the_gateway(mobility: Session) -> None:
    report = run_scenario(mobility, "live-migration")
    assert figures(report)["migration_outage_ms"] > 0
    names = {c.name for c in report.checks}
    assert f"live-migration: TCP stream survived {RUNS} migrations" in names
    assert "live-migration: never two responders on site-b" in names


def test_explicit_moves_of_one_and_of_100_addresses(mobility: Session) -> None:
    report = run_scenario(mobility, "explicit-moves")
    got = figures(report)
    assert got["handover_ms"] > 0 and got["handover_ms_100"] > 0
    assert any("the cutover alone breaks traffic" in c.name for c in report.checks)


def test_partition_heals_to_one_home_and_the_doctor_saw_it(mobility: Session) -> None:
    report = run_scenario(mobility, "partition")
    assert any("healed to one home" in c.name for c in report.checks)


def test_restarting_each_router_loses_nothing(mobility: Session) -> None:
    report = run_scenario(mobility, "restarts")
    assert any("no echo lost" in c.name for c in report.checks)
