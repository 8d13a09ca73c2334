"""The lab's own logic that needs no namespace: evidence parsing, redaction, naming, undo log.

These run everywhere (no ``lab`` mark): a broken conntrack parser or key redaction would
otherwise only show up as a wrong verdict or a leaked key on a root machine.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from routerd.backends.linux.wgsupervisor import process_start_time
from routerd.core.wgkey import public_key
from routerd.keys import read_private_key
from tools.labkit.config import rename, render_pair, tunnel_names
from tools.labkit.evidence import strip_wg_dump
from tools.labkit.faults import diff_objects
from tools.labkit.firewall import documented_rules
from tools.labkit.nat import parse_conntrack
from tools.labkit.registry import Registry

CONNTRACK = (
    "tcp      6 431999 ESTABLISHED src=10.40.8.21 dst=10.40.8.31 sport=40000 dport=22 "
    "src=10.40.8.31 dst=10.40.8.21 sport=22 dport=40000 [ASSURED] mark=0 use=1\n"
    "udp      17 170 src=198.51.100.20 dst=203.0.113.10 sport=51820 dport=51820 "
    "src=203.0.113.10 dst=198.51.100.20 sport=51820 dport=51820 [ASSURED] mark=0 use=1\n"
    "icmp     1 29 src=10.40.8.21 dst=10.40.8.31 type=8 code=0 id=7 "
    "src=10.40.8.31 dst=10.40.8.21 type=0 code=0 id=7 mark=0 use=1\n"
)
SNAT = (
    "tcp      6 431999 ESTABLISHED src=10.40.8.21 dst=10.40.8.31 sport=40000 dport=22 "
    "src=10.40.8.31 dst=10.40.8.5 sport=22 dport=40000 [ASSURED] mark=0 use=1\n"
)


def test_conntrack_untranslated_flows() -> None:
    flows = parse_conntrack(CONNTRACK)
    assert [f.proto for f in flows] == ["tcp", "udp", "icmp"]
    assert not any(f.translated for f in flows)
    assert flows[0].between("10.40.8.31", "10.40.8.21")


def test_conntrack_snat_is_seen() -> None:
    (flow,) = parse_conntrack(SNAT)
    assert flow.translated
    assert "10.40.8.5" in str(flow)


def test_wg_dump_loses_private_and_preshared_keys() -> None:
    dump = (
        "PRIVATEKEY=\tPUBLICKEY=\t51820\toff\n"
        "PEERPUB=\tPRESHARED=\t198.51.100.20:51820\t10.40.8.31/32\t1700000000\t10\t20\t25\n"
    )
    out = strip_wg_dump(dump)
    assert "PRIVATEKEY" not in out and "PRESHARED" not in out
    assert "PUBLICKEY=\t51820" in out and "PEERPUB=\t198.51.100.20:51820" in out


def test_wg_dump_unknown_lines_are_dropped() -> None:
    assert "SECRET" not in strip_wg_dump("wg0\tSECRET\tPUB\t1\toff\n")


def test_rename_touches_only_equal_strings() -> None:
    doc = {"a": "wg-sam", "b": ["wg-sam", "/etc/keys/wg-sam.key"], "c": {"d": "wg-samx"}}
    assert rename(doc, "wg-sam", "wg12abc") == {
        "a": "wg12abc",
        "b": ["wg12abc", "/etc/keys/wg-sam.key"],
        "c": {"d": "wg-samx"},
    }


def test_tunnel_names_unique_and_short() -> None:
    names = tunnel_names("ab12")
    assert names == {"cloud": "wgab12c", "onprem": "wgab12o"}
    with pytest.raises(ValueError):
        tunnel_names("x" * 20)


@pytest.mark.parametrize("provider", ["azure", "aws", "oci"])
def test_render_pair_pairs_keys_and_renames_tunnel(provider: str, tmp_path: Path) -> None:
    out = render_pair(provider, tmp_path / "keys", {"cloud": "wgt1c", "onprem": "wgt1o"})
    cloud, onprem = (yaml.safe_load(out[s]) for s in ("cloud", "onprem"))
    text = json.dumps([cloud, onprem])
    assert 'wg-sam"' not in text and "wgt1c" in out["cloud"] and "wgt1o" in out["onprem"]
    keys = sorted(p.name for p in (tmp_path / "keys").iterdir())
    assert keys == ["cloud-wg-sam.key", "onprem-wg-sam.key"]
    peers = [r for r in cloud["spec"]["resources"] if r["kind"] == "WireGuardPeer"]
    assert peers[0]["spec"]["interface"] == "wgt1c"
    onprem_key = read_private_key(str(tmp_path / "keys" / "onprem-wg-sam.key"))
    assert peers[0]["spec"]["publicKey"] == public_key(onprem_key)


def test_diff_objects_reports_gone_new_and_duplicates() -> None:
    before = {"routes": ["a", "b"]}
    after = {"routes": ["b", "c", "c"]}
    assert diff_objects(before, after) == [
        "routes gone: a",
        "routes new: c",
        "routes: 1 duplicate(s)",
    ]
    assert diff_objects(before, before) == []


def test_documented_rule_opens_input_and_both_forward_directions() -> None:
    rules = [" ".join(r) for r in documented_rules(51820, "ens3", "wg0")]
    assert rules == [
        "-I INPUT 1 -p udp --dport 51820 -j ACCEPT",
        "-I FORWARD 1 -i ens3 -o wg0 -j ACCEPT",
        "-I FORWARD 1 -i wg0 -o ens3 -j ACCEPT",
    ]


def test_registry_undoes_newest_first_and_survives_reload(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    reg = Registry.create(run, run="t1")
    reg.push("path", path=str(run))
    inner = run / "inner.txt"
    inner.write_text("x")
    reg.push("path", path=str(inner))
    loaded = Registry.load(run)
    assert loaded.meta["run"] == "t1"
    assert not loaded.owner_alive()  # this process created it: not "someone else's"
    assert [r["path"] for r in loaded.records] == [str(run), str(inner)]
    assert loaded.close() == []
    assert not run.exists()


def test_registry_reports_unknown_kinds(tmp_path: Path) -> None:
    reg = Registry.create(tmp_path, run="t2")
    reg.push("martian", what="?")
    errors = reg.close()
    assert len(errors) == 1 and "martian" in errors[0]


def test_registry_owner_alive_only_for_the_live_creator(tmp_path: Path) -> None:
    reg = Registry.create(tmp_path, run="t3")
    reg.meta["owner_pid"] = 1  # another, long-running process
    reg.meta["owner_start"] = process_start_time(1)
    assert reg.owner_alive()
    reg.meta["owner_start"] = -1  # the PID was reused since
    assert not reg.owner_alive()


LEADER_FIRST = """
import ctypes, os, signal, sys, threading, time

def on_term(*_):
    # another thread outlives the first one by half a second, as a server's threads do
    threading.Thread(target=lambda: (time.sleep(0.5), os._exit(0))).start()
    ctypes.CDLL(None).syscall(60, 0)  # SYS_exit on x86_64: only this thread ends

signal.signal(signal.SIGTERM, on_term)
print("ready", flush=True)
while True:
    time.sleep(1)
"""


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="the child uses x86_64's SYS_exit")
def test_registry_reaps_a_process_whose_first_thread_ends_before_the_others(
    tmp_path: Path,
) -> None:
    """Its first thread shows as a zombie while the others still exit: a stop that polled
    once at that moment left a zombie behind for the rest of the run."""
    proc = subprocess.Popen([sys.executable, "-c", LEADER_FIRST], stdout=subprocess.PIPE)
    try:
        assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
        reg = Registry.create(tmp_path, run="t4")
        reg.push_process(proc, "leader-first")
        assert reg.close() == []
        assert proc.returncode is not None  # reaped by the stop, not left a zombie
        assert not Path(f"/proc/{proc.pid}").exists()
    finally:
        if proc.returncode is None:
            proc.kill()
            proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()
