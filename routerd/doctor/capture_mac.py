"""Is a proxy-ARP capture interface's MAC address stable? A bridge without a fixed one is not.

Proxy-ARP answers carry the capture interface's MAC, and LAN hosts cache it for every
captured address. A Linux bridge whose address was never set takes the lowest MAC among its
ports and changes it, silently, whenever a port joins or leaves (a VM started or stopped
on a hypervisor bridge); hosts that cached the old MAC then send into the void until they
re-probe (about 15 s with Linux defaults). routerd re-announces its captures when it sees
the change, but only pinning the address removes the cause: after ``ip link set dev BR
address MAC`` the kernel reports ``addr_assign_type`` 3 (set) and keeps it.

Read from sysfs (``/sys/class/net/<if>/``, once per run): ``bridge/`` exists only for
bridges; ``addr_assign_type`` is 0 permanent, 1 random, 2 stolen, 3 set. sysfs shows the
network namespace that mounted it, so a doctor run by ``setns()`` alone sees another
namespace's links; that is a SKIP saying so, never a guess.
"""

from __future__ import annotations

from routerd.core.doctor import Finding, Status
from routerd.doctor import kernel_tables
from routerd.doctor.inputs import Inputs

AREA = "hybrid"
FIXED = {"0": "permanent", "3": "set"}
MOVING = {"1": "random", "2": "stolen"}


def name(ifname: str) -> str:
    return f"capture interface {ifname} MAC"


def check(inputs: Inputs, ifname: str) -> Finding:
    """``capture interface <if> MAC``: warn for a bridge whose MAC follows its ports."""
    host = inputs.host
    assign = host.netdev(ifname, "addr_assign_type")
    if assign is None:
        if kernel_tables.link(inputs, ifname) is not None:
            why = (
                f"{ifname} exists but {host.sysfs_root}/class/net/{ifname} does not: /sys "
                "belongs to another network namespace (run the doctor with `ip netns exec`)"
            )
        else:
            why = f"{host.sysfs_root}/class/net/{ifname}/addr_assign_type is not readable"
        return Finding(AREA, name(ifname), Status.SKIP, why)
    mac = host.netdev(ifname, "address") or "?"
    if host.netdev(ifname, "bridge/bridge_id") is None:
        detail = f"{ifname} is not a bridge: its MAC {mac} changes only when someone sets it"
        return Finding(AREA, name(ifname), Status.PASS, detail)
    if assign in FIXED:
        detail = f"bridge {ifname} has a fixed MAC {mac} ({FIXED[assign]})"
        return Finding(AREA, name(ifname), Status.PASS, detail)
    how = MOVING.get(assign, f"addr_assign_type {assign}")
    return Finding(
        AREA,
        name(ifname),
        Status.WARN,
        f"bridge {ifname} has no fixed MAC ({mac}, {how}): it takes the lowest MAC of its "
        "ports and changes it whenever a port joins or leaves; LAN hosts that cached the "
        "old MAC for a captured address lose traffic until they re-probe (routerd "
        "re-announces its captures on a change it sees)",
        f"pin it: ip link set dev {ifname} address {mac}, and make it permanent in the "
        "bridge's config (systemd-networkd: MACAddress= in the .netdev [NetDev] section; "
        "ifupdown: hwaddress ether <mac>; NetworkManager: bridge.mac-address); "
        "see docs/troubleshooting.md#capture-mac",
    )
