"""The shipped example plugin (examples/plugins/inventory) round-trips into an accepted part.

The startup config is written here: the network the claim needs (domain, peer, tunnel), the
route the mask suppresses, and the plugin resources from the example's ``plugin.yaml``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from routerd.core.effective import build_effective
from routerd.core.loader import load_text
from routerd.core.plugins import dry_run_plugin, find_plugin, run_plugin
from routerd.core.resources import RemoteAddressClaim
from routerd.plugins.process import launch_plugin
from routerd.state.store import Store
from tests.unit.core.plugins.kit import router

EXAMPLE = Path(__file__).resolve().parents[4] / "examples" / "plugins" / "inventory"
EXECUTABLE = str(EXAMPLE / "bin" / "inventory")
INSTALLED = "/usr/local/libexec/routerd/plugins/inventory/bin/inventory"
NOW = 1_800_000_000.0
NET, HYBRID = "net.routerd.net/v1alpha1", "hybrid.routerd.net/v1alpha1"
FALLBACK = (NET, "IPv4Route", "app-fallback-route")


def res(api: str, kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": api, "kind": kind, "metadata": {"name": name}, "spec": spec}


NETWORK = [
    res(NET, "WireGuardInterface", "wg-sam", {"privateKeyFile": "/nonexistent/wg.key"}),
    res(
        NET, "IPv4StaticAddress", "wg-overlay", {"interface": "wg-sam", "address": "10.255.40.1/31"}
    ),
    res(
        HYBRID,
        "OverlayPeer",
        "cloud-a",
        {
            "role": "cloud",
            "nodeID": "cloud-rt-a",
            "underlay": {"type": "wireguard", "interface": "wg-sam", "address": "10.255.40.1"},
            "remote": {"nodeID": "cloud-rt-a", "address": "10.255.40.0"},
        },
    ),
    res(
        HYBRID,
        "AddressMobilityDomain",
        "edge-lan",
        {"prefix": "10.40.8.0/24", "peerRef": "cloud-a"},
    ),
    res(
        NET, "IPv4Route", "app-fallback-route", {"destination": "10.40.8.44/32", "device": "ens19"}
    ),
]


def plugin_resources(**env: str) -> list[dict[str, Any]]:
    """The example's plugin.yaml, pointed at the repository copy of the script."""
    docs: list[dict[str, Any]] = yaml.safe_load((EXAMPLE / "plugin.yaml").read_text())
    for doc in docs:
        if doc["kind"] == "Plugin":
            assert doc["spec"]["executable"] == INSTALLED
            doc["spec"]["executable"] = EXECUTABLE
            doc["spec"]["env"].update(env)
    return docs


def test_example_part_is_accepted_by_the_effective_merge(store: Store) -> None:
    startup = router(*NETWORK, *plugin_resources(INVENTORY_TTL="30s"))
    outcome = run_plugin(
        find_plugin(startup, "inventory"),
        startup=startup,
        launch=launch_plugin,
        store=store,
        clock=lambda: NOW,
    )
    assert outcome.ok, outcome.error
    [part] = store.list_parts("Plugin/inventory")

    effective = build_effective(startup, [part], NOW + 1)

    assert effective.rejected == []
    assert effective.active == ["Plugin/inventory@1"]
    [claim] = effective.config.of(RemoteAddressClaim)
    assert (claim.name, claim.spec.address) == ("inventory-app", "10.40.8.44/32")
    assert [s.target for s in effective.suppressed] == [FALLBACK]
    assert FALLBACK not in effective.config.identities()
    assert (part.ttl, outcome.result_ttl) == (240, 30)  # DynamicConfigSource/inventory wins
    assert part.observed_at == "2027-01-15T08:00:00Z"  # the request's now, echoed back
    assert [p["action"] for p in outcome.action_plans] == ["assignSecondaryPrivateIP"]
    assert len(outcome.events) == 1
    assert build_effective(startup, [part], NOW + 240).expired == ["Plugin/inventory@1"]


def test_env_overrides_reach_the_example() -> None:
    startup = router(
        *NETWORK,
        *plugin_resources(INVENTORY_ADDRESS="10.40.8.45/32", INVENTORY_TTL="90s"),
    )
    outcome = dry_run_plugin(
        find_plugin(startup, "inventory"), startup=startup, launch=launch_plugin, clock=lambda: NOW
    )
    assert outcome.ok, outcome.error
    assert outcome.part is not None
    [claim] = outcome.part.resources
    assert isinstance(claim, RemoteAddressClaim) and claim.spec.address == "10.40.8.45/32"
    assert outcome.result_ttl == 90
    assert build_effective(startup, [outcome.part], NOW).rejected == []


def test_a_claim_outside_the_domain_rejects_the_whole_part(store: Store) -> None:
    startup = router(*NETWORK, *plugin_resources(INVENTORY_ADDRESS="10.99.0.7/32"))
    run_plugin(
        find_plugin(startup, "inventory"),
        startup=startup,
        launch=launch_plugin,
        store=store,
        clock=lambda: NOW,
    )
    [part] = store.list_parts("Plugin/inventory")

    effective = build_effective(startup, [part], NOW + 1)

    [rejected] = effective.rejected
    assert "outside AddressMobilityDomain/edge-lan" in " ".join(rejected.reasons)
    assert effective.config.of(RemoteAddressClaim) == []
    assert FALLBACK in effective.config.identities()  # the mask went with the part


def test_unsafe_env_values_are_refused_by_the_example(store: Store) -> None:
    startup = router(*NETWORK, *plugin_resources(INVENTORY_CLAIM_NAME='x","kind":"Sysctl'))
    outcome = run_plugin(
        find_plugin(startup, "inventory"),
        startup=startup,
        store=store,
        launch=launch_plugin,
    )
    assert "exit status 2" in outcome.error and "refusing" in outcome.stderr
    assert store.list_parts() == []


def test_shipped_router_yaml_accepts_the_example_part() -> None:
    text = (EXAMPLE / "router.yaml").read_text().replace(INSTALLED, EXECUTABLE)
    loaded = load_text(text)
    assert loaded.config is not None, [e.render() for e in loaded.errors]
    startup = loaded.config
    outcome = dry_run_plugin(
        find_plugin(startup, "inventory"), startup=startup, launch=launch_plugin, clock=lambda: NOW
    )
    assert outcome.part is not None, outcome.error

    effective = build_effective(startup, [outcome.part], NOW)

    assert (effective.rejected, effective.active) == ([], ["Plugin/inventory@1"])
    assert [s.target for s in effective.suppressed] == [FALLBACK]
