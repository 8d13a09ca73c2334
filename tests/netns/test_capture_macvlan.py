"""Route-based capture on a macvlan child of the capture bridge (root, namespaces).

A mobile domain's on-prem router answers on its anycast-gateway device, a macvlan child of
the capture interface carrying the shared gateway MAC, so a VM that moved keeps every
neighbour it cached. Here ``r`` has a bridge ``br`` (host ``h`` on one port, the parent)
and a macvlan ``gw`` on it, and routes the claimed ``/32``s to a tunnel side. With
``proxy_arp=1`` on ``gw`` only, the routes alone make ``gw`` answer broadcasts from the
bridge with its own MAC, the parent (``proxy_arp=0``) stays silent, and a claim whose route
is gone is answered by nobody. Switched off on ``gw`` (warm standby) nobody answers.
"""

from __future__ import annotations

from typing import Any

import pytest

from routerd.doctor.arp import sweep
from tests.support.netns import run_in_netns, veth

pytestmark = [pytest.mark.netns, pytest.mark.timeout(120)]

CLAIMS = [f"10.70.0.{i}" for i in range(100, 104)]
HOST_IP, GW_IP, GW_MAC = "10.70.0.10", "10.70.0.1", "02:aa:bb:00:00:01"


def _build(lab: Any) -> Any:
    r, h, far = lab.netns("r"), lab.netns("h"), lab.netns("far")
    br, port, gw, tun = lab.name("br"), lab.name("p0"), lab.name("gw"), lab.name("tun")
    h_if, far_if = lab.name("h0"), lab.name("f0")
    r.exec("sysctl", "-qw", "net.ipv4.ip_forward=1")
    r.ip("link", "add", br, "type", "bridge")
    r.ip("link", "set", br, "up")
    veth(r, port, h, h_if)
    r.ip("link", "set", port, "master", br)
    r.ip("link", "add", gw, "link", br, "address", GW_MAC, "type", "macvlan", "mode", "bridge")
    r.ip("link", "set", gw, "up")
    r.ip("addr", "add", f"{GW_IP}/24", "dev", gw)
    veth(r, tun, far, far_if)
    r.ip("addr", "add", "10.80.0.1/24", "dev", tun)
    h.ip("addr", "add", f"{HOST_IP}/24", "dev", h_if)
    for name, value in (
        (f"conf.{gw}.proxy_arp", "1"),
        (f"conf.{br}.proxy_arp", "0"),
        (f"conf.{br}.arp_ignore", "1"),  # the parent does not answer for gw's own address
        (f"neigh.{gw}.proxy_delay", "0"),
        (f"conf.{tun}.rp_filter", "2"),
    ):
        r.exec("sysctl", "-qw", f"net.ipv4.{name}={value}")
    lines = "".join(f"route add {a}/32 dev {tun} metric 120 proto 196\n" for a in CLAIMS)
    r.exec("ip", "-batch", "-", input=lines)
    return r, h, h_if, gw, br


def _answers(h: Any, h_if: str, targets: list[str]) -> dict[str, list[str]]:
    got = run_in_netns(h.name, sweep, h_if, targets, HOST_IP, reply_window=0.5)
    assert got.error == ""
    return {t: got.responders(t) for t in targets}


def test_the_macvlan_answers_for_claims_with_its_mac_and_the_parent_stays_silent(
    lab: Any,
) -> None:
    r, h, h_if, _gw, br = _build(lab)
    parent_mac = str(r.ipj("link", "show", br)[0]["address"])
    r.ip("route", "del", f"{CLAIMS[3]}/32")  # released: no route, no answer

    got = _answers(h, h_if, [*CLAIMS, GW_IP])

    assert r.ipj("neigh", "show", "proxy") == []
    assert {a: got[a] for a in CLAIMS[:3]} == {a: [GW_MAC] for a in CLAIMS[:3]}
    assert got[CLAIMS[3]] == []
    assert got[GW_IP] == [GW_MAC]
    assert all(parent_mac not in macs for macs in got.values())


def test_proxy_arp_off_on_the_macvlan_silences_every_claim(lab: Any) -> None:
    r, h, h_if, gw, _ = _build(lab)
    r.exec("sysctl", "-qw", f"net.ipv4.conf.{gw}.proxy_arp=0")

    got = _answers(h, h_if, CLAIMS)

    assert got == {a: [] for a in CLAIMS}
