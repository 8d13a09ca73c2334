"""One plugin run: failures, env, dry-run, storage, generations, TTL and expiry.

D4 and D12 (docs/decisions.md): expiry from receipt, the source's ttl wins.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from routerd.core.dynamic import DynamicPart
from routerd.core.effective import build_effective
from routerd.core.plugins import (
    INTERVAL,
    dry_run_plugin,
    find_plugin,
    run_plugin,
)
from routerd.core.state_port import StoreError
from routerd.plugins.process import launch_plugin
from routerd.state.store import Store
from tests.unit.core.plugins.kit import (
    ScriptFactory,
    plugin_doc,
    printing,
    router,
    source_doc,
)

NOW = 1_800_000_000.0
ROUTE = {
    "apiVersion": "net.routerd.net/v1alpha1",
    "kind": "IPv4Route",
    "metadata": {"name": "dyn-route"},
    "spec": {"destination": "10.9.0.0/16", "device": "wg0"},
}
OK_STATUS = {"ttl": "60s", "resources": [ROUTE]}


def clock() -> float:
    return NOW


def run(store: Store, exe: str, *docs: dict[str, Any], **spec: Any) -> Any:
    startup = router(plugin_doc("p", exe, **spec), *docs)
    return run_plugin(
        find_plugin(startup, "p"), startup=startup, launch=launch_plugin, store=store, clock=clock
    )


def capture_request(tmp_path: Path) -> str:
    return f'IFS= read -r req\nprintf "%s" "$req" > {tmp_path}/request.json'


@pytest.mark.parametrize(
    ("body", "spec", "error"),
    [
        pytest.param(
            printing(OK_STATUS, pre="sleep 30"),
            {"timeout": "300ms"},
            "plugin p timed out after 300ms",
            id="timeout",
        ),
        pytest.param(
            printing(OK_STATUS, pre="echo 'no credentials' >&2", post="exit 3"),
            {},
            "plugin p failed: exit status 3 (stdout ignored): no credentials",
            id="non-zero-exit",
        ),
        pytest.param("echo 'this is {not json'\n", {}, "decode plugin p stdout:", id="malformed"),
        pytest.param(
            printing({"resources": [ROUTE]}), {}, "status.ttl: required", id="missing-ttl"
        ),
        pytest.param(
            printing(
                {
                    "ttl": "60s",
                    "directives": [
                        {"op": "replace", "target": {"apiVersion": "a", "kind": "b", "name": "c"}}
                    ],
                }
            ),
            {},
            "status.directives.0.op: directive op 'replace' is not supported",
            id="non-mask-directive",
        ),
        pytest.param(
            printing(
                {
                    "ttl": "60s",
                    "resources": [
                        {"apiVersion": "x", "kind": "Teleporter", "metadata": {"name": "t"}}
                    ],
                }
            ),
            {},
            "Teleporter/t status.resources.0.kind: unknown kind 'Teleporter'",
            id="unknown-kind",
        ),
    ],
)
def test_failed_runs_are_recorded_and_store_no_part(
    store: Store, script: ScriptFactory, body: str, spec: dict[str, Any], error: str
) -> None:
    outcome = run(store, script("p", body), **spec)

    assert not outcome.ok
    assert error in outcome.error
    assert outcome.part is None
    assert store.list_parts() == []
    [row] = store.list_runs("p")
    assert (row.id, row.status, row.generation) == (outcome.run_id, "failed", None)
    assert error in row.error


def test_a_part_the_store_cannot_write_is_a_failed_run(
    store: Store, script: ScriptFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(part: DynamicPart) -> DynamicPart:
        raise StoreError("database or disk is full")

    monkeypatch.setattr(store, "put_part", full)
    outcome = run(store, script("p", printing(OK_STATUS)))

    assert outcome.part is None
    assert outcome.error == "store part for Plugin/p: database or disk is full"
    assert store.list_parts() == []
    assert [(r.status, r.error) for r in store.list_runs("p")] == [("failed", outcome.error)]


def test_non_zero_exit_keeps_stderr_and_exit_code(store: Store, script: ScriptFactory) -> None:
    outcome = run(store, script("p", printing(OK_STATUS, pre="echo boom >&2", post="exit 4")))
    assert (outcome.exit_code, outcome.stderr) == (4, "boom\n")
    [row] = store.list_runs("p")
    assert (row.exit_code, row.stderr) == (4, "boom\n")


def test_unusable_executable_is_a_failed_run(store: Store, tmp_path: Path) -> None:
    exe = tmp_path / "plain"
    exe.write_text("#!/bin/sh\n")
    outcome = run(store, str(exe))
    assert "has no execute bit" in outcome.error
    assert outcome.exit_code is None
    assert store.list_runs("p")[0].status == "failed"


def test_environment_is_not_inherited(
    store: Store, script: ScriptFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ROUTERD_SECRET_TOKEN", "must-not-leak")
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    exe = script("p", "env >&2\n" + printing(OK_STATUS))
    outcome = run(store, exe, env={"REGION": "eu-1", " SPACED ": "yes", "BAD=KEY": "no", "": "x"})

    assert outcome.ok, outcome.error
    env = dict(line.split("=", 1) for line in outcome.stderr.splitlines())
    shell_own = {"PWD", "SHLVL", "_", "OLDPWD"}  # set by /bin/sh itself
    assert set(env) - shell_own == {"PATH", "REGION", "SPACED"}
    assert (env["PATH"], env["REGION"], env["SPACED"]) == ("/usr/bin:/bin", "eu-1", "yes")


def test_successful_run_stores_the_part_and_the_run(store: Store, script: ScriptFactory) -> None:
    outcome = run(store, script("p", printing(OK_STATUS)))

    assert outcome.ok, outcome.error
    assert outcome.exit_code == 0
    [stored] = store.list_parts("Plugin/p")
    assert stored.generation == outcome.part.generation == 1
    assert [r.identity for r in stored.resources] == [
        ("net.routerd.net/v1alpha1", "IPv4Route", "dyn-route")
    ]
    [row] = store.list_runs("p")
    assert (row.status, row.generation, row.trigger_type) == ("succeeded", 1, "manual")
    assert row.stdout_digest == outcome.stdout_digest and len(row.stdout_digest) == 64


def test_generation_increments_per_source(
    store: Store, script: ScriptFactory, tmp_path: Path
) -> None:
    exe = script("p", capture_request(tmp_path) + printing(OK_STATUS))
    other = script("q", printing(OK_STATUS))
    startup = router(plugin_doc("p", exe), plugin_doc("q", other))
    seen = []
    for name in ("p", "p", "q", "p"):
        outcome = run_plugin(
            find_plugin(startup, name),
            startup=startup,
            store=store,
            launch=launch_plugin,
        )
        seen.append((outcome.source, outcome.part.generation))
        if name == "p":
            req = json.loads((tmp_path / "request.json").read_text())
            assert req["spec"]["previousDynamicGeneration"] == outcome.part.generation - 1

    assert seen == [("Plugin/p", 1), ("Plugin/p", 2), ("Plugin/q", 1), ("Plugin/p", 3)]
    assert [p.generation for p in store.list_parts("Plugin/p")] == [1, 2, 3]


def test_request_carries_trigger_hash_and_time(
    store: Store, script: ScriptFactory, tmp_path: Path
) -> None:
    exe = script("p", capture_request(tmp_path) + printing(OK_STATUS))
    startup = router(plugin_doc("p", exe))
    run_plugin(
        find_plugin(startup, "p"),
        startup=startup,
        launch=launch_plugin,
        store=store,
        trigger=INTERVAL,
        effective_generation=9,
        clock=clock,
    )
    spec = json.loads((tmp_path / "request.json").read_text())["spec"]
    assert spec == {
        "trigger": {"type": "interval"},
        "startupConfigHash": startup.digest(),
        "effectiveGeneration": 9,
        "previousDynamicGeneration": 0,
        "now": "2027-01-15T08:00:00Z",
    }
    assert store.list_runs("p")[0].trigger_type == "interval"


def test_dry_run_writes_nothing(script: ScriptFactory, tmp_path: Path) -> None:
    state = tmp_path / "state"
    exe = script("p", capture_request(tmp_path) + printing(OK_STATUS))
    startup = router(plugin_doc("p", exe))
    outcome = dry_run_plugin(
        find_plugin(startup, "p"), startup=startup, launch=launch_plugin, clock=clock
    )

    assert outcome.ok, outcome.error
    assert outcome.dry_run and outcome.run_id is None
    assert outcome.part is not None and outcome.part.generation == 1
    assert outcome.part.received_at == NOW
    req = json.loads((tmp_path / "request.json").read_text())
    assert req["spec"]["previousDynamicGeneration"] == 0
    assert not state.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plugins", "request.json"]


def test_action_plans_are_displayed_never_executed_nor_stored(
    store: Store, script: ScriptFactory, tmp_path: Path
) -> None:
    marker = tmp_path / "executed"
    plan = {
        "name": "create-marker",
        "provider": "local",
        "action": "exec",
        "command": f"touch {marker}",
        "target": {"path": str(marker)},
        "undo": {"action": f"rm {marker}"},
    }
    outcome = run(store, script("p", printing({**OK_STATUS, "actionPlans": [plan]})))
    [stored] = store.list_parts("Plugin/p")
    startup = router(plugin_doc("p", script("p", "exit 0")))
    build_effective(startup, [stored], NOW + 1)

    assert outcome.ok, outcome.error
    assert outcome.action_plans == (plan,)
    assert outcome.as_dict()["actionPlansDisplayOnly"] is True
    assert not marker.exists()
    assert str(marker) not in json.dumps(stored.to_resource_doc())
    assert str(marker) not in json.dumps(outcome.part.to_resource_doc())


def test_events_are_counted(store: Store, script: ScriptFactory) -> None:
    events = [{"type": "Seen", "message": "a"}, {"type": "Seen", "message": "b"}]
    outcome = run(store, script("p", printing({**OK_STATUS, "events": events})))
    assert len(outcome.events) == outcome.as_dict()["events"] == 2


def test_received_at_not_observed_at_drives_expiry(store: Store, script: ScriptFactory) -> None:
    stale = {**OK_STATUS, "observedAt": "2001-01-01T00:00:00Z"}
    exe = script("p", printing(stale))
    outcome = run(store, exe)
    [stored] = store.list_parts("Plugin/p")

    assert stored.observed_at == "2001-01-01T00:00:00Z"
    assert stored.received_at == NOW
    assert stored.expires_at == NOW + 60
    startup = router(plugin_doc("p", exe))
    effective = build_effective(startup, [stored], NOW + 59)
    assert effective.active == [outcome.part.label]
    assert ("net.routerd.net/v1alpha1", "IPv4Route", "dyn-route") in effective.config.identities()
    assert build_effective(startup, [stored], NOW + 60).expired == [outcome.part.label]


def test_dynamic_config_source_ttl_is_honoured(store: Store, script: ScriptFactory) -> None:
    exe = script("p", printing(OK_STATUS))  # the plugin says 60s
    outcome = run(store, exe, source_doc("inv", "p", "240s"))
    [stored] = store.list_parts("Plugin/p")

    assert stored.ttl == 240 and stored.expires_at == NOW + 240
    assert (outcome.ttl_origin, outcome.result_ttl) == ("DynamicConfigSource/inv", 60)


def test_without_a_source_the_plugin_ttl_applies(store: Store, script: ScriptFactory) -> None:
    outcome = run(store, script("p", printing(OK_STATUS)))
    assert (outcome.part.ttl, outcome.ttl_origin) == (60, "PluginResult")


def test_several_sources_the_shortest_ttl_wins(store: Store, script: ScriptFactory) -> None:
    exe = script("p", printing(OK_STATUS))
    outcome = run(
        store,
        exe,
        source_doc("long", "p", "10m"),
        source_doc("short", "Plugin/p", "90s"),
        source_doc("unrelated", "other", "5s"),
        plugin_doc("other", exe),
    )
    assert (outcome.part.ttl, outcome.ttl_origin) == (90, "DynamicConfigSource/short")


def test_report_is_json_ready(store: Store, script: ScriptFactory) -> None:
    outcome = run(store, script("p", printing(OK_STATUS)))
    report = json.loads(json.dumps(outcome.as_dict()))
    assert report["part"]["spec"]["generation"] == 1
    assert report["part"]["spec"]["ttl"] == "1m"
    assert report["trigger"] == {"type": "manual"}
    assert (report["ok"], report["exitCode"], report["dryRun"]) == (True, 0, False)
