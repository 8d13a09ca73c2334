"""A routerd killed between the provider call and its journal: neither lost nor repeated.

Per cloud, a real process runs the provider reconciler against the cloud's double and is
SIGKILLed at the hook point right after the SDK call returned, before the result is
journaled (``crash_child``). The journal then shows the action ``running``; a second
process (a restarted routerd: new executors, nothing remembered) runs the same key again.
The double counts the state changes it applied: exactly one write, and the journal ends
``succeeded`` with ``changed: false`` (the restart found the address already there).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from routerd.providers.executor_factory import AUTH_ENDPOINT_ENV, ENDPOINT_ENV
from routerd.state.store import Store
from tests.unit.providers.action_kit import router_text
from tests.unit.providers.exec_worlds import World, world, world_factory  # noqa: F401

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[3]


def child(state: Path, config: Path, *kill: str) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "tests.integration.providers.crash_child"]
    argv += ["--state-dir", str(state), "--config", str(config), *kill]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, cwd=ROOT, check=False)


@pytest.mark.parametrize("point", ["after-call", "before-call"])
def test_killed_runner_restarts_without_losing_or_repeating(
    world: World,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    point: str,
) -> None:
    monkeypatch.setenv(ENDPOINT_ENV, world.server.url)
    if world.cloud == "oci":
        monkeypatch.setenv(AUTH_ENDPOINT_ENV, world.server.url + "/v1/x509")
    monkeypatch.setenv("PYTHONPATH", str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    ip, nic = world.free[0], world.nics[0]
    config = tmp_path / "router.yaml"
    config.write_text(router_text(world, {ip: nic}))
    state = tmp_path / "state"
    killed = child(state, config, "--kill", point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    store = Store.open(state)
    [rec] = store.list_actions()
    assert rec.status == "running", "journaled before the call, never after"
    store.close()
    expect_applied = {"assign": 1} if point == "after-call" else {}
    assert world.server.applied == expect_applied
    restarted = child(state, config)
    assert restarted.returncode == 0, restarted.stderr
    [report] = json.loads(restarted.stdout)
    assert report["executed"] == [rec.key], "the restart runs the same key"
    store = Store.open(state)
    done = store.action_by_key(rec.key)
    assert done is not None and done.status == "succeeded"
    assert done.result["changed"] is (point == "before-call")
    assert ip in store.provider_holdings("cloud")
    store.close()
    assert world.held_by(ip) == [nic]
    assert world.server.applied == {"assign": 1}, "one write in all"


@pytest.mark.parametrize("point", ["after-call", "before-call"])
def test_killed_batch_restarts_without_losing_or_repeating(
    world_factory: Callable[[str], World],  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    point: str,
) -> None:
    """Five addresses in one AWS call: every one journaled running before it, none after."""
    aws = world_factory("aws")
    monkeypatch.setenv(ENDPOINT_ENV, aws.server.url)
    monkeypatch.setenv("PYTHONPATH", str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    nic = aws.nics[0]
    ips = aws.free[:5]
    config = tmp_path / "router.yaml"
    config.write_text(router_text(aws, dict.fromkeys(ips, nic)))
    state = tmp_path / "state"
    killed = child(state, config, "--kill", point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    store = Store.open(state)
    recs = store.list_actions()
    assert sorted(r.address for r in recs) == sorted(ips)
    assert {r.status for r in recs} == {"running"}, "all journaled before the one call"
    store.close()
    assert aws.server.applied == ({"assign": 1} if point == "after-call" else {})
    restarted = child(state, config)
    assert restarted.returncode == 0, restarted.stderr
    [report] = json.loads(restarted.stdout)
    assert sorted(report["executed"]) == sorted(r.key for r in recs), "the same keys again"
    store = Store.open(state)
    done = [store.action_by_key(r.key) for r in recs]
    assert all(d is not None and d.status == "succeeded" for d in done)
    assert all(d is not None and d.result["changed"] is (point == "before-call") for d in done)
    assert sorted(store.provider_holdings("cloud")) == sorted(ips)
    store.close()
    assert all(aws.held_by(ip) == [nic] for ip in ips)
    assert aws.server.applied == {"assign": 1}, "one write in all, for all five"
