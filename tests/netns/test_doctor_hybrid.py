"""doctor hybrid run inside a real SAM router namespace (root only).

The pair of ``tests/fixtures/doctor/topology.py`` (proxy-ARP on a bridge, a /32 route into a
wireguard-go tunnel, the clamp table, a live handshake) is built in namespaces of the
``lab`` fixture; ``run_doctor("hybrid")`` then runs in a forked child that ``setns()``s into
the router's namespace, with the real command runner and the real ``/proc/sys``. Each test
breaks one thing the way it breaks in the field and checks the finding that must say so.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.fixtures.doctor.record import OCI_RULES
from tests.fixtures.doctor.topology import CLAIM_IP, Topology

pytestmark = [pytest.mark.netns, pytest.mark.timeout(120)]


@pytest.fixture
def pair(lab: Any) -> Topology:
    """Name: pair / Scope: function / Depends: lab (tests/netns/conftest.py)."""
    return Topology(lab.tmp, lab.cleanup, lab.netns, lab.prefix).up()


def finding(findings: list[dict[str, Any]], suffix: str) -> dict[str, Any]:
    hits = [f for f in findings if f["name"].endswith(suffix)]
    assert len(hits) == 1, (suffix, [f["name"] for f in findings])
    return hits[0]


def test_healthy_router_has_no_failure(pair: Topology) -> None:
    findings = pair.run_doctor("hybrid", probe=True)
    failed = [(f["name"], f["detail"]) for f in findings if f["status"] == "fail"]
    assert failed == []
    for check in ("capture route", f"forwarding {pair.br}", f"proxy_arp {pair.br}"):
        assert finding(findings, f"vm31 {check}")["status"] == "pass", check
    for check in ("delivery route", "MSS clamp", "peer allowed IPs"):
        assert finding(findings, f"vm31 {check}")["status"] == "pass", check
    assert finding(findings, "WireGuard handshake")["status"] == "pass"
    assert finding(findings, "leftover proxy entries")["status"] == "pass"
    # what the capture check passed on is real: a host on the segment reaches the address
    pair.sh("h1", "ping", "-c1", "-W2", CLAIM_IP)


def test_deleted_capture_route_warns(pair: Topology) -> None:
    pair.ip("r1", "route", "del", f"{CLAIM_IP}/32", "dev", pair.wg1, "metric", "120")
    f = finding(pair.run_doctor("hybrid"), "vm31 capture route")
    assert f["status"] == "warn"
    assert f"leaves by {pair.br} itself" in f["detail"]
    assert f["remedy"].endswith("docs/troubleshooting.md#capture-route-missing")


def test_a_route_through_the_capture_interface_itself_warns(pair: Topology) -> None:
    pair.ip("r1", "route", "add", f"{CLAIM_IP}/32", "dev", pair.br, "metric", "10")
    f = finding(pair.run_doctor("hybrid"), "vm31 capture route")
    assert f["status"] == "warn"
    assert f"gives unicast dev {pair.br}: the route for {CLAIM_IP} leaves by" in f["detail"]


def test_forwarding_off_on_the_capture_interface_warns(pair: Topology) -> None:
    pair.sh("r1", "sysctl", "-qw", f"net.ipv4.conf.{pair.br}.forwarding=0")
    findings = pair.run_doctor("hybrid")
    fwd = finding(findings, f"vm31 forwarding {pair.br}")
    assert fwd["status"] == "warn" and "forwarding=0" in fwd["detail"]
    f = finding(findings, "vm31 capture route")
    assert f["status"] == "warn" and f"forwarding is off on {pair.br}" in f["detail"]


def test_proxy_arp_off_warns_and_this_router_no_longer_counts_as_a_responder(
    pair: Topology,
) -> None:
    pair.sh("r1", "sysctl", "-qw", f"net.ipv4.conf.{pair.br}.proxy_arp=0")
    findings = pair.run_doctor("hybrid")
    assert finding(findings, f"vm31 proxy_arp {pair.br}")["status"] == "warn"
    f = finding(findings, "vm31 duplicate responders")
    assert f["status"] == "pass" and f["detail"].startswith("0 responder(s)")


def test_a_proxy_entry_marked_as_routerds_is_reported_as_leftover(pair: Topology) -> None:
    pair.ip("r1", "neigh", "add", "proxy", CLAIM_IP, "dev", pair.br, "proto", "196")
    f = finding(pair.run_doctor("hybrid"), "leftover proxy entries")
    assert f["status"] == "warn" and f"{CLAIM_IP} dev {pair.br}" in f["detail"]


def test_oci_reject_all_forward_warns_with_the_rules_to_add(pair: Topology) -> None:
    pair.sh("r1", "iptables-restore", stdin=OCI_RULES.format(input_accept="", forward_accept=""))
    f = finding(pair.run_doctor("hybrid"), "vm31 host firewall")
    assert f["status"] == "warn"
    assert "blocked" in f["detail"] and "REJECT" in f["detail"]
    assert f"-I FORWARD 1 -i {pair.br} -o {pair.wg1} -j ACCEPT" in f["remedy"]
    # the rules live in iptables: an nft command for an "inet filter" table would fail here
    assert "nft insert rule" not in f["remedy"]


def test_two_hosts_answering_arp_for_the_address_fail(pair: Topology) -> None:
    for host in ("h1", "h2"):
        pair.ip(host, "addr", "add", f"{CLAIM_IP}/24", "dev", f"{pair.prefix}{host}b")
    f = finding(pair.run_doctor("hybrid"), "vm31 duplicate responders")
    assert f["status"] == "fail"
    assert f["detail"].startswith("3 responder(s)")  # h1, h2 and this router's proxy-ARP
    for host in ("h1", "h2"):
        mac = pair.ns[host].ipj("link", "show", f"{pair.prefix}{host}b")[0]["address"]
        assert mac in f["detail"]


def test_one_host_answering_arp_without_our_capture_route_passes(pair: Topology) -> None:
    pair.ip("r1", "route", "del", f"{CLAIM_IP}/32", "dev", pair.wg1, "metric", "120")
    pair.ip("h1", "addr", "add", f"{CLAIM_IP}/24", "dev", f"{pair.prefix}h1b")
    h1_mac = pair.ns["h1"].ipj("link", "show", f"{pair.prefix}h1b")[0]["address"]
    f = finding(pair.run_doctor("hybrid"), "vm31 duplicate responders")
    assert f["status"] == "pass"
    assert f["detail"] == f"1 responder(s) for {CLAIM_IP} on {pair.br}: {h1_mac}"
