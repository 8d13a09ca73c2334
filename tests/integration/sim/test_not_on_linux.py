"""Nothing of the simulator is reachable through a daemon on the Linux backend.

The daemon here is the real ``Daemon`` and API server with ``--backend linux``; only the
dataplane under it is the in-memory port double (this test needs no root). SimService must
not be registered at all: a call is UNIMPLEMENTED and server reflection does not list it,
while the regular services are served.
"""

from __future__ import annotations

import grpc
import pytest
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from routerd.daemon import service
from routerd.v1 import sim_pb2, sim_pb2_grpc, status_pb2, status_pb2_grpc
from tests.integration.api.harness import make_daemon, serve
from tests.unit.core.fakehost import FakeHost

pytestmark = pytest.mark.integration


def test_linux_backend_serves_no_sim_service(tmp_path, sockdir, monkeypatch):
    monkeypatch.setattr(service.registry, "create", lambda name, **kw: FakeHost())
    daemon, _ = make_daemon(tmp_path, str(sockdir / "r.sock"), monkeypatch, backend="linux")
    assert daemon.opts.backend == "linux"
    daemon.sim = object()  # even a daemon holding a world reference: the backend decides
    served = serve(daemon, None, tmp_path)
    try:
        channel = served.channel()
        status = status_pb2_grpc.StatusServiceStub(channel).GetStatus(status_pb2.GetStatusRequest())
        assert status.backend == "linux"
        with pytest.raises(grpc.RpcError) as err:
            sim_pb2_grpc.SimServiceStub(channel).GetWorld(sim_pb2.GetWorldRequest())
        assert err.value.code() is grpc.StatusCode.UNIMPLEMENTED
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        [resp] = list(stub.ServerReflectionInfo(iter([request])))
        names = {s.name for s in resp.list_services_response.service}
        assert "routerd.v1.StatusService" in names
        assert not any("Sim" in n for n in names)
    finally:
        served.close()
