"""``config_checks``: the provider rules ``routerd validate`` runs through core validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from routerd.configfile import load_file
from routerd.core.errors import ConfigIssue
from routerd.core.loader import load_text
from routerd.providers import config_checks
from tests.unit.providers.conftest import EXAMPLES, example_text

CLAIM = "RemoteAddressClaim/onprem-vm-31"
NIC_PATH = "spec.capture.nicRef"
CLOUD_EXAMPLES = sorted(EXAMPLES.glob("*/cloud.yaml"))
ONPREM_EXAMPLES = sorted(EXAMPLES.glob("*/onprem.yaml"))


def _line(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def _check(
    provider: str, replace: dict[str, str]
) -> tuple[str, list[ConfigIssue], list[ConfigIssue]]:
    text = example_text(provider, replace)
    # decoded without provider rules, so config_checks sees the config even when it errs
    base = load_text(text, "cloud.yaml")
    assert base.config is not None, [e.render() for e in base.errors]
    errors, warnings = config_checks(base.config)
    return text, errors, warnings


@pytest.mark.parametrize(
    "path", CLOUD_EXAMPLES + ONPREM_EXAMPLES, ids=lambda p: p.parent.name + "/" + p.name
)
def test_examples_pass_with_provider_checks(path: Path) -> None:
    result = load_file(path, extra_checks=[config_checks])
    assert result.valid, [e.render() for e in result.errors]
    assert result.config is not None
    assert config_checks(result.config) == ([], [])


def test_every_cloud_provider_has_an_example() -> None:
    assert {p.parent.name for p in CLOUD_EXAMPLES} >= {"azure", "aws", "oci", "gcp"}


@pytest.mark.parametrize(
    ("provider", "old", "new", "fragment"),
    [
        pytest.param(
            "aws",
            "eni-0a1b2c3d4e5f60789",
            "eni-0a1b2c",
            "it has 6 hex digits after 'eni-', not 8 or 17",
            id="aws-short-eni",
        ),
        pytest.param(
            "aws",
            "eni-0a1b2c3d4e5f60789",
            "i-0a1b2c3d4e5f60789",
            "that is an EC2 instance ID, not an ENI ID",
            id="aws-instance-id",
        ),
        pytest.param(
            "oci",
            "ocid1.vnic.oc1",
            "ocid1.instance.oc1",
            "that is the OCID of an instance, not of a VNIC",
            id="oci-instance-ocid",
        ),
        pytest.param(
            "gcp",
            "networkInterfaces/nic0",
            "networkInterfaces/ens4",
            "NIC 'ens4' is not nic0, nic1, ...",
            id="gcp-os-ifname",
        ),
        pytest.param(
            "azure",
            "/subscriptions/",
            "/subscription/",
            "segment 'subscription' where 'subscriptions' belongs",
            id="azure-typo",
        ),
    ],
)
def test_malformed_nic_ref_is_an_error_at_its_line(
    provider: str, old: str, new: str, fragment: str
) -> None:
    text, errors, _ = _check(provider, {old: new})
    [err] = errors
    assert (err.resource, err.path) == (CLAIM, NIC_PATH)
    assert err.line == _line(text, "nicRef:")
    assert err.file == "cloud.yaml"
    assert fragment in err.message
    assert "for example" in err.message
    assert f"is provider {provider}" in err.message


def test_loader_reports_provider_errors_with_extra_checks() -> None:
    text = example_text("aws", {"eni-0a1b2c3d4e5f60789": "eni-xyz"})
    plain = load_text(text, "cloud.yaml")
    checked = load_text(text, "cloud.yaml", extra_checks=[config_checks])
    assert plain.valid
    assert not checked.valid
    assert [(e.resource, e.path) for e in checked.errors] == [(CLAIM, NIC_PATH)]


def test_another_clouds_nic_ref_is_named() -> None:
    _, errors, _ = _check(
        "azure",
        {
            "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-sam-lab/"
            "providers/Microsoft.Network/networkInterfaces/cloud-rt-a-nic": "eni-0a1b2c3d4e5f60789"
        },
    )
    [err] = errors
    assert "the value has the AWS ENI ID format" in err.message
    assert "point providerRef at a CloudProviderProfile with provider: aws" in err.message


def test_missing_forwarding_capability_warns_on_the_profile() -> None:
    text, errors, warnings = _check("aws", {"          - source-dest-check-disabled\n": ""})
    assert errors == []
    [w] = warnings
    assert (w.resource, w.path) == ("CloudProviderProfile/aws-lab", "spec.capabilities")
    assert w.line == _line(text, "capabilities:")
    assert "lacks 'source-dest-check-disabled'" in w.message
    assert CLAIM in w.message
    assert (
        "aws ec2 modify-network-interface-attribute --network-interface-id "
        "eni-0a1b2c3d4e5f60789 --no-source-dest-check" in w.message
    )
    assert "add source-dest-check-disabled to capabilities" in w.message


def test_missing_address_capability_shows_the_assign_command() -> None:
    _, _, warnings = _check("oci", {"          - vnic-secondary-ip\n": ""})
    [w] = warnings
    assert "lacks 'vnic-secondary-ip'" in w.message
    assert "oci network vnic assign-private-ip" in w.message
    assert "--ip-address 10.40.8.31 " in w.message


def test_go_mvp_oci_spellings_satisfy_the_capture() -> None:
    _, errors, warnings = _check(
        "oci",
        {
            "- vnic-secondary-ip\n": "- vnic-private-ip\n",
            "- skip-source-dest-check\n": "- disable-source-dest-check\n",
            "providerMode: vnic-secondary-ip": "providerMode: vnic-private-ip",
        },
    )
    assert (errors, warnings) == ([], [])


def test_provider_mode_that_is_not_a_capture_mode_warns() -> None:
    text, _, warnings = _check(
        "azure", {"providerMode: nic-secondary-ip": "providerMode: ip-forwarding"}
    )
    [w] = warnings
    assert (w.resource, w.path) == (CLAIM, "spec.capture.providerMode")
    assert w.line == _line(text, "providerMode:")
    assert "'ip-forwarding' is not a capture mode on Azure" in w.message
    assert "set providerMode: nic-secondary-ip" in w.message


@pytest.mark.parametrize(
    ("provider", "old", "new", "fragment"),
    [
        pytest.param(
            "azure",
            "subscriptionID: 00000000-0000-0000-0000-000000000000",
            "subscriptionID: 11111111-0000-0000-0000-000000000000",
            "nicRef subscription '00000000-0000-0000-0000-000000000000' differs",
            id="azure-subscription",
        ),
        pytest.param(
            "gcp",
            "project: sam-lab",
            "project: other-lab",
            "nicRef project 'sam-lab' differs",
            id="gcp-project",
        ),
    ],
)
def test_nic_ref_contradicting_the_profile_warns(
    provider: str, old: str, new: str, fragment: str
) -> None:
    _, errors, warnings = _check(provider, {old: new})
    assert errors == []
    [w] = warnings
    assert (w.resource, w.path) == (CLAIM, NIC_PATH)
    assert fragment in w.message


def test_one_warning_per_profile_and_capability() -> None:
    text = example_text("aws", {"          - source-dest-check-disabled\n": ""})
    second = text[
        text.index(
            "    - apiVersion: hybrid.routerd.net/v1alpha1\n      kind: RemoteAddressClaim"
        ) :
    ]
    second = second.replace("onprem-vm-31", "onprem-vm-32").replace(
        "10.40.8.31/32", "10.40.8.32/32"
    )
    result = load_text(text + second, "cloud.yaml")
    assert result.config is not None, [e.render() for e in result.errors]
    errors, warnings = config_checks(result.config)
    assert errors == []
    [w] = warnings
    assert "RemoteAddressClaim/onprem-vm-31, RemoteAddressClaim/onprem-vm-32" in w.message


def test_dangling_provider_ref_is_left_to_core() -> None:
    text = example_text("aws", {"providerRef: aws-lab": "providerRef: nowhere"})
    result = load_text(text, "cloud.yaml", extra_checks=[config_checks])
    paths = [(e.resource, e.path) for e in result.errors]
    assert paths == [(CLAIM, "spec.capture.providerRef")]
