"""``capture interface <if> MAC``: a capture bridge whose MAC follows its ports warns.

The recorded on-prem router captures on a bridge; its link attributes are served from a
fake sysfs tree (the recordings hold none), one attribute set per case.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from routerd.core.doctor import Status
from tests.unit.doctor.kit import Scene, one

Recorded = Callable[[str], Scene]
MAC = "5a:3c:00:11:22:33"


def link_attrs(s: Scene, ifname: str, *, assign: str, bridge: bool) -> None:
    d = Path(s.host.sysfs_root, "class", "net", ifname)
    d.mkdir(parents=True, exist_ok=True)
    (d / "addr_assign_type").write_text(assign + "\n")
    (d / "address").write_text(MAC + "\n")
    if bridge:
        (d / "bridge").mkdir(exist_ok=True)
        (d / "bridge" / "bridge_id").write_text("8000.5a3c00112233\n")


def test_bridge_without_a_fixed_mac_warns_and_says_how_to_pin_it(recorded: Recorded) -> None:
    s = recorded("healthy")
    br = s.names["br"]
    link_attrs(s, br, assign="1", bridge=True)
    f = one(s.doctor(), f"capture interface {br} MAC")
    assert f.status is Status.WARN
    assert f"bridge {br} has no fixed MAC ({MAC}, random)" in f.detail
    assert "changes it whenever a port joins or leaves" in f.detail
    assert f.remedy.startswith(f"pin it: ip link set dev {br} address {MAC}")
    assert "MACAddress=" in f.remedy and "docs/troubleshooting.md#capture-mac" in f.remedy


def test_bridge_with_a_set_mac_passes(recorded: Recorded) -> None:
    s = recorded("healthy")
    br = s.names["br"]
    link_attrs(s, br, assign="3", bridge=True)
    f = one(s.doctor(), f"capture interface {br} MAC")
    assert (f.status, f.detail) == (Status.PASS, f"bridge {br} has a fixed MAC {MAC} (set)")


def test_a_plain_nic_passes(recorded: Recorded) -> None:
    s = recorded("healthy")
    br = s.names["br"]
    link_attrs(s, br, assign="0", bridge=False)
    f = one(s.doctor(), f"capture interface {br} MAC")
    assert f.status is Status.PASS and "is not a bridge" in f.detail


def test_sysfs_of_another_namespace_is_a_skip_that_says_so(recorded: Recorded) -> None:
    s = recorded("healthy")
    f = one(s.doctor(), f"capture interface {s.names['br']} MAC")
    assert f.status is Status.SKIP
    assert "belongs to another network namespace" in f.detail


def test_one_finding_per_proxy_arp_capture_interface_and_none_on_the_cloud_side(
    recorded: Recorded,
) -> None:
    s = recorded("healthy")
    names = [f.name for f in s.doctor().findings if f.name.startswith("capture interface")]
    assert names == [f"capture interface {s.names['br']} MAC"]
    cloud = recorded("cloud-os-address")  # provider-secondary-ip: no proxy-ARP, no check
    assert not [f for f in cloud.doctor().findings if f.name.startswith("capture interface")]
