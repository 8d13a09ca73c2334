"""The command runner's failure classes, /proc/sys reads under a root, once-per-run caching."""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from routerd.doctor.host import (
    ERROR,
    NOT_FOUND,
    PERMISSION,
    TIMEOUT,
    CommandResult,
    Host,
    classify,
    run_command,
)
from tests.unit.doctor.kit import sample


@pytest.mark.usefixtures("real_subprocess")
def test_missing_binary_is_not_found(tmp_path: Path) -> None:
    res = run_command([str(tmp_path / "no-such-tool"), "list"])
    assert (res.failure, res.rc) == (NOT_FOUND, 127)
    assert "not installed" in res.describe()


@pytest.mark.usefixtures("real_subprocess")
def test_non_executable_file_is_permission_denied(tmp_path: Path) -> None:
    tool = tmp_path / "tool"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o644)
    assert run_command([str(tool)]).failure == PERMISSION


@pytest.mark.usefixtures("real_subprocess")
def test_timeout_is_classified() -> None:
    res = run_command([sys.executable, "-c", "import time; time.sleep(60)"], timeout=0.3)
    assert res.failure == TIMEOUT
    assert "timed out" in res.describe()


@pytest.mark.usefixtures("real_subprocess")
def test_success_and_plain_failure() -> None:
    ok = run_command([sys.executable, "-c", "print('hi')"])
    assert ok.ok and ok.stdout == "hi\n"
    bad = run_command([sys.executable, "-c", "import sys; sys.exit('boom')"])
    assert (bad.failure, bad.rc) == (ERROR, 1)
    assert "boom" in bad.describe()


@pytest.mark.parametrize(
    ("what", "tool", "expected"),
    [
        pytest.param("permission denied", "nft", PERMISSION, id="nft-as-nobody"),
        pytest.param("permission denied", "iptables-nft-save", PERMISSION, id="ipt-nft-nobody"),
        pytest.param("permission denied", "iptables-legacy-save", PERMISSION, id="ipt-legacy"),
        pytest.param("permission denied", "wg", PERMISSION, id="wg-as-nobody"),
        pytest.param("table absent", "nft", ERROR, id="nft-absent"),
        pytest.param("other", "nft", ERROR, id="nft-broken"),
    ],
)
def test_recorded_failures_are_classified(what: str, tool: str, expected: str) -> None:
    s = sample(what, tool)
    assert classify(s["argv"], s["rc"], s["stdout"], s["stderr"]).failure == expected


def test_sysctl_reads_under_the_root_and_keeps_dotted_interface_names(tmp_path: Path) -> None:
    path = tmp_path / "net" / "ipv4" / "conf" / "eth0.100" / "proxy_arp"
    path.parent.mkdir(parents=True)
    path.write_text("1\n")
    host = Host(sys_root=tmp_path)
    assert host.sysctl("net/ipv4/conf", "eth0.100", "proxy_arp") == "1"
    assert host.sysctl("net/ipv4/conf", "eth0", "proxy_arp") is None


def test_cached_runs_each_argv_once_across_threads() -> None:
    calls: list[tuple[str, ...]] = []
    gate = threading.Barrier(4)

    def runner(argv: Sequence[str], *, timeout: float = 5.0) -> CommandResult:
        calls.append(tuple(argv))
        return CommandResult(tuple(argv), 0, "out")

    host = Host(run=runner)
    results: list[str] = []

    def worker() -> None:
        gate.wait()
        results.append(host.cached("nft", "list", "tables").stdout)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert calls == [("nft", "list", "tables")]
    assert results == ["out"] * 4
    host.command("nft", "list", "tables")
    assert len(calls) == 2  # command() is never cached (pings)


def test_a_failing_read_is_remembered_not_retried() -> None:
    attempts: list[int] = []

    def broken() -> object:
        attempts.append(1)
        raise OSError("netlink went away")

    host = Host()
    for _ in range(3):
        with pytest.raises(OSError, match="netlink went away"):
            host.once("routes", broken)
    assert len(attempts) == 1
    assert host.fresh().once("routes", lambda: "ok") == "ok"  # a new run asks again


def test_stdin_reaches_the_runner_only_when_given() -> None:
    seen: list[tuple[tuple[str, ...], str | None]] = []

    def runner(
        argv: Sequence[str], *, timeout: float = 5.0, input: str | None = None
    ) -> CommandResult:
        seen.append((tuple(argv), input))
        return CommandResult(tuple(argv), 0, "out")

    host = Host(run=runner)
    host.cached("ip", "-batch", "-", input="route get 10.0.0.1\n")
    host.cached("ip", "-batch", "-", input="route get 10.0.0.1\n")
    host.cached("ip", "-batch", "-", input="route get 10.0.0.2\n")
    host.command("ip", "link")
    assert seen == [
        (("ip", "-batch", "-"), "route get 10.0.0.1\n"),
        (("ip", "-batch", "-"), "route get 10.0.0.2\n"),
        (("ip", "link"), None),
    ]


@pytest.mark.usefixtures("real_subprocess")
def test_the_real_runner_feeds_stdin() -> None:
    res = run_command(
        [sys.executable, "-c", "import sys; print(sys.stdin.read().upper())"], input="hi"
    )
    assert res.ok and res.stdout == "HI\n"
