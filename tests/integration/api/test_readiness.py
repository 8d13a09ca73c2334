"""Before the first pass the API says UNAVAILABLE (with why); a busy engine meets deadlines."""

from __future__ import annotations

import threading

import grpc
import pytest

from routerd.api import server
from routerd.v1 import (
    claims_pb2,
    claims_pb2_grpc,
    config_pb2,
    config_pb2_grpc,
    status_pb2,
    status_pb2_grpc,
    topology_pb2,
    topology_pb2_grpc,
)
from tests.integration.api.harness import make_daemon, run_ctl

pytestmark = pytest.mark.integration


def test_before_the_first_pass_answers_unavailable_and_status_says_why(
    tmp_path, sockdir, monkeypatch
):
    sock = str(sockdir / "routerd.sock")
    daemon, _ = make_daemon(tmp_path, sock, monkeypatch)
    stop = server.start(daemon)  # the engine never runs in this test
    try:
        with grpc.insecure_channel(f"unix:{sock}") as ch:
            with pytest.raises(grpc.RpcError) as e:
                config_pb2_grpc.ConfigServiceStub(ch).GetEffectiveConfig(
                    config_pb2.GetEffectiveConfigRequest(), timeout=10
                )
            assert e.value.code() is grpc.StatusCode.UNAVAILABLE
            assert "first reconcile pass" in e.value.details()
            with pytest.raises(grpc.RpcError) as e:
                topology_pb2_grpc.TopologyServiceStub(ch).ListPeers(
                    topology_pb2.ListPeersRequest(), timeout=10
                )
            assert e.value.code() is grpc.StatusCode.UNAVAILABLE
            claims = claims_pb2_grpc.ClaimServiceStub(ch).ListClaims(
                claims_pb2.ListClaimsRequest(), timeout=10
            )
            assert list(claims.claims) == []
            st = status_pb2_grpc.StatusServiceStub(ch).GetStatus(
                status_pb2.GetStatusRequest(), timeout=10
            )
            assert [w.code for w in st.health] == ["not-reconciled-yet"]
        r = run_ctl("--socket", sock, "get", "peers")
        assert r.code == 1 and "first reconcile pass" in r.err
    finally:
        stop()
        daemon.engine.close()
        daemon.store.close()


def test_plan_on_a_busy_engine_ends_at_the_deadline_and_the_engine_carries_on(served):
    gate = threading.Event()
    served.on_engine(gate.wait)  # wedge the engine thread in its inbox
    try:
        stub = served.stub(config_pb2_grpc.ConfigServiceStub)
        with pytest.raises(grpc.RpcError) as e:
            stub.PlanChanges(config_pb2.PlanChangesRequest(), timeout=1.0)
        assert e.value.code() is grpc.StatusCode.DEADLINE_EXCEEDED
    finally:
        gate.set()
    served.wait_passes(1)
    plan = served.stub(config_pb2_grpc.ConfigServiceStub).PlanChanges(
        config_pb2.PlanChangesRequest(), timeout=30
    )
    assert list(plan.changes) == []
