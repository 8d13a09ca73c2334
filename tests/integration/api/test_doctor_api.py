"""DoctorService and ``routerctl doctor``: the daemon's view, --local, and exit code 3."""

from __future__ import annotations

import json

import grpc
import pytest

from routerd.v1 import doctor_pb2, doctor_pb2_grpc
from tests.integration.api.harness import INVENTORY_EXE, make_daemon, router_text, run_ctl, serve

pytestmark = pytest.mark.integration

pytest.importorskip("routerd.doctor", reason="needs the doctor checks (routerd.doctor)")


def doctor(served) -> doctor_pb2_grpc.DoctorServiceStub:
    return served.stub(doctor_pb2_grpc.DoctorServiceStub)


def test_hybrid_without_host_checks_the_daemons_claims(served):
    report = doctor(served).RunDoctor(doctor_pb2.RunDoctorRequest(area="hybrid", no_host=True))
    assert report.area == "hybrid"
    assert sum(report.counts.values()) == len(report.findings) > 0
    assert "cloud-vm-21" in {f.claim for f in report.findings}
    assert report.counts["fail"] == 0 or report.overall == "fail"


def test_unknown_area_is_invalid_argument(served):
    with pytest.raises(grpc.RpcError) as e:
        doctor(served).RunDoctor(doctor_pb2.RunDoctorRequest(area="karma"))
    assert e.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "hybrid" in e.value.details()


def test_passing_plugin_doctor_exits_0(served):
    assert served.ctl("plugin", "run", "inventory").code == 0
    r = served.ctl("doctor", "plugin")
    assert r.code == 0, r.out
    assert "Plugin/inventory executable exists" in r.out


def test_failing_check_exits_3_from_the_daemon_and_locally(tmp_path, sockdir, monkeypatch):
    text = router_text(tmp_path / "keys").replace(str(INVENTORY_EXE), str(tmp_path / "gone"))
    daemon, host = make_daemon(tmp_path, str(sockdir / "routerd.sock"), monkeypatch, text=text)
    served = serve(daemon, host, tmp_path)
    try:
        remote = served.ctl("doctor", "plugin", "-o", "json")
        assert remote.code == 3, remote.err
        local = run_ctl(
            "doctor",
            "plugin",
            "--local",
            "-c",
            str(tmp_path / "router.yaml"),
            "--state-dir",
            str(tmp_path / "state"),
            "--backend",
            "sim",
            "-o",
            "json",
        )
        assert local.code == 3, local.err
        for out in (remote.out, local.out):
            report = json.loads(out)
            assert report["overall"] == "fail"
            failed = [f["name"] for f in report["findings"] if f["status"] == "fail"]
            assert failed == ["Plugin/inventory executable exists"]
        table = served.ctl("doctor", "plugin")
        assert table.code == 3
        assert "fail Plugin/inventory executable exists" in table.out and "remedy: " in table.out
    finally:
        served.close()


def test_local_needs_a_config_and_a_daemon_run_refuses_one(served, tmp_path):
    r = run_ctl("doctor", "dynamic", "--local")
    assert r.code == 2 and "-c FILE" in r.err
    r = served.ctl("doctor", "dynamic", "-c", str(tmp_path / "router.yaml"))
    assert r.code == 2 and "--local" in r.err
