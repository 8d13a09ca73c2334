"""``routerctl doctor mobility`` and DoctorService through a running daemon with fake ports.

The daemon runs the site-a router of examples/mobility (plus a router pair) on the fake
backend; its mobility port (``FakeMobility``), route exchange and role source are fakes
attached where the daemon keeps them (``mobility``, ``exchange``, ``role_source``), which
is what the doctor reads. The scene has one of each problem the area reports without host
probes: a tie, a capture at home (a static claim, a pin at site-b, for an address whose VM
answers here), a session down with the home it leaves unconfirmed, a refused path, a site
behind, homes here whose presence evidence is 30 s old. Goldens hold whole reports (times
normalised as in test_routerctl); regenerate with ``ROUTERD_UPDATE_GOLDEN=1`` and review
the ``git diff``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from routerd.api.mobility_port import Conflict
from routerd.core.exchange import ExchangeView, LearnedPath, Origination, Refusal, SessionState
from routerd.core.mobility import CONFLICTS
from routerd.core.redundancy import Role, RoleState
from routerd.v1 import doctor_pb2, doctor_pb2_grpc
from tests.integration.api.harness import Served, make_daemon, serve
from tests.integration.api.test_routerctl import check_golden, normalise
from tests.support.configs import example_text, with_keys
from tests.support.fake_mobility import FakeDomain, FakeMobility

pytestmark = pytest.mark.integration

RR = "10.255.0.1"
PAIR = """
    - apiVersion: hybrid.routerd.net/v1alpha1
      kind: RedundancyGroup
      metadata: {name: site-a-pair}
      spec:
        role: onprem
        interface: lan
        virtualRouterID: 42
        priority: 150
        peers: [10.77.0.3]
        advertInterval: 100ms

    - apiVersion: hybrid.routerd.net/v1alpha1
      kind: RemoteAddressClaim
      metadata: {name: legacy-vm}
      spec:
        domainRef: lab
        address: 10.77.3.10/32
        ownerSide: onprem
        capture: {type: proxy-arp, interface: lan}
        delivery: {peerRef: site-b, mode: route}
"""


class Exchange:
    def __init__(self, view: ExchangeView) -> None:
        self.current = view

    def view(self) -> ExchangeView:
        return self.current


class Roles:
    def __init__(self, state: RoleState) -> None:
        self.state = state

    def role(self) -> RoleState:
        return self.state


@pytest.fixture
def site_a(tmp_path: Path, sockdir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    """Name: site_a / Scope: function / Depends: tmp_path, sockdir, monkeypatch."""
    text = with_keys(example_text("mobility", "site-a"), tmp_path / "keys").rstrip("\n") + PAIR
    daemon, host = make_daemon(tmp_path, str(sockdir / "routerd.sock"), monkeypatch, text=text)
    served = serve(daemon, host, tmp_path)
    try:
        yield served
    finally:
        served.close()


def attach(served: Served) -> FakeMobility:
    """The daemon's ports: the scene described in the module docstring."""
    now = time.time()
    dom = FakeDomain("lab", "10.77.0.0/16", "site-a", {"site-a": "here", "site-b": "b"})
    port = FakeMobility([dom], clock=lambda: now - 30)
    tie = Conflict("tie", "sites site-a and site-b both at sequence 5", CONFLICTS["tie"])
    port.set_home("10.77.3.9", "site-a", 5, "presence", "garp", conflicts=(tie,))
    port.set_home("10.77.3.10", "site-a", 2, "presence", "garp")
    port.set_home("10.77.4.1", "site-b", 7, "bgp", "BGP", kind="bgp", peer=RR,
                  stale_until=now + 90)  # fmt: skip
    sessions = {RR: SessionState(RR, "active", now - 40, "rr-1", "hold timer expired")}
    behind = LearnedPath("10.77.5.5", 3, 1, "10.255.0.31", RR, "10.255.0.31")
    ahead = LearnedPath("10.77.5.5", 2, 4, "10.255.0.21", RR, "10.255.0.21")
    view = ExchangeView(
        paths={"10.77.5.5": (behind, ahead)},
        sessions=sessions,
        originated={
            a: Origination(a, 1, s, "10.255.0.11") for a, s in (("10.77.3.9", 5), ("10.77.3.10", 2))
        },
        refused=(Refusal("10.77.9.9/32", RR, "10.255.0.66", "foreign-site-identity"),),
        refused_counts={"foreign-site-identity": 3},
    )
    daemon = served.daemon
    daemon.mobility = port  # type: ignore[attr-defined]
    daemon.exchange = Exchange(view)  # type: ignore[attr-defined]
    why = "VRRP master of VRID 42 on ens19"
    daemon.role_source = Roles(RoleState(Role.ACTIVE, now - 600, why))  # type: ignore[attr-defined]
    return port


def test_doctor_mobility_reports_each_problem_keyed_and_exits_3(site_a: Served) -> None:
    attach(site_a)
    table = site_a.ctl("doctor", "mobility", "--no-host")
    assert table.code == 3, table.err
    as_json = site_a.ctl("doctor", "mobility", "--no-host", "-o", "json")
    assert as_json.code == 3
    report = json.loads(as_json.out)
    status = {f["name"]: f["status"] for f in report["findings"]}
    assert status["AddressMobilityDomain/lab 10.77.3.9 conflicting homes"] == "fail"
    assert status["AddressMobilityDomain/lab 10.77.3.10 captured at its home"] == "fail"
    assert status[f"BGPSpeaker/bgp neighbor {RR}"] == "fail"
    assert status["BGPSpeaker/bgp refused foreign-site-identity"] == "fail"
    assert status["AddressMobilityDomain/lab homes unconfirmed"] == "warn"
    assert status["AddressMobilityDomain/lab superseded sequences"] == "warn"
    assert status["RedundancyGroup/site-a-pair role"] == "pass"
    assert status["AddressMobilityDomain/lab gateway 10.77.0.1"] == "skip"
    check_golden("doctor-mobility.table", normalise(table.out, site_a))
    check_golden("doctor-mobility.json", normalise(as_json.out, site_a))


def test_the_doctor_service_runs_the_area_over_grpc(site_a: Served) -> None:
    attach(site_a)
    stub = site_a.stub(doctor_pb2_grpc.DoctorServiceStub)
    report = stub.RunDoctor(doctor_pb2.RunDoctorRequest(area="mobility", no_host=True))
    assert report.area == "mobility" and report.overall == "fail"
    down = next(f for f in report.findings if f.name == f"BGPSpeaker/bgp neighbor {RR}")
    assert "hold timer expired" in down.detail and "10.77.4.1" in down.detail
    at_home = next(f for f in report.findings if f.name.endswith("captured at its home"))
    assert at_home.claim == "legacy-vm"


def test_without_ports_the_live_checks_skip_with_the_reason(site_a: Served) -> None:
    r = site_a.ctl("doctor", "mobility", "--no-host", "-o", "json")
    assert r.code == 0, r.out
    report = json.loads(r.out)
    skipped = {f["name"]: f["detail"] for f in report["findings"] if f["status"] == "skip"}
    assert "no mobility port" in skipped["AddressMobilityDomain/lab conflicting homes"]
    assert "no route exchange" in skipped["BGPSpeaker/bgp speaker"]
    assert "no role source" in skipped["RedundancyGroup/site-a-pair role"]
