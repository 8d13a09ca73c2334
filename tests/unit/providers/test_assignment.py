"""``check_address_assigned``: the doctor's view of capture at the provider, from metadata."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from routerd.providers import check_address_assigned
from routerd.providers.aws.imds import read_instance_metadata as read_aws
from routerd.providers.azure.imds import read_instance_metadata as read_azure
from routerd.providers.base import InstanceMetadata, Nic
from routerd.providers.gcp.imds import read_instance_metadata as read_gcp
from routerd.providers.oci.imds import read_instance_metadata as read_oci
from tests.unit.providers.conftest import load_fixture
from tests.unit.providers.fake_imds import FakeMetadataServer

Fake = Callable[..., FakeMetadataServer]
ENI = "eni-0a1b2c3d4e5f60789"
ENI2 = "eni-0fedcba9876543210"
AZ_NIC = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-sam-lab/"
    "providers/Microsoft.Network/networkInterfaces/cloud-rt-a-nic"
)
GCP = "projects/sam-lab/zones/asia-northeast1-a/instances/cloud-rt-a/networkInterfaces/"
VNIC = "ocid1.vnic.oc1.ap-tokyo-1.abxhiljrexampleexampleexampleexampleexampleexample"
READ = {"aws": read_aws, "azure": read_azure, "gcp": read_gcp, "oci": read_oci}


def _md(fake_imds: Fake, provider: str, fixture: str) -> InstanceMetadata:
    srv = fake_imds(provider, load_fixture(provider, fixture))
    md = READ[provider](base_url=srv.url)
    assert md is not None
    return md


@pytest.mark.parametrize(
    ("provider", "fixture", "nic_ref", "address", "status", "fragments"),
    [
        pytest.param(
            "aws",
            "imds-secondary-ip.json",
            ENI,
            "10.40.8.31/32",
            "pass",
            [
                f"10.40.8.31 is assigned to {ENI}",
                "metadata does not show forwarding",
                "source/destination check is disabled",
            ],
            id="aws-assigned",
        ),
        pytest.param(
            "aws",
            "imds-unprovisioned.json",
            ENI,
            "10.40.8.31/32",
            "fail",
            [
                f"10.40.8.31 is not assigned to {ENI}",
                f"aws ec2 assign-private-ip-addresses --network-interface-id {ENI} "
                "--private-ip-addresses 10.40.8.31",
            ],
            id="aws-not-assigned",
        ),
        pytest.param(
            "aws",
            "imds-secondary-ip.json",
            ENI2,
            "10.40.8.31/32",
            "fail",
            [f"10.40.8.31 is assigned to {ENI}, not to nicRef {ENI2}"],
            id="aws-on-the-other-eni",
        ),
        pytest.param(
            "aws",
            "imds-secondary-ip.json",
            "eni-0123456789abcdef0",
            "10.40.8.31",
            "fail",
            ["is not attached to this instance i-0123456789abcdef0", f"{ENI}, {ENI2}"],
            id="aws-another-machines-eni",
        ),
        pytest.param(
            "aws",
            "imds-secondary-ip.json",
            ENI,
            "10.40.8.10/32",
            "fail",
            [f"10.40.8.10 is the primary IP of NIC {ENI}"],
            id="aws-primary-ip",
        ),
        pytest.param(
            "aws",
            "imds-secondary-ip.json",
            "eni-12",
            "10.40.8.31/32",
            "fail",
            ["is not a valid AWS ENI ID"],
            id="aws-bad-nic-ref",
        ),
        pytest.param(
            "gcp",
            "metadata-alias-ip.json",
            GCP + "nic0",
            "10.40.8.31/32",
            "pass",
            [f"10.40.8.31 is assigned to {GCP}nic0", "canIpForward is true"],
            id="gcp-alias",
        ),
        pytest.param(
            "gcp",
            "metadata-alias-ip.json",
            "https://www.googleapis.com/compute/v1/" + GCP + "nic0",
            "10.40.8.31/32",
            "pass",
            ["is assigned to"],
            id="gcp-url-form",
        ),
        pytest.param(
            "gcp",
            "metadata-unprovisioned.json",
            GCP + "nic0",
            "10.40.8.31/32",
            "fail",
            [
                "gcloud compute instances network-interfaces update cloud-rt-a",
                "--aliases 10.40.8.31/32",
            ],
            id="gcp-no-alias",
        ),
        pytest.param(
            "gcp",
            "metadata-alias-ip.json",
            GCP + "nic1",
            "10.40.8.31/32",
            "fail",
            [f"is assigned to {GCP}nic0, not to nicRef {GCP}nic1"],
            id="gcp-wrong-nic",
        ),
        pytest.param(
            "azure",
            "instance-secondary-ipconfig.json",
            AZ_NIC,
            "10.40.8.31/32",
            "pass",
            [
                "10.40.8.31 is assigned to NIC 00:0d:3a:5c:8e:10",
                "Azure metadata has no NIC IDs, so nicRef is not confirmed",
                f"az network nic show --ids {AZ_NIC}",
            ],
            id="azure-assigned",
        ),
        pytest.param(
            "azure",
            "instance-unprovisioned.json",
            AZ_NIC,
            "10.40.8.31/32",
            "fail",
            ["not assigned to any NIC of this VM", "az network nic ip-config create"],
            id="azure-not-assigned",
        ),
        pytest.param(
            "oci",
            "metadata-one-vnic.json",
            VNIC,
            "10.40.8.31/32",
            "skip",
            [
                "OCI instance metadata does not list secondary IPs",
                f"oci network private-ip list --vnic-id {VNIC}",
            ],
            id="oci-cannot-tell",
        ),
        pytest.param(
            "oci",
            "metadata-one-vnic.json",
            VNIC.replace("abx", "aby"),
            "10.40.8.31/32",
            "fail",
            ["is not attached to this instance"],
            id="oci-another-vnic",
        ),
    ],
)
def test_check_address_assigned(
    fake_imds: Fake,
    provider: str,
    fixture: str,
    nic_ref: str,
    address: str,
    status: str,
    fragments: list[str],
) -> None:
    got_status, detail = check_address_assigned(_md(fake_imds, provider, fixture), nic_ref, address)
    assert got_status == status, detail
    for fragment in fragments:
        assert fragment in detail


def test_no_metadata_is_skipped() -> None:
    status, detail = check_address_assigned(None, ENI, "10.40.8.31/32")
    assert status == "skip"
    assert "no instance metadata" in detail


def _with_forwarding(md: InstanceMetadata, value: bool) -> InstanceMetadata:
    nics = tuple(dataclasses.replace(n, forwarding=value) for n in md.nics)
    return dataclasses.replace(md, nics=nics)


@pytest.mark.parametrize(
    ("forwarding", "status", "fragment"),
    [
        pytest.param(True, "pass", "forwarding is enabled", id="exposed-on"),
        pytest.param(False, "fail", "metadata shows forwarding off", id="exposed-off"),
    ],
)
def test_forwarding_is_reported_where_exposed(
    fake_imds: Fake, forwarding: bool, status: str, fragment: str
) -> None:
    md = _with_forwarding(_md(fake_imds, "aws", "imds-secondary-ip.json"), forwarding)
    got, detail = check_address_assigned(md, ENI, "10.40.8.31/32")
    assert (got, fragment in detail) == (status, True)


def test_alias_ranges_wider_than_a_host_contain_the_address() -> None:
    nic = Nic(GCP + "nic0", "42:01:0a:28:08:0a", "10.40.8.10", ("10.40.8.16/28",))
    md = InstanceMetadata("gcp", "1", (nic,))
    assert check_address_assigned(md, GCP + "nic0", "10.40.8.31")[0] == "pass"
    assert check_address_assigned(md, GCP + "nic0", "10.40.8.32")[0] == "fail"
