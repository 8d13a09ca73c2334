"""Instance-metadata readers against a strict local fake of each cloud's service."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

from routerd.core.errors import ProviderError
from routerd.providers.aws import imds as aws_imds
from routerd.providers.azure import imds as azure_imds
from routerd.providers.base import InstanceMetadata, Nic
from routerd.providers.gcp import imds as gcp_imds
from routerd.providers.oci import imds as oci_imds
from tests.unit.providers.conftest import load_fixture
from tests.unit.providers.fake_imds import FakeMetadataServer

Fake = Callable[..., FakeMetadataServer]

READERS = {
    "azure": azure_imds.read_instance_metadata,
    "aws": aws_imds.read_instance_metadata,
    "oci": oci_imds.read_instance_metadata,
    "gcp": gcp_imds.read_instance_metadata,
}
MAIN = {"azure": azure_imds.main, "aws": aws_imds.main, "oci": oci_imds.main, "gcp": gcp_imds.main}
FIXTURE = {
    "azure": "instance-secondary-ipconfig.json",
    "aws": "imds-secondary-ip.json",
    "oci": "metadata-one-vnic.json",
    "gcp": "metadata-alias-ip.json",
}
GCP_NIC = "projects/sam-lab/zones/asia-northeast1-a/instances/cloud-rt-a/networkInterfaces"
OCI_VNIC = "ocid1.vnic.oc1.ap-tokyo-1.abxhiljrexampleexampleexampleexampleexampleexample"

EXPECTED = [
    pytest.param(
        "azure",
        "instance-secondary-ipconfig.json",
        InstanceMetadata(
            "azure",
            "11111111-2222-3333-4444-555555555555",
            (
                Nic(None, "00:0d:3a:5c:8e:10", "10.40.8.10", ("10.40.8.31",)),
                Nic(None, "00:0d:3a:5c:8e:11", "10.40.9.10", ()),
            ),
        ),
        id="azure-secondary-ipconfig",
    ),
    pytest.param(
        "azure",
        "instance-unprovisioned.json",
        InstanceMetadata(
            "azure",
            "11111111-2222-3333-4444-555555555555",
            (
                Nic(None, "00:0d:3a:5c:8e:10", "10.40.8.10", ()),
                Nic(None, "00:0d:3a:5c:8e:11", "10.40.9.10", ()),
            ),
        ),
        id="azure-unprovisioned",
    ),
    pytest.param(
        "aws",
        "imds-secondary-ip.json",
        InstanceMetadata(
            "aws",
            "i-0123456789abcdef0",
            (
                Nic("eni-0a1b2c3d4e5f60789", "0e:5a:1f:3c:7b:01", "10.40.8.10", ("10.40.8.31",)),
                Nic("eni-0fedcba9876543210", "0e:5a:1f:3c:7b:02", "10.40.9.10", ()),
            ),
        ),
        id="aws-secondary-ip-sorted-by-device-number",
    ),
    pytest.param(
        "aws",
        "imds-unprovisioned.json",
        InstanceMetadata(
            "aws",
            "i-0123456789abcdef0",
            (
                Nic("eni-0a1b2c3d4e5f60789", "0e:5a:1f:3c:7b:01", "10.40.8.10", ()),
                Nic("eni-0fedcba9876543210", "0e:5a:1f:3c:7b:02", "10.40.9.10", ()),
            ),
        ),
        id="aws-unprovisioned",
    ),
    pytest.param(
        "oci",
        "metadata-one-vnic.json",
        InstanceMetadata(
            "oci",
            "ocid1.instance.oc1.ap-tokyo-1.anxhiljrexampleinstanceexampleinstanceexample",
            (Nic(OCI_VNIC, "02:00:17:05:a1:10", "10.40.8.10", None),),
        ),
        id="oci-secondary-ips-not-exposed",
    ),
    pytest.param(
        "gcp",
        "metadata-alias-ip.json",
        InstanceMetadata(
            "gcp",
            "4567890123456789012",
            (
                Nic(f"{GCP_NIC}/nic0", "42:01:0a:28:08:0a", "10.40.8.10", ("10.40.8.31/32",)),
                Nic(f"{GCP_NIC}/nic1", "42:01:0a:28:09:0a", "10.40.9.10", ()),
            ),
        ),
        id="gcp-alias-ip",
    ),
    pytest.param(
        "gcp",
        "metadata-unprovisioned.json",
        InstanceMetadata(
            "gcp",
            "4567890123456789012",
            (
                Nic(f"{GCP_NIC}/nic0", "42:01:0a:28:08:0a", "10.40.8.10", ()),
                Nic(f"{GCP_NIC}/nic1", "42:01:0a:28:09:0a", "10.40.9.10", ()),
            ),
        ),
        id="gcp-unprovisioned",
    ),
]


@pytest.mark.parametrize(("provider", "fixture", "expected"), EXPECTED)
def test_reader_parses_fixture(
    fake_imds: Fake, provider: str, fixture: str, expected: InstanceMetadata
) -> None:
    srv = fake_imds(provider, load_fixture(provider, fixture))
    assert READERS[provider](base_url=srv.url, timeout=2.0) == expected
    assert all(r.headers.get("X-Forwarded-For") is None for r in srv.requests)


@pytest.mark.parametrize("provider", sorted(FIXTURE))
def test_record_reproduces_the_fixture(fake_imds: Fake, provider: str) -> None:
    """What --raw prints on a real VM has exactly the fixture format."""
    responses = load_fixture(provider, FIXTURE[provider])
    srv = fake_imds(provider, responses)
    record: dict[str, Any] = {}
    READERS[provider](base_url=srv.url, record=record)
    assert record == responses


def test_azure_request_shape(fake_imds: Fake) -> None:
    srv = fake_imds("azure", load_fixture("azure", FIXTURE["azure"]))
    azure_imds.read_instance_metadata(base_url=srv.url)
    [req] = srv.requests
    assert (req.method, req.path) == ("GET", "/metadata/instance?api-version=2021-02-01")
    assert req.headers["Metadata"] == "true"


def test_aws_imdsv2_token_flow(fake_imds: Fake) -> None:
    srv = fake_imds("aws", load_fixture("aws", FIXTURE["aws"]))
    aws_imds.read_instance_metadata(base_url=srv.url)
    first, *rest = srv.requests
    assert (first.method, first.path) == ("PUT", "/latest/api/token")
    assert 1 <= int(first.headers["X-aws-ec2-metadata-token-ttl-seconds"]) <= 21600
    assert rest and all(r.method == "GET" for r in rest)
    assert {r.headers["X-aws-ec2-metadata-token"] for r in rest} == {srv.token}


def test_oci_sends_bearer_oracle(fake_imds: Fake) -> None:
    srv = fake_imds("oci", load_fixture("oci", FIXTURE["oci"]))
    oci_imds.read_instance_metadata(base_url=srv.url)
    assert [r.path for r in srv.requests] == ["/opc/v2/instance/", "/opc/v2/vnics/"]
    assert {r.headers["Authorization"] for r in srv.requests} == {"Bearer Oracle"}


def test_gcp_sends_metadata_flavor(fake_imds: Fake) -> None:
    srv = fake_imds("gcp", load_fixture("gcp", FIXTURE["gcp"]))
    gcp_imds.read_instance_metadata(base_url=srv.url)
    assert gcp_imds.NICS_PATH in [r.path for r in srv.requests]
    assert {r.headers["Metadata-Flavor"] for r in srv.requests} == {"Google"}


def _raw(url: str, method: str = "GET", headers: dict[str, str] | None = None) -> int:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    req = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with opener.open(req, timeout=2) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as e:
        return e.code


@pytest.mark.parametrize(
    ("provider", "path", "method", "headers", "status"),
    [
        pytest.param(
            "azure",
            "/metadata/instance?api-version=2021-02-01",
            "GET",
            {},
            400,
            id="azure-no-metadata-header",
        ),
        pytest.param(
            "azure",
            "/metadata/instance",
            "GET",
            {"Metadata": "true"},
            400,
            id="azure-no-api-version",
        ),
        pytest.param(
            "aws", "/latest/meta-data/instance-id", "GET", {}, 401, id="aws-get-without-token"
        ),
        pytest.param(
            "aws",
            "/latest/meta-data/instance-id",
            "GET",
            {"X-aws-ec2-metadata-token": "forged"},
            401,
            id="aws-wrong-token",
        ),
        pytest.param("aws", "/latest/api/token", "PUT", {}, 400, id="aws-token-without-ttl"),
        pytest.param("oci", "/opc/v2/vnics/", "GET", {}, 401, id="oci-no-bearer"),
        pytest.param("gcp", "/computeMetadata/v1/instance/id", "GET", {}, 403, id="gcp-no-flavor"),
    ],
)
def test_fake_enforces_required_headers(
    fake_imds: Fake, provider: str, path: str, method: str, headers: dict[str, str], status: int
) -> None:
    """The fake is as strict as the clouds, so the reader tests above mean something."""
    srv = fake_imds(provider, load_fixture(provider, FIXTURE[provider]))
    assert _raw(srv.url + path, method, headers) == status


@pytest.mark.parametrize("provider", sorted(FIXTURE))
def test_timeout_is_retryable(provider: str, silent_url: str) -> None:
    with pytest.raises(ProviderError) as e:
        READERS[provider](base_url=silent_url, timeout=0.2)
    assert e.value.retryable
    assert "timed out" in e.value.reason
    assert e.value.supporting_data["provider"] == provider


@pytest.mark.parametrize("provider", sorted(FIXTURE))
def test_nothing_listening_means_not_this_cloud(provider: str, refused_url: str) -> None:
    assert READERS[provider](base_url=refused_url, timeout=1.0) is None


@pytest.mark.parametrize("provider", sorted(FIXTURE))
def test_404_on_first_request_means_not_this_cloud(fake_imds: Fake, provider: str) -> None:
    srv = fake_imds(provider, {}, missing={"/latest/api/token"})
    assert READERS[provider](base_url=srv.url) is None
    assert len(srv.requests) == 1


def test_404_after_the_first_request_is_an_error(fake_imds: Fake) -> None:
    srv = fake_imds("aws", {})
    with pytest.raises(ProviderError) as e:
        aws_imds.read_instance_metadata(base_url=srv.url)
    assert e.value.supporting_data["status"] == 404
    assert e.value.supporting_data["url"] == srv.url + "/latest/meta-data/instance-id"


@pytest.mark.parametrize(
    ("provider", "path"),
    [
        pytest.param("azure", "/metadata/instance?api-version=2021-02-01", id="azure"),
        pytest.param("oci", "/opc/v2/vnics/", id="oci-second-document"),
        pytest.param("gcp", gcp_imds.NICS_PATH, id="gcp"),
    ],
)
def test_malformed_json_is_not_retryable(fake_imds: Fake, provider: str, path: str) -> None:
    responses = load_fixture(provider, FIXTURE[provider])
    responses[path] = '{"compute": {"vmId": '
    srv = fake_imds(provider, responses)
    with pytest.raises(ProviderError) as e:
        READERS[provider](base_url=srv.url)
    assert not e.value.retryable
    assert "not valid JSON" in e.value.reason
    assert e.value.supporting_data["body"] == '{"compute": {"vmId": '


def test_json_nested_past_the_decoder_stack_is_malformed_not_a_crash(fake_imds: Fake) -> None:
    path = "/metadata/instance?api-version=2021-02-01"
    responses = load_fixture("azure", FIXTURE["azure"])
    responses[path] = "[" * 100_000 + "]" * 100_000
    srv = fake_imds("azure", responses)
    with pytest.raises(ProviderError, match="not valid JSON"):
        READERS["azure"](base_url=srv.url)


@pytest.mark.parametrize(
    ("provider", "path", "doc"),
    [
        pytest.param(
            "azure",
            "/metadata/instance?api-version=2021-02-01",
            {"compute": {"vmId": "x"}, "network": {"interface": [{"ipv4": {}}]}},
            id="azure-nic-without-ipv4-addresses",
        ),
        pytest.param(
            "oci", "/opc/v2/vnics/", [{"vnicId": "ocid1.vnic.oc1.x.y"}], id="oci-vnic-without-ip"
        ),
        pytest.param("gcp", gcp_imds.NICS_PATH, {"ip": "10.0.0.1"}, id="gcp-not-a-list"),
        pytest.param(
            "aws",
            "/latest/meta-data/network/interfaces/macs/0e:5a:1f:3c:7b:01/local-ipv4s",
            "",
            id="aws-eni-without-addresses",
        ),
    ],
)
def test_unexpected_shape_is_a_provider_error(
    fake_imds: Fake, provider: str, path: str, doc: Any
) -> None:
    responses = load_fixture(provider, FIXTURE[provider])
    responses[path] = doc
    srv = fake_imds(provider, responses)
    with pytest.raises(ProviderError) as e:
        READERS[provider](base_url=srv.url)
    assert e.value.reason.startswith(f"unexpected {provider} metadata shape")
    assert not e.value.retryable


@pytest.mark.parametrize(
    ("status", "retryable"),
    [
        pytest.param(500, True, id="500-retryable"),
        pytest.param(503, True, id="503-retryable"),
        pytest.param(429, True, id="429-retryable"),
        pytest.param(403, False, id="403-permanent"),
    ],
)
def test_http_error_classification(fake_imds: Fake, status: int, retryable: bool) -> None:
    path = "/opc/v2/vnics/"
    srv = fake_imds("oci", load_fixture("oci", FIXTURE["oci"]), overrides={path: (status, "no")})
    with pytest.raises(ProviderError) as e:
        oci_imds.read_instance_metadata(base_url=srv.url)
    assert e.value.retryable is retryable
    assert e.value.supporting_data["status"] == status
    assert e.value.supporting_data["url"] == srv.url + path


def test_aws_rejected_token_is_not_retryable(fake_imds: Fake) -> None:
    """A hop limit or a proxy in the way shows up as 401 on the GETs: not transient."""
    srv = fake_imds(
        "aws",
        load_fixture("aws", FIXTURE["aws"]),
        overrides={"/latest/meta-data/instance-id": (401, "")},
    )
    with pytest.raises(ProviderError) as e:
        aws_imds.read_instance_metadata(base_url=srv.url)
    assert e.value.supporting_data["status"] == 401
    assert not e.value.retryable


def test_gcp_requires_the_flavor_header_back(fake_imds: Fake) -> None:
    """Something on 169.254.169.254 that does not answer like GCE is not GCE."""
    srv = fake_imds("gcp", load_fixture("gcp", FIXTURE["gcp"]), flavor_header=False)
    assert gcp_imds.read_instance_metadata(base_url=srv.url) is None


def test_proxy_environment_is_ignored(
    fake_imds: Fake, refused_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A proxy can never reach the link-local metadata service."""
    srv = fake_imds("oci", load_fixture("oci", FIXTURE["oci"]))
    monkeypatch.setenv("http_proxy", refused_url)
    monkeypatch.setenv("HTTP_PROXY", refused_url)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    md = oci_imds.read_instance_metadata(base_url=srv.url)
    assert md is not None and md.nics[0].primary_ip == "10.40.8.10"


