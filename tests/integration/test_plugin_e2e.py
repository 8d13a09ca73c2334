"""A dynamic claim proposed by the example plugin, realised by the daemon and removed on expiry.

The real daemon pieces: the plugin worker schedules the example ``inventory`` plugin on its
interval trigger (D12 in docs/decisions.md), the runner stores its part with ``received_at`` and the
DynamicConfigSource's ttl (D4), the engine merges it (D1): the claim is realised and the
startup route it masks leaves the host. When the ttl runs out the claim is released and
the masked route comes back, without anyone touching the daemon.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from pathlib import Path

import pytest

from routerd.daemon import plugins as plugin_component
from tests.integration.api.harness import INVENTORY_EXE, PLUGIN_RESOURCES, make_daemon
from tests.support import configs
from tests.support.wait import wait_until

FALLBACK = "10.40.8.44/32"


@pytest.fixture
def short_dir():
    d = Path(tempfile.mkdtemp(prefix="rdp-", dir="/tmp"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


def config_text(key_dir: Path) -> str:
    extra = PLUGIN_RESOURCES.format(exe=INVENTORY_EXE).replace(
        "ttl: 240s", "ttl: 3s\n        triggers:\n          - { type: interval, every: 1h }"
    )
    base = configs.with_keys(configs.example_text("oci", "onprem"), key_dir)
    return base.rstrip("\n") + "\n" + extra


def host_routes(daemon, dst: str) -> list[str]:
    host = daemon.backend.world.hosts[daemon.backend.host_name]
    return [r.dev for r in host.fib.routes_for(dst)]


def test_plugin_claim_realised_then_released_on_expiry(tmp_path, short_dir, monkeypatch):
    daemon, _ = make_daemon(
        tmp_path,
        str(short_dir / "s.sock"),
        monkeypatch,
        text=config_text(tmp_path / "keys"),
        backend="sim",
    )
    engine = daemon.engine
    thread = threading.Thread(target=engine.run_forever, args=(daemon.stop,), daemon=True)
    thread.start()
    stop_plugins = plugin_component.start(daemon)
    try:

        def claim_state() -> str | None:
            view = engine.snapshot.claims.get("inventory-app")
            return view.state if view else None

        wait_until(
            lambda: None if claim_state() == "delivering" else f"claim {claim_state()}",
            what="the plugin's claim is delivering",
            timeout=20,
        )
        assert engine.snapshot.claims["inventory-app"].origin == "Plugin/inventory@1"
        assert host_routes(daemon, FALLBACK) == ["wg-sam"]  # fallback masked, claim routed
        (part,) = daemon.store.list_parts("Plugin/inventory")
        assert part.ttl == 3.0  # the DynamicConfigSource's ttl, not the plugin's 240s

        wait_until(
            lambda: None if claim_state() is None else f"claim still {claim_state()}",
            what="the claim is released after the ttl",
            timeout=20,
        )
        assert host_routes(daemon, FALLBACK) == ["ens19"]  # the masked route is back
        released = [
            e for e in daemon.store.journal(claim="inventory-app") if e.to_state == "released"
        ]
        assert len(released) == 1
    finally:
        if stop_plugins:
            stop_plugins()
        daemon.stop.set()
        engine.wake()
        thread.join(timeout=30)
        engine.close()
        daemon.store.close()
