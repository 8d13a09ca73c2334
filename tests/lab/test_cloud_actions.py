"""The lab with ``--cloud-actions``: routerd assigns the secondary IP itself, through moto.

No provider step runs: the AWS double (moto behind the enforcing layer) holds the lab's
subnet, the fabric delivers each address to the NIC the double says holds it, and the cloud
router's profile executes. The claim must go pending -> (routerd's assign) -> verified,
traffic must flow, an address taken away at the provider must show as lost packets until
routerd puts it back, and the timing step reports claim added -> verified against the
provider call.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.lab.conftest import _missing_tools
from tools.labkit import cloud_actions, smoke
from tools.labkit.lab import Lab
from tools.labkit.steps import check

pytestmark = [pytest.mark.lab, pytest.mark.timeout(240)]


@pytest.fixture(scope="module")
def lab() -> Iterator[Lab]:
    """Name: lab / Scope: module / Depends: root, tools/bootstrap (aws, cloud actions)."""
    missing = _missing_tools()
    if missing:
        pytest.skip(f"lab needs {', '.join(missing)} (run tools/bootstrap)")
    built = Lab.up("aws", cloud_actions=True)
    try:
        yield built
        tracebacks = [s for s, r in built.routers.items() if "Traceback" in r.log.read_text()]
    finally:
        errors = built.down()
    assert not errors, f"teardown left things behind: {errors}"
    assert not tracebacks, f"Traceback in the routerd log of {tracebacks}"


def test_claims_verified_and_doctor_has_no_fail(lab: Lab) -> None:
    check(lab, "claims-verified", smoke.claims_verified)


def test_routerd_assigned_the_address_itself(lab: Lab) -> None:
    detail = check(lab, "cloud-action", cloud_actions.assigned_by_routerd)
    assert "routerd assigned 10.40.8.31" in detail


def test_ping_both_ways(lab: Lab) -> None:
    check(lab, "ping", smoke.ping)


def test_doctor_provider_has_no_fail(lab: Lab) -> None:
    report = lab.cloud.ctl_json("doctor", "provider", ok_codes=(0, 3))
    bad = [(f["name"], f.get("detail")) for f in report["findings"] if f["status"] == "fail"]
    assert bad == []
    names = {f["name"]: f["status"] for f in report["findings"]}
    assert names["CloudProviderProfile/aws-lab credentials"] == "pass"
    assert names["CloudProviderProfile/aws-lab inventory"] == "pass"


def test_address_taken_away_is_lost_then_repaired(lab: Lab) -> None:
    check(lab, "cloud-action-drift", cloud_actions.drift_repaired)


def test_timing_claim_added_to_verified(lab: Lab) -> None:
    check(lab, "cloud-action-timing", cloud_actions.timing)
    assert lab.figures["cloud_action_verified_ms"] > lab.figures["cloud_action_provider_api_ms"]
