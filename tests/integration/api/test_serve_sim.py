"""The API over the simulated dataplane, in-process and as a real ``routerd serve`` process.

The sim backend gives one simulated host shaped after the config and no peer, so claims
capture and deliver but never verify; these tests assert that the API reports exactly what
the engine knows, that ``routerd serve`` starts the API as a component, and that a second
``serve`` on a live socket exits 1 with an actionable message.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from routerd.api.listener import socket_is_live
from tests.integration.api.harness import ROOT, make_daemon, router_text, run_ctl, serve
from tests.support.wait import wait_until

pytestmark = pytest.mark.integration

sim = pytest.importorskip("routerd.backends.sim.factory", reason="needs the sim backend")


def test_api_reports_the_engine_view_over_the_sim_backend(tmp_path, sockdir, monkeypatch):
    daemon, host = make_daemon(tmp_path, str(sockdir / "routerd.sock"), monkeypatch, backend="sim")
    served = serve(daemon, host, tmp_path)
    try:
        r = served.ctl("get", "claims", "-o", "json")
        assert r.code == 0, r.err
        [claim] = json.loads(r.out)["claims"]
        view = daemon.engine.snapshot.claims["cloud-vm-21"]
        assert (claim["name"], claim["state"], claim["reason"]) == (
            view.name,
            view.state,
            view.reason,
        )
        assert claim["state"] in ("captured", "delivering")
        plan = served.ctl("plan", "-o", "json")
        assert plan.code == 0, plan.err
        assert json.loads(plan.out)["backend"] == "sim"
        status = json.loads(served.ctl("status", "-o", "json").out)
        assert status["backend"] == "sim" and status["claimsTotal"] == 1
    finally:
        served.close()


def routerd(*argv: str) -> list[str]:
    return [sys.executable, "-m", "routerd.cli.routerd_main", *argv]


def test_routerd_serve_runs_the_api_and_a_second_serve_refuses(tmp_path, sockdir):
    cfg = tmp_path / "router.yaml"
    cfg.write_text(router_text(tmp_path / "keys"))
    sock = str(sockdir / "run" / "routerd.sock")
    common = ["serve", "-c", str(cfg), "--backend", "sim", "--socket", sock]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        first = subprocess.Popen(
            routerd(*common, "--state-dir", str(tmp_path / "s1")), env=env, stdout=out, stderr=out
        )
    try:
        wait_until(
            lambda: None if run_ctl("--socket", sock, "status").code == 0 else "not serving",
            what="routerd serve answering on its socket",
        )
        second = subprocess.run(
            routerd(*common, "--state-dir", str(tmp_path / "s2")),
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 1
        assert f"another routerd is already serving on {sock}" in second.stderr
        assert "Traceback" not in second.stderr
        assert run_ctl("--socket", sock, "status").code == 0  # the first is unharmed
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=30) == 0
        assert not Path(sock).exists() and not socket_is_live(sock)
        assert "Traceback" not in log.read_text()
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(timeout=10)
