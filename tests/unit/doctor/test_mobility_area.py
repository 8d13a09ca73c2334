"""The ``mobility`` doctor area as a whole: dispatch, order, what it says when off, VRRP frames."""

from __future__ import annotations

import socket
import struct
from pathlib import Path

import pytest

from routerd.cli import routerctl_main
from routerd.core.doctor import AREAS, DoctorContext, Status
from routerd.core.redundancy import Role
from routerd.doctor import mobility_homes, run_doctor
from routerd.doctor.vrrp import parse
from tests.support.configs import example_text, load, with_keys
from tests.unit.doctor.kit import answering
from tests.unit.doctor.mobility_kit import (
    PAIR,
    FakeRoles,
    Segment,
    adverts,
    config,
    doctor,
    exchange,
    port,
)


def test_mobility_is_a_doctor_area_routerctl_accepts() -> None:
    assert "mobility" in AREAS
    with pytest.raises(SystemExit) as e:
        routerctl_main.main(["doctor", "--help"])
    assert e.value.code == 0


def test_a_router_without_mobility_or_pair_gets_one_skip(tmp_path: Path) -> None:
    cfg = load(with_keys(example_text("oci", "onprem"), tmp_path / "keys"))
    report = run_doctor("mobility", DoctorContext(startup=cfg), host=answering(tmp_path))
    assert [(f.name, f.status) for f in report.findings] == [("AddressMobilityDomain", Status.SKIP)]
    assert "address mobility is off" in report.findings[0].detail
    assert report.overall is Status.SKIP


def test_a_pair_without_mobility_still_gets_its_pair_checks(tmp_path: Path) -> None:
    text = with_keys(example_text("oci", "onprem"), tmp_path / "keys")
    cfg = load(text.rstrip("\n") + "\n" + PAIR.replace("interface: lan", "interface: ens19"))
    roles = FakeRoles(Role.ACTIVE)
    report, _ = doctor(
        tmp_path, cfg=cfg, roles=roles, segment=Segment(adverts=adverts("10.40.8.2", outgoing=True))
    )
    names = [f.name for f in report.findings]
    assert names == [
        "AddressMobilityDomain",
        "RedundancyGroup/site-a-pair role",
        "RedundancyGroup/site-a-pair active routers",
    ]
    assert report.findings[2].status is Status.PASS


def test_findings_come_in_a_stable_order(tmp_path: Path) -> None:
    mob = port()
    report, _ = doctor(tmp_path, cfg=config(pair=True), mobility=mob, ex=exchange(),
                       roles=FakeRoles(Role.ACTIVE),
                       segment=Segment(adverts=adverts("10.77.0.2", outgoing=True)))  # fmt: skip
    assert [f.name for f in report.findings] == [
        "AddressMobilityDomain/lab config",
        "BGPSpeaker/bgp config",
        "BGPSpeaker/bgp speaker",
        "BGPSpeaker/bgp neighbor 10.255.0.1",
        "BGPSpeaker/bgp import filter",
        "AddressMobilityDomain/lab conflicting homes",
        "AddressMobilityDomain/lab captured at its home",
        "AddressMobilityDomain/lab homes unconfirmed",
        "AddressMobilityDomain/lab superseded sequences",
        "AddressMobilityDomain/lab announcements",
        "AddressMobilityDomain/lab presence evidence",
        "AddressMobilityDomain/lab gateway 10.77.0.1",
        "AddressMobilityDomain/lab duplicate responders",
        "RedundancyGroup/site-a-pair role",
        "RedundancyGroup/site-a-pair active routers",
    ]
    assert report.overall is Status.PASS, [(f.name, f.detail) for f in report.findings]
    assert {f.area for f in report.findings} == {"mobility"}


def test_config_warnings_of_the_domain_are_shown_where_mobility_is_read(tmp_path: Path) -> None:
    text = example_text("mobility", "site-a").replace('"02:00:00:4d:00:01"', '"00:16:3e:4d:00:01"')
    cfg = load(with_keys(text, tmp_path / "keys"))
    report, _ = doctor(tmp_path, cfg=cfg)
    f = next(f for f in report.findings if f.name == "AddressMobilityDomain/lab config")
    assert f.status is Status.WARN
    assert f.detail.startswith("spec.mobility.gateway.mac: 00:16:3e:4d:00:01 is a universally")
    assert "routerd validate" in f.remedy


def test_a_check_that_crashes_is_one_failing_finding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*_: object) -> object:
        raise KeyError("lost")

    monkeypatch.setattr(mobility_homes, "findings", boom)
    report, _ = doctor(tmp_path, mobility=port(), ex=exchange())
    f = next(f for f in report.findings if f.name == "AddressMobilityDomain/lab homes")
    assert f.status is Status.FAIL and "KeyError" in f.detail
    assert any(f.name.endswith("gateway 10.77.0.1") for f in report.findings)


def _frame(version: int, vrid: int, priority: int, proto: int = 112) -> bytes:
    eth = b"\x01\x00\x5e\x00\x00\x12" + b"\x00\x00\x5e\x00\x01\x2a" + struct.pack("!H", 0x0800)
    ip = bytes([0x45, 0, 0, 40, 0, 0, 0, 0, 255, proto, 0, 0])
    ip += socket.inet_aton("10.77.0.3") + socket.inet_aton("224.0.0.18")
    vrrp = bytes([(version << 4) | 1, vrid, priority, 1, 0, 10, 0, 0]) + socket.inet_aton(
        "10.77.0.254"
    )
    return eth + ip + vrrp


def test_vrrp_frames_decode_and_others_are_ignored() -> None:
    got = parse(_frame(3, 42, 100), 0.25, outgoing=False)
    assert got is not None
    assert (got.source, got.vrid, got.priority, got.at, got.outgoing) == (
        "10.77.0.3",
        42,
        100,
        0.25,
        False,
    )
    assert parse(_frame(2, 7, 0), 0.0) is not None
    assert parse(_frame(4, 42, 100), 0.0) is None  # no such VRRP version
    assert parse(_frame(3, 42, 100, proto=17), 0.0) is None  # UDP
    assert parse(_frame(3, 42, 100)[:40], 0.0) is None  # truncated
