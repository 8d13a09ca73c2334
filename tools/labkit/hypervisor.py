"""Live migration's mechanics: the two hypervisors' switches and the VM moving between them.

The migrating VM's interface never changes: its veth peer ``p-mig`` sits in the ``hv``
namespace, which holds one bridge per on-prem site (that site's hypervisor's virtual
switch, ``br-<letter>``) with an uplink into the site's LAN. Migrating is moving ``p-mig``
from one switch to the other (one netlink request: its master changes), then the VM's
gratuitous ARP, as a hypervisor makes a resumed VM send. The VM keeps its namespace,
addresses, MAC, sockets, carrier and ARP cache, as a live-migrated VM does.

Two switches, not one bridge with an uplink per site: a single bridge keeps what it learned
on the old uplink (the anycast gateway's MAC, every host left behind) and would keep sending
the VM's frames there. Not link states either: a link brought up forwards only once the
kernel's link-watch work has run, and a gratuitous ARP sent in between is lost.

The switch-over runs in a ``NetnsWorker`` in ``hv`` holding a netlink socket there and a
packet socket opened inside the VM's namespace, so one call moves the port and announces
the VM (two ``ip`` processes and a worker round trip took 100-700 ms on a loaded machine:
longer than the outage being measured).
"""

from __future__ import annotations

import socket
import time

from pyroute2 import IPRoute

from routerd.backends.linux.garp import garp_frames
from tests.support.netns import STATE, setns

ETH_P_ARP = 0x0806


def switch_name(letter: str) -> str:
    """The hypervisor switch (bridge, in ``hv``) of the site with this letter."""
    return f"br-{letter}"


def open_switch(hv_ns: str, vm_ns: str, vm_dev: str, port: str, switches: dict[str, str]) -> None:
    """Run in the ``hv`` worker: netlink here, the VM's packet socket, interface indexes.

    Args:
        hv_ns: this worker's namespace (returned to after opening the VM's socket).
        vm_ns: the VM's namespace.
        vm_dev: the VM's interface.
        port: the VM's veth peer in ``hv``.
        switches: site name -> that site's switch (a bridge in ``hv``).
    """
    ipr = IPRoute()
    index = {site: ipr.link_lookup(ifname=name)[0] for site, name in switches.items()}
    port_index = ipr.link_lookup(ifname=port)[0]
    setns(vm_ns)
    try:
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP))
        sock.bind((vm_dev, ETH_P_ARP))
    finally:
        setns(hv_ns)
    STATE.update(ipr=ipr, index=index, port=port_index, sock=sock)


def migrate(to: str, addresses: list[str]) -> tuple[float, float]:
    """Move the VM to ``to``'s switch and announce ``addresses``; (moved at, GARP at)."""
    ipr: IPRoute = STATE["ipr"]
    sock: socket.socket = STATE["sock"]
    t_cut = time.monotonic()
    ipr.link("set", index=STATE["port"], master=STATE["index"][to])
    t_garp = time.monotonic()
    mac = sock.getsockname()[4]
    for address in addresses:
        for frame in garp_frames(mac, address):
            sock.send(frame)
    return t_cut, t_garp
