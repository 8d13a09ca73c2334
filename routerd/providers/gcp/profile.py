"""What a ``provider: gcp`` CloudProviderProfile means: capture prerequisites and NIC paths.

On GCP the router captures a remote address by holding it as an *alias IP range* (a /32)
on its NIC; the VPC then delivers the address to that NIC. GCP drops packets an instance
forwards (source or destination not its own) unless the instance was given
``canIpForward=true``. Both are provisioned by a person; routerd validates the references,
reads metadata and prints the ``gcloud`` commands.

GCP has no NIC ID: a NIC is ``nic<N>`` of an instance, so a nicRef is the instance's
resource path plus the NIC name, optionally as a full Compute API URL.
"""

from __future__ import annotations

import re

from routerd.providers.base import (
    ROLE_ADDRESS,
    ROLE_FORWARDING,
    Capability,
    NicRefError,
    NicRefFormat,
    Provider,
)
from routerd.providers.gcp import action, imds

CAPABILITIES = (
    Capability(
        "alias-ip-range",
        ROLE_ADDRESS,
        "the claimed address is an alias IP range (/32) on the router's NIC",
        ("alias-ip", "alias-ip-ranges", "ip-alias", "nic-alias-ip"),
    ),
    Capability(
        "can-ip-forward",
        ROLE_FORWARDING,
        "canIpForward is true on the router instance",
        ("ip-forward", "instance-ip-forwarding", "can-ip-forwarding"),
    ),
)

URL_PREFIXES = (
    "https://www.googleapis.com/compute/v1/",
    "https://compute.googleapis.com/compute/v1/",
)
_PROJECT = re.compile(r"([a-z0-9.-]+:)?[a-z][a-z0-9-]{4,28}[a-z0-9]")
_ZONE = re.compile(r"[a-z]+-[a-z]+[0-9]+-[a-z]")
_INSTANCE = re.compile(r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?")
_NIC = re.compile(r"nic[0-9]{1,2}")
_SHAPE = ("projects", "project", "zones", "zone", "instances", "instance", "networkInterfaces")


def parse_nic_ref(ref: str) -> dict[str, str]:
    """``projects/<p>/zones/<z>/instances/<i>/networkInterfaces/nic<N>``, bare or as a
    Compute API v1 URL.

    Raises:
        NicRefError: naming the part that is wrong.
    """
    path = next((ref[len(p) :] for p in URL_PREFIXES if ref.startswith(p)), ref)
    if _NIC.fullmatch(path):
        raise NicRefError("a bare NIC name does not say which instance; give the full path")
    parts = path.split("/")
    if len(parts) != 8:
        raise NicRefError(f"it has {len(parts)} path segments, not 8")
    out: dict[str, str] = {}
    for i, want in enumerate(_SHAPE):
        if i % 2 == 0 and parts[i] != want:
            raise NicRefError(f"segment {parts[i]!r} where {want!r} belongs")
        if i % 2 == 1:
            out[want] = parts[i]
    out["nic"] = parts[7]
    if out["project"].isdigit():
        raise NicRefError("use the project ID, not the project number")
    for key, rx in (("project", _PROJECT), ("zone", _ZONE), ("instance", _INSTANCE)):
        if not rx.fullmatch(out[key]):
            raise NicRefError(f"{key} {out[key]!r} is not a valid GCP {key} name")
    if not _NIC.fullmatch(out["nic"]):
        raise NicRefError(f"NIC {out['nic']!r} is not nic0, nic1, ...")
    out["canonical"] = path
    return out


NIC_REF = NicRefFormat(
    noun="NIC path",
    forms=(
        "projects/<project ID>/zones/<zone>/instances/<instance>/networkInterfaces/nic<N>",
        "the same behind https://www.googleapis.com/compute/v1/",
    ),
    example="projects/sam-lab/zones/asia-northeast1-a/instances/cloud-rt-a/networkInterfaces/nic0",
    parse=parse_nic_ref,
    lookup="gcloud compute instances describe <instance> --zone <zone> "
    "--format='value(networkInterfaces[].name)'",
)

PROVIDER = Provider(
    name="gcp",
    title="GCP",
    capabilities=CAPABILITIES,
    nic_ref=NIC_REF,
    detect=imds.detect,
    read_instance_metadata=imds.read_instance_metadata,
    plan_actions=action.plan_actions,
    profile_fields=(("project", "project"),),
)
