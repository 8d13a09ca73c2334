"""``doctor mobility``'s host checks against real kernels and real keepalived (root only).

* The anycast gateway: router ``r`` holds 10.77.0.1 on a macvlan child of its capture
  interface with the gateway MAC; host ``h`` is on the segment. With ``arp_ignore`` 0 (the
  default) ``h`` hears two MACs for the gateway, the child's and the capture interface's,
  and the doctor, which cannot hear its own router, fails naming the capture interface's
  MAC. With ``arp_ignore`` 1 ``h`` hears the gateway MAC only, proxy-ARP still answers, and
  the doctor passes; a host taking the gateway address then fails it with that host's MAC.
* The pair: two keepalived (tests/netns/pair.py). The doctor run on each router (no
  daemon: the wire decides both sides) sees one active router; after a firewall rule drops
  VRRP into the backup, both become master and the doctor on either router fails "both
  active", because its packet socket reads adverts before the firewall drops them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from routerd.doctor.arp import sweep
from tests.netns import pair as pr
from tests.support.configs import example_text, with_keys
from tests.support.netns import Netns, run_in_netns, veth
from tests.support.wait import wait_until

pytestmark = [pytest.mark.netns, pytest.mark.timeout(180)]

GW = "10.77.0.1"
GW_MAC = "02:00:00:4d:00:01"
PROXIED = "10.77.3.9"
PAIR_ROUTER = """apiVersion: routerd.net/v1alpha1
kind: Router
metadata: {{name: {name}}}
spec:
  resources:
    - apiVersion: hybrid.routerd.net/v1alpha1
      kind: RedundancyGroup
      metadata: {{name: site-a}}
      spec:
        role: onprem
        interface: eth0
        virtualRouterID: 42
        priority: {priority}
        peers: [{peer}]
        advertInterval: 100ms
"""


def doctor_here(config_text: str) -> dict[str, tuple[str, str]]:
    """Runs inside a namespace: ``doctor mobility`` as ``routerctl doctor --local`` runs it."""
    from routerd.core.doctor import DoctorContext
    from routerd.core.loader import load_text
    from routerd.doctor import run_doctor

    loaded = load_text(config_text)
    assert loaded.config is not None, [e.render() for e in loaded.errors]
    report = run_doctor("mobility", DoctorContext(startup=loaded.config))
    return {f.name: (f.status.value, f.detail) for f in report.findings}


def macs_heard(ns: Netns, ifname: str, source: str, target: str) -> list[str]:
    got = run_in_netns(ns.name, sweep, ifname, [target], source)
    assert got.error == ""
    return list(got.responders(target))


@pytest.fixture
def segment(lab: Any, tmp_path: Path) -> tuple[Netns, Netns, str, str, str]:
    """Name: segment / Scope: function / Depends: lab, tmp_path."""
    r, h = lab.netns("r"), lab.netns("h")
    r_if, h_if, gw = lab.name("lr"), lab.name("lh"), lab.name("gw")
    veth(r, r_if, h, h_if)
    r.ip("addr", "add", "10.77.0.2/16", "dev", r_if)
    h.ip("addr", "add", "10.77.0.9/16", "dev", h_if)
    r.ip("link", "add", gw, "link", r_if, "address", GW_MAC, "type", "macvlan", "mode", "bridge")
    r.ip("addr", "add", f"{GW}/16", "dev", gw)
    r.ip("link", "set", gw, "up")
    text = with_keys(example_text("mobility", "site-a"), tmp_path / "keys")
    return r, h, r_if, h_if, text.replace("ifname: ens19", f"ifname: {r_if}")


def test_the_gateway_check_sees_arp_flux_the_fix_and_a_host_holding_the_gateway(
    segment: tuple[Netns, Netns, str, str, str],
) -> None:
    r, h, r_if, h_if, text = segment
    r_mac = r.ipj("link", "show", r_if)[0]["address"]
    h_mac = h.ipj("link", "show", h_if)[0]["address"]
    name = f"AddressMobilityDomain/lab gateway {GW}"
    assert r.sysctl(f"net.ipv4.conf.{r_if}.arp_ignore") == "0"

    assert sorted(macs_heard(h, h_if, "10.77.0.9", GW)) == sorted([r_mac, GW_MAC])
    status, detail = run_in_netns(r.name, doctor_here, text)[name]
    assert status == "fail", detail
    assert f"{r_mac} (this router's {r_if}: arp_ignore is 0)" in detail

    r.exec("sysctl", "-qw", f"net.ipv4.conf.{r_if}.arp_ignore=1")
    assert macs_heard(h, h_if, "10.77.0.9", GW) == [GW_MAC]
    status, detail = run_in_netns(r.name, doctor_here, text)[name]
    assert status == "pass", detail

    # proxy-ARP does not depend on arp_ignore: the kernel answers for proxied addresses
    r.exec("sysctl", "-qw", "net.ipv4.ip_forward=1")
    r.exec("sysctl", "-qw", f"net.ipv4.conf.{r_if}.proxy_arp=1")
    r.ip("route", "add", f"{PROXIED}/32", "dev", "lo")
    r.ip("neigh", "add", "proxy", PROXIED, "dev", r_if)
    assert macs_heard(h, h_if, "10.77.0.9", PROXIED) == [r_mac]

    h.ip("addr", "add", f"{GW}/32", "dev", h_if, "nodad")
    status, detail = run_in_netns(r.name, doctor_here, text)[name]
    assert status == "fail", detail
    assert f"{h_mac} (on the segment)" in detail and f"and with {GW_MAC}" in detail


def _drop_vrrp(ns: Netns) -> None:
    ns.exec(
        "nft",
        "add table inet dropvrrp; "
        "add chain inet dropvrrp in { type filter hook input priority 0; }; "
        "add rule inet dropvrrp in ip protocol vrrp drop",
    )


def test_the_pair_check_sees_one_master_then_both_when_vrrp_is_dropped(
    lab: Any, tmp_path: Path
) -> None:
    pair = pr.up(lab, tmp_path)
    a, b = pr.ADDR["ra"], pr.ADDR["rb"]
    text_a = PAIR_ROUTER.format(name="ra", priority=pr.PRIORITY["ra"], peer=b)
    text_b = PAIR_ROUTER.format(name="rb", priority=pr.PRIORITY["rb"], peer=a)
    name = "RedundancyGroup/site-a active routers"

    status, detail = run_in_netns(pair.ra.ns.name, doctor_here, text_a)[name]
    assert (status, detail.split(":")[0]) == ("pass", "one active router, this router"), detail
    status, detail = run_in_netns(pair.rb.ns.name, doctor_here, text_b)[name]
    assert (status, detail.split(":")[0]) == ("pass", f"one active router, {a}"), detail

    _drop_vrrp(pair.rb.ns)
    pair.rb.wait_role("active")
    assert pair.ra.role() == "active"

    def both(ns: Netns, text: str) -> str | None:
        status, detail = run_in_netns(ns.name, doctor_here, text)[name]
        return None if status == "fail" and detail.startswith("both active") else detail

    wait_until(lambda: both(pair.rb.ns, text_b), timeout=10, what="rb's doctor: both active")
    wait_until(lambda: both(pair.ra.ns, text_a), timeout=10, what="ra's doctor: both active")
