"""The anycast gateway on Linux: routerd's gateway device answers, routes and stays put.

Each test builds namespaces (``gateway_sites``), applies what lowering gives for a mobile
domain's gateway through a real ``LinuxBackend`` (plus a capture on the device, as a claim
capturing there adds), and asks the segment with real ARP requests and pings:

* on a plain NIC and on a bridge, in macvlan mode bridge and private: the gateway is
  answered once, with the configured MAC; the router's own address by the capture
  interface's MAC; a captured address by the gateway MAC (proxy-ARP unaffected by
  ``arp_ignore``); an unclaimed address by nobody; a VM pings through the gateway, with
  strict reverse-path filtering everywhere but on the device;
* ``arp_announce=2`` keeps the VM's cached gateway MAC when the router asks for the VM;
  without it the router's own MAC replaces it (why the setting exists);
* a VM moved to another site's segment reaches the same destination without asking for
  its gateway again;
* standby (link down) silences the gateway and its captures; active answers again;
* drift on the device is named and healed, a scoped observation equals the full one, a
  restarted backend adopts the device by its mark, cleanup removes it and restores the
  capture interface's settings, and a foreign link of that name is never touched.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from routerd.core.desired import GatewayDevice
from tests.netns import gateway_sites as gs
from tests.netns.gateway_sites import CAPTURED, FAR, GW, GW_IP, GW_MAC, UNCLAIMED, VM_IP, Lan
from tests.support.netns import run_in_netns

pytestmark = [pytest.mark.netns, pytest.mark.timeout(180)]

GW_KEY = ("gateway", GW)


def ask(lan: Lan, target: str) -> list[str]:
    """Every reply to one broadcast request from the VM."""
    return list(run_in_netns(lan.vm.name, gs.who_answers, lan.vm_if, target, VM_IP))


def ping(lan: Lan, dst: str) -> tuple[bool, list[str]]:
    ok, asked = run_in_netns(lan.vm.name, gs.ping_watching_arp, lan.vm_if, dst)
    return bool(ok), list(asked)


def applied(handle: Any, want: Any) -> None:
    results = handle.reconcile(want)
    assert results and all(ok for _, ok, _ in results), results
    assert handle.plan(want) == []  # a second pass changes nothing


@pytest.mark.parametrize("mode", ["bridge", "private"])
@pytest.mark.parametrize("parent", ["nic", "bridge"])
def test_the_gateway_alone_answers_with_its_mac_and_routes(
    lab: Any, parent: str, mode: str
) -> None:
    lan = gs.site(lab, bridge_parent=parent == "bridge")
    s = lan.sites[0]
    applied(lab.backend(s.r), gs.gateway_state(s.cap, s.tun, mode=mode))

    assert ask(lan, GW_IP) == [GW_MAC]
    assert ask(lan, s.router_ip) == [s.mac(s.cap)]
    assert ask(lan, CAPTURED) == [GW_MAC]
    assert ask(lan, UNCLAIMED) == []
    assert ping(lan, FAR)[0]
    assert ping(lan, CAPTURED)[0]  # captured, delivered to far through the router
    assert s.r.sysctl(f"net/ipv4/conf/{s.cap}/proxy_arp") == "0"
    assert s.r.sysctl("net/ipv4/conf/all/rp_filter") == "1"
    link = s.r.ipj("-d", "link", "show", GW)[0]
    assert link["linkinfo"]["info_data"]["mode"] == mode
    assert link["ifalias"] == "routerd anycast gateway"
    addr = s.r.ipj("-4", "addr", "show", "dev", GW)[0]["addr_info"]
    assert [(a["local"], a["prefixlen"], a.get("noprefixroute")) for a in addr] == [
        (GW_IP, 32, True)
    ]


def test_arp_announce_keeps_the_vms_gateway_mac(lab: Any) -> None:
    lan = gs.site(lab, bridge_parent=False)
    s = lan.sites[0]
    applied(lab.backend(s.r), gs.gateway_state(s.cap, s.tun))

    def ping_gateway_after_the_router_forgot_the_vm() -> str:
        time.sleep(1.2)  # past the VM's ARP locktime
        s.r.ip("neigh", "flush", "dev", s.cap)
        assert ping(lan, GW_IP)[0]  # the answer makes the router ask for the VM
        return str(run_in_netns(lan.vm.name, gs.neighbour, lan.vm_if, GW_IP))

    assert ping(lan, GW_IP)[0]
    assert ping_gateway_after_the_router_forgot_the_vm() == GW_MAC
    # Without it the router asks "who has the VM, tell the gateway" with its own MAC, and
    # the VM caches that MAC for its gateway: wrong at every other site.
    s.r.exec("sysctl", "-qw", f"net.ipv4.conf.{s.cap}.arp_announce=0")
    assert ping_gateway_after_the_router_forgot_the_vm() == s.mac(s.cap)


def test_a_vm_moved_to_another_site_keeps_its_gateway_without_asking(lab: Any) -> None:
    lan = gs.two_sites(lab)
    for s in lan.sites:
        applied(lab.backend(s.r, state=s.r.name), gs.gateway_state(s.cap, s.tun))
    ok, _ = ping(lan, FAR)
    assert ok
    cached = run_in_netns(lan.vm.name, gs.neighbour, lan.vm_if, GW_IP)
    assert cached == GW_MAC

    lan.move_vm(1)
    lan.far_routes_to(1)
    ok, asked = ping(lan, FAR)

    assert ok
    assert asked == []  # the cached gateway entry was used as it was
    assert run_in_netns(lan.vm.name, gs.neighbour, lan.vm_if, GW_IP) == GW_MAC
    rb = lan.sites[1]
    assert int(rb.r.ipj("-s", "link", "show", GW)[0]["stats64"]["rx"]["packets"]) > 0


def test_standby_silences_the_gateway_and_its_captures(lab: Any) -> None:
    lan = gs.site(lab, bridge_parent=True)
    s = lan.sites[0]
    b = lab.backend(s.r)
    applied(b, gs.gateway_state(s.cap, s.tun))
    assert ask(lan, GW_IP) == [GW_MAC]

    applied(b, gs.gateway_state(s.cap, s.tun, standby=True))
    assert ask(lan, GW_IP) == [] and ask(lan, CAPTURED) == []
    assert s.r.ipj("addr", "show", "dev", GW)[0]["addr_info"]  # kept, for the takeover

    applied(b, gs.gateway_state(s.cap, s.tun))
    assert ask(lan, GW_IP) == [GW_MAC] and ask(lan, CAPTURED) == [GW_MAC]


def _drifted(handle: Any, key: tuple[str, str]) -> bool:
    for _ in range(40):
        if key in [tuple(k) for k in handle.drain()["keys"]]:
            return True
        time.sleep(0.05)
    return False


def test_drift_is_named_and_healed_and_the_device_is_owned_by_its_mark(lab: Any) -> None:
    lan = gs.site(lab, bridge_parent=False)
    s = lan.sites[0]
    want = gs.gateway_state(s.cap, s.tun)
    b = lab.backend(s.r)
    applied(b, want)
    b.drain()
    assert b.drain() == {"keys": [], "everything": False}  # our own changes are not drift

    s.r.ip("link", "set", GW, "down")
    assert _drifted(b, GW_KEY)
    assert b.observe_keys(want, [GW_KEY]).objects[GW_KEY] == b.observe(want).objects[GW_KEY]
    assert b.cache_mismatch(want) is None
    applied(b, want)
    s.r.ip("addr", "del", f"{GW_IP}/32", "dev", GW)
    assert _drifted(b, GW_KEY)
    applied(b, want)
    assert ask(lan, GW_IP) == [GW_MAC]

    b.kill()  # a crash; the restarted backend finds its device by the alias alone
    b = lab.backend(s.r)
    seen = b.observe(want)
    assert GW_KEY in seen.owned and b.plan(want) == []

    b.close_backend(cleanup=True)
    assert not s.r.ipj("link", "show", "type", "macvlan")
    assert s.r.sysctl(f"net/ipv4/conf/{s.cap}/arp_ignore") == "0"
    assert s.r.sysctl(f"net/ipv4/conf/{s.cap}/arp_announce") == "0"


def test_a_foreign_link_with_the_gateways_name_is_never_touched(lab: Any) -> None:
    lan = gs.site(lab, bridge_parent=False)
    s = lan.sites[0]
    s.r.ip("link", "add", GW, "link", s.cap, "type", "macvlan", "mode", "bridge")
    b = lab.backend(s.r)
    want = gs.gateway_state(s.cap, s.tun)

    results = b.reconcile(want)

    (gateway,) = [(ok, err) for what, ok, err in results if what.startswith("replace anycast")]
    assert gateway[0] is False and "not routerd's" in gateway[1]
    seen = b.observe(want)
    assert isinstance(seen.objects[GW_KEY], GatewayDevice) and GW_KEY not in seen.owned
    b.close_backend(cleanup=True)
    assert s.r.ipj("link", "show", GW)  # still there
