"""The mobility lab with ``--cloud-actions``: moves into and out of the cloud site through
routerd's own provider actions against the AWS double, the fabric following the double.

One lab for the module, two runs each way; the test asserts the scenario's checks (traffic
back after every move, routerd's reassign and unassign once per move, one address on one
NIC, never two homes, the startup homing the cloud's VMs from the inventory), not the
timing targets: those are figures. Teardown must release everything.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.lab.conftest import _missing_tools
from tests.lab.test_mobility import MOBILITY_TOOLS, _which
from tools.labkit.moblab import MobilityLab
from tools.labkit.mobrun import check_logs, write_evidence
from tools.labkit.mobscenarios import SCENARIOS

pytestmark = [pytest.mark.lab, pytest.mark.timeout(900)]
RUNS = 2


@pytest.fixture(scope="module")
def cloud_lab() -> Iterator[MobilityLab]:
    """Name: cloud_lab / Scope: module / Depends: root, tools/bootstrap, moto."""
    missing = _missing_tools() + [t for t in MOBILITY_TOOLS if not _which(t)]
    if missing:
        pytest.skip(f"the mobility lab needs {', '.join(missing)} (run tools/bootstrap)")
    pytest.importorskip("moto")
    lab = MobilityLab.up("routerd", cloud_actions=True)
    failed = False
    try:
        yield lab
        logs = check_logs(lab)
        failed = not logs.ok
    except BaseException:
        failed = True
        raise
    finally:
        if failed:
            print(f"evidence written to {write_evidence(lab)}")
        errors = lab.down()
    assert not errors, f"teardown left things behind: {errors}"
    assert not any(n.startswith(f"lab{lab.run_id}-") for n in os.listdir("/var/run/netns"))
    assert logs.ok, logs.checks


def test_startup_homes_the_cloud_from_the_inventory_and_captures_the_rest(
    cloud_lab: MobilityLab,
) -> None:
    bad = [f"{c.name}: {c.detail}" for c in cloud_lab.startup.checks if not c.ok]
    names = {c.name for c in cloud_lab.startup.checks}
    assert "startup: the provider's inventory homes the cloud's VMs" in names
    assert not bad, bad


def test_moves_into_and_out_of_the_cloud(cloud_lab: MobilityLab) -> None:
    report = SCENARIOS["cloud-moves"](cloud_lab, RUNS)
    bad = [f"{c.name}: {c.detail}" for c in report.checks if not c.ok]
    assert not bad, bad
    got = {f.name: f.value for f in report.figures}
    assert {"cloud_move_in_ms", "cloud_move_out_ms", "provider_api_ms"} <= set(got)
    assert {"cloud_move_in_ms_100", "cloud_move_out_captured_ms_100"} <= set(got)
    for f in report.figures:
        print(f"{f.name} = {f.value} {f.unit}")
