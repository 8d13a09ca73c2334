"""What a ``provider: aws`` CloudProviderProfile means: capture prerequisites and ENI IDs.

On AWS the router captures a remote address by holding it as a *secondary private IPv4 on
its ENI*; the VPC fabric then delivers that address to the router. The router forwards
packets that are not addressed to its own IPs, which EC2 drops unless the ENI's
*source/destination check is disabled*. Both are provisioned by a person (the display-only
plans in ``action`` show how); routerd only validates the references and reads metadata.
"""

from __future__ import annotations

import re

from routerd.providers.aws import action, imds
from routerd.providers.base import (
    ROLE_ADDRESS,
    ROLE_FORWARDING,
    Capability,
    NicRefError,
    NicRefFormat,
    Provider,
)

CAPABILITIES = (
    Capability(
        "eni-secondary-ip",
        ROLE_ADDRESS,
        "the claimed address is a secondary private IPv4 on the router's ENI",
        ("eni-secondary-private-ip", "eni-private-ip", "secondary-private-ipv4"),
    ),
    Capability(
        "source-dest-check-disabled",
        ROLE_FORWARDING,
        "source/destination check is disabled on the router's ENI",
        (
            "disable-source-dest-check",
            "no-source-dest-check",
            "source-dest-check-off",
            "src-dst-check-disabled",
            "disable-src-dst-check",
        ),
    ),
)

_HEX = re.compile(r"[0-9a-fA-F]+")
_OTHER_IDS = {
    "i-": "an EC2 instance ID",
    "eni-attach-": "an ENI attachment ID",
    "subnet-": "a subnet ID",
    "vpc-": "a VPC ID",
}


def parse_nic_ref(ref: str) -> dict[str, str]:
    """``eni-`` followed by 8 (older) or 17 lowercase hex digits.

    Raises:
        NicRefError: with the specific defect (wrong prefix, length, case, characters).
    """
    for prefix, what in _OTHER_IDS.items():
        if ref.lower().startswith(prefix):
            raise NicRefError(f"that is {what}, not an ENI ID")
    if not ref.lower().startswith("eni-"):
        raise NicRefError("an ENI ID starts with 'eni-'")
    digits = ref[4:]
    if not _HEX.fullmatch(digits):
        raise NicRefError(f"{digits!r} after 'eni-' is not hexadecimal")
    if ref != ref.lower():
        raise NicRefError(f"ENI IDs are lower case ({ref.lower()})")
    if len(digits) not in (8, 17):
        raise NicRefError(f"it has {len(digits)} hex digits after 'eni-', not 8 or 17")
    return {"eni": ref, "canonical": ref}


NIC_REF = NicRefFormat(
    noun="ENI ID",
    forms=("eni-<8 or 17 hex digits>",),
    example="eni-0a1b2c3d4e5f60789",
    parse=parse_nic_ref,
    lookup="aws ec2 describe-instances --query 'Reservations[].Instances[].NetworkInterfaces[]"
    ".NetworkInterfaceId'",
)

PROVIDER = Provider(
    name="aws",
    title="AWS",
    capabilities=CAPABILITIES,
    nic_ref=NIC_REF,
    detect=imds.detect,
    read_instance_metadata=imds.read_instance_metadata,
    plan_actions=action.plan_actions,
)
