"""Read the EC2 instance metadata service (IMDSv2) for the router's ENIs and addresses.

IMDSv2 only: a session token from ``PUT /latest/api/token`` (with
``X-aws-ec2-metadata-token-ttl-seconds``) accompanies every GET as
``X-aws-ec2-metadata-token``. Instances configured with ``HttpTokens=required`` answer 401
to anything else, and IMDSv1 is being retired, so there is no v1 fallback.

Per MAC under ``network/interfaces/macs/`` we read ``interface-id`` (the ENI ID a claim's
nicRef names), ``local-ipv4s`` (primary first, then secondaries, as EC2 lists them) and
``device-number`` (NIC order). Source/destination check is not in the metadata, so
``forwarding`` is None.

Run ``python -m routerd.providers.aws.imds [--raw]`` on an instance to print what it read.
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
TOKEN_PATH = "/latest/api/token"
TOKEN_TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds"
TOKEN_HEADER = "X-aws-ec2-metadata-token"
TOKEN_TTL = "300"
"""A read takes well under a second; a short-lived token limits what a leak exposes."""
MD = "/latest/meta-data"


def detect(*, root: str = "/") -> bool:
    """True on EC2: Nitro reports ``Amazon EC2`` as vendor, Xen an ``.amazon`` BIOS."""
    vendor = {read_dmi(f, root=root) for f in ("sys_vendor", "board_vendor", "chassis_asset_tag")}
    return "Amazon EC2" in vendor or read_dmi("bios_version", root=root).endswith(".amazon")


def read_instance_metadata(
    *, base_url: str = IMDS_URL, timeout: float = 2.0, record: dict[str, Any] | None = None
) -> InstanceMetadata | None:
    """Read the instance ID and every ENI with its private IPv4 addresses.

    Args:
        base_url: the IMDS endpoint (tests pass a local fake).
        timeout: per-request timeout in seconds.
        record: when given, receives every response by path (fixture format; the session
            token is never recorded).

    Returns:
        The metadata, or None when no EC2 metadata service answers at ``base_url``.

    Raises:
        ProviderError: the service answered but the read failed (``retryable`` set for
            timeouts and 5xx).
    """
    client = MetadataClient("aws", base_url, headers={}, timeout=timeout, record=record)
    try:
        token = client.text(
            TOKEN_PATH, method="PUT", headers={TOKEN_TTL_HEADER: TOKEN_TTL}, keep=False
        )
    except MetadataUnavailable:
        return None
    client.headers[TOKEN_HEADER] = token.strip()
    instance_id = client.text(f"{MD}/instance-id").strip()
    macs = [m.strip().rstrip("/") for m in client.text(f"{MD}/network/interfaces/macs/").split()]
    nics = [_read_nic(client, mac) for mac in macs if mac]
    nics.sort(key=lambda pair: pair[0])
    return InstanceMetadata("aws", instance_id, tuple(nic for _, nic in nics))


def _read_nic(client: MetadataClient, mac: str) -> tuple[int, Nic]:
    base = f"{MD}/network/interfaces/macs/{mac}"
    eni = client.text(f"{base}/interface-id").strip()
    ips = client.text(f"{base}/local-ipv4s").split()
    number = client.text(f"{base}/device-number").strip()
    try:
        order = int(number)
        primary, *secondary = ips
    except ValueError as e:
        raise shape_error(
            "aws", f"{base}: device-number {number!r} / local-ipv4s {ips!r}", e
        ) from None
    return order, Nic(eni, mac.lower(), primary, tuple(secondary), None)


def main(argv: list[str] | None = None) -> int:
    return run_entry_point("aws", read_instance_metadata, IMDS_URL, argv)


if __name__ == "__main__":
    raise SystemExit(main())
