"""Capability names and nicRef formats per provider (routerd/providers/<cloud>/profile.py)."""

from __future__ import annotations

import pytest

from routerd.providers.base import NicRefError, normalize_token
from routerd.providers.registry import NAME_TO_PROVIDER

AZURE_NIC = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-sam-lab/"
    "providers/Microsoft.Network/networkInterfaces/cloud-rt-a-nic"
)
OCI_VNIC = "ocid1.vnic.oc1.ap-tokyo-1.abxhiljrexampleexampleexampleexampleexampleexample"
GCP_NIC = "projects/sam-lab/zones/asia-northeast1-a/instances/cloud-rt-a/networkInterfaces/nic0"


@pytest.mark.parametrize(
    ("text", "token"),
    [
        pytest.param("skipSourceDestCheck", "skip-source-dest-check", id="camel"),
        pytest.param("canIpForward", "can-ip-forward", id="camel-gcp"),
        pytest.param(" ENI_Secondary_IP ", "eni-secondary-ip", id="snake-upper-padded"),
        pytest.param("nic secondary  ip", "nic-secondary-ip", id="spaces"),
        pytest.param("ip--forwarding", "ip-forwarding", id="double-dash"),
        pytest.param("enableIPForwarding", "enable-ip-forwarding", id="acronym"),
    ],
)
def test_normalize_token(text: str, token: str) -> None:
    assert normalize_token(text) == token


@pytest.mark.parametrize(
    ("provider", "spelling", "canonical"),
    [
        # the spellings of the Go implementation routerd succeeds (its configs must load)
        pytest.param("azure", "nic-secondary-ip", "nic-secondary-ip", id="azure-mvp-ip"),
        pytest.param("azure", "ip-forwarding", "ip-forwarding", id="azure-mvp-fwd"),
        pytest.param("aws", "eni-secondary-ip", "eni-secondary-ip", id="aws-mvp-ip"),
        pytest.param(
            "aws", "source-dest-check-disabled", "source-dest-check-disabled", id="aws-mvp-fwd"
        ),
        pytest.param("oci", "vnic-private-ip", "vnic-secondary-ip", id="oci-mvp-example-ip"),
        pytest.param("oci", "vnic-secondary-ip", "vnic-secondary-ip", id="oci-mvp-mss-ip"),
        pytest.param(
            "oci", "disable-source-dest-check", "skip-source-dest-check", id="oci-mvp-example-fwd"
        ),
        pytest.param(
            "oci", "skip-source-dest-check", "skip-source-dest-check", id="oci-mvp-mss-fwd"
        ),
        pytest.param("gcp", "alias-ip-range", "alias-ip-range", id="gcp-ip"),
        pytest.param("gcp", "can-ip-forward", "can-ip-forward", id="gcp-fwd"),
        # synonyms and spellings
        pytest.param("oci", "skipSourceDestCheck", "skip-source-dest-check", id="oci-api-field"),
        pytest.param("gcp", "canIpForward", "can-ip-forward", id="gcp-api-field"),
        pytest.param("azure", "enableIPForwarding", "ip-forwarding", id="azure-api-field"),
        pytest.param(
            "aws", "disable-source-dest-check", "source-dest-check-disabled", id="aws-verb-form"
        ),
        pytest.param("gcp", "alias-ip", "alias-ip-range", id="gcp-alias-ip"),
        pytest.param("aws", "secondary-ip", "eni-secondary-ip", id="generic-ip"),
        pytest.param("gcp", "ip-forwarding", "can-ip-forward", id="generic-fwd"),
    ],
)
def test_capability_normalisation(provider: str, spelling: str, canonical: str) -> None:
    assert NAME_TO_PROVIDER[provider].normalize_capability(spelling) == canonical


