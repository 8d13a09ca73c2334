"""Sysctl paths and the keeper's remember-and-restore bookkeeping (on a fake /proc/sys)."""

from __future__ import annotations

from pathlib import Path

import pytest

from routerd.backends.linux.sysctl import SysctlKeeper, sysctl_path
from routerd.core.errors import DataplaneError
from routerd.state.store import Store


def test_paths_keep_dots_inside_interface_names():
    root = Path("/proc/sys")
    assert sysctl_path("net.ipv4.ip_forward") == root / "net/ipv4/ip_forward"
    assert (
        sysctl_path("net.ipv4.conf.eth0.100.proxy_arp") == root / "net/ipv4/conf/eth0.100/proxy_arp"
    )
    assert (
        sysctl_path("net.ipv4.conf.eth0/100.rp_filter") == root / "net/ipv4/conf/eth0.100/rp_filter"
    )
    with pytest.raises(ValueError):
        sysctl_path("net/ipv4/../x")


@pytest.fixture
def keeper(tmp_path: Path) -> SysctlKeeper:
    """Name: keeper / Scope: function / Depends: tmp_path (fake /proc/sys and store)."""
    root = tmp_path / "sys"
    for name, value in {"net/ipv4/ip_forward": "0", "net/ipv4/conf/ens19/proxy_arp": "1"}.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(value + "\n")
    return SysctlKeeper(Store.open(tmp_path / "state"), root)


def test_previous_value_remembered_and_restored(keeper: SysctlKeeper):
    keeper.set("net.ipv4.ip_forward", "1")
    keeper.set("net.ipv4.ip_forward", "1")
    assert keeper.read("net.ipv4.ip_forward") == "1"
    assert keeper.owned() == {"net.ipv4.ip_forward": "0"}
    keeper.restore("net.ipv4.ip_forward")
    assert keeper.read("net.ipv4.ip_forward") == "0" and keeper.owned() == {}


def test_value_already_right_is_not_owned(keeper: SysctlKeeper):
    keeper.set("net.ipv4.conf.ens19.proxy_arp", "1")
    assert keeper.owned() == {}
    keeper.restore("net.ipv4.conf.ens19.proxy_arp")
    assert keeper.read("net.ipv4.conf.ens19.proxy_arp") == "1"


def test_missing_interface_is_a_retryable_error(keeper: SysctlKeeper):
    with pytest.raises(DataplaneError) as err:
        keeper.set("net.ipv4.conf.wg-sam.rp_filter", "2")
    assert err.value.errno == 2 and err.value.retryable


def test_accepted_value_is_left_alone(keeper: SysctlKeeper):
    keeper.set("net.ipv4.ip_forward", "2", frozenset({"0", "2"}))
    assert keeper.read("net.ipv4.ip_forward") == "0" and keeper.owned() == {}
