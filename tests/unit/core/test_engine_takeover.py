"""A redundant pair's switch in the engine: every capture interface in standby at once
(``EVERY_INTERFACE``), routes kept, and a takeover announced for every captured address."""

from __future__ import annotations

from pathlib import Path

from routerd.core.capture import EVERY_INTERFACE
from routerd.core.engine import Engine, EngineSettings
from routerd.core.mobility.gateway import gateway_ifname
from routerd.keys import KeyFiles
from tests.support import configs
from tests.unit.core.fakehost import FakeHost

PROXY = "net.ipv4.conf.ens19.proxy_arp"
ROUTE = ("route", "254", "10.40.8.21/32")


def _engine(tmp_path: Path, host: FakeHost, *, garp: bool = True) -> Engine:
    text = configs.with_keys(configs.example_text("azure", "onprem"), tmp_path)
    if not garp:
        text = text.replace("gratuitousARP: true", "gratuitousARP: false")
        assert "gratuitousARP: false" in text
    cfg = configs.load(text)
    return Engine(
        host, cfg, settings=EngineSettings(key_dir=str(tmp_path / "keys")), keys=KeyFiles()
    )


def test_standby_before_the_first_pass_never_captures(tmp_path: Path) -> None:
    host = FakeHost()
    eng = _engine(tmp_path, host)
    eng.set_capture_active(EVERY_INTERFACE, False)
    eng.run_pass()
    assert host.sysctls.get(PROXY, "0") == "0"
    assert ROUTE in host.objects  # warm: the delivery route is there
    assert host.garps == []
    view = eng.snapshot.claims["cloud-vm-21"]
    assert view.reason == "capture-standby", (view.state, view.reason)


def test_takeover_announces_every_captured_address_once(tmp_path: Path) -> None:
    host = FakeHost()
    eng = _engine(tmp_path, host)
    eng.set_capture_active(EVERY_INTERFACE, False)
    eng.run_pass()
    eng.set_capture_active(EVERY_INTERFACE, True)
    eng.run_pass()
    assert host.sysctls[PROXY] == "1"
    assert host.garps == [("10.40.8.21", "ens19")]
    assert eng.snapshot.claims["cloud-vm-21"].state == "verified"
    eng.run_pass()
    assert host.garps == [("10.40.8.21", "ens19")]  # once, at the switch


def test_takeover_announces_even_without_gratuitous_arp(tmp_path: Path) -> None:
    host = FakeHost()
    eng = _engine(tmp_path, host, garp=False)
    eng.run_pass()
    assert host.garps == []  # the claim asks for none on capture
    eng.set_capture_active(EVERY_INTERFACE, False)
    eng.run_pass()
    assert host.sysctls.get(PROXY) == "0" and ROUTE in host.objects
    eng.set_capture_active(EVERY_INTERFACE, True)
    eng.run_pass()
    assert host.garps == [("10.40.8.21", "ens19")]


def test_a_gateway_leaving_standby_is_announced_in_that_pass(tmp_path: Path) -> None:
    host = FakeHost()
    site = configs.load(configs.with_keys(configs.example_text("mobility", "site-a"), tmp_path))
    eng = Engine(
        host, site, settings=EngineSettings(key_dir=str(tmp_path / "keys")), keys=KeyFiles()
    )
    eng.set_gateway_standby({"lab"})
    eng.set_capture_active(EVERY_INTERFACE, False)
    eng.run_pass()
    gw = gateway_ifname("lab")
    assert host.objects[("gateway", gw)].up is False  # type: ignore[union-attr]
    assert (("10.77.0.1", gw)) not in host.garps
    eng.set_gateway_standby(())
    eng.set_capture_active(EVERY_INTERFACE, True)
    eng.run_pass()
    assert host.objects[("gateway", gw)].up is True  # type: ignore[union-attr]
    assert host.garps.count(("10.77.0.1", gw)) == 1
    eng.run_pass()
    assert host.garps.count(("10.77.0.1", gw)) == 1


def test_a_capture_completing_after_the_switch_is_announced_too(tmp_path: Path) -> None:
    host = FakeHost()
    eng = _engine(tmp_path, host, garp=False)
    eng.set_capture_active(EVERY_INTERFACE, False)
    eng.run_pass()
    host.delete(ROUTE)  # the route went while standby and cannot come back at once
    host.fail[ROUTE] = "RTNETLINK answers: Network is unreachable"
    eng.set_capture_active(EVERY_INTERFACE, True)
    eng.request_full_pass()
    eng.run_pass()
    assert eng.snapshot.claims["cloud-vm-21"].state != "verified"
    assert host.garps == []  # nothing captured yet: nothing to announce
    del host.fail[ROUTE]
    clock = eng.clock
    eng.clock = lambda: clock() + 120  # past the route's backoff
    eng.run_pass()
    assert ROUTE in host.objects
    assert host.garps == [("10.40.8.21", "ens19")]


def _settings(tmp_path: Path) -> EngineSettings:
    return EngineSettings(key_dir=str(tmp_path / "keys"))
