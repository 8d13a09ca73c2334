"""Read the OCI instance metadata service (v2) for the router's VNICs.

v2 only: every request carries ``Authorization: Bearer Oracle`` (v2 answers 401 without
it; v1 has no header and can be disabled per instance, so we do not fall back to it).
``/opc/v2/instance/`` gives the instance OCID and ``/opc/v2/vnics/`` each VNIC's
``vnicId``, ``macAddr`` and primary ``privateIp``.

OCI's metadata lists neither a VNIC's secondary private IPs nor ``skipSourceDestCheck``,
so ``secondary_ips`` and ``forwarding`` are None: the doctor says what it cannot see and
names the CLI command that can.

Run ``python -m routerd.providers.oci.imds [--raw]`` on an instance to print what it read.
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
V2_HEADERS = {"Authorization": "Bearer Oracle"}
INSTANCE_PATH = "/opc/v2/instance/"
VNICS_PATH = "/opc/v2/vnics/"
CHASSIS_ASSET_TAG = "OracleCloud.com"


def detect(*, root: str = "/") -> bool:
    """True on an OCI instance (DMI chassis asset tag)."""
    return read_dmi("chassis_asset_tag", root=root) == CHASSIS_ASSET_TAG


def read_instance_metadata(
    *, base_url: str = IMDS_URL, timeout: float = 2.0, record: dict[str, Any] | None = None
) -> InstanceMetadata | None:
    """Read the instance OCID and every VNIC with its primary private IP.

    Args:
        base_url: the metadata endpoint (tests pass a local fake).
        timeout: per-request timeout in seconds.
        record: when given, receives every response by path (fixture format).

    Returns:
        The metadata, or None when no OCI metadata service answers at ``base_url``.

    Raises:
        ProviderError: the service answered but the read failed.
    """
    client = MetadataClient("oci", base_url, headers=V2_HEADERS, timeout=timeout, record=record)
    try:
        instance = client.json(INSTANCE_PATH)
    except MetadataUnavailable:
        return None
    return parse_metadata(instance, client.json(VNICS_PATH))


def parse_metadata(instance: Any, vnics: Any) -> InstanceMetadata:
    """Combine the ``instance`` and ``vnics`` documents.

    Raises:
        ProviderError: a document lacks the documented fields.
    """
    try:
        iid = str(instance["id"])
        nics = tuple(
            Nic(str(v["vnicId"]), str(v["macAddr"]).lower(), str(v["privateIp"]), None, None)
            for v in vnics
        )
    except (KeyError, TypeError) as e:
        raise shape_error("oci", "instance.id / vnics[].{vnicId,macAddr,privateIp}", e) from None
    return InstanceMetadata("oci", iid, nics)


def main(argv: list[str] | None = None) -> int:
    return run_entry_point("oci", read_instance_metadata, IMDS_URL, argv)


if __name__ == "__main__":
    raise SystemExit(main())
