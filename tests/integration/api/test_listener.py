"""Where the API listens: socket permissions, live/stale sockets, mutual TLS, health, reflection."""

from __future__ import annotations

import grp
import os
import shutil
import socket
import stat
import subprocess
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from routerd.api.listener import ListenerError
from routerd.api.server import SERVICE_NAMES, ApiServer
from routerd.v1 import status_pb2, status_pb2_grpc
from tests.integration.api.harness import make_daemon, serving

pytestmark = pytest.mark.integration

SYSTEM_PYTHON = "/usr/bin/python3"  # the venv's interpreter lives under /root (0700)
NOBODY = 65534
CONNECT = (
    "import socket, sys\n"
    "s = socket.socket(socket.AF_UNIX)\n"
    "try:\n"
    "    s.connect(sys.argv[1]); print('connected')\n"
    "except PermissionError:\n"
    "    print('denied')\n"
)


def status(channel: grpc.Channel) -> status_pb2.Status:
    stub = status_pb2_grpc.StatusServiceStub(channel)
    return stub.GetStatus(status_pb2.GetStatusRequest(), timeout=10)


def connect_as(path: str, *, uid: int, gid: int) -> str:
    out = subprocess.run(
        [SYSTEM_PYTHON, "-c", CONNECT, path],
        user=uid,
        group=gid,
        extra_groups=[],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return out.stdout.strip()


def test_socket_is_0660_in_a_0750_parent_and_owned_by_the_group(tmp_path, sockdir, monkeypatch):
    path = sockdir / "run" / "routerd" / "routerd.sock"
    with serving(tmp_path, str(path), monkeypatch, socket_group="daemon"):
        st = path.stat()
        assert stat.S_ISSOCK(st.st_mode)
        assert stat.S_IMODE(st.st_mode) == 0o660
        assert st.st_gid == grp.getgrnam("daemon").gr_gid
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o750
    assert not path.exists(), "the socket file is removed at shutdown"


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to run a child as nobody")
@pytest.mark.skipif(not Path(SYSTEM_PYTHON).exists(), reason=f"needs {SYSTEM_PYTHON}")
def test_a_user_outside_the_socket_group_is_refused(tmp_path, sockdir, monkeypatch):
    sockdir.chmod(0o755)  # let nobody reach the socket; the socket's own mode must stop it
    path = sockdir / "routerd.sock"
    daemon_gid = grp.getgrnam("daemon").gr_gid
    with serving(tmp_path, str(path), monkeypatch, socket_group="daemon"):
        assert connect_as(str(path), uid=NOBODY, gid=NOBODY) == "denied"
        assert connect_as(str(path), uid=NOBODY, gid=daemon_gid) == "connected"


def test_unknown_socket_group_is_a_startup_error(tmp_path, sockdir, monkeypatch):
    path = sockdir / "routerd.sock"
    daemon, _ = make_daemon(tmp_path, str(path), monkeypatch, socket_group="no-such-group-x")
    with pytest.raises(ListenerError, match="no-such-group-x"):
        ApiServer(daemon).start()
    assert not path.exists()
    daemon.store.close()


def test_second_server_on_a_live_socket_refuses_to_start(tmp_path, sockdir, monkeypatch, served):
    other, _ = make_daemon(tmp_path / "other", served.socket, monkeypatch)
    with pytest.raises(ListenerError, match="already serving"):
        ApiServer(other).start()
    other.store.close()
    assert status(served.channel()).router == "oci-onprem-rt-1"  # the first one is unharmed


def test_stale_socket_file_is_replaced(tmp_path, sockdir, monkeypatch):
    path = sockdir / "routerd.sock"
    dead = socket.socket(socket.AF_UNIX)
    dead.bind(str(path))  # a socket file nobody listens on, as a crash leaves it
    dead.close()
    assert path.exists()
    with serving(tmp_path, str(path), monkeypatch) as s:
        assert status(s.channel()).router == "oci-onprem-rt-1"


def test_a_path_that_is_not_a_socket_is_never_removed(tmp_path, sockdir, monkeypatch):
    path = sockdir / "routerd.sock"
    path.write_text("precious")
    daemon, _ = make_daemon(tmp_path, str(path), monkeypatch)
    with pytest.raises(ListenerError, match="not a socket"):
        ApiServer(daemon).start()
    assert path.read_text() == "precious"
    daemon.store.close()


def test_plaintext_tcp_is_refused_at_startup(tmp_path, sockdir, monkeypatch):
    path = sockdir / "routerd.sock"
    daemon, _ = make_daemon(tmp_path, str(path), monkeypatch, listen_tcp="127.0.0.1:0")
    with pytest.raises(ListenerError, match="mutual TLS") as e:
        ApiServer(daemon).start()
    assert "--tls-cert" in str(e.value) and "--tls-client-ca" in str(e.value)
    assert not path.exists(), "nothing was bound"
    daemon.store.close()


def test_health_reports_serving(served):
    stub = health_pb2_grpc.HealthStub(served.channel())
    for name in ("", "routerd.v1.ClaimService"):
        resp = stub.Check(health_pb2.HealthCheckRequest(service=name), timeout=10)
        assert resp.status == health_pb2.HealthCheckResponse.SERVING


def test_reflection_lists_the_routerd_services(served):
    stub = reflection_pb2_grpc.ServerReflectionStub(served.channel())
    req = reflection_pb2.ServerReflectionRequest(list_services="")
    resp = next(iter(stub.ServerReflectionInfo(iter([req]), timeout=10)))
    names = {s.name for s in resp.list_services_response.service}
    assert set(SERVICE_NAMES) <= names
    assert {
        "routerd.v1.ClaimService",
        "routerd.v1.ConfigService",
        "routerd.v1.DoctorService",
        "routerd.v1.MobilityService",
        "routerd.v1.PluginService",
        "routerd.v1.StatusService",
        "routerd.v1.TopologyService",
    } <= names


# -- mutual TLS -------------------------------------------------------------------------------


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_pki(d: Path) -> None:
    """A throwaway CA, a server cert for localhost and a client cert, all signed by the CA."""
    d.mkdir()
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
            "ca.crt", "-days", "2", "-subj", "/CN=routerd-test-ca", cwd=d)  # fmt: skip
    (d / "server.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    for name, ext in (("server", ["-extfile", "server.ext"]), ("client", [])):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out",
                f"{name}.csr", "-subj", f"/CN={name}", cwd=d)  # fmt: skip
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", f"{name}.crt", "-days", "2", *ext, cwd=d)  # fmt: skip


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI")
def test_mtls_listener_refuses_a_client_without_a_certificate(tmp_path, sockdir, monkeypatch):
    pki = tmp_path / "pki"
    make_pki(pki)
    daemon, _ = make_daemon(
        tmp_path,
        str(sockdir / "routerd.sock"),
        monkeypatch,
        listen_tcp="127.0.0.1:0",
        tls_cert=str(pki / "server.crt"),
        tls_key=str(pki / "server.key"),
        tls_client_ca=str(pki / "ca.crt"),
    )
    api = ApiServer(daemon)
    api.start()
    try:
        target = f"localhost:{api.tcp_port}"
        ca = (pki / "ca.crt").read_bytes()
        anonymous = grpc.ssl_channel_credentials(root_certificates=ca)
        with grpc.secure_channel(target, anonymous) as ch, pytest.raises(grpc.RpcError) as e:
            status(ch)
        assert e.value.code() is grpc.StatusCode.UNAVAILABLE
        client = grpc.ssl_channel_credentials(
            root_certificates=ca,
            private_key=(pki / "client.key").read_bytes(),
            certificate_chain=(pki / "client.crt").read_bytes(),
        )
        with grpc.secure_channel(target, client) as ch:
            assert status(ch).router == "oci-onprem-rt-1"
        with grpc.insecure_channel(target) as ch, pytest.raises(grpc.RpcError):
            status(ch)  # plaintext on the TLS port
    finally:
        api.stop()
        daemon.store.close()
