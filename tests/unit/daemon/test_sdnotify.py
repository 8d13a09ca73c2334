"""sd_notify protocol: socket addressing, READY after the first pass, STATUS counts, STOPPING."""

from __future__ import annotations

import socket
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from routerd.core.engine import Snapshot
from routerd.daemon import sdnotify
from routerd.daemon.sdnotify import Notifier, socket_address, status_line
from tests.support.wait import wait_until
from tests.unit.daemon import harness


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param("@routerd/notify", "\0routerd/notify", id="abstract"),
        pytest.param("/run/systemd/notify", "/run/systemd/notify", id="path"),
        pytest.param("@", None, id="empty-abstract"),
        pytest.param("vsock:2:1234", None, id="vsock"),
        pytest.param("relative/sock", None, id="relative"),
    ],
)
def test_socket_address(value, expected):
    assert socket_address(value) == expected


def test_notifier_sends_one_datagram_to_a_filesystem_socket():
    with tempfile.TemporaryDirectory(dir="/tmp") as d:  # short path: sun_path is 108 bytes
        path = str(Path(d) / "notify")
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as rx:
            rx.bind(path)
            notifier = Notifier.from_env({"NOTIFY_SOCKET": path})
            assert notifier is not None
            assert notifier.send("READY=1", "STATUS=hello")
            assert rx.recv(4096) == b"READY=1\nSTATUS=hello"
            notifier.close()


def test_notifier_survives_a_missing_socket(caplog):
    notifier = Notifier("\0routerd-test-nobody-listens-here")
    assert notifier.send("READY=1") is False
    assert "notify socket send failed" in caplog.text
    notifier.close()


def test_no_notify_socket_means_no_component(tmp_path, monkeypatch):
    rig = harness.build(tmp_path, monkeypatch)
    assert Notifier.from_env({}) is None
    assert sdnotify.start(rig.daemon) is None
    assert rig.daemon.pass_hooks == []


def _snapshot(states: list[str], generation: int, errors: int = 0) -> Snapshot:
    claims = {f"c{i}": SimpleNamespace(state=s) for i, s in enumerate(states)}
    apply_errors = {f"route/254/10.0.0.{i}/32": "EPERM" for i in range(errors)}
    return Snapshot(generation, claims, None, None, 1, 0.0, 0.0, 0, apply_errors, None)  # type: ignore[arg-type]


def test_status_line_counts_claims_by_state_in_lifecycle_order():
    snap = _snapshot(["degraded", "verified", "verified", "verified"], 7)
    assert status_line(snap) == "claims: 3 verified, 1 degraded; generation 7"
    assert status_line(_snapshot([], 2)) == "claims: none; generation 2"
    failing = status_line(_snapshot(["pending"], 3, errors=2))
    assert failing == "claims: 1 pending; generation 3; 2 objects failing to apply"


def test_ready_after_first_pass_then_status_follows_the_claims(
    tmp_path, monkeypatch, notify_socket, own_signals
):
    rig = harness.build(tmp_path, monkeypatch)
    engine = rig.daemon.engine

    def scenario() -> None:
        def ready() -> str | None:
            notify_socket.drain()
            return None if notify_socket.with_key("READY") else "no READY=1 yet"

        wait_until(ready, what="READY=1")
        first = notify_socket.with_key("READY")[0]
        # Sent with the status of a completed pass: before any pass there are no claims.
        assert first["READY"] == "1"
        assert first["STATUS"] == f"claims: 1 verified; generation {engine.generation}"
        passes = engine.snapshot.pass_count
        wait_until(
            lambda: None if engine.snapshot.pass_count >= passes + 3 else "waiting for passes"
        )
        rig.host.links.discard("ens19")  # the capture interface disappears
        rig.host.on_change()

        def degraded_status() -> str | None:
            notify_socket.drain()
            statuses = [d["STATUS"] for d in notify_socket.with_key("STATUS")]
            want = f"claims: 1 degraded; generation {engine.generation}"
            return None if want in statuses else f"{want!r} not in {statuses}"

        wait_until(degraded_status, what="STATUS with the degraded claim")

    assert harness.serve(rig, scenario) == 0
    notify_socket.drain()
    assert len(notify_socket.with_key("READY")) == 1, "READY=1 is sent once"
    assert notify_socket.datagrams[-1] == {"STOPPING": "1", "STATUS": "stopping"}
