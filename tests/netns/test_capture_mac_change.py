"""Proxy-ARP capture survives its bridge changing MAC: a ping train loses a few packets at most.

``r`` captures 10.40.8.50 by proxy-ARP on a bridge without a fixed address (its MAC is the
lowest of its ports') and delivers it to ``far`` over a veth; a LAN host keeps a 10 ms ping
train going to the captured address while a port with a lower MAC joins the bridge, the
host re-learns the router's MAC (a new ARP exchange, as any host does for a new
conversation or a re-probe) and the port leaves again. The leave is what hurts: the host's
cached MAC belongs to nobody any more. Without routerd the host loses the train until its
neighbour entry is re-probed (the control); with routerd's backend watching, the MAC change
is announced for every captured address at once and the train goes on (a few 10 ms
packets at most, the time the announcement takes to follow the notification).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any

import pytest

from routerd.core.capture import capture_sysctls
from routerd.core.desired import DesiredBuilder, DesiredState, Route, Sysctl
from tests.support.netns import Netns, veth

pytestmark = [pytest.mark.netns, pytest.mark.timeout(120)]

CAPTURED = "10.40.8.50"
PORT_MAC = "02:00:00:00:00:50"
LOWER_MAC = "02:00:00:00:00:01"
TRAIN = 400  # 10 ms apart: 4 s


@dataclass
class Lan:
    r: Netns
    host: Netns
    br: str
    host_if: str
    extra: str
    dl: str

    def bridge_mac(self) -> str:
        return str(self.r.ipj("link", "show", self.br)[0]["address"])

    def host_mac_for_captured(self) -> str:
        entries = self.host.ipj("neigh", "show", CAPTURED, "dev", self.host_if)
        return str(entries[0].get("lladdr", "")) if entries else ""


def build(lab: Any) -> Lan:
    r, host, far = lab.netns("r"), lab.netns("host"), lab.netns("far")
    br, port, host_if = lab.name("br"), lab.name("p0"), lab.name("h0")
    dl, dlp, extra = lab.name("dl"), lab.name("dlp"), lab.name("xl")
    r.ip("link", "add", br, "type", "bridge")
    veth(r, port, host, host_if)
    r.ip("link", "set", port, "address", PORT_MAC)
    r.ip("link", "set", port, "master", br)
    r.ip("link", "set", br, "up")
    r.ip("addr", "add", "10.40.8.1/24", "dev", br)
    host.ip("addr", "add", "10.40.8.2/24", "dev", host_if)
    veth(r, dl, far, dlp)
    r.ip("addr", "add", "10.99.0.1/30", "dev", dl)
    far.ip("addr", "add", "10.99.0.2/30", "dev", dlp)
    far.ip("addr", "add", f"{CAPTURED}/32", "dev", "lo")
    far.ip("route", "add", "default", "via", "10.99.0.1")
    r.ip("route", "add", f"{CAPTURED}/32", "via", "10.99.0.2", "dev", dl)
    r.exec("sysctl", "-qw", f"net.ipv4.neigh.{br}.proxy_delay=0")
    lan = Lan(r, host, br, host_if, extra, dl)
    assert lan.bridge_mac() == PORT_MAC  # the bridge took its only port's MAC
    return lan


def capture(lan: Lan) -> DesiredState:
    want = DesiredBuilder(generation=1)
    for obj in (
        Sysctl("net.ipv4.ip_forward", "1"),
        *capture_sysctls(lan.br),
        Route(f"{CAPTURED}/32", lan.dl, 120, gateway="10.99.0.2"),
    ):
        want.add(obj, "RemoteAddressClaim/moved-vm", claim="moved-vm")
    return want.build()


def ping_train_across_mac_changes(lan: Lan) -> tuple[int, int, list[str]]:
    """(sent, received, host's MAC for the address after each step) over join/relearn/leave."""
    proc = lan.host.popen(
        "ping", "-n", "-q", "-i", "0.01", "-c", str(TRAIN), "-W", "1", CAPTURED,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    seen = []
    try:
        time.sleep(0.5)
        lan.r.ip("link", "add", lan.extra, "type", "veth", "peer", "name", lan.extra + "p")
        lan.r.ip("link", "set", lan.extra, "address", LOWER_MAC)
        lan.r.ip("link", "set", lan.extra, "master", lan.br)
        assert lan.bridge_mac() == LOWER_MAC  # the join moved the bridge's MAC
        time.sleep(0.5)
        seen.append(lan.host_mac_for_captured())
        lan.host.ip("neigh", "flush", "dev", lan.host_if)  # the host ARPs afresh
        time.sleep(0.5)
        seen.append(lan.host_mac_for_captured())
        lan.r.ip("link", "del", lan.extra)
        assert lan.bridge_mac() == PORT_MAC  # the leave moved it back
        out, _ = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    seen.append(lan.host_mac_for_captured())
    m = re.search(r"(\d+) packets transmitted, (\d+) received", out)
    assert m is not None, out
    return int(m.group(1)), int(m.group(2)), seen


def test_without_an_announcement_the_host_loses_the_train(lab: Any) -> None:
    """The control: the scenario really loses traffic when nobody announces the change."""
    lan = build(lab)
    for name, value in ((f"conf.{lan.br}.proxy_arp", "1"), ("conf.all.forwarding", "1")):
        lan.r.exec("sysctl", "-qw", f"net.ipv4.{name}={value}")
    sent, received, seen = ping_train_across_mac_changes(lan)
    assert seen[1] == LOWER_MAC  # re-learned while the lower-MAC port was in
    assert sent - received >= 50, (sent, received, seen)  # >= 0.5 s of the train lost


def test_routerd_reannounces_captures_when_the_bridge_mac_changes(lab: Any) -> None:
    lan = build(lab)
    b = lab.backend(lan.r)
    assert all(ok for _, ok, _ in b.reconcile(capture(lan)))
    sent, received, seen = ping_train_across_mac_changes(lan)
    assert seen == [LOWER_MAC, LOWER_MAC, PORT_MAC]  # each change reached the host at once
    # Each lost packet is 10 ms of the train. What is lost is the leave's window: from the
    # kernel's link notification, through one wake-up of the backend's watcher thread, to the
    # announcement on the wire. Idle, that is 0-1 packets; a loaded 2-core CI machine delayed
    # the wake-up to 2. The control above loses >= 50 (the host waits for a re-probe).
    assert sent - received <= 5, (sent, received)
    assert b.reannounced() == [(lan.br, LOWER_MAC, 1), (lan.br, PORT_MAC, 1)]


DOCTOR = """
import json, sys
from routerd.core.doctor import DoctorContext
from routerd.core.loader import load_text
from routerd.doctor import run_doctor
loaded = load_text(sys.stdin.read())
report = run_doctor("hybrid", DoctorContext(startup=loaded.config))
found = [f for f in report.findings if f.name.startswith("capture interface")]
print(json.dumps([[f.name, f.status.value, f.detail, f.remedy] for f in found]))
"""
CONFIG = """\
apiVersion: routerd.net/v1alpha1
kind: Router
metadata: {{name: onprem-rt}}
spec:
  resources:
    - apiVersion: net.routerd.net/v1alpha1
      kind: Interface
      metadata: {{name: lan}}
      spec: {{ifname: {br}, managed: false}}
    - apiVersion: hybrid.routerd.net/v1alpha1
      kind: OverlayPeer
      metadata: {{name: far}}
      spec: {{role: cloud, nodeID: far, underlay: {{type: route, interface: {dl}}}}}
    - apiVersion: hybrid.routerd.net/v1alpha1
      kind: AddressMobilityDomain
      metadata: {{name: edge-lan}}
      spec: {{prefix: 10.40.8.0/24, peerRef: far}}
    - apiVersion: hybrid.routerd.net/v1alpha1
      kind: RemoteAddressClaim
      metadata: {{name: moved-vm}}
      spec:
        domainRef: edge-lan
        address: {captured}/32
        ownerSide: cloud
        capture: {{type: proxy-arp, interface: lan}}
        delivery: {{peerRef: far, mode: route, tunnelInterface: {dl}}}
"""


def doctor_capture_mac(lan: Lan, lab: Any) -> list[list[str]]:
    """The doctor's capture-MAC findings, run under ``ip netns exec`` (the namespace's /sys)."""
    text = CONFIG.format(br=lan.br, dl=lab.name("dl"), captured=CAPTURED)
    out = lan.r.exec(sys.executable, "-c", DOCTOR, input=text, timeout=60)
    found: list[list[str]] = json.loads(out.strip().splitlines()[-1])
    return found


def test_doctor_warns_for_the_unpinned_capture_bridge_until_its_mac_is_set(lab: Any) -> None:
    lan = build(lab)
    [(name, status, detail, remedy)] = doctor_capture_mac(lan, lab)
    assert (name, status) == (f"capture interface {lan.br} MAC", "warn")
    assert f"bridge {lan.br} has no fixed MAC ({PORT_MAC}, random)" in detail
    pin = f"ip link set dev {lan.br} address {PORT_MAC}"
    assert pin in remedy
    lan.r.ip(*pin.split()[1:])  # the remedy, as printed
    [(_, status, detail, _)] = doctor_capture_mac(lan, lab)
    assert (status, detail) == ("pass", f"bridge {lan.br} has a fixed MAC {PORT_MAC} (set)")
    lan.r.ip("link", "add", lan.extra, "type", "veth", "peer", "name", lan.extra + "p")
    lan.r.ip("link", "set", lan.extra, "address", LOWER_MAC)
    lan.r.ip("link", "set", lan.extra, "master", lan.br)
    assert lan.bridge_mac() == PORT_MAC  # pinned: a lower-MAC port no longer moves it
