"""``doctor provider`` against each cloud's double: policy, access, inventory, journal.

The journal is made by real reconciler runs (``action_kit``); then an operator's own
assignment appears on the router's NIC and a permission is withdrawn, and the doctor must
say each of those with what to do, while a healthy profile passes.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from routerd.core.doctor import DoctorContext, Report, Status
from routerd.core.lowering import lower
from routerd.doctor import run_doctor
from routerd.doctor.host import Host
from routerd.providers.evidence import IMDS_ENV
from routerd.providers.executor_factory import AUTH_ENDPOINT_ENV, ENDPOINT_ENV
from routerd.state.store import Store
from tests.unit.providers.action_kit import Kit, load_config, router_text
from tests.unit.providers.exec_worlds import World


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store.open(tmp_path / "state")
    yield s
    s.close()


def doctor(world: World, store: Store, text: str, *, host: bool = True) -> Report:
    env = {ENDPOINT_ENV: world.server.url}
    if world.cloud == "oci":
        env[AUTH_ENDPOINT_ENV] = world.server.url + "/v1/x509"
    if world.cloud == "aws":
        env[IMDS_ENV] = world.server.url
    config = load_config(text)
    ctx = DoctorContext(
        startup=config, lowered=lower(config, key_dir="/nonexistent"), store=store, host=host
    )
    return run_doctor("provider", ctx, host=Host(env=env, dmi_root="/nonexistent"))


def by_name(report: Report) -> dict[str, tuple[Status, str, str]]:
    return {f.name: (f.status, f.detail, f.remedy) for f in report.findings}


def test_healthy_profile_passes(world: World, store: Store) -> None:
    if world.cloud == "aws":
        world.fake.serve_instance(world.nics[0])
    claims = {world.free[0]: world.nics[0]}
    Kit(world, store).run(claims)
    found = by_name(doctor(world, store, router_text(world, claims)))
    p = "CloudProviderProfile/cloud"
    assert found[f"{p} policy"][0] is Status.PASS
    assert found[f"{p} credentials"][0] is Status.PASS
    assert found[f"{p} read"][0] is Status.PASS, found[f"{p} read"]
    assert found[f"{p} inventory"][0] is Status.PASS, found[f"{p} inventory"]
    assert found[f"{p} actions"][0] is Status.PASS
    expected = Status.PASS if world.cloud == "aws" else Status.SKIP
    assert found[f"{p} metadata"][0] is expected, found[f"{p} metadata"]


def test_disagreements_and_failures_are_named_with_what_to_do(world: World, store: Store) -> None:
    a = world.nics[0]
    mine, stray, denied = world.free[:3]
    kit = Kit(world, store)
    kit.run({mine: a})
    assert world.executor().assign(a, stray, reassign=False, key="by-hand").ok
    world.server.faults.inject("assign", "deny")
    kit.run({mine: a, denied: a})
    world.server.faults.clear()
    report = doctor(world, store, router_text(world, {mine: a, denied: a}))
    found = by_name(report)
    p = "CloudProviderProfile/cloud"
    status, detail, remedy = found[f"{p} inventory"]
    assert "next run" in remedy
    assert status is Status.WARN and f"{stray}: on {a}" in detail, detail
    assert f"{denied}: wanted on {a}, not there yet" in detail
    failed = [f for f in report.findings if f.status is Status.FAIL and "action" in f.name]
    assert len(failed) == 1 and denied in failed[0].detail and failed[0].remedy
    assert report.overall is Status.FAIL


def test_no_host_skips_the_api_but_reports_policy_and_journal(world: World, store: Store) -> None:
    ip = world.free[0]
    Kit(world, store).run({ip: world.nics[0]}, policy={"approval": "required"})
    text = router_text(world, {ip: world.nics[0]}, policy={"approval": "required"})
    applied = dict(world.server.applied)
    requests = len(world.server.requests)
    found = by_name(doctor(world, store, text, host=False))
    p = "CloudProviderProfile/cloud"
    assert found[f"{p} provider"][0] is Status.SKIP
    waiting = [v for k, v in found.items() if k.startswith(f"{p} action ")]
    assert [(s, r) for s, _, r in waiting] == [(Status.WARN, "routerctl action approve 1")]
    assert len(world.server.requests) == requests and world.server.applied == applied


def test_a_planning_profile_is_one_skip(world: World, store: Store) -> None:
    text = router_text(world, {world.free[0]: world.nics[0]}, execution="plan")
    report = doctor(world, store, text)
    assert [(f.name, f.status) for f in report.findings] == [
        ("CloudProviderProfile/cloud execution", Status.SKIP)
    ]
