"""``doctor mobility`` on the capture segment: the anycast gateway and duplicate responders.

The sweep answers are what the real sweep returned in a namespace experiment (see
tests/netns/test_doctor_mobility.py, which runs the same checks against real kernels): a
sweep from the capture interface never hears this router's own gateway child, so this
router's answers come from the kernel dumps.
"""

from __future__ import annotations

from pathlib import Path

from routerd.core.doctor import Status
from routerd.doctor import responder
from tests.support.configs import example_text, load, with_keys
from tests.unit.doctor.mobility_kit import (
    GW,
    GW_DEV,
    GW_MAC,
    LAN,
    LAN_MAC,
    Segment,
    addrs,
    derived,
    doctor,
    links,
    named,
    port,
)

D = "AddressMobilityDomain/lab"
GATEWAY = f"{D} gateway {GW}"
HOST_MAC = "c2:18:01:64:3e:9a"


def test_only_this_routers_gateway_with_the_configured_mac_passes(tmp_path: Path) -> None:
    report, host = doctor(tmp_path, mobility=port())
    f = named(report, GATEWAY)
    assert f.status is Status.PASS
    assert f.detail == f"answered with {GW_MAC} only (this router's {GW_DEV})"
    sweeps = [c for c in host.calls if c[0] == "arp-sweep"]
    assert sweeps == [("arp-sweep", LAN, GW)]  # one sweep per interface, gateway included


def test_arp_flux_on_the_capture_interface_fails_naming_its_mac(tmp_path: Path) -> None:
    report, _ = doctor(tmp_path, segment=Segment(arp_ignore="0"))
    f = named(report, GATEWAY)
    assert f.status is Status.FAIL
    assert f"{LAN_MAC} (this router's {LAN}: arp_ignore is 0)" in f.detail
    assert f"and with {GW_MAC} (this router's {GW_DEV})" in f.detail
    assert "arp_ignore=1" in f.remedy


def test_a_host_holding_the_gateway_address_fails(tmp_path: Path) -> None:
    report, _ = doctor(tmp_path, segment=Segment(replies={GW: [HOST_MAC]}))
    f = named(report, GATEWAY)
    assert f.status is Status.FAIL
    assert f"another MAC than the configured {GW_MAC}: {HOST_MAC} (on the segment)" in f.detail


def test_a_gateway_held_with_another_mac_fails(tmp_path: Path) -> None:
    segment = Segment(links=links(gateway_mac="02:00:00:4d:00:99"))
    f = named(doctor(tmp_path, segment=segment)[0], GATEWAY)
    assert f.status is Status.FAIL
    assert f"02:00:00:4d:00:99 (this router's {GW_DEV})" in f.detail


def test_the_gateway_on_the_capture_interface_itself_answers_with_its_mac(tmp_path: Path) -> None:
    f = named(doctor(tmp_path, segment=Segment(addrs=addrs(gateway_on=LAN)))[0], GATEWAY)
    assert f.status is Status.FAIL and f"{LAN_MAC} (this router's {LAN})" in f.detail


def test_the_partner_answering_with_the_gateway_mac_passes(tmp_path: Path) -> None:
    segment = Segment(addrs=addrs(gateway_on=""), replies={GW: [GW_MAC]})
    f = named(doctor(tmp_path, segment=segment)[0], GATEWAY)
    assert f.status is Status.PASS and "(on the segment)" in f.detail


def test_nobody_answering_for_the_gateway_fails(tmp_path: Path) -> None:
    f = named(doctor(tmp_path, segment=Segment(addrs=addrs(gateway_on="")))[0], GATEWAY)
    assert f.status is Status.FAIL and f.detail == f"nobody answers for {GW} on {LAN}"


def test_a_failed_sweep_or_no_host_skips_with_the_reason(tmp_path: Path) -> None:
    denied = "permission denied opening a raw ARP socket (run the doctor as root)"
    f = named(doctor(tmp_path, segment=Segment(sweep_error=denied))[0], GATEWAY)
    assert f.status is Status.SKIP and f.detail == denied
    report, host = doctor(tmp_path / "b", host=False)
    assert named(report, GATEWAY).status is Status.SKIP and host.calls == []
    report, _ = doctor(tmp_path / "c", backend="sim")
    assert "backend sim" in named(report, GATEWAY).detail


def test_a_cloud_site_skips_the_segment_checks(tmp_path: Path) -> None:
    cloud = load(with_keys(example_text("mobility", "site-c"), tmp_path / "keys"))
    report, host = doctor(tmp_path, cfg=cloud)
    f = named(report, f"{D} gateway")
    assert f.status is Status.SKIP and "provider's fabric is the gateway" in f.detail
    f = named(report, f"{D} duplicate responders")
    assert f.status is Status.SKIP and "cloud site" in f.detail
    assert not [c for c in host.calls if c[0] == "arp-sweep"]


def test_an_onprem_domain_without_a_gateway_skips_it(tmp_path: Path) -> None:
    text = example_text("mobility", "site-a")
    start = text.index("          gateway:")
    end = text.index("          exclude:")
    cfg = load(with_keys(text[:start] + text[end:], tmp_path / "keys"))
    f = named(doctor(tmp_path, cfg=cfg)[0], f"{D} gateway")
    assert f.status is Status.SKIP and "no spec.mobility.gateway" in f.detail


def test_two_responders_for_a_captured_address_fail_keyed_by_address(tmp_path: Path) -> None:
    claims = [derived("10.77.3.9"), derived("10.77.3.10")]
    segment = Segment(captured=["10.77.3.9", "10.77.3.10"], replies={"10.77.3.9": [HOST_MAC]})
    report, host = doctor(tmp_path, mobility=port(), claims=claims, segment=segment)
    f = named(report, f"{D} 10.77.3.9 duplicate responders")
    assert f.status is Status.FAIL
    assert f.claim == "mobility.lab.10-77-3-9"
    assert HOST_MAC in f.detail and "this router (proxy-ARP" in f.detail
    assert f.remedy == responder.REMEDY
    assert [c for c in host.calls if c[0] == "arp-sweep"] == [
        ("arp-sweep", LAN, GW, "10.77.3.9", "10.77.3.10")
    ]


def test_one_responder_per_captured_address_passes(tmp_path: Path) -> None:
    claims = [derived("10.77.3.9")]
    report, _ = doctor(tmp_path, claims=claims)
    f = named(report, f"{D} duplicate responders")
    assert f.status is Status.PASS
    assert f.detail == f"1 captured address(es) on {LAN}, one responder at most"
