"""The plugin listing for the API and CLI: triggers, last run, latest part state."""

from __future__ import annotations

import pytest

from routerd.core.errors import NotFoundError
from routerd.core.plugins import TriggerInfo, find_plugin, list_plugins, plugin_info, run_plugin
from routerd.plugins.process import launch_plugin
from routerd.state.store import Store
from tests.unit.core.plugins.kit import ScriptFactory, plugin_doc, printing, router, source_doc

NOW = 1_800_000_000.0


def test_listing_without_a_store_shows_configuration_only() -> None:
    startup = router(
        plugin_doc("b", "/x/b", triggers=[{"type": "event", "topic": "cloud.refresh"}]),
        plugin_doc("a", "/x/a", timeout="3s"),
        source_doc("inv", "b", "4m", triggers=[{"type": "interval", "every": "1m"}]),
    )
    a, b = list_plugins(startup, None, NOW)

    assert (a.name, a.source, a.timeout, a.triggers) == ("a", "Plugin/a", "3s", ())
    assert (a.ttl, a.ttl_origin, a.last_run, a.part_state) == ("", "PluginResult", None, "none")
    assert b.triggers == (
        TriggerInfo("event", "", "cloud.refresh", "Plugin/b"),
        TriggerInfo("interval", "1m", "", "DynamicConfigSource/inv"),
    )
    assert (b.ttl, b.ttl_origin) == ("4m", "DynamicConfigSource/inv")


def test_last_run_and_part_state_follow_the_store(store: Store, script: ScriptFactory) -> None:
    startup = router(
        plugin_doc("ok", script("ok", printing({"ttl": "60s"}))),
        plugin_doc("broken", script("broken", "exit 2\n")),
    )
    for name in ("ok", "ok", "broken"):
        run_plugin(
            find_plugin(startup, name),
            startup=startup,
            launch=launch_plugin,
            store=store,
            clock=lambda: NOW,
        )

    info = plugin_info(startup, store, "ok", NOW + 10)
    assert info.last_run is not None and info.last_run.status == "succeeded"
    assert (info.latest_generation, info.part_state) == (2, "active")
    assert info.part_expires_at == NOW + 60
    assert plugin_info(startup, store, "ok", NOW + 60).part_state == "expired"

    broken = plugin_info(startup, store, "broken", NOW)
    assert broken.last_run is not None and broken.last_run.status == "failed"
    assert "exit status 2" in broken.last_run.error
    assert (broken.latest_generation, broken.part_state) == (None, "none")


def test_unknown_plugin_names_the_declared_ones() -> None:
    startup = router(plugin_doc("a", "/x/a"))
    with pytest.raises(NotFoundError, match=r"no Plugin 'zz' .*declared: a"):
        plugin_info(startup, None, "zz", NOW)
