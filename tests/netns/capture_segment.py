"""A capture segment for proxy-ARP tests: router ``r`` between a host and a tunnel side.

``r`` has ``cap`` (10.50.0.1/24, host ``h`` at 10.50.0.10 behind it) and ``tun``
(10.60.0.1/24, ``far`` at 10.60.0.2 behind it), forwarding on, ``proxy_delay`` 0 on both so
proxy answers come at once, and ``rp_filter`` loose on ``tun`` as routerd sets it.
``answered`` asks the segment with real ARP requests (the doctor's sweep) who answers what.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from routerd.doctor.arp import sweep
from tests.support.netns import Netns, run_in_netns, veth

CLAIMS = [f"10.50.0.{i}" for i in range(100, 104)]
UNCLAIMED = "10.50.0.150"
HOST_IP, FAR_IP = "10.50.0.10", "10.60.0.2"
WINDOW = 0.3
"""Reply window of a sweep: ``proxy_delay`` is 0 on the capture interface here."""


@dataclass
class Seg:
    r: Netns
    h: Netns
    far: Netns
    cap: str
    tun: str
    h_if: str
    far_if: str

    def mac(self) -> str:
        return str(self.r.ipj("link", "show", self.cap)[0]["address"])

    def set(self, name: str, value: str) -> None:
        self.r.exec("sysctl", "-qw", f"net.ipv4.{name}={value}")

    def answered(self, targets: list[str]) -> dict[str, list[str]]:
        """Who answers each target on the capture segment (the host asks)."""
        got = run_in_netns(self.h.name, sweep, self.h_if, targets, HOST_IP, reply_window=WINDOW)
        assert got.error == ""
        return {t: got.responders(t) for t in targets}

    def answered_far(self, targets: list[str]) -> dict[str, list[str]]:
        """Who answers each target on the tunnel side."""
        got = run_in_netns(self.far.name, sweep, self.far_if, targets, FAR_IP, reply_window=WINDOW)
        assert got.error == ""
        return {t: got.responders(t) for t in targets}


def build(lab: Any) -> Seg:
    """The segment, in namespaces and links the lab removes in teardown."""
    r, h, far = lab.netns("r"), lab.netns("h"), lab.netns("far")
    s = Seg(r, h, far, lab.name("cap"), lab.name("tun"), lab.name("h0"), lab.name("f0"))
    veth(r, s.cap, h, s.h_if)
    veth(r, s.tun, far, s.far_if)
    r.ip("addr", "add", "10.50.0.1/24", "dev", s.cap)
    h.ip("addr", "add", f"{HOST_IP}/24", "dev", s.h_if)
    r.ip("addr", "add", "10.60.0.1/24", "dev", s.tun)
    far.ip("addr", "add", f"{FAR_IP}/24", "dev", s.far_if)
    s.set("ip_forward", "1")
    s.set(f"neigh.{s.cap}.proxy_delay", "0")
    s.set(f"neigh.{s.tun}.proxy_delay", "0")
    s.set(f"conf.{s.tun}.rp_filter", "2")  # as routerd loosens it: the asker is accepted
    return s