@pytest.mark.parametrize(
    ("provider", "spelling"),
    [
        pytest.param("azure", "eni-secondary-ip", id="aws-name-on-azure"),
        pytest.param("aws", "nic-secondary-ip", id="azure-name-on-aws"),
        pytest.param("aws", "source-dest-check", id="ambiguous-bare-check"),
        pytest.param("gcp", "vnic-private-ip", id="oci-name-on-gcp"),
        pytest.param("oci", "teleport", id="unknown"),
    ],
)
def test_foreign_or_unknown_capabilities_do_not_count(provider: str, spelling: str) -> None:
    assert NAME_TO_PROVIDER[provider].normalize_capability(spelling) is None


@pytest.mark.parametrize(
    ("provider", "declared", "missing"),
    [
        pytest.param("aws", ["eni-secondary-ip"], ["source-dest-check-disabled"], id="aws-no-fwd"),
        pytest.param(
            "oci",
            ["vnic-private-ip", "disable-source-dest-check"],
            [],
            id="oci-mvp-example-complete",
        ),
        pytest.param("gcp", ["canIpForward"], ["alias-ip-range"], id="gcp-no-alias"),
        pytest.param(
            "azure", ["teleport"], ["nic-secondary-ip", "ip-forwarding"], id="azure-nothing"
        ),
    ],
)
def test_missing_capabilities(provider: str, declared: list[str], missing: list[str]) -> None:
    got = NAME_TO_PROVIDER[provider].missing_capabilities(declared)
    assert [c.name for c in got] == missing


@pytest.mark.parametrize(
    ("provider", "ref", "parts"),
    [
        pytest.param(
            "azure",
            AZURE_NIC,
            {
                "subscription": "00000000-0000-0000-0000-000000000000",
                "resourceGroup": "rg-sam-lab",
                "nic": "cloud-rt-a-nic",
            },
            id="azure-example",
        ),
        pytest.param(
            "azure",
            AZURE_NIC.replace("resourceGroups", "resourcegroups").replace(
                "Microsoft.Network", "microsoft.network"
            ),
            {"resourceGroup": "rg-sam-lab", "nic": "cloud-rt-a-nic"},
            id="azure-lowercase-segments",
        ),
        pytest.param("aws", "eni-0a1b2c3d4e5f60789", {"eni": "eni-0a1b2c3d4e5f60789"}, id="aws-17"),
        pytest.param("aws", "eni-0a1b2c3d", {"eni": "eni-0a1b2c3d"}, id="aws-8"),
        pytest.param(
            "oci", OCI_VNIC, {"realm": "oc1", "region": "ap-tokyo-1", "vnic": OCI_VNIC}, id="oci"
        ),
        pytest.param(
            "oci",
            "ocid1.vnic.oc1.phx.abyhqljrgvttnlx73nmrwfaux7kcvzfs3s66izvxf2h4lgvyndsdsnoiwr5q",
            {"region": "phx"},
            id="oci-region-key",
        ),
        pytest.param(
            "gcp",
            GCP_NIC,
            {"project": "sam-lab", "zone": "asia-northeast1-a", "instance": "cloud-rt-a"},
            id="gcp-path",
        ),
        pytest.param(
            "gcp",
            "https://www.googleapis.com/compute/v1/" + GCP_NIC.replace("nic0", "nic1"),
            {"nic": "nic1", "canonical": GCP_NIC.replace("nic0", "nic1")},
            id="gcp-url",
        ),
    ],
)
def test_valid_nic_refs(provider: str, ref: str, parts: dict[str, str]) -> None:
    got = NAME_TO_PROVIDER[provider].parse_nic_ref(ref)
    assert {k: got[k] for k in parts} == parts


