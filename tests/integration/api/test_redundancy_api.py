"""RedundancyService, ``routerctl failback`` and the pair in ``routerctl status``, through a
running daemon whose RoleSource (``daemon.role_source``) is a fake the test drives.

What these catch: the role, since, why and partners not reaching the status (table and
JSON); a failback that does not reach the RoleSource; a refused takeover that is not a
clear FAILED_PRECONDITION (exit 1 with the reason); a router without a pair that is not
reported as its site's only, active router.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import grpc
import pytest

from routerd.core.redundancy import Role, RoleState, TakeoverRefused
from routerd.v1 import redundancy_pb2, redundancy_pb2_grpc
from tests.integration.api.harness import serving
from tests.support.fake_mobility import FakeDomain, FakeMobility
from tests.support.wait import wait_until

pytestmark = pytest.mark.integration


class Plan:
    peers = ("10.40.8.2",)


class Roles:
    """A RoleSource: standby until a takeover, which may be refused."""

    plan = Plan()

    def __init__(self) -> None:
        why = "VRRP backup of VRID 42 on ens19: 10.40.8.2 (priority 150) is master"
        self.state = RoleState(Role.STANDBY, time.time() - 90, why, "RedundancyGroup/site-a")
        self.refuse = ""
        self.takeovers = 0

    def start(self, on_change: Callable[[], None]) -> None:
        return None

    def role(self) -> RoleState:
        return self.state

    def take_over(self) -> str:
        if self.refuse:
            raise TakeoverRefused(self.refuse)
        self.takeovers += 1
        self.state = RoleState(Role.ACTIVE, time.time(), "VRRP master of VRID 42 on ens19", "x")
        return "RedundancyGroup/site-a: taking over"

    def close(self, *, cleanup: bool = False) -> None:
        return None


def test_status_failback_and_refusal(
    tmp_path: Path, sockdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serving(tmp_path, str(sockdir / "routerd.sock"), monkeypatch) as served:
        roles = Roles()
        served.daemon.role_source = roles  # type: ignore[attr-defined]
        table = served.ctl("status")
        assert table.code == 0, table.err
        line = next(ln for ln in table.out.splitlines() if ln.startswith("Pair"))
        assert "STANDBY since 1m" in line and "in RedundancyGroup/site-a" in line
        assert "10.40.8.2 (priority 150) is master" in line
        pair = json.loads(served.ctl("status", "-o", "json").out)["pair"]
        assert pair["role"] == "standby" and pair["partners"] == ["10.40.8.2"]
        assert pair["active"] is False

        done = served.ctl("failback")
        assert done.code == 0, done.err
        assert "taking over" in done.out and "now active" in done.out
        assert roles.takeovers == 1

        roles.refuse = "RedundancyGroup/site-a cannot take over while fault: eth0 is down"
        refused = served.ctl("failback")
        assert refused.code == 2 and "eth0 is down" in refused.err, refused
        stub = served.stub(redundancy_pb2_grpc.RedundancyServiceStub)
        with pytest.raises(grpc.RpcError) as err:
            stub.Failback(redundancy_pb2.FailbackRequest())
        assert err.value.code() is grpc.StatusCode.FAILED_PRECONDITION
        assert stub.GetRole(redundancy_pb2.GetRoleRequest()).role == "active"


def test_a_router_without_a_pair_is_its_sites_only_router(
    tmp_path: Path, sockdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serving(tmp_path, str(sockdir / "routerd.sock"), monkeypatch) as served:
        assert not any(ln.startswith("Pair") for ln in served.ctl("status").out.splitlines())
        stub = served.stub(redundancy_pb2_grpc.RedundancyServiceStub)
        role = stub.GetRole(redundancy_pb2.GetRoleRequest())
        assert (role.role, role.active, role.group) == ("active", True, "")
        done = served.ctl("failback")
        assert done.code == 0 and "no partner" in done.out


def test_get_homes_names_this_sites_active_router(
    tmp_path: Path, sockdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serving(tmp_path, str(sockdir / "routerd.sock"), monkeypatch) as served:
        dom = FakeDomain("lab", "10.77.0.0/16", "site-a", {"site-a": "here", "site-b": "b"})
        port = FakeMobility([dom])
        port.set_home("10.77.3.9", "site-a", 5, "presence", "garp")
        served.daemon.mobility = port  # type: ignore[attr-defined]
        roles = Roles()
        served.daemon.role_source = roles  # type: ignore[attr-defined]
        out = served.ctl("get", "homes").out
        assert "# RedundancyGroup/site-a: this site's active router is its partner" in out, out
        roles.take_over()
        out = served.ctl("get", "homes").out
        assert "active router is this router (active: VRRP master" in out, out
        data = json.loads(served.ctl("get", "homes", "-o", "json").out)
        assert data["localPair"]["role"] == "active"


def test_a_standbys_held_back_claims_are_no_health_problem(
    tmp_path: Path, sockdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with serving(tmp_path, str(sockdir / "routerd.sock"), monkeypatch) as served:

        def claims() -> set[tuple[str, str]]:
            listed = json.loads(served.ctl("get", "claims", "-o", "json").out)["claims"]
            return {(c["state"], c.get("reason", "")) for c in listed}

        wait_until(lambda: None if claims() == {("verified", "")} else str(claims()))
        served.daemon.engine.set_capture_active("*", False)  # it became its pair's standby
        want = {("degraded", "capture-standby")}
        wait_until(lambda: None if claims() == want else str(claims()))
        assert json.loads(served.ctl("status", "-o", "json").out)["health"] == []
