"""The doctor's ARP sweep against real Linux responders (root only).

Two namespaces joined by a veth: ``a`` sweeps, ``b`` answers. ``b`` is a proxy-ARP router
for 127 addresses (``ip neigh add proxy`` plus a route off the segment and forwarding on),
which is how a second SAM router in a split brain looks from the segment. Linux delays
proxy answers to broadcast requests and queues at most ``proxy_qlen`` (64) of them, so a
plain broadcast sweep hears about half of them; the sweep's unicast follow-up to a MAC that
answered for several addresses must hear all.
"""

from __future__ import annotations

from typing import Any

import pytest

from routerd.doctor.arp import Sweep, sweep
from tests.support.netns import Netns, run_in_netns, veth

pytestmark = [pytest.mark.netns, pytest.mark.timeout(120)]

PROXIED = [f"10.40.9.{i}" for i in range(128, 255)]
HOST_IP = "10.40.9.11"
NOBODY = "10.40.9.99"


@pytest.fixture
def segment(lab: Any) -> tuple[Netns, Netns, str, str]:
    """Name: segment / Scope: function / Depends: lab (tests/netns/conftest.py)."""
    a, b = lab.netns("a"), lab.netns("b")
    a_if, b_if = lab.name("sa"), lab.name("sb")
    veth(a, a_if, b, b_if)
    a.ip("addr", "add", "10.40.9.1/24", "dev", a_if)
    b.ip("addr", "add", f"{HOST_IP}/24", "dev", b_if)
    b.exec("sysctl", "-qw", "net.ipv4.ip_forward=1")
    b.ip("route", "add", "10.40.9.128/25", "dev", "lo")
    b.exec(
        "ip", "-batch", "-", input="".join(f"neigh add proxy {ip} dev {b_if}\n" for ip in PROXIED)
    )
    return a, b, a_if, b_if


def test_a_proxy_router_is_heard_for_every_address_despite_its_queue(
    segment: tuple[Netns, Netns, str, str],
) -> None:
    a, b, a_if, b_if = segment
    b_mac = b.ipj("link", "show", b_if)[0]["address"]
    assert b.sysctl(f"net.ipv4.neigh.{b_if}.proxy_qlen") == "64"

    got: Sweep = run_in_netns(a.name, sweep, a_if, [*PROXIED, HOST_IP, NOBODY], "10.40.9.1")

    assert got.error == ""
    assert got.mac == a.ipj("link", "show", a_if)[0]["address"]
    missing = [ip for ip in PROXIED if got.responders(ip) != [b_mac]]
    assert missing == []
    assert got.responders(HOST_IP) == [b_mac]
    assert got.responders(NOBODY) == []


def test_a_missing_interface_is_an_error_not_an_exception(
    segment: tuple[Netns, Netns, str, str],
) -> None:
    a = segment[0]
    got: Sweep = run_in_netns(a.name, sweep, "nosuch0", [NOBODY], "0.0.0.0")
    assert got.replies == {} and "nosuch0 does not exist" in got.error
