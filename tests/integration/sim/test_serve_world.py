"""``routerd serve --backend sim --world`` and ``routerd validate --world`` as a user runs them.

The daemon is a real process: one socket per router named after it in --socket-dir, one
state directory per router, SIGTERM stops everything and removes the sockets. Bad worlds and
misused flags exit 2 with every error; nothing is started.
"""

from __future__ import annotations

import gc
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from routerd.api.listener import socket_is_live
from routerd.cli.routerd_main import main
from routerd.examples import world_file
from tests.integration.api.harness import ROOT, run_ctl
from tests.support.wait import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture(autouse=True)
def _gc_thresholds() -> Iterator[None]:
    """``routerd serve`` in-process sets the daemon's GC policy process-wide: undo it.

    Name: _gc_thresholds / Scope: function / Depends: nothing.
    """
    before = gc.get_threshold()
    yield
    gc.set_threshold(*before)


def routerd(*argv: str) -> list[str]:
    return [sys.executable, "-m", "routerd.cli.routerd_main", *argv]


def test_serve_world_gives_each_router_its_socket_and_state(tmp_path, sockdir):
    run = sockdir / "run"
    argv = routerd(
        "serve",
        "--backend",
        "sim",
        "--world",
        str(world_file("azure")),
        "--socket-dir",
        str(run),
        "--state-dir",
        str(tmp_path / "state"),
    )
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            argv, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=out, stderr=out
        )
    socks = {r: str(run / f"{r}.sock") for r in ("cloud-router", "onprem-router")}
    try:
        for sock in socks.values():
            wait_until(
                lambda s=sock: (
                    None if run_ctl("--socket", s, "status").code == 0 else "not serving"
                ),
                what=f"{sock} answering",
            )
        for router, sock in socks.items():
            got = json.loads(run_ctl("--socket", sock, "get", "claims", "-o", "json").out)
            assert [c["state"] for c in got["claims"]] == ["verified"], router
            status = json.loads(run_ctl("--socket", sock, "status", "-o", "json").out)
            assert status["backend"] == "sim"
            assert (tmp_path / "state" / router / "routerd.db").exists()
            assert (tmp_path / "state" / router / "keys" / "wg-sam.key").exists()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        assert not any(Path(s).exists() or socket_is_live(s) for s in socks.values())
        assert "Traceback" not in log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (["--backend", "linux"], "--world needs --backend sim"),
        (["--backend", "sim", "--metrics-listen", "127.0.0.1:9"], "--metrics-listen does not"),
        (["--backend", "sim", "--router", "nope"], "--router nope: no such router"),
    ],
)
def test_serve_world_refuses_misused_flags(tmp_path, capsys, extra, says):
    code = main(
        [
            "serve",
            "--world",
            str(world_file("azure")),
            "--socket-dir",
            str(tmp_path / "run"),
            "--state-dir",
            str(tmp_path / "s"),
            *extra,
        ]
    )
    assert code == 2
    assert says in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_serve_world_refuses_a_socket_dir_too_long_for_unix_sockets(tmp_path, capsys):
    long_dir = tmp_path / ("d" * 100)
    code = main(
        [
            "serve",
            "--backend",
            "sim",
            "--world",
            str(world_file("azure")),
            "--socket-dir",
            str(long_dir),
            "--state-dir",
            str(tmp_path / "s"),
        ]
    )
    assert code == 2
    assert "choose a shorter directory" in capsys.readouterr().err


def test_validate_world_exit_codes_and_json(tmp_path, capsys):
    assert main(["validate", "--world", str(world_file("oci"))]) == 0
    assert (
        "valid world lab-oci (2 routers, 3 VMs, 2 segments, 0 warnings)" in capsys.readouterr().out
    )
    bad = tmp_path / "w.yaml"
    examples = world_file("oci").parent.parent
    text = world_file("oci").read_text().replace("segment: onprem-lan", "segment: lan0")
    bad.write_text(text.replace("config: ../", f"config: {examples}/"))
    assert main(["validate", "--world", str(bad), "-o", "json"]) == 2
    doc = json.loads(capsys.readouterr().out)
    assert doc["valid"] is False
    assert {(e["resource"], e["path"]) for e in doc["errors"]} == {
        ("VM/onprem-vm", "segment"),
        ("VM/onprem-gw", "segment"),
        ("Router/onprem-router", "interfaces.0.segment"),
    }
    assert all(e["line"] and e["file"] == str(bad) for e in doc["errors"])
    with pytest.raises(SystemExit) as usage:
        main(["validate", "--world", str(bad), "-c", str(bad)])
    assert usage.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err
