"""The anycast gateway in lowering: what a mobile domain's gateway lowers to, the standby
switch, who wins a key, and the engine creating, switching and removing it."""

from __future__ import annotations

from pathlib import Path

import pytest

from routerd.core.composition import Composition
from routerd.core.config import RouterConfig
from routerd.core.desired import GatewayDevice, Key
from routerd.core.engine import Engine, EngineSettings
from routerd.core.loader import load_text
from routerd.core.lowering import claim_context, lower
from routerd.core.mobility.gateway import PREFIX, gateway_ifname, gateway_objects
from routerd.core.port import describe_object
from routerd.core.tail import TailInputs, lower_tail
from routerd.keys import KeyFiles
from tests.support import configs
from tests.unit.core.fakehost import FakeHost

GW = gateway_ifname("lab")
GW_KEY: Key = ("gateway", GW)
SITE_A = configs.example_text("mobility", "site-a")
GATEWAY_BLOCK = (
    "          gateway:                       "
    "# every on-prem site answers for it, same IP and MAC\n"
    "            address: 10.77.0.1\n"
    '            mac: "02:00:00:4d:00:01"\n'
)


def site(tmp_path: Path, text: str = SITE_A) -> RouterConfig:
    return configs.load(configs.with_keys(text, tmp_path))


def gateway_lines(config: RouterConfig) -> list[str]:
    """The lowered objects the domain owns, described."""
    low = lower(config)
    label = "AddressMobilityDomain/lab"
    return sorted(
        describe_object(obj)
        for key, obj in low.desired.objects.items()
        if label in low.desired.owners.get(key, ())
    )


def test_an_onprem_site_lowers_the_gateway_device_and_its_settings(tmp_path: Path) -> None:
    # golden: the device on the capture interface (ens19), the parent's ARP settings, the
    # device's own, and forwarding; nothing about proxy_arp on the device (claims own it).
    assert gateway_lines(site(tmp_path)) == sorted(
        [
            f"anycast gateway {GW} (10.77.0.1/32 02:00:00:4d:00:01 on ens19, macvlan bridge)",
            "sysctl net.ipv4.conf.ens19.arp_announce=2",
            "sysctl net.ipv4.conf.ens19.arp_ignore=1",
            "sysctl net.ipv4.conf.ens19.medium_id=1",
            "sysctl net.ipv4.conf.ens19.proxy_arp=0",
            f"sysctl net.ipv4.conf.{GW}.arp_ignore=1",
            f"sysctl net.ipv4.conf.{GW}.forwarding=1",
            f"sysctl net.ipv4.conf.{GW}.medium_id=1",
            f"sysctl net.ipv4.conf.{GW}.rp_filter=2",
            f"sysctl net.ipv4.neigh.{GW}.proxy_delay=0",
            "sysctl net.ipv4.ip_forward=1",
        ]
    )


def test_the_device_name_is_derived_short_and_distinct() -> None:
    # golden: routers of every version and the doctor must derive the same name
    assert gateway_ifname("lab") == "rdgw-a51146d3"
    assert GW.startswith(PREFIX) and len(GW) <= 15
    assert len({gateway_ifname(f"domain-{i}") for i in range(1000)}) == 1000


def test_no_gateway_without_one_configured_at_a_cloud_site_or_without_mobility(
    tmp_path: Path,
) -> None:
    assert gateway_lines(site(tmp_path, SITE_A.replace(GATEWAY_BLOCK, ""))) == []
    assert gateway_lines(site(tmp_path, configs.example_text("mobility", "site-c"))) == []
    plain = configs.single("azure", "onprem", tmp_path)
    assert not any(k[0] == "gateway" for k in lower(plain).desired.objects)


def test_the_arp_ignore_of_the_capture_interface_accepts_the_stricter_mode(tmp_path: Path) -> None:
    objects = gateway_objects(site(tmp_path))
    arp_ignore = objects[("sysctl", "net.ipv4.conf.ens19.arp_ignore")][0]
    assert arp_ignore.ok("1") and arp_ignore.ok("2")  # type: ignore[union-attr]
    assert not arp_ignore.ok("0") and not arp_ignore.ok("8")  # type: ignore[union-attr]


