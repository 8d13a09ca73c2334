"""Segments for the anycast-gateway tests: routers with routerd's gateway device, VMs, a far host.

``site`` builds one router ``r`` whose capture interface is either a plain NIC (a veth into
a switch namespace's bridge, as a router VM on a hypervisor has it) or a Linux bridge on
the router itself (a router that is its own hypervisor switch), a VM on that segment
(default route via the gateway) and ``far`` behind a second link of the router, holding
the destination ``FAR`` and the address ``CAPTURED`` that the router captures for it.
``two_sites`` builds two such routers on two bridges of one switch, sharing ``far``; the
VM's switch port moves between the bridges (a live migration keeps namespace, address and
MAC). What routerd applies is ``gateway_state``: lowering's gateway objects for the
mobility example with the capture interface renamed, plus what a claim capturing
``CAPTURED`` on the device would add (its route to ``far`` and ``proxy_arp`` on the device).

The functions at the end run inside a namespace (``run_in_netns``).
"""

from __future__ import annotations

import dataclasses
import json
import select
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from routerd.core import desired as d
from routerd.core.mobility.gateway import gateway_ifname, gateway_objects
from routerd.doctor.arp import ETH_P_ARP, parse_reply, request_frame
from tests.support import configs
from tests.support.netns import Netns, veth

GW_IP, GW_MAC = "10.77.0.1", "02:00:00:4d:00:01"
GW = gateway_ifname("lab")
VM_IP, FAR, CAPTURED, UNCLAIMED = "10.77.3.9", "10.99.0.2", "10.77.3.20", "10.77.3.50"
ROUTER_IPS = ("10.77.0.2", "10.77.0.3")
PREFIX = "10.77.0.0/16"


@dataclass
class Site:
    r: Netns
    cap: str  # the router's capture interface
    tun: str  # the router's link toward far
    router_ip: str
    uplink: str  # "10.9.N": router .1, far .2

    def mac(self, ifname: str) -> str:
        return str(self.r.ipj("link", "show", ifname)[0]["address"])


@dataclass
class Lan:
    sites: list[Site]
    vm: Netns
    vm_if: str
    far: Netns
    sw: Netns | None = None
    vm_port: str = ""  # the VM's port on the switch
    bridges: tuple[str, ...] = ()

    def vm_mac(self) -> str:
        return str(self.vm.ipj("link", "show", self.vm_if)[0]["address"])

    def move_vm(self, to: int) -> None:
        """Plug the VM's switch port into bridge ``to`` (a live migration's last step)."""
        assert self.sw is not None
        self.sw.ip("link", "set", self.vm_port, "nomaster")
        self.sw.ip("link", "set", self.vm_port, "master", self.bridges[to])

    def far_routes_to(self, index: int) -> None:
        """Where ``far`` sends the domain's traffic (what BGP decides in real life)."""
        site = self.sites[index]
        self.far.ip("route", "replace", PREFIX, "via", f"{site.uplink}.1")


def gateway_state(
    cap: str, tun: str, *, mode: str = d.MACVLAN_BRIDGE, standby: bool = False
) -> d.DesiredBuilder:
    """What routerd applies: the gateway of the example domain on ``cap``, plus a capture of
    ``CAPTURED`` on the gateway device toward ``tun``."""
    text = configs.example_text("mobility", "site-a").replace("ifname: ens19", f"ifname: {cap}")
    config = configs.load(configs.with_keys(text, Path("/nonexistent")))
    build = d.DesiredBuilder()
    for obj, owner in gateway_objects(config, {"lab"} if standby else set()).values():
        if isinstance(obj, d.GatewayDevice):
            obj = dataclasses.replace(obj, mode=mode)
        build.add(obj, owner)
    claim = "RemoteAddressClaim/captured"
    build.add(d.Route(f"{CAPTURED}/32", tun, d.DELIVERY_METRIC), claim)
    build.add(d.Sysctl(f"net.ipv4.conf.{GW}.proxy_arp", "1"), claim)
    build.add(d.Sysctl(f"net.ipv4.conf.{tun}.rp_filter", "2", frozenset({"0", "2"})), claim)
    return build


def _router(lab: Any, role: str, index: int, far: Netns, *, bridge_parent: bool) -> Site:
    r = lab.netns(role)
    cap = lab.name(f"{role}br" if bridge_parent else f"{role}c")
    site = Site(r, cap, lab.name(f"{role}t"), ROUTER_IPS[index], f"10.9.{index + 1}")
    # Strict reverse-path filtering everywhere, as many distributions ship it: the gateway
    # device must work anyway (routerd loosens it on the device alone).
    r.exec("sysctl", "-qw", "net.ipv4.conf.all.rp_filter=1", "net.ipv4.conf.default.rp_filter=1")
    if bridge_parent:
        r.ip("link", "add", cap, "type", "bridge")
        r.ip("link", "set", cap, "up")
        r.ip("addr", "add", f"{site.router_ip}/16", "dev", cap)
    veth(r, site.tun, far, lab.name(f"f{index}"))
    r.ip("addr", "add", f"{site.uplink}.1/24", "dev", site.tun)
    r.ip("route", "add", f"{FAR}/32", "via", f"{site.uplink}.2")
    far.ip("addr", "add", f"{site.uplink}.2/24", "dev", lab.name(f"f{index}"))
    return site


