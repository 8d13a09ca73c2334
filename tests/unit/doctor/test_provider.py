"""provider-secondary-ip: does the cloud's metadata put the claim on this router's NIC?"""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from routerd.core.doctor import DoctorContext, Status
from routerd.doctor import provider
from routerd.doctor.inputs import resolve
from routerd.providers.registry import NAME_TO_PROVIDER
from tests.fixtures.doctor.replay import ReplayHost
from tests.unit.doctor.kit import Scene, config_of, one
from tests.unit.providers.conftest import load_fixture
from tests.unit.providers.fake_imds import FakeMetadataServer

Recorded = Callable[[str], Scene]
ENI = "eni-0a1b2c3d4e5f60789"  # holds 10.40.8.31 as a secondary IP in the AWS fixture


@pytest.fixture
def imds() -> Iterator[FakeMetadataServer]:
    """Name: imds / Scope: function / Depends: none. A fake EC2 IMDSv2 on loopback."""
    srv = FakeMetadataServer("aws", load_fixture("aws", "imds-secondary-ip.json"))
    yield srv
    srv.close()


def cloud(s: Scene, address: str, nic: str) -> DoctorContext:
    text = s.rec["topology"]["config"]
    text = text.replace("10.40.8.10/32", address).replace("eni-0123456789abcdef0", nic)
    return DoctorContext(startup=config_of(text))


def run(host: ReplayHost, ctx: DoctorContext) -> provider.Finding:  # type: ignore[name-defined]
    inputs = resolve(ctx, host)
    (intent,) = inputs.intents.values()
    f = provider.check(inputs, intent)
    assert f is not None
    return f


def test_assigned_secondary_ip_passes(recorded: Recorded, imds: FakeMetadataServer) -> None:
    s = recorded("cloud-os-address")
    s.host.env = {"ROUTERD_IMDS_URL": imds.url}
    f = run(s.host, cloud(s, "10.40.8.31/32", ENI))
    assert f.status is Status.PASS and f"10.40.8.31 is assigned to {ENI}" in f.detail
    assert imds.requests[0].path == "/latest/api/token"  # IMDSv2, through the provider reader


def test_unassigned_address_fails_with_the_assign_command(
    recorded: Recorded, imds: FakeMetadataServer
) -> None:
    s = recorded("cloud-os-address")
    s.host.env = {"ROUTERD_IMDS_URL": imds.url}
    f = run(s.host, cloud(s, "10.40.8.77/32", ENI))
    assert f.status is Status.FAIL and "not assigned" in f.detail and f.remedy


def test_metadata_is_read_once_per_run_for_all_claims(
    recorded: Recorded, imds: FakeMetadataServer
) -> None:
    s = recorded("cloud-os-address")
    s.host.env = {"ROUTERD_IMDS_URL": imds.url}
    inputs = resolve(cloud(s, "10.40.8.31/32", ENI), s.host)
    (intent,) = inputs.intents.values()
    provider.check(inputs, intent)
    before = len(imds.requests)
    provider.check(inputs, intent)
    assert len(imds.requests) == before


def test_unreachable_metadata_skips_with_the_reason(recorded: Recorded) -> None:
    s = recorded("cloud-os-address")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()  # nothing listens there now: connection refused
    s.host.env = {"ROUTERD_IMDS_URL": url}
    f = run(s.host, cloud(s, "10.40.8.31/32", ENI))
    assert f.status is Status.SKIP and "no AWS metadata service answers" in f.detail


def test_not_on_that_cloud_skips_without_any_request(
    recorded: Recorded, imds: FakeMetadataServer
) -> None:
    s = recorded("cloud-os-address")
    f = one(s.doctor(), "onprem-vm-10 provider assignment")
    assert f.status is Status.SKIP and "not on AWS according to DMI" in f.detail
    assert imds.requests == []


def test_on_that_cloud_by_dmi_the_reader_uses_its_default_url(
    recorded: Recorded,
    imds: FakeMetadataServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    s = recorded("cloud-os-address")
    dmi = tmp_path / "dmi" / "sys" / "class" / "dmi" / "id"
    dmi.mkdir(parents=True)
    (dmi / "sys_vendor").write_text("Amazon EC2\n")
    s.host.dmi_root = str(tmp_path / "dmi")
    seen: list[dict[str, object]] = []
    aws = NAME_TO_PROVIDER["aws"]

    def reader(**kwargs: object) -> object:
        seen.append(kwargs)
        return aws.read_instance_metadata(base_url=imds.url, timeout=2.0)

    fake = dataclasses.replace(aws, read_instance_metadata=reader)
    monkeypatch.setitem(provider.NAME_TO_PROVIDER, "aws", fake)
    f = run(s.host, cloud(s, "10.40.8.31/32", ENI))
    assert f.status is Status.PASS
    assert seen == [{"timeout": provider.IMDS_TIMEOUT}]  # no base_url: the reader's default


def test_proxy_arp_claims_have_no_provider_finding(recorded: Recorded) -> None:
    report = recorded("healthy").doctor()
    assert not [f for f in report.findings if f.name.endswith("provider assignment")]