@pytest.mark.parametrize(
    ("provider", "ref", "reason"),
    [
        pytest.param(
            "aws", "eni-0a1b2c", "it has 6 hex digits after 'eni-', not 8 or 17", id="aws-short"
        ),
        pytest.param(
            "aws",
            "eni-0A1B2C3D4E5F60789",
            "ENI IDs are lower case (eni-0a1b2c3d4e5f60789)",
            id="aws-upper",
        ),
        pytest.param(
            "aws",
            "eni-0a1b2c3d4e5f6078z",
            "'0a1b2c3d4e5f6078z' after 'eni-' is not hexadecimal",
            id="aws-not-hex",
        ),
        pytest.param(
            "aws",
            "i-0123456789abcdef0",
            "that is an EC2 instance ID, not an ENI ID",
            id="aws-instance-id",
        ),
        pytest.param(
            "aws",
            "eni-attach-0123456789abcdef0",
            "that is an ENI attachment ID",
            id="aws-attachment",
        ),
        pytest.param(
            "azure",
            AZURE_NIC[1:],
            "an ARM resource ID starts with '/subscriptions/'",
            id="azure-no-leading-slash",
        ),
        pytest.param(
            "azure",
            AZURE_NIC.replace("00000000-0000-0000-0000-000000000000", "my-sub"),
            "subscription 'my-sub' is not a GUID",
            id="azure-sub-not-guid",
        ),
        pytest.param(
            "azure",
            AZURE_NIC + "/ipConfigurations/ipconfig1",
            "that names a part of a NIC; use the NIC itself: " + AZURE_NIC,
            id="azure-ipconfig-id",
        ),
        pytest.param(
            "azure",
            AZURE_NIC.replace(
                "Microsoft.Network/networkInterfaces", "Microsoft.Compute/virtualMachines"
            ),
            "'Microsoft.Compute' in place of 'microsoft.network': this is not a NIC ID",
            id="azure-vm-id",
        ),
        pytest.param("azure", AZURE_NIC + "/", "remove the trailing '/'", id="azure-trailing"),
        pytest.param(
            "azure",
            AZURE_NIC.replace("cloud-rt-a-nic", "-nic"),
            "NIC name '-nic' is not valid",
            id="azure-bad-nic-name",
        ),
        pytest.param(
            "oci",
            OCI_VNIC.replace("vnic", "privateip", 1),
            "that is the OCID of a private IP, not of a VNIC",
            id="oci-private-ip-ocid",
        ),
        pytest.param(
            "oci",
            OCI_VNIC.replace("oc1.ap-tokyo-1.", "oc1.."),
            "region '' is missing or malformed",
            id="oci-no-region",
        ),
        pytest.param(
            "oci", OCI_VNIC.replace("oc1", "xx1", 1), "realm 'xx1' is not oc<N>", id="oci-bad-realm"
        ),
        pytest.param(
            "oci", "vnic-abc", "an OCID starts with 'ocid1.<resource type>.'", id="oci-not-ocid"
        ),
        pytest.param(
            "gcp", "nic0", "a bare NIC name does not say which instance", id="gcp-bare-nic"
        ),
        pytest.param(
            "gcp",
            GCP_NIC.replace("sam-lab", "123456789012"),
            "use the project ID, not the project number",
            id="gcp-project-number",
        ),
        pytest.param(
            "gcp",
            GCP_NIC.replace("nic0", "eth0"),
            "NIC 'eth0' is not nic0, nic1, ...",
            id="gcp-os-name",
        ),
        pytest.param(
            "gcp",
            GCP_NIC.replace("zones/asia-northeast1-a", "regions/asia-northeast1"),
            "segment 'regions' where 'zones' belongs",
            id="gcp-region-not-zone",
        ),
        pytest.param(
            "gcp",
            GCP_NIC.replace("asia-northeast1-a", "asia-northeast1"),
            "zone 'asia-northeast1' is not a valid GCP zone name",
            id="gcp-region-as-zone",
        ),
    ],
)
def test_invalid_nic_refs_say_what_and_how(provider: str, ref: str, reason: str) -> None:
    p = NAME_TO_PROVIDER[provider]
    with pytest.raises(NicRefError) as e:
        p.parse_nic_ref(ref)
    msg = e.value.reason
    assert reason in msg
    assert f"is not a valid {p.title} {p.nic_ref.noun}" in msg
    assert f"for example {p.nic_ref.example}" in msg
    assert p.nic_ref.forms[0] in msg


@pytest.mark.parametrize("provider", sorted(NAME_TO_PROVIDER))
def test_documented_example_is_valid(provider: str) -> None:
    p = NAME_TO_PROVIDER[provider]
    assert p.parse_nic_ref(p.nic_ref.example)["canonical"]
