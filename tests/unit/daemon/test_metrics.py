"""Prometheus metrics: scraped over HTTP from a running daemon and parsed."""

from __future__ import annotations

import time
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from routerd.core.dynamic import DynamicPart
from routerd.core.loader import decode_resource
from routerd.core.phases import PHASES
from routerd.core.resources import Directive, WireGuardPeer
from routerd.daemon import metrics
from routerd.daemon.metrics import MetricsServer, parse_listen
from tests.support.wait import wait_until
from tests.unit.daemon import harness

ROUTE = ("route", "254", "10.40.8.21/32")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("127.0.0.1:9477", ("127.0.0.1", 9477), id="v4"),
        pytest.param("[::1]:9477", ("::1", 9477), id="v6"),
        pytest.param(":9477", ("0.0.0.0", 9477), id="any"),
    ],
)
def test_parse_listen(value, expected):
    assert parse_listen(value) == expected


@pytest.mark.parametrize("value", ["9477", "host:", "host:http", "host:70000"])
def test_parse_listen_rejects(value):
    with pytest.raises(ValueError):
        parse_listen(value)


def test_metrics_off_without_listen_address(tmp_path, monkeypatch):
    rig = harness.build(tmp_path, monkeypatch)
    assert metrics.start(rig.daemon) is None
    assert rig.daemon.pass_hooks == [] and rig.daemon.engine.listeners == []


def test_busy_port_disables_metrics_but_not_the_daemon(tmp_path, monkeypatch, caplog):
    rig = harness.build(tmp_path, monkeypatch, metrics_listen="127.0.0.1:0")
    busy = MetricsServer(
        metrics.DaemonMetrics(rig.daemon.engine, None, 0.0).registry, "127.0.0.1", 0
    )
    rig.daemon.opts.metrics_listen = f"127.0.0.1:{busy.port}"
    try:
        assert metrics.start(rig.daemon) is None
    finally:
        busy.stop()
    assert "metrics disabled" in caplog.text


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the endpoint, keyed by (name, sorted labels)."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as resp:
        text = resp.read().decode()
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def _server(rig: harness.Rig) -> MetricsServer:
    def servers() -> list[MetricsServer]:
        owners = [getattr(h, "__self__", None) for h in rig.daemon.stop_hooks]
        return [s for s in owners if isinstance(s, MetricsServer)]

    wait_until(lambda: None if servers() else "metrics not started")
    (server,) = servers()
    return server


def _claim_resource(name: str, address: str):
    res, problems = decode_resource(
        {
            "apiVersion": "hybrid.routerd.net/v1alpha1",
            "kind": "RemoteAddressClaim",
            "metadata": {"name": name},
            "spec": {
                "domainRef": "edge-lan",
                "address": address,
                "ownerSide": "cloud",
                "capture": {"type": "proxy-arp", "interface": "ens19"},
                "delivery": {"peerRef": "cloud-a", "tunnelInterface": "wg-sam"},
            },
        }
    )
    assert res is not None, problems
    return res


def _mask_of_startup_claim() -> Directive:
    target = {
        "apiVersion": "hybrid.routerd.net/v1alpha1",
        "kind": "RemoteAddressClaim",
        "name": harness.CLAIM,
    }
    return Directive.model_validate({"op": "mask", "reason": "", "target": target})


def test_scrape_reports_claims_transitions_errors_parts_runs_and_handshakes(
    tmp_path, monkeypatch, own_signals
):
    rig = harness.build(tmp_path, monkeypatch, metrics_listen="127.0.0.1:0")
    store, engine = rig.daemon.store, rig.daemon.engine
    old_run = store.start_run("inventory", "interval")
    store.finish_run(old_run, status="failed", exit_code=1)  # before this daemon: not counted
    (peer,) = [p.spec.public_key for p in engine.startup.of(WireGuardPeer)]
    records = []
    engine.listeners.append(lambda _snap, recs: records.extend(recs))

    def scenario() -> None:
        port = _server(rig).port
        wait_until(lambda: None if engine.snapshot.pass_count >= 2 else "no passes yet")
        m = scrape(port)
        assert m[("routerd_claims", (("state", "verified"),))] == 1
        assert m[("routerd_claims", (("state", "degraded"),))] == 0
        for r in records:
            labels = (("from", r.from_state), ("reason", r.reason or "-"), ("to", r.to_state))
            assert m[("routerd_claim_transitions_total", labels)] >= 1
        assert m[("routerd_reconcile_duration_seconds_count", ())] >= 2
        phases = {p: m[("routerd_reconcile_phase_seconds_total", (("phase", p),))] for p in PHASES}
        assert phases["inputs"] > 0 and phases["judge"] > 0 and phases["journal"] > 0
        age = m[
            ("routerd_wireguard_handshake_age_seconds", (("interface", "wg-sam"), ("peer", peer)))
        ]
        assert age >= rig.host.handshake_age
        assert m[("routerd_config_generation", ())] == engine.generation
        assert (
            "routerd_plugin_runs_total",
            (("plugin", "inventory"), ("result", "failed")),
        ) not in m

        # Now: a route that cannot be installed, two plugin runs and two dynamic parts.
        rig.host.fail[ROUTE] = "EPERM: injected"
        rig.host.delete(ROUTE)
        for status in ("succeeded", "failed"):
            store.finish_run(store.start_run("inventory", "interval"), status=status, exit_code=0)
        now = time.time()
        added = DynamicPart(
            "Plugin/inv", 1, now, 600, resources=(_claim_resource("d", "10.40.8.22/32"),)
        )
        bad = DynamicPart("Plugin/bad", 1, now, 600, directives=(_mask_of_startup_claim(),))
        store.put_part(added)
        store.put_part(bad)
        engine.mark_dirty()

        def later() -> str | None:
            m = scrape(port)
            want = {
                ("routerd_apply_errors_total", (("kind", "route"),)): 1,
                ("routerd_claims", (("state", "degraded"),)): 1,
                ("routerd_apply_failing_objects", ()): 1,
                ("routerd_dynamic_parts", (("status", "active"),)): 1,
                ("routerd_dynamic_parts", (("status", "rejected"),)): 1,
                ("routerd_plugin_runs_total", (("plugin", "inventory"), ("result", "failed"))): 1,
                (
                    "routerd_plugin_runs_total",
                    (("plugin", "inventory"), ("result", "succeeded")),
                ): 1,
            }
            wrong = {k: (m.get(k), v) for k, v in want.items() if not (m.get(k, 0) >= v)}
            return None if not wrong else f"(got, want): {wrong}"

        wait_until(later, what="metrics after failures, runs and parts")
        m = scrape(port)
        runs = [k for k in m if k[0] == "routerd_plugin_runs_total"]
        assert sum(m[k] for k in runs) == 2, "the run from before the daemon is not counted"

    assert harness.serve(rig, scenario) == 0
