"""How a plugin child runs: executable checks, env, deadline, process-group kill, output caps."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from routerd.core.plugins.port import LaunchError
from routerd.plugins.process import DEFAULT_PATH, check_executable, child_env, run_process
from tests.support.wait import wait_until
from tests.unit.core.plugins.kit import ScriptFactory, process_gone

ENV = {"PATH": DEFAULT_PATH}


def test_timeout_kills_the_whole_process_group(
    script: ScriptFactory, tmp_path: Path, reap_pids: list[int]
) -> None:
    pidfile = tmp_path / "child.pid"
    exe = script(
        "forker",
        f"""
        sleep 300 &
        echo $! > {pidfile}
        sleep 300
        """,
    )
    result = run_process(exe, stdin=b"{}\n", env=ENV, timeout=0.5)
    child = int(pidfile.read_text())
    reap_pids.append(child)

    assert result.timed_out
    assert result.returncode is None
    assert 0.5 <= result.duration < 5
    wait_until(lambda: process_gone(child), what="forked child killed with its group")


def test_helpers_left_behind_by_a_finished_plugin_are_killed(
    script: ScriptFactory, tmp_path: Path, reap_pids: list[int]
) -> None:
    pidfile = tmp_path / "child.pid"
    exe = script("leaver", f"sleep 300 &\necho $! > {pidfile}\necho done\n")
    result = run_process(exe, stdin=b"", env=ENV, timeout=10)
    child = int(pidfile.read_text())
    reap_pids.append(child)

    assert (result.returncode, result.stdout, result.timed_out) == (0, b"done\n", False)
    wait_until(lambda: process_gone(child), what="background helper killed")


def test_stdin_carries_the_request_and_stdout_is_returned(script: ScriptFactory) -> None:
    exe = script("echo", 'IFS= read -r line\nprintf "got:%s" "$line"\n')
    result = run_process(exe, stdin=b'{"kind":"PluginRequest"}\n', env=ENV, timeout=10)
    assert result.stdout == b'got:{"kind":"PluginRequest"}'


def test_stderr_is_capped_at_8_kib_while_the_plugin_keeps_writing(script: ScriptFactory) -> None:
    exe = script(
        "noisy",
        """
        i=0
        while [ $i -lt 2000 ]; do
            echo "0123456789012345678901234567890123456789012345678" >&2
            i=$((i + 1))
        done
        echo ok
        """,
    )
    result = run_process(exe, stdin=b"", env=ENV, timeout=20)
    assert result.returncode == 0
    assert result.stdout == b"ok\n"
    assert len(result.stderr) == 8192
    assert result.stderr_truncated
    assert result.stderr.startswith(b"0123456789")


def test_stdout_beyond_the_cap_kills_the_plugin(script: ScriptFactory) -> None:
    exe = script("flood", "while :; do echo xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; done\n")
    result = run_process(exe, stdin=b"", env=ENV, timeout=20, stdout_cap=4096)
    assert result.stdout_overflow
    assert not result.timed_out
    assert result.returncode is None
    assert result.duration < 20


def test_a_plugin_that_ignores_stdin_still_runs(script: ScriptFactory) -> None:
    exe = script("deaf", "echo fine\n")
    result = run_process(exe, stdin=b"x" * 200_000, env=ENV, timeout=10)
    assert (result.returncode, result.stdout) == (0, b"fine\n")


def test_exit_status_is_reported(script: ScriptFactory) -> None:
    exe = script("fails", "echo oops >&2\nexit 7\n")
    result = run_process(exe, stdin=b"", env=ENV, timeout=10)
    assert (result.returncode, result.stderr) == (7, b"oops\n")


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        pytest.param(lambda p: None, "No such file", id="missing"),
        pytest.param(lambda p: p.mkdir(), "not a regular file", id="directory"),
        pytest.param(lambda p: p.write_text("#!/bin/sh\n"), "no execute bit", id="not-executable"),
    ],
)
def test_bad_executables_are_refused_with_a_clear_error(
    tmp_path: Path, setup: object, message: str
) -> None:
    path = tmp_path / "plugin"
    setup(path)  # type: ignore[operator]
    with pytest.raises(LaunchError, match=message):
        check_executable(str(path))
    with pytest.raises(LaunchError, match=message):
        run_process(str(path), stdin=b"", env=ENV, timeout=1)


def test_relative_executable_is_refused() -> None:
    with pytest.raises(LaunchError, match="absolute path"):
        check_executable("bin/plugin")


def test_child_env_is_path_plus_clean_spec_env() -> None:
    env = child_env({" KEY ": "v", "": "blank", "A=B": "eq", "Z": "z"}, parent_path="/opt/bin")
    assert env == {"PATH": "/opt/bin", "KEY": "v", "Z": "z"}
    assert child_env({}, parent_path=None) == {"PATH": DEFAULT_PATH}
    assert child_env({"PATH": "/only"}, parent_path="/opt/bin") == {"PATH": "/only"}


def test_exec_happens_without_a_shell(script: ScriptFactory, tmp_path: Path) -> None:
    # A path with shell metacharacters would break `sh -c PATH`; exec'd directly it just runs.
    odd = tmp_path / "we ird;$(touch pwned)"
    odd.mkdir()
    exe = odd / "plugin"
    exe.write_text("#!/bin/sh\necho ran\n")
    exe.chmod(0o755)
    result = run_process(str(exe), stdin=b"", env=ENV, timeout=10)
    assert result.stdout == b"ran\n"
    assert not any(p.name == "pwned" for p in tmp_path.rglob("*"))
    assert not os.path.exists("/pwned")
    assert not (Path.cwd() / "pwned").exists()