def test_standby_keeps_the_device_down_and_changes_nothing_else(tmp_path: Path) -> None:
    context = claim_context(site(tmp_path))
    active = lower_tail(context, TailInputs(allowed={}, mss={}))
    standby = lower_tail(
        context, TailInputs(allowed={}, mss={}, gateway_standby=frozenset({"lab"}))
    )

    device = standby[GW_KEY][0]
    assert isinstance(device, GatewayDevice) and not device.up
    assert active[GW_KEY][0] == GatewayDevice(device.ifname, "ens19", device.mac, device.addresses)
    assert {k for k in active if active[k] != standby[k]} == {GW_KEY}


def test_switching_standby_in_a_kept_composition_changes_exactly_the_device(
    tmp_path: Path,
) -> None:
    comp = Composition(claim_context(site(tmp_path)))
    before = dict(comp.publish().desired.objects)
    comp.take_changed_keys()

    comp.set_tail_inputs(
        generation=0, key_dir=comp.key_dir, public_keys={}, gateway_standby=frozenset({"lab"})
    )
    after = dict(comp.publish().desired.objects)

    assert GW_KEY in comp.take_changed_keys()  # the next pass looks at the device
    assert {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)} == {GW_KEY}
    assert after[GW_KEY].up is False  # type: ignore[union-attr]


def test_a_user_sysctl_wins_over_the_gateways(tmp_path: Path) -> None:
    user = """
    - apiVersion: system.routerd.net/v1alpha1
      kind: Sysctl
      metadata: {name: announce}
      spec: {key: net.ipv4.conf.ens19.arp_announce, value: 1}
"""
    text = SITE_A.replace(
        "\n    - apiVersion: hybrid.routerd.net/v1alpha1\n      kind: BGPSpeaker",
        user + "\n    - apiVersion: hybrid.routerd.net/v1alpha1\n      kind: BGPSpeaker",
        1,
    )
    low = lower(site(tmp_path, text))
    key = ("sysctl", "net.ipv4.conf.ens19.arp_announce")
    assert low.desired.objects[key].value == "1"  # type: ignore[union-attr]


@pytest.fixture
def engine(tmp_path: Path) -> tuple[Engine, FakeHost]:
    host = FakeHost()
    settings = EngineSettings(key_dir=str(tmp_path / "keys"))
    return Engine(host, site(tmp_path), keys=KeyFiles(), settings=settings), host


def test_the_engine_creates_switches_and_removes_the_gateway(
    engine: tuple[Engine, FakeHost], tmp_path: Path
) -> None:
    eng, host = engine
    eng.run_pass()
    device = host.objects[GW_KEY]
    assert isinstance(device, GatewayDevice) and device.up

    host.applied.clear()
    eng.set_gateway_standby({"lab"})
    eng.run_pass()
    assert [(c.op, c.key) for c in host.applied] == [("replace", GW_KEY)]
    assert host.objects[GW_KEY].up is False  # type: ignore[union-attr]

    host.applied.clear()
    eng.set_gateway_standby(())
    eng.run_pass()
    assert [(c.op, c.key) for c in host.applied] == [("replace", GW_KEY)]
    assert host.objects[GW_KEY].up is True  # type: ignore[union-attr]

    host.applied.clear()
    eng.set_startup(site(tmp_path, SITE_A.replace(GATEWAY_BLOCK, "")))
    eng.run_pass()
    removed = {c.key for c in host.applied if c.op == "remove"}
    assert GW_KEY in removed and GW_KEY not in host.objects
    assert ("sysctl", "net.ipv4.conf.ens19.arp_announce") in removed  # restored


def test_two_gateways_on_one_capture_interface_are_refused(tmp_path: Path) -> None:
    start = SITE_A.index(
        "    - apiVersion: hybrid.routerd.net/v1alpha1\n      kind: AddressMobilityDomain"
    )
    second = (
        SITE_A[start:]
        .replace("name: lab", "name: lab2")
        .replace("10.77.0.0/16", "10.78.0.0/16")
        .replace("10.77.0.1", "10.78.0.1")
        .replace("02:00:00:4d:00:01", "02:00:00:4e:00:01")
        .replace("exclude: [10.77.0.2/31]", "exclude: []")
    )
    result = load_text(configs.with_keys(SITE_A + second, tmp_path))
    errors = [e.render() for e in result.errors]
    assert len(errors) == 1, errors
    assert "AddressMobilityDomain/lab2" in errors[0]
    assert "spec.mobility.gateway" in errors[0]
    assert "ens19 already carries the anycast gateway of AddressMobilityDomain/lab" in errors[0]
