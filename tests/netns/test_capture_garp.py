"""A VM's own ARP for a captured address: what the kernel's proxy ARP answers (no routerd code).

A VM that arrives on a segment where its address is still captured (its route still leaves
by the tunnel toward where it was) announces itself. Whether the router's proxy ARP then
answers *the VM itself* ("your address is at my MAC", which the VM may take for an address
conflict) depends on what the VM sends and on reverse-path filtering, because the kernel
looks the target up as an input route from the request's *sender* address (``arp_process``
calls ``ip_route_input`` with the sender as source, which validates it):

* an RFC 5227 probe (sender 0.0.0.0) is never proxied, whatever the settings: duplicate
  address detection never sees a false conflict;
* an announcement (a gratuitous request, sender = target = the address) is proxied when
  the effective ``rp_filter`` of the capture interface (the larger of ``all`` and the
  interface's value) is 0 or 2, and not when it is 1 (strict: the sender's address routes
  back through the tunnel, not the capture interface);
* an ordinary request from another host of the segment is proxied in all three cases;
* ``arp_ignore`` changes nothing (it governs answers for local addresses only).

The table of this module is what docs/concepts.md states about a VM's own announcements.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.netns.arp_ask import first_reply
from tests.netns.capture_segment import CLAIMS, HOST_IP, Seg, build
from tests.support.netns import run_in_netns

pytestmark = [pytest.mark.netns, pytest.mark.timeout(120)]

ZERO = "0.0.0.0"


@pytest.fixture
def seg(lab: Any) -> Seg:
    """Name: seg / Scope: function / Depends: lab (tests/netns/conftest.py)."""
    s = build(lab)
    s.r.exec(
        "ip",
        "-batch",
        "-",
        input="".join(f"route add {a}/32 dev {s.tun} metric 120 proto 196\n" for a in CLAIMS),
    )
    s.set(f"conf.{s.cap}.proxy_arp", "1")
    return s


def _asks(s: Seg, target: str, source: str) -> str:
    """The MAC that answered one broadcast request (``source`` asks for ``target``)."""
    mac, _ = run_in_netns(s.h.name, first_reply, s.h_if, target, source, 0.5)
    return str(mac)


@pytest.mark.parametrize(
    ("every", "own", "announcement_answered"),
    [
        ("0", "0", True),
        ("0", "2", True),
        ("0", "1", False),
        ("2", "1", True),  # the kernel uses the larger value: loose wins over the interface's
        ("1", "0", False),
    ],
)
def test_a_vms_announcement_is_proxied_unless_reverse_path_filtering_is_strict(
    seg: Seg, every: str, own: str, announcement_answered: bool
) -> None:
    seg.set("conf.all.rp_filter", every)
    seg.set(f"conf.{seg.cap}.rp_filter", own)
    vm = CLAIMS[0]
    mac = seg.mac()

    announcement = _asks(seg, vm, vm)
    probe = _asks(seg, vm, ZERO)
    neighbour = _asks(seg, CLAIMS[1], HOST_IP)

    assert announcement == (mac if announcement_answered else "")
    assert probe == ""
    assert neighbour == mac


def test_arp_ignore_does_not_change_proxy_answers(seg: Seg) -> None:
    vm = CLAIMS[0]
    for value in ("1", "2", "8"):
        seg.set(f"conf.{seg.cap}.arp_ignore", value)
        seg.set("conf.all.arp_ignore", value)
        assert _asks(seg, vm, vm) == seg.mac(), value
        assert _asks(seg, CLAIMS[1], HOST_IP) == seg.mac(), value