def _far(lab: Any) -> Netns:
    far = lab.netns("far")
    far.ip("addr", "add", f"{FAR}/32", "dev", "lo")
    far.ip("addr", "add", f"{CAPTURED}/32", "dev", "lo")
    return far


def _vm(lab: Any) -> tuple[Netns, str]:
    vm = lab.netns("vm")
    return vm, lab.name("vm0")


def _vm_up(lan: Lan) -> None:
    vm = lan.vm
    vm.ip("addr", "add", f"{VM_IP}/16", "dev", lan.vm_if)
    vm.ip("route", "add", "default", "via", GW_IP)
    # The VM's cache entries stay reachable for the test's whole run, so what it does after
    # a move is decided by what it cached, not by a timer expiring mid-test.
    vm.exec("sysctl", "-qw", f"net.ipv4.neigh.{lan.vm_if}.base_reachable_time_ms=600000")


def site(lab: Any, *, bridge_parent: bool) -> Lan:
    """One router with its capture interface as a plain NIC or as a bridge (module doc)."""
    far = _far(lab)
    s = _router(lab, "ra", 0, far, bridge_parent=bridge_parent)
    vm, vm_if = _vm(lab)
    if bridge_parent:
        port = lab.name("rap")
        veth(s.r, port, vm, vm_if)
        s.r.ip("link", "set", port, "master", s.cap)
        lan = Lan([s], vm, vm_if, far)
    else:
        sw = lab.netns("sw")
        br, port, vm_port = lab.name("brA"), lab.name("swa"), lab.name("swv")
        sw.ip("link", "add", br, "type", "bridge")
        sw.ip("link", "set", br, "up")
        veth(s.r, s.cap, sw, port)
        veth(vm, vm_if, sw, vm_port)
        for p in (port, vm_port):
            sw.ip("link", "set", p, "master", br)
        s.r.ip("addr", "add", f"{s.router_ip}/16", "dev", s.cap)
        lan = Lan([s], vm, vm_if, far, sw, vm_port, (br,))
    _vm_up(lan)
    lan.far_routes_to(0)
    return lan


def two_sites(lab: Any) -> Lan:
    """Routers ``ra`` and ``rb`` (plain NICs) on bridges A and B of one switch; the VM on A."""
    far = _far(lab)
    sw = lab.netns("sw")
    bridges = (lab.name("brA"), lab.name("brB"))
    sites = []
    for i, role in enumerate(("ra", "rb")):
        s = _router(lab, role, i, far, bridge_parent=False)
        port = lab.name(f"sw{i}")
        sw.ip("link", "add", bridges[i], "type", "bridge")
        sw.ip("link", "set", bridges[i], "up")
        veth(s.r, s.cap, sw, port)
        sw.ip("link", "set", port, "master", bridges[i])
        s.r.ip("addr", "add", f"{s.router_ip}/16", "dev", s.cap)
        sites.append(s)
    vm, vm_if = _vm(lab)
    vm_port = lab.name("swv")
    veth(vm, vm_if, sw, vm_port)
    sw.ip("link", "set", vm_port, "master", bridges[0])
    lan = Lan(sites, vm, vm_if, far, sw, vm_port, bridges)
    _vm_up(lan)
    lan.far_routes_to(0)
    return lan


# -- run inside a namespace ------------------------------------------------------------------


def who_answers(ifname: str, target: str, source: str, window: float = 0.5) -> list[str]:
    """Every ARP reply (MAC, once per reply) to ONE broadcast request for ``target``."""
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP)) as sock:
        sock.bind((ifname, ETH_P_ARP))
        sock.send(request_frame(sock.getsockname()[4], source, target))
        out = []
        end = time.monotonic() + window
        while (left := end - time.monotonic()) > 0:
            if not select.select([sock], [], [], left)[0]:
                break
            got = parse_reply(sock.recv(2048))
            if got is not None and got[0] == target:
                out.append(got[1])
        return out


def ping_watching_arp(ifname: str, dst: str, count: int = 3) -> tuple[bool, list[str]]:
    """Ping ``dst``; meanwhile record the ARP requests this host sends on ``ifname``.

    Returns:
        (every echo answered, "who-has TARGET tell SENDER" per request sent).
    """
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP)) as sock:
        sock.bind((ifname, ETH_P_ARP))
        own = sock.getsockname()[4]
        proc = subprocess.run(
            ["ping", "-c", str(count), "-i", "0.2", "-W", "1", "-n", "-q", dst],
            capture_output=True,
            timeout=30,
            check=False,
        )
        sent = []
        while select.select([sock], [], [], 0.2)[0]:
            frame = sock.recv(2048)
            if frame[6:12] == own and frame[20:22] == b"\x00\x01":
                sender, target = socket.inet_ntoa(frame[28:32]), socket.inet_ntoa(frame[38:42])
                sent.append(f"who-has {target} tell {sender}")
    return proc.returncode == 0, sent


def neighbour(ifname: str, address: str) -> str:
    """The MAC this host has cached for ``address`` ("" when none)."""
    out = subprocess.run(
        ["ip", "-j", "neigh", "show", "dev", ifname, "to", address],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = json.loads(out or "[]")
    return str(rows[0].get("lladdr", "")) if rows else ""
