"""The keepalived supervisor's files and refusals (the processes are in tests/netns)."""

from __future__ import annotations

import shutil

import pytest

from routerd.core.errors import DataplaneError
from routerd.core.redundancy import VirtualAddress
from routerd.redundancy.keepalived import Keepalived, flush_addresses


def test_run_dir_with_whitespace_is_refused(tmp_path):
    with pytest.raises(ValueError, match="must not contain whitespace"):
        Keepalived(tmp_path / "a b")


def test_recorded_addresses_round_trip(tmp_path):
    ka = Keepalived(tmp_path)
    assert ka.recorded_addresses() == []  # nothing recorded: nothing known to flush
    addrs = [
        VirtualAddress("10.40.8.254/24", "ens19"),
        VirtualAddress("127.77.0.42/32", "lo", True),
    ]
    ka.record_addresses(addrs)
    assert ka.recorded_addresses() == addrs
    (tmp_path / "addresses.json").write_text("{broken")
    assert ka.recorded_addresses() == []


@pytest.mark.skipif(shutil.which("keepalived") is None, reason="keepalived is not installed")
def test_a_refused_config_keeps_the_old_one(tmp_path):
    ka = Keepalived(tmp_path)
    ka.conf.write_text("# the running configuration\n")
    with pytest.raises(DataplaneError, match="Unknown keyword 'bogus_keyword'"):
        ka.check_config("global_defs {\n    bogus_keyword 1\n}\n")
    assert ka.conf.read_text() == "# the running configuration\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keepalived.conf"]


def test_flushing_on_a_missing_device_is_not_an_error():
    assert flush_addresses([VirtualAddress("10.40.8.254/24", "no-such-dev0")]) == []


def test_nothing_runs_without_a_pidfile(tmp_path):
    ka = Keepalived(tmp_path)
    assert ka.pids() == (None, None) and not ka.running()
    (tmp_path / "keepalived.pid").write_text("1\n")  # a live PID that is not our keepalived
    assert ka.pids() == (None, None)
    ka.stop()  # nothing to stop: no error
    assert ka.query_state("site-a") is None
