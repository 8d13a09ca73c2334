"""Read the Azure Instance Metadata Service (IMDS) for the router's NICs and addresses.

One GET of ``/metadata/instance?api-version=...`` with the ``Metadata: true`` header (IMDS
answers 400 without it, which is its guard against forwarded requests). Under
``network.interface[]`` each NIC lists ``macAddress`` (12 hex digits, no separators) and
``ipv4.ipAddress[].privateIpAddress`` — the primary ipConfig first, then the secondary
ones, which is where a captured address shows up.

IMDS exposes neither the NIC's ARM resource ID nor ``enableIPForwarding``, so ``nic_id``
and ``forwarding`` are None: a claim's nicRef cannot be confirmed from inside the VM.

Run ``python -m routerd.providers.azure.imds [--raw]`` on a VM to print what it read.
"""

from __future__ import annotations

from typing import Any

from routerd.providers.base import InstanceMetadata, Nic
from routerd.providers.dmi import read_dmi
from routerd.providers.metadata import (
    MetadataClient,
    MetadataUnavailable,
    run_entry_point,
    shape_error,
)

IMDS_URL = "http://169.254.169.254"
API_VERSION = "2021-02-01"
"""Generally available in every Azure region; has everything we read."""
INSTANCE_PATH = f"/metadata/instance?api-version={API_VERSION}"
HEADERS = {"Metadata": "true"}
CHASSIS_ASSET_TAG = "7783-7084-3265-9085"
"""The asset tag Azure stamps on every VM (Hyper-V elsewhere does not): cloud-init's test."""


def detect(*, root: str = "/") -> bool:
    """True on an Azure VM (DMI chassis asset tag)."""
    return read_dmi("chassis_asset_tag", root=root) == CHASSIS_ASSET_TAG


def read_instance_metadata(
    *, base_url: str = IMDS_URL, timeout: float = 2.0, record: dict[str, Any] | None = None
) -> InstanceMetadata | None:
    """Read the VM ID and every NIC with its private IPv4 addresses.

    Args:
        base_url: the IMDS endpoint (tests pass a local fake).
        timeout: per-request timeout in seconds.
        record: when given, receives the response by path (fixture format).

    Returns:
        The metadata, or None when no Azure IMDS answers at ``base_url``.

    Raises:
        ProviderError: the service answered but the read failed.
    """
    client = MetadataClient("azure", base_url, headers=HEADERS, timeout=timeout, record=record)
    try:
        doc = client.json(INSTANCE_PATH)
    except MetadataUnavailable:
        return None
    return parse_instance(doc)


def parse_instance(doc: Any) -> InstanceMetadata:
    """Turn an ``/metadata/instance`` document into ``InstanceMetadata``.

    Raises:
        ProviderError: the document lacks the documented fields.
    """
    try:
        vm_id = str(doc["compute"]["vmId"])
        nics = tuple(_nic(i) for i in doc["network"]["interface"])
    except (KeyError, TypeError, ValueError, IndexError) as e:
        raise shape_error("azure", "compute.vmId / network.interface[]", e) from None
    return InstanceMetadata("azure", vm_id, nics)


def _nic(doc: Any) -> Nic:
    ips = [str(a["privateIpAddress"]) for a in doc["ipv4"]["ipAddress"]]
    raw = str(doc["macAddress"]).replace(":", "").replace("-", "").lower()
    if len(raw) != 12:
        raise ValueError(f"macAddress {doc['macAddress']!r}")
    mac = ":".join(raw[i : i + 2] for i in range(0, 12, 2))
    return Nic(None, mac, ips[0], tuple(ips[1:]), None)


def main(argv: list[str] | None = None) -> int:
    return run_entry_point("azure", read_instance_metadata, IMDS_URL, argv)


if __name__ == "__main__":
    raise SystemExit(main())
