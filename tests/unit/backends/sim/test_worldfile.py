"""World files: the examples load, and bad input gets every error at once, where it is.

Each error names ``file:line``, the item (``VM/x``, ``Segment/y``, ``Router/z``), the field
path inside it and what to do — the same contract as router configs, including errors
inside a router config written inline (their lines are the World file's).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from routerd.backends.sim.worldfile.load import load_world_file, load_world_text
from routerd.examples import example_text, world_file

PROVIDERS = ["azure", "aws", "oci", "gcp"]

BASE = """\
apiVersion: sim.routerd.net/v1alpha1
kind: World
metadata:
  name: t
spec:
  sites:
    - name: cloud
      provider: aws
      segments:
        - name: fab
          subnet: 10.0.0.0/24
          gateway: 10.0.0.1
    - name: onprem
      segments:
        - name: lan
  vms:
    - name: vm1
      segment: lan
      address: 10.0.0.50/24
"""


def rendered(issues) -> list[str]:
    return [i.render() for i in issues]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_example_worlds_are_valid_and_pair_their_peers(provider: str) -> None:
    world = load_world_file(world_file(provider))
    assert world.valid, rendered(world.errors)
    assert world.warnings == []
    assert world.pairs == {
        ("cloud-router", "onprem-1"): ("onprem-router", "wg-sam"),
        ("onprem-router", "cloud-a"): ("cloud-router", "wg-sam"),
    }


def test_every_error_at_once_with_line_item_and_path() -> None:
    text = (
        BASE
        + """\
      colour: red
    - name: vm2
      segment: nowhere
      address: 10.0.0.51/24
    - name: vm3
      segment: fab
      address: 10.9.0.5/24
    - name: vm4
      segment: lan
      address: 10.0.0.50/24
      gateway: 192.168.1.1
