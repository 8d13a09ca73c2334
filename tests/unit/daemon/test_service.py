"""Daemon lifecycle: SIGHUP reload (bad file keeps the running config), SIGTERM leaves the
dataplane in place and a new process adopts it without changes (the upgrade path)."""

from __future__ import annotations

import logging
import os
import signal

from routerd.core.lifecycle import ClaimState
from tests.support.wait import wait_until
from tests.unit.daemon import harness

NEW_ADDRESS = "10.40.8.22/32"


def _break(rig: harness.Rig) -> str:
    """Write a config with an unknown kind (a typo an operator could make).

    Returns:
        The good text it replaced.
    """
    good = rig.config_path.read_text()
    rig.config_path.write_text(good.replace("kind: RemoteAddressClaim", "kind: RemoteAdressClaim"))
    return good


def _move_claim(rig: harness.Rig, good: str) -> None:
    """Write ``good`` with the claim moved to NEW_ADDRESS."""
    rig.config_path.write_text(good.replace("address: 10.40.8.21/32", f"address: {NEW_ADDRESS}"))


def _address(rig: harness.Rig) -> str:
    """The address the running config claims (the intent, which drives the dataplane)."""
    return rig.daemon.engine.snapshot.claims[harness.CLAIM].intent.address


def _routed(rig: harness.Rig, address: str) -> bool:
    return ("route", "254", address) in rig.host.objects


def test_reload_rejects_an_invalid_file_and_keeps_the_running_config(tmp_path, monkeypatch, caplog):
    rig = harness.build(tmp_path, monkeypatch)
    engine = rig.daemon.engine
    engine.run_pass()
    running, before = engine.startup, _address(rig)
    _break(rig)
    with caplog.at_level(logging.INFO):
        assert rig.daemon.reload() is False
    engine.run_pass()
    assert engine.startup is running
    assert _address(rig) == before and _routed(rig, before)
    assert engine.snapshot.claims[harness.CLAIM].state == ClaimState.VERIFIED
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any("RemoteAdressClaim" in e for e in errors), errors
    assert any("keeping the running config" in e for e in errors), errors


def test_reload_of_a_missing_file_keeps_the_running_config(tmp_path, monkeypatch, caplog):
    rig = harness.build(tmp_path, monkeypatch)
    running = rig.daemon.engine.startup
    rig.config_path.unlink()
    assert rig.daemon.reload() is False
    rig.daemon.engine.run_pass()
    assert rig.daemon.engine.startup is running
    assert "cannot read config" in caplog.text


def test_reload_applies_a_valid_file_on_the_next_pass(tmp_path, monkeypatch):
    rig = harness.build(tmp_path, monkeypatch)
    rig.daemon.engine.run_pass()
    _move_claim(rig, rig.config_path.read_text())
    assert rig.daemon.reload() is True
    rig.daemon.engine.run_pass()
    assert _address(rig) == NEW_ADDRESS
    assert _routed(rig, NEW_ADDRESS) and not _routed(rig, "10.40.8.21/32")


def test_sighup_reloads_and_a_bad_file_is_rejected(tmp_path, monkeypatch, caplog, own_signals):
    caplog.set_level(logging.INFO)
    rig = harness.build(tmp_path, monkeypatch)
    daemon = rig.daemon

    def hup() -> None:
        # Only signal ourselves once the daemon's handler is installed: the default
        # action of SIGHUP would end the test run.
        wait_until(
            lambda: (
                None
                if signal.getsignal(signal.SIGHUP) == daemon._on_signal
                else "handler not installed"
            )
        )
        os.kill(os.getpid(), signal.SIGHUP)

    def logged(text: str) -> str | None:
        return None if any(text in r.getMessage() for r in caplog.records) else f"no {text!r}"

    def scenario() -> None:
        wait_until(lambda: None if daemon.engine.snapshot.claims else "no pass yet")
        before = _address(rig)
        good = _break(rig)
        hup()
        wait_until(lambda: logged("reload rejected"), what="rejected reload")
        passes = daemon.engine.snapshot.pass_count
        wait_until(lambda: None if daemon.engine.snapshot.pass_count > passes + 1 else "passes")
        assert _address(rig) == before

        _move_claim(rig, good)
        hup()
        wait_until(lambda: None if _address(rig) == NEW_ADDRESS else _address(rig))

    assert harness.serve(rig, scenario) == 0


def test_sigterm_leaves_the_dataplane_and_a_new_daemon_adopts_it(
    tmp_path, monkeypatch, own_signals
):
    first = harness.build(tmp_path, monkeypatch)
    host = first.host

    def terminate() -> None:
        wait_until(
            lambda: (
                None
                if first.daemon.engine.snapshot.counts()["verified"] == 1
                else "claim not verified"
            )
        )
        wait_until(
            lambda: (
                None
                if signal.getsignal(signal.SIGTERM) == first.daemon._on_signal
                else "handler not installed"
            )
        )
        os.kill(os.getpid(), signal.SIGTERM)

    assert harness.serve(first, terminate) == 0
    assert host.closed_with is False, "SIGTERM must not clean up the dataplane"
    installed = dict(host.objects)
    assert installed, "the dataplane is still there after the old process stopped"

    second = harness.build(tmp_path, monkeypatch, host=host)
    applied = len(host.applied)
    result = second.daemon.engine.run_pass()
    assert result.changes == 0 and len(host.applied) == applied
    assert host.objects == installed
    assert second.daemon.engine.snapshot.counts()["verified"] == 1
    second.daemon.engine.close()
