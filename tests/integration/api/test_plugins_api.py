"""PluginService: the listing, dry runs that store nothing, real runs the engine picks up."""

from __future__ import annotations

import grpc
import pytest

from routerd.v1 import plugins_pb2, plugins_pb2_grpc
from tests.integration.api.harness import Served
from tests.support.wait import wait_until

pytestmark = pytest.mark.integration


def plugins(served: Served) -> plugins_pb2_grpc.PluginServiceStub:
    return served.stub(plugins_pb2_grpc.PluginServiceStub)


def test_list_shows_triggers_ttl_and_that_it_never_ran(served):
    [p] = plugins(served).ListPlugins(plugins_pb2.ListPluginsRequest()).plugins
    assert (p.name, p.source, p.ttl, p.ttl_origin) == (
        "inventory",
        "Plugin/inventory",
        "4m",
        "DynamicConfigSource/inventory",
    )
    assert not p.HasField("last_run") and p.part_state == "none"


def test_dry_run_shows_the_candidate_and_stores_nothing(served):
    report = plugins(served).RunPlugin(plugins_pb2.RunPluginRequest(name="inventory", dry_run=True))
    assert report.ok and report.dry_run and report.exit_code == 0
    assert report.part_accepted and list(report.part_rejected_reasons) == []
    assert report.part["spec"]["source"] == "Plugin/inventory"
    assert [a["action"] for a in report.action_plans] == ["assignSecondaryPrivateIP"]
    assert served.daemon.store.list_parts() == []
    assert served.daemon.store.list_runs() == []


def test_run_stores_the_part_and_the_engine_reconciles_its_claim(served):
    report = plugins(served).RunPlugin(plugins_pb2.RunPluginRequest(name="inventory"))
    assert report.ok and not report.dry_run and report.run_id > 0
    assert report.part_accepted
    [stored] = served.daemon.store.list_parts()
    assert stored.label == "Plugin/inventory@1"

    def claim_verified() -> str | None:
        view = served.daemon.engine.snapshot.claims.get("inventory-app")
        return None if view and view.state == "verified" else f"{view}"

    wait_until(claim_verified, what="the plugin's claim verified")
    [p] = plugins(served).ListPlugins(plugins_pb2.ListPluginsRequest()).plugins
    assert (p.last_run.status, p.latest_generation, p.part_state) == ("succeeded", 1, "active")


def test_unknown_plugin_is_not_found(served):
    with pytest.raises(grpc.RpcError) as e:
        plugins(served).RunPlugin(plugins_pb2.RunPluginRequest(name="nope", dry_run=True))
    assert e.value.code() is grpc.StatusCode.NOT_FOUND
    assert "inventory" in e.value.details()
