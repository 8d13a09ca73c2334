"""The explicit provider registry and the network-free DMI detection behind it."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from routerd.core.resources.hybrid import PROVIDERS
from routerd.providers import NAME_TO_PROVIDER, detect_provider, get_provider

DmiRoot = Callable[..., str]

PLATFORMS = [
    pytest.param(
        {"chassis_asset_tag": "7783-7084-3265-9085", "sys_vendor": "Microsoft Corporation"},
        "azure",
        id="azure-asset-tag",
    ),
    pytest.param({"sys_vendor": "Amazon EC2", "product_name": "m6i.large"}, "aws", id="aws-nitro"),
    pytest.param({"board_vendor": "Amazon EC2"}, "aws", id="aws-board-vendor"),
    pytest.param({"sys_vendor": "Xen", "bios_version": "4.11.amazon"}, "aws", id="aws-xen"),
    pytest.param(
        {"chassis_asset_tag": "OracleCloud.com", "sys_vendor": "QEMU"}, "oci", id="oci-asset-tag"
    ),
    pytest.param(
        {"product_name": "Google Compute Engine", "sys_vendor": "Google"}, "gcp", id="gcp"
    ),
    pytest.param({"sys_vendor": "Google"}, "gcp", id="gcp-vendor-only"),
    pytest.param(
        {"sys_vendor": "Microsoft Corporation", "product_name": "Virtual Machine"},
        None,
        id="plain-hyper-v-is-not-azure",
    ),
    pytest.param(
        {"sys_vendor": "QEMU", "product_name": "Standard PC (Q35 + ICH9, 2009)"},
        None,
        id="proxmox-vm",
    ),
    pytest.param({}, None, id="no-dmi-at-all"),
]


@pytest.mark.parametrize(("fields", "expected"), PLATFORMS)
def test_detect_provider(dmi_root: DmiRoot, fields: dict[str, str], expected: str | None) -> None:
    root = dmi_root(**fields)
    found = detect_provider(root=root)
    assert (found.name if found else None) == expected
    hits = [name for name, p in NAME_TO_PROVIDER.items() if p.detect(root=root)]
    assert hits == ([expected] if expected else [])


def test_every_profile_provider_is_registered() -> None:
    assert set(NAME_TO_PROVIDER) == set(PROVIDERS)
    for name, provider in NAME_TO_PROVIDER.items():
        assert provider.name == name
        roles = sorted(c.role for c in provider.capabilities)
        assert roles == ["forwarding", "secondary-ip"]


def test_unknown_provider_lists_the_known_ones() -> None:
    with pytest.raises(KeyError, match="unknown provider 'ibm'; known: azure, aws, oci, gcp"):
        get_provider("ibm")