@pytest.mark.parametrize("provider", sorted(FIXTURE))
def test_entry_point_prints_parsed_json(
    fake_imds: Fake, provider: str, capsys: pytest.CaptureFixture[str]
) -> None:
    srv = fake_imds(provider, load_fixture(provider, FIXTURE[provider]))
    assert MAIN[provider](["--base-url", srv.url]) == 0
    out = json.loads(capsys.readouterr().out)
    expected = READERS[provider](base_url=srv.url)
    assert expected is not None
    assert out["provider"] == provider
    assert out["instance_id"] == expected.instance_id
    assert [n["primary_ip"] for n in out["nics"]] == [n.primary_ip for n in expected.nics]


@pytest.mark.parametrize("provider", sorted(FIXTURE))
def test_entry_point_raw_prints_a_fixture(
    fake_imds: Fake, provider: str, capsys: pytest.CaptureFixture[str]
) -> None:
    responses = load_fixture(provider, FIXTURE[provider])
    srv = fake_imds(provider, responses)
    assert MAIN[provider](["--base-url", srv.url, "--raw"]) == 0
    assert json.loads(capsys.readouterr().out) == responses


def test_entry_point_exit_codes(
    silent_url: str, refused_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert aws_imds.main(["--base-url", refused_url]) == 1
    assert "no aws instance metadata service" in capsys.readouterr().err
    assert aws_imds.main(["--base-url", silent_url, "--timeout", "0.2"]) == 2
    err = json.loads(capsys.readouterr().err)
    assert err["retryable"] is True
    assert err["supportingData"]["url"].startswith(silent_url)


@pytest.mark.parametrize("provider", sorted(FIXTURE))
def test_python_m_entry_point_runs_cleanly(
    provider: str, refused_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``python -m routerd.providers.<cloud>.imds`` works, and without runpy's "found in
    sys.modules" warning (an error under filterwarnings=error): importing the package
    chain must not import the imds module itself."""
    import runpy
    import sys

    import routerd
    import routerd.providers

    # a fresh import of the whole package chain, as `python -m` does; monkeypatch puts the
    # original modules (and the routerd.providers attribute) back afterwards
    monkeypatch.setattr(routerd, "providers", routerd.providers)
    for name in [m for m in sys.modules if m.startswith("routerd.providers")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(sys, "argv", ["imds", "--base-url", refused_url])
    with pytest.raises(SystemExit) as e:
        runpy.run_module(f"routerd.providers.{provider}.imds", run_name="__main__")
    assert e.value.code == 1


def test_garbage_instead_of_http_is_retryable(fake_imds: Fake) -> None:
    """Something that is not HTTP on the other end is a transient failure, not a crash."""
    import socket
    import threading

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)

    def answer() -> None:
        conn, _ = sock.accept()
        conn.recv(4096)
        conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")
        conn.close()

    t = threading.Thread(target=answer)
    t.start()
    with pytest.raises(ProviderError) as e:
        oci_imds.read_instance_metadata(base_url=f"http://127.0.0.1:{sock.getsockname()[1]}")
    t.join()
    sock.close()
    assert e.value.retryable


def test_malformed_base_url_is_a_provider_error() -> None:
    with pytest.raises(ProviderError) as e:
        azure_imds.read_instance_metadata(base_url="169.254.169.254")
    assert "bad metadata URL" in e.value.reason
    assert not e.value.retryable
