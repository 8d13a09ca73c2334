"""A real ``routerd serve`` (sim backend, JSON logs, 2 GiB address-space limit) under hostile use.

Before the input limits, the 600-byte alias bomb took the daemon to 10 GB through any of these
doors and it then ignored SIGTERM. Here every door is tried in one daemon: ValidateConfig,
PlanChanges, PutDynamicPart, the config file on SIGHUP and ``routerctl reload``, and a
plugin's stdout. Each must answer with the limit it hit while the daemon keeps serving with a
small peak memory; a stop requested while a request thread is busy for minutes must still end
the process within the shutdown deadline; and every stderr line must be JSON.

The damaged-state and second-daemon refusals are checked on real processes too: exit 78 (the
unit's ``RestartPreventExitStatus``), a JSON log line, and the way out.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from routerd.cli.run_cmd import EXIT_STATE
from routerd.daemon import shutdown
from routerd.v1 import config_pb2, config_pb2_grpc
from tests.integration.api.harness import ROOT, router_text, run_ctl
from tests.support import hostile
from tests.support.wait import wait_until
from tests.unit.state.test_guard import damage_middle, filled

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ADDRESS_SPACE = 2 * 1024**3
PEAK_RSS_BOUND_KB = 400 * 1024
"""The daemon idles near 60 MB resident; an expanded bomb needs gigabytes."""

PLUGINS = """
    - apiVersion: plugin.routerd.net/v1alpha1
      kind: Plugin
      metadata: {{ name: bomb }}
      spec: {{ executable: {bomb}, timeout: 10s, capabilities: [propose.dynamicConfig] }}
    - apiVersion: plugin.routerd.net/v1alpha1
      kind: DynamicConfigSource
      metadata: {{ name: bomb }}
      spec: {{ pluginRef: bomb, ttl: 60s }}
    - apiVersion: plugin.routerd.net/v1alpha1
      kind: Plugin
      metadata: {{ name: slow }}
      spec: {{ executable: {slow}, timeout: 300s }}
"""


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def routerd(*argv: str) -> list[str]:
    return [sys.executable, "-m", "routerd.cli.routerd_main", "--log-format", "json", *argv]


def json_lines(text: str) -> list[dict]:
    out = []
    for line in text.splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            raise AssertionError(f"not a JSON log line: {line!r}") from None
    return out


def executable(path: Path, text: str) -> str:
    path.write_text(text)
    path.chmod(0o755)
    return str(path)


@contextlib.contextmanager
def daemon(tmp: Path, sock: str, config: Path, state: Path) -> Iterator[subprocess.Popen[str]]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with (tmp / "stderr.log").open("w") as err:
        proc = subprocess.Popen(
            routerd("serve", "-c", str(config), "--backend", "sim", "--socket", sock,
                    "--state-dir", str(state)),
            env=env, stdout=subprocess.DEVNULL, stderr=err, text=True,
            preexec_fn=_limit_memory,
        )  # fmt: skip
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)


def peak_rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def try_every_door(ctl, sock: str, bomb_file: Path) -> None:
    """The bomb through each RPC that parses client text, and through a plugin's stdout."""
    with grpc.insecure_channel(f"unix:{sock}") as ch:
        stub = config_pb2_grpc.ConfigServiceStub(ch)
        req = config_pb2.ValidateConfigRequest(config_yaml=hostile.alias_bomb())
        answer = stub.ValidateConfig(req, timeout=30)
    assert "aliases expand" in answer.errors[0].message
    for argv in (("plan", "-c", str(bomb_file)), ("dynamic", "put", str(bomb_file))):
        r = ctl(*argv)
        assert r.code == 2 and "aliases expand" in r.err, (argv, r.err)
    r = ctl("plugin", "run", "bomb")
    assert r.code != 0 and "aliases expand" in (r.out + r.err)


def reload_a_bomb(ctl, proc: subprocess.Popen[str], config: Path) -> None:
    """The bomb as the config file: SIGHUP, then ``routerctl reload``."""
    config.write_text(hostile.alias_bomb())
    proc.send_signal(signal.SIGHUP)

    def rejected() -> str | None:
        last = json.loads(ctl("status", "-o", "json").out)["configFile"].get("lastReload")
        return None if last == "rejected" else f"last reload {last!r}"

    wait_until(rejected, what="SIGHUP reload rejected")
    r = ctl("reload")
    assert r.code == 2 and "aliases expand" in r.err


