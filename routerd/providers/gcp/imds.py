"""Read the GCE metadata server for the router's NICs and alias IP ranges.

Every request carries ``Metadata-Flavor: Google`` (the server answers 403 without it) and
every genuine response carries the same header back, which we require: it is how a reader
knows it is talking to GCE and not to some other service on the link-local address.

``instance/network-interfaces/?recursive=true`` lists each NIC's ``mac``, primary ``ip``
and ``ipAliases`` (CIDR ranges: where a captured /32 shows up). The NIC's position gives
its name ``nic<N>``; with ``project/project-id``, ``instance/zone`` and ``instance/name``
that yields the same path a claim's nicRef uses. ``canIpForward`` is not in the metadata,
so ``forwarding`` is None.

Run ``python -m routerd.providers.gcp.imds [--raw]`` on an instance to print what it read.
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
"""Also reachable as metadata.google.internal; the address avoids a DNS dependency."""
FLAVOR = ("Metadata-Flavor", "Google")
HEADERS = dict([FLAVOR])
V1 = "/computeMetadata/v1"
NICS_PATH = f"{V1}/instance/network-interfaces/?recursive=true"
GCE_PRODUCT_NAMES = ("Google Compute Engine", "Google")


def detect(*, root: str = "/") -> bool:
    """True on a GCE instance (DMI product name or vendor)."""
    return (
        read_dmi("product_name", root=root) in GCE_PRODUCT_NAMES
        or read_dmi("sys_vendor", root=root) == "Google"
    )


class _GceClient(MetadataClient):
    def check_response(self, headers: Any, data: dict[str, object]) -> None:
        if headers.get(FLAVOR[0]) != FLAVOR[1]:
            raise MetadataUnavailable(
                f"{data['url']}: response lacks '{FLAVOR[0]}: {FLAVOR[1]}'; "
                "this is not a GCE metadata server",
                supporting_data=data,
            )


def read_instance_metadata(
    *, base_url: str = IMDS_URL, timeout: float = 2.0, record: dict[str, Any] | None = None
) -> InstanceMetadata | None:
    """Read the instance ID and every NIC with its alias IP ranges.

    Args:
        base_url: the metadata endpoint (tests pass a local fake).
        timeout: per-request timeout in seconds.
        record: when given, receives every response by path (fixture format).

    Returns:
        The metadata, or None when no GCE metadata server answers at ``base_url``.

    Raises:
        ProviderError: the server answered but the read failed.
    """
    client = _GceClient("gcp", base_url, headers=HEADERS, timeout=timeout, record=record)
    try:
        instance_id = client.text(f"{V1}/instance/id").strip()
    except MetadataUnavailable:
        return None
    name = client.text(f"{V1}/instance/name").strip()
    zone = client.text(f"{V1}/instance/zone").strip().rsplit("/", 1)[-1]
    project = client.text(f"{V1}/project/project-id").strip()
    prefix = f"projects/{project}/zones/{zone}/instances/{name}/networkInterfaces"
    return parse_interfaces(instance_id, prefix, client.json(NICS_PATH))


def parse_interfaces(instance_id: str, prefix: str, doc: Any) -> InstanceMetadata:
    """Build ``InstanceMetadata`` from the recursive network-interfaces document.

    Args:
        instance_id: the numeric instance ID.
        prefix: ``projects/<p>/zones/<z>/instances/<i>/networkInterfaces``.
        doc: the decoded ``network-interfaces/?recursive=true`` list.

    Raises:
        ProviderError: the document lacks the documented fields.
    """
    try:
        nics = tuple(
            Nic(
                f"{prefix}/nic{i}",
                str(n["mac"]).lower(),
                str(n["ip"]),
                tuple(str(a) for a in n.get("ipAliases", ())),
                None,
            )
            for i, n in enumerate(doc)
        )
    except (KeyError, TypeError, AttributeError) as e:
        raise shape_error("gcp", "network-interfaces[].{mac,ip,ipAliases}", e) from None
    return InstanceMetadata("gcp", instance_id, nics)


def main(argv: list[str] | None = None) -> int:
    return run_entry_point("gcp", read_instance_metadata, IMDS_URL, argv)


if __name__ == "__main__":
    raise SystemExit(main())