"""
    )
    world = load_world_text(text, "w.yaml")
    assert not world.valid
    assert rendered(world.errors) == [
        "w.yaml:20: VM/vm1 colour: unknown field; check the spelling against "
        "docs/testing-automation.md or remove it",
        "w.yaml:22: VM/vm2 segment: no segment 'nowhere' (segments: fab, lan)",
        "w.yaml:26: VM/vm3 address: 10.9.0.5/24 is outside 10.0.0.0/24, the subnet of "
        "Segment/fab in aws",
        "w.yaml:30: VM/vm4 gateway: 192.168.1.1 is not on 10.0.0.0/24, the VM's link; use an "
        "address of that subnet",
    ]


def test_an_address_held_twice_on_a_link_is_an_error() -> None:
    text = BASE + "    - name: vm2\n      segment: lan\n      address: 10.0.0.50/24\n"
    [issue] = load_world_text(text, "w.yaml").errors
    assert issue.render() == (
        "w.yaml:22: VM/vm2 address: 10.0.0.50 is already held on Segment/lan by VM/vm1; "
        "give each host its own address"
    )


def test_field_errors_of_one_item_do_not_hide_others() -> None:
    text = BASE.replace("      address: 10.0.0.50/24\n", "      address: 10.0.0.300/24\n")
    text += "    - name: vm2\n      segment: nowhere\n      address: 10.0.0.51/24\n"
    world = load_world_text(text, "w.yaml")
    assert [(i.resource, i.path, i.line) for i in world.errors] == [
        ("VM/vm1", "address", 19),
        ("VM/vm2", "segment", 21),
    ]


def test_cloud_segments_need_subnet_and_gateway_and_onprem_ones_refuse_them() -> None:
    text = BASE.replace("          gateway: 10.0.0.1\n", "").replace(
        "        - name: lan\n", "        - name: lan\n          subnet: 10.0.0.0/24\n"
    )
    world = load_world_text(text, "w.yaml")
    assert [(i.resource, i.path) for i in world.errors] == [
        ("Segment/fab", "gateway"),
        ("Segment/lan", "subnet"),
    ]
    assert "Site/onprem a provider" in world.errors[1].message


def test_names_are_unique_and_internet_is_reserved() -> None:
    text = BASE + "    - name: vm1\n      segment: lan\n      address: 10.0.0.51/24\n"
    text += "    - name: internet\n      segment: lan\n      address: 10.0.0.52/24\n"
    world = load_world_text(text, "w.yaml")
    messages = [(i.resource, i.message) for i in world.errors]
    assert ("VM/vm1", "host names (VMs and routers) must be unique") in messages
    assert any(r == "VM/internet" and "core" in m for r, m in messages)


def test_a_router_config_given_as_world_is_named(tmp_path: Path) -> None:
    cfg = tmp_path / "r.yaml"
    cfg.write_text(example_text("aws", "cloud"))
    world = load_world_file(cfg)
    assert any("this is a Router config: give it with -c FILE" in i.message for i in world.errors)


def test_yaml_syntax_error_has_its_line() -> None:
    world = load_world_text(BASE + "  routers: [\n", "w.yaml")
    [issue] = world.errors
    assert issue.resource == "World" and issue.line is not None and "YAML" in issue.message


def two_routers(cloud: object, onprem: object) -> str:
    """The aws example world with both configs replaced (a path, or an inline document)."""
    doc = yaml.safe_load(world_file("aws").read_text())
    doc["spec"]["routers"][0]["config"] = cloud
    doc["spec"]["routers"][1]["config"] = onprem
    return yaml.safe_dump(doc, sort_keys=False)


def test_inline_config_errors_carry_world_file_lines() -> None:
    cloud = yaml.safe_load(example_text("aws", "cloud"))
    claim = next(r for r in cloud["spec"]["resources"] if r["kind"] == "RemoteAddressClaim")
    claim["spec"]["capture"]["type"] = "teleport"
    onprem = yaml.safe_load(example_text("aws", "onprem"))
    text = two_routers(cloud, onprem)
    world = load_world_text(text, "w.yaml")
    [issue] = world.errors
    assert issue.resource.startswith("RemoteAddressClaim/") and issue.file == "w.yaml"
    assert "teleport" in text.splitlines()[issue.line - 1]


def test_config_paths_are_relative_to_the_world_file(tmp_path: Path) -> None:
    (tmp_path / "cloud.yaml").write_text(example_text("aws", "cloud"))
    (tmp_path / "w.yaml").write_text(two_routers("cloud.yaml", "missing.yaml"))
    world = load_world_file(tmp_path / "w.yaml")
    [issue] = world.errors
    assert (issue.resource, issue.path) == ("Router/onprem-router", "config")
    assert (
        str(tmp_path / "missing.yaml") in issue.message and "relative to the World" in issue.message
    )


def test_a_peer_nobody_can_pair_is_an_error_saying_what_to_add() -> None:
    doc = yaml.safe_load(world_file("aws").read_text())
    third = dict(doc["spec"]["routers"][1], name="onprem-2")
    third["uplink"] = dict(
        third["uplink"],
        address="192.0.2.20/24",
        gateway="192.0.2.1",
        segment="u3",
        internetInterface="to-3",
    )
    third["interfaces"] = [dict(third["interfaces"][0], address="10.40.8.2/24")]
    third["config"] = str(world_file("aws").parent.parent / "aws" / "onprem.yaml")
    doc["spec"]["routers"].append(third)
    base = world_file("aws").parent
    world = load_world_text(yaml.safe_dump(doc, sort_keys=False), "w.yaml", base_dir=base)
    messages = [(i.resource, i.message) for i in world.errors]
    assert (
        "Router/cloud-router",
        "cannot tell which router WireGuardPeer/onprem-1 stands "
        "for; add 'onprem-1: ROUTER' under peers ('onprem-1: reflector' when it is the "
        "tunnel to the BGP route reflector)",
    ) in messages
    doc["spec"]["routers"][0]["peers"] = {"onprem-1": "onprem-router"}
    world = load_world_text(yaml.safe_dump(doc, sort_keys=False), "w.yaml", base_dir=base)
    assert world.valid, rendered(world.errors)
    assert world.pairs[("onprem-2", "cloud-a")] == ("cloud-router", "wg-sam")


def test_interfaces_the_config_uses_but_the_world_lacks_are_a_warning() -> None:
    doc = yaml.safe_load(world_file("aws").read_text())
    doc["spec"]["routers"][1]["interfaces"][0]["name"] = "eth1"
    base = world_file("aws").parent
    world = load_world_text(yaml.safe_dump(doc, sort_keys=False), "w.yaml", base_dir=base)
    assert world.valid
    [warning] = world.warnings
    assert warning.resource == "Router/onprem-router" and "'ens19'" in warning.message
    assert "capture-interface-missing" in warning.message


def test_a_declared_reflector_is_validated_field_by_field_and_built() -> None:
    from routerd.backends.sim import ManualClock
    from routerd.backends.sim.worldfile.build import build_world

    bad = BASE.replace(
        "  sites:\n",
        "  reflector:\n    address: 10.99.0.300\n    delay: soon\n    reconnect: 0s\n"
        "    domains: [10.77.0.0/33]\n  sites:\n",
        1,
    )
    errors = rendered(load_world_text(bad, "w.yaml").errors)
    assert len(errors) == 4, errors
    assert any("w.yaml:7: World spec.reflector.address: '10.99.0.300' is not" in e for e in errors)
    assert any("spec.reflector.delay: invalid duration 'soon'" in e for e in errors)
    assert any(
        "spec.reflector.reconnect: duration '0s' must be greater than zero" in e for e in errors
    )
    assert any(
        "w.yaml:10: World spec.reflector.domains: '10.77.0.0/33' is not" in e for e in errors
    )

    good = BASE.replace(
        "  sites:\n",
        "  reflector: {address: 10.99.0.1, routerID: 10.99.0.254, delay: 5ms, reconnect: 2s}\n"
        "  sites:\n",
        1,
    )
    spec = load_world_text(good).raise_for_errors()
    settings = build_world(spec, clock=ManualClock()).bgp.reflector.settings
    assert (settings.address, settings.router_id) == ("10.99.0.1", "10.99.0.254")
    assert (settings.delay, settings.reconnect, settings.asn, settings.domains) == (
        0.005,
        2.0,
        0,
        (),
    )
    assert not build_world(load_world_text(BASE).raise_for_errors()).has_bgp, "built lazily"


def test_a_peer_standing_for_the_reflector_is_left_as_written() -> None:
    doc = yaml.safe_load(world_file("aws").read_text())
    doc["spec"]["routers"][0]["peers"] = {"onprem-1": "reflector"}
    base = world_file("aws").parent
    world = load_world_text(yaml.safe_dump(doc, sort_keys=False), "w.yaml", base_dir=base)
    assert world.valid, rendered(world.errors)
    assert ("cloud-router", "onprem-1") not in world.pairs
    assert world.pairs[("onprem-router", "cloud-a")] == ("cloud-router", "wg-sam")
