"""Bad input over the API and on disk, against a serving daemon: clear errors, nothing broken.

Each hostile document (tests/support/hostile.py) goes through every RPC that parses client
text; the daemon must answer INVALID_ARGUMENT naming the limit, store nothing, and keep
serving. A rejected reload and a damaged state database must be visible where an operator
looks (``routerctl status``, its JSON, the metrics), not only in the log.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import grpc
import pytest

from routerd.daemon import metrics, statewatch
from routerd.state.guard import StateLockedError, StoreDamagedError
from routerd.state.store import DB_NAME
from routerd.v1 import config_pb2, config_pb2_grpc, status_pb2, status_pb2_grpc
from tests.integration.api.harness import make_daemon
from tests.support import hostile
from tests.unit.state.test_guard import damage_middle, filled

HOSTILE = {
    "alias-bomb": (hostile.alias_bomb(), "aliases expand this document"),
    "merge-bomb": (hostile.merge_bomb(), "aliases expand this document"),
    "recursive-alias": (hostile.recursive_alias(), "recursive alias"),
    "deep-nesting": (hostile.deep_nesting(), "nesting is deeper than 64 levels"),
    "bad-scalar": ("a: 2026-02-30\n", "cannot be read as timestamp"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_documents_get_a_clear_error_from_every_parsing_rpc(served, name):
    text, expected = HOSTILE[name]
    stub = served.stub(config_pb2_grpc.ConfigServiceStub)
    valid = stub.ValidateConfig(config_pb2.ValidateConfigRequest(config_yaml=text), timeout=30)
    assert not valid.valid and expected in valid.errors[0].message
    for call, request in (
        (stub.PlanChanges, config_pb2.PlanChangesRequest(config_yaml=text)),
        (stub.PutDynamicPart, config_pb2.PutDynamicPartRequest(document=text)),
    ):
        with pytest.raises(grpc.RpcError) as e:
            call(request, timeout=30)
        assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert expected in e.value.details()
    assert served.daemon.store.list_parts() == []
    assert served.ctl("status").code == 0, "the daemon keeps serving"


def test_a_file_routerctl_sends_must_be_utf8(served):
    data, offset = hostile.not_utf8_config()
    path = served.tmp / "latin1.yaml"
    path.write_bytes(data)
    for argv in (("plan", "-c", str(path)), ("dynamic", "put", str(path))):
        r = served.ctl(*argv)
        assert r.code == 2
        assert f"{path}: not UTF-8 text: byte 0xe9 at byte offset {offset}" in r.err


def status_json(served) -> dict:
    r = served.ctl("status", "-o", "json")
    assert r.code == 0, r.err
    return json.loads(r.out)


def scrape(served) -> metrics.DaemonMetrics:
    d = served.daemon
    return metrics.DaemonMetrics(d.engine, d.store, d.started_at, d.config_file)


def test_a_rejected_reload_shows_in_status_and_metrics_until_a_good_one(served):
    path = served.daemon.opts.config_path
    file = Path(path)
    good = file.read_text()
    file.write_text(hostile.alias_bomb())
    r = served.ctl("reload")
    assert r.code == 2 and "aliases expand this document" in r.err

    st = status_json(served)
    f = st["configFile"]
    assert f["differs"] and f["lastReload"] == "rejected"
    assert "aliases expand this document" in f["lastReloadErrors"][0]["message"]
    [warning] = [h for h in st["health"] if h["code"] == "config-reload-rejected"]
    assert warning["severity"] == "error" and warning["subject"] == path
    table = served.ctl("status").out
    assert "Config file:  NOT RUNNING: reload rejected" in table
    assert "[config-reload-rejected]" in table
    reg = scrape(served).registry
    assert reg.get_sample_value("routerd_config_last_reload_successful") == 0
    assert reg.get_sample_value("routerd_config_file_differs") == 1

    file.write_text(good)
    assert served.ctl("reload").code == 0
    st = status_json(served)
    assert not st["configFile"]["differs"] and st["configFile"]["lastReload"] == "unchanged"
    assert not [h for h in st["health"] if h["code"].startswith("config-")]
    assert "Config file" not in served.ctl("status").out
    assert scrape(served).registry.get_sample_value("routerd_config_last_reload_successful") == 1


def test_a_file_edited_but_not_reloaded_is_shown_as_changed(served):
    path = served.daemon.opts.config_path
    with open(path, "a") as f:
        f.write("# edited, not reloaded\n")
    st = status_json(served)
    assert st["configFile"]["differs"] and "has not been reloaded" in st["configFile"]["reason"]
    [warning] = [h for h in st["health"] if h["code"] == "config-file-changed"]
    assert warning["severity"] == "warning"
    assert "changed on disk, not reloaded yet" in served.ctl("status").out
    assert served.ctl("reload").code == 0
    assert not status_json(served)["configFile"]["differs"]


def test_a_database_replaced_while_serving_is_a_health_error_and_a_metric(served):
    store = served.daemon.store
    other = served.tmp / "other"
    other.mkdir()
    os.replace(filled(other), store.path)
    assert "was replaced while routerd runs" in statewatch.check_once(store, quick=False)
    stub = served.stub(status_pb2_grpc.StatusServiceStub)
    st = stub.GetStatus(status_pb2.GetStatusRequest(), timeout=10)
    assert "was replaced" in st.state_store_fault
    assert [h.severity for h in st.health if h.code == "state-store-damaged"] == ["error"]
    assert scrape(served).registry.get_sample_value("routerd_state_store_healthy") == 0


def test_a_daemon_refuses_a_damaged_state_directory(tmp_path, sockdir, monkeypatch):
    state = tmp_path / "d" / "state"
    state.mkdir(parents=True)
    damage_middle(filled(state))
    with pytest.raises(StoreDamagedError, match="routerd state repair"):
        make_daemon(tmp_path / "d", str(sockdir / "a.sock"), monkeypatch)
    assert (state / DB_NAME).exists()


def test_a_second_daemon_on_the_same_state_directory_is_refused(served, sockdir, monkeypatch):
    with pytest.raises(StateLockedError, match=f"in use by routerd PID {os.getpid()}"):
        make_daemon(served.tmp, str(sockdir / "second.sock"), monkeypatch)