def stop_while_busy(ctl, proc: subprocess.Popen[str], pidfile: Path) -> tuple[int, float]:
    """SIGTERM while a request thread runs a plugin for minutes; (exit code, seconds)."""
    busy = threading.Thread(target=ctl, args=("plugin", "run", "slow"), daemon=True)
    busy.start()
    wait_until(lambda: None if pidfile.exists() else "slow plugin not started")
    stop_at = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=shutdown.DEADLINE + shutdown.BACKSTOP + 10)
    return code, time.monotonic() - stop_at


def test_every_door_refuses_a_bomb_and_a_busy_daemon_still_stops(tmp_path, sockdir):
    bomb = executable(tmp_path / "bomb", f"#!/bin/sh\ncat <<'EOF'\n{hostile.alias_bomb()}EOF\n")
    pidfile = tmp_path / "slow.pid"
    slow = executable(tmp_path / "slow", f"#!/bin/sh\necho $$ > {pidfile}\nexec sleep 240\n")
    config = tmp_path / "router.yaml"
    good = router_text(tmp_path / "keys").rstrip("\n") + "\n" + PLUGINS.format(bomb=bomb, slow=slow)
    config.write_text(good)
    bomb_file = tmp_path / "bomb.yaml"
    bomb_file.write_text(hostile.alias_bomb())
    sock = str(sockdir / "r.sock")

    def ctl(*argv: str):
        return run_ctl("--socket", sock, *argv)

    with daemon(tmp_path, sock, config, tmp_path / "state") as proc:
        try:
            wait_until(lambda: None if ctl("status").code == 0 else "not serving", timeout=60)
            try_every_door(ctl, sock, bomb_file)
            reload_a_bomb(ctl, proc, config)
            assert ctl("status").code == 0, "still serving"
            assert peak_rss_kb(proc.pid) < PEAK_RSS_BOUND_KB
            config.write_text(good)
            code, took = stop_while_busy(ctl, proc, pidfile)
        finally:
            if pidfile.exists():
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.killpg(int(pidfile.read_text()), signal.SIGKILL)
    assert code == 0
    assert took < 240, "the stop did not wait for the busy request"
    msgs = [r["msg"] for r in json_lines((tmp_path / "stderr.log").read_text())]
    assert any("reload rejected" in m and "aliases expand" in m for m in msgs)
    assert any(m.startswith("routerd stopped code=0") for m in msgs)


def test_serve_refuses_damaged_state_with_the_way_out_and_exit_78(tmp_path, sockdir):
    config = tmp_path / "router.yaml"
    config.write_text(router_text(tmp_path / "keys"))
    state = tmp_path / "state"
    state.mkdir()
    damage_middle(filled(state))
    with daemon(tmp_path, str(sockdir / "d.sock"), config, state) as proc:
        assert proc.wait(timeout=60) == EXIT_STATE
    [record] = [
        r for r in json_lines((tmp_path / "stderr.log").read_text()) if r["level"] == "error"
    ]
    assert f"routerd state repair --state-dir {state}" in record["msg"]


def test_a_second_serve_on_the_same_state_directory_names_the_first(tmp_path, sockdir):
    config = tmp_path / "router.yaml"
    config.write_text(router_text(tmp_path / "keys"))
    state = tmp_path / "state"
    first_sock, second_sock = str(sockdir / "1.sock"), str(sockdir / "2.sock")
    with daemon(tmp_path, first_sock, config, state) as first:
        wait_until(
            lambda: None if run_ctl("--socket", first_sock, "status").code == 0 else "not up",
            timeout=60,
        )
        second = subprocess.run(
            routerd("serve", "-c", str(config), "--backend", "sim", "--socket", second_sock,
                    "--state-dir", str(state)),
            env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
            timeout=60,
        )  # fmt: skip
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=30) == 0
    assert second.returncode == EXIT_STATE
    [record] = json_lines(second.stderr)
    assert f"in use by routerd PID {first.pid}" in record["msg"]
