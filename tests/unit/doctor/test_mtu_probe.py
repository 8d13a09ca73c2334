"""--probe: DF-ping the peer's overlay address and judge the installed clamp against it."""

from __future__ import annotations

from collections.abc import Callable

from routerd.core.doctor import DoctorContext, Status
from routerd.doctor import mtu_probe
from routerd.doctor.inputs import resolve
from tests.unit.doctor.intents import with_facts
from tests.unit.doctor.kit import Scene, not_found, one

Recorded = Callable[[str], Scene]
CHECK = "vm31 path MTU probe"


def test_probe_runs_only_with_probe_flag(recorded: Recorded) -> None:
    s = recorded("healthy")
    assert not [f for f in s.doctor().findings if f.name.endswith(CHECK)]
    assert not [c for c in s.host.calls if c[0] == "ping"]


def test_full_path_passes_with_the_measured_mss(recorded: Recorded) -> None:
    f = one(recorded("healthy").doctor(probe=True), CHECK)
    assert f.status is Status.PASS
    assert "measured 1420 bytes" in f.detail and "MSS 1380" in f.detail


def test_clamp_above_the_measured_path_fails(recorded: Recorded) -> None:
    s = recorded("small-path")
    f = one(s.doctor(probe=True), CHECK)
    assert f.status is Status.FAIL
    measured = int(f.detail.split("measured ")[1].split()[0])
    assert 1200 <= measured < 1340  # the clamp's 1300 + 40 does not fit
    assert f"spec.pathMTU: {measured + 60}" in f.remedy
    sizes = [int(c[4]) + 28 for c in s.host.calls if c[:3] == ("ping", "-M", "do")]
    assert sizes[0] == 1200 and max(sizes) == 1420  # floor, ceiling, then bisection


def test_missing_clamp_on_a_stepped_down_path_fails(recorded: Recorded) -> None:
    f = one(recorded("mss-absent").doctor(probe=True), CHECK)
    assert f.status is Status.FAIL and "exceeds the path" in f.detail


def test_no_overlay_addresses_skip(recorded: Recorded) -> None:
    s = recorded("healthy")
    inputs = resolve(DoctorContext(startup=s.config), s.host)
    f = mtu_probe.check(inputs, with_facts(inputs.intents["vm31"], peer_overlay=""))
    assert f.status is Status.SKIP and "overlay addresses" in f.detail


def test_ping_not_installed_skips(recorded: Recorded) -> None:
    s = recorded("healthy")
    s.host.with_command(not_found("ping", "-c", "1", "-W", "1", "-I", "10.255.40.1", "10.255.40.0"))
    f = one(s.doctor(probe=True), CHECK)
    assert f.status is Status.SKIP and "not installed" in f.detail


def test_peer_silent_at_the_floor_warns(recorded: Recorded) -> None:
    s = recorded("healthy")
    df_floor = [
        "ping",
        "-M",
        "do",
        "-s",
        "1172",
        "-c",
        "1",
        "-W",
        "1",
        "-I",
        "10.255.40.1",
        "10.255.40.0",
    ]
    s.host.with_command(
        {"argv": df_floor, "rc": 1, "stdout": "1 packets transmitted, 0 received\n", "stderr": ""}
    )
    f = one(s.doctor(probe=True), CHECK)
    assert f.status is Status.WARN and "no reply" in f.detail
