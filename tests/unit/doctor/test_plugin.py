"""doctor plugin: executable, last run, freshness of its part, and parts the merge rejected."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from routerd.core.config import RouterConfig
from routerd.core.doctor import Status
from routerd.core.dynamic import DynamicPart
from routerd.core.resources import Directive
from routerd.state.store import Store
from tests.unit.doctor.kit import Scene, config_of, one

Recorded = Callable[[str], Scene]
PLUGIN = """
    - apiVersion: plugin.routerd.net/v1alpha1
      kind: Plugin
      metadata:
        name: inventory
      spec:
        executable: {exe}
"""


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    """Name: store / Scope: function / Depends: tmp_path."""
    s = Store.open(tmp_path / "state")
    yield s
    s.close()


def with_plugin(s: Scene, exe: Path) -> RouterConfig:
    return config_of(s.rec["topology"]["config"] + PLUGIN.format(exe=exe))


def executable(tmp_path: Path, mode: int = 0o755) -> Path:
    exe = tmp_path / "inventory"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(mode)
    return exe


def test_no_plugins_is_one_skip(recorded: Recorded) -> None:
    report = recorded("healthy").doctor("plugin")
    assert [(f.name, f.status) for f in report.findings] == [("Plugin", Status.SKIP)]


def test_missing_or_not_executable_binary_fails(recorded: Recorded, tmp_path: Path) -> None:
    s = recorded("healthy")
    report = s.doctor("plugin", startup=with_plugin(s, tmp_path / "absent"))
    assert one(report, "executable exists").status is Status.FAIL
    exe = executable(tmp_path, 0o644)
    f = one(s.doctor("plugin", startup=with_plugin(s, exe)), "executable is executable")
    assert f.status is Status.FAIL and "chmod 0755" in f.remedy
    assert one(s.doctor("plugin", startup=with_plugin(s, tmp_path)), "exists").status is Status.FAIL


def test_no_host_skips_the_file_checks(recorded: Recorded, tmp_path: Path) -> None:
    s = recorded("healthy")
    f = one(s.doctor("plugin", startup=with_plugin(s, tmp_path / "absent"), host=False), "exists")
    assert f.status is Status.SKIP


def test_never_run_and_no_part_warn(recorded: Recorded, tmp_path: Path, store: Store) -> None:
    s = recorded("healthy")
    report = s.doctor("plugin", startup=with_plugin(s, executable(tmp_path)), store=store)
    assert one(report, "executable is executable").status is Status.PASS
    assert one(report, "last run").detail == "never run"
    assert one(report, "last result fresh").status is Status.WARN


def test_failed_last_run_fails_with_its_stderr(
    recorded: Recorded, tmp_path: Path, store: Store
) -> None:
    s = recorded("healthy")
    run = store.start_run("inventory", "interval")
    store.finish_run(run, status="failed", exit_code=3, stderr="cannot reach the cloud API\n")
    f = one(
        s.doctor("plugin", startup=with_plugin(s, executable(tmp_path)), store=store), "last run"
    )
    assert f.status is Status.FAIL and "cannot reach the cloud API" in f.detail


def test_fresh_expired_and_rejected_parts(recorded: Recorded, tmp_path: Path, store: Store) -> None:
    s = recorded("healthy")
    cfg = with_plugin(s, executable(tmp_path))
    now = s.host.clock()
    run = store.start_run("inventory", "interval")
    store.finish_run(run, status="succeeded", exit_code=0, generation=1)
    store.put_part(DynamicPart("Plugin/inventory", 1, now - 10, 300.0))
    report = s.doctor("plugin", startup=cfg, store=store)
    assert one(report, "last run").status is Status.PASS
    assert one(report, "last result fresh").detail.startswith("generation 1 active until")

    s.host.at(now + 1000)
    assert "stale" in one(s.doctor("plugin", startup=cfg, store=store), "fresh").detail

    s.host.at(now)
    mask = Directive.model_validate(
        {"op": "mask", "target": {"apiVersion": "hybrid.routerd.net/v1alpha1",
                                  "kind": "RemoteAddressClaim", "name": "vm31"}}
    )  # fmt: skip
    store.put_part(DynamicPart("Plugin/inventory", 2, now - 5, 300.0, (), (mask,)))
    f = one(s.doctor("plugin", startup=cfg, store=store), "last result fresh")
    assert f.status is Status.WARN and "rejected by the merge" in f.detail
