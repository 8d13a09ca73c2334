"""What a ``provider: azure`` CloudProviderProfile means: capture prerequisites and NIC IDs.

On Azure the router captures a remote address by holding it as a *secondary ipConfig on its
NIC*; the VNet fabric then delivers the address to that NIC. Azure drops packets a NIC
receives for, or sends from, addresses it does not own unless *IP forwarding is enabled on
the NIC* (``enableIPForwarding``). Both are provisioned by a person; routerd validates the
references, reads metadata and prints the ``az`` commands (``action``).

A nicRef is the NIC's ARM resource ID. ARM treats the fixed segments case-insensitively
(``resourceGroups`` and ``resourcegroups`` both occur in the wild), so we do too.
"""

from __future__ import annotations

import re

from routerd.providers.azure import action, imds
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
        "nic-secondary-ip",
        ROLE_ADDRESS,
        "the claimed address is a secondary ipConfig on the router's NIC",
        ("nic-ip-config", "secondary-ip-config", "nic-secondary-ip-config", "ip-config"),
    ),
    Capability(
        "ip-forwarding",
        ROLE_FORWARDING,
        "IP forwarding (enableIPForwarding) is enabled on the router's NIC",
        ("nic-ip-forwarding", "enable-ip-forwarding", "ip-forwarding-enabled"),
    ),
)

_GUID = re.compile(r"[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
# Azure naming rules: resource group 1-90 of word chars, '-', '.', '(', ')', not ending in
# '.'; NIC 1-80 of word chars, '-', '.', starting alphanumeric, ending alphanumeric or '_'.
_RG = re.compile(r"[\w\-.()]{0,89}[\w\-()]")
_NIC = re.compile(r"[A-Za-z0-9]([\w\-.]{0,78}[A-Za-z0-9_])?")
_SHAPE = (
    ("subscriptions", None),
    (None, "subscription"),
    ("resourcegroups", None),
    (None, "resourceGroup"),
    ("providers", None),
    ("microsoft.network", None),
    ("networkinterfaces", None),
    (None, "nic"),
)


def parse_nic_ref(ref: str) -> dict[str, str]:
    """``/subscriptions/<guid>/resourceGroups/<rg>/providers/Microsoft.Network/
    networkInterfaces/<name>``.

    Raises:
        NicRefError: naming the first segment that is wrong.
    """
    if not ref.startswith("/"):
        raise NicRefError("an ARM resource ID starts with '/subscriptions/'")
    if ref.endswith("/"):
        raise NicRefError("remove the trailing '/'")
    parts = ref[1:].split("/")
    if len(parts) > len(_SHAPE) and parts[6].lower() == "networkinterfaces":
        nic_id = "/" + "/".join(parts[: len(_SHAPE)])
        raise NicRefError(f"that names a part of a NIC; use the NIC itself: {nic_id}")
    if len(parts) != len(_SHAPE):
        raise NicRefError(f"it has {len(parts)} path segments, not {len(_SHAPE)}")
    out: dict[str, str] = {}
    for part, (literal, key) in zip(parts, _SHAPE, strict=True):
        if literal is not None and part.lower() != literal:
            if literal in ("microsoft.network", "networkinterfaces"):
                raise NicRefError(f"{part!r} in place of {literal!r}: this is not a NIC ID")
            raise NicRefError(f"segment {part!r} where {literal!r} belongs")
        if key is not None:
            out[key] = part
    if not _GUID.fullmatch(out["subscription"]):
        raise NicRefError(f"subscription {out['subscription']!r} is not a GUID")
    if not _RG.fullmatch(out["resourceGroup"]):
        raise NicRefError(f"resource group name {out['resourceGroup']!r} is not valid")
    if not _NIC.fullmatch(out["nic"]):
        raise NicRefError(f"NIC name {out['nic']!r} is not valid")
    out["canonical"] = ref.lower()
    return out


NIC_REF = NicRefFormat(
    noun="NIC resource ID",
    forms=(
        "/subscriptions/<subscription GUID>/resourceGroups/<resource group>/providers/"
        "Microsoft.Network/networkInterfaces/<NIC name>",
    ),
    example="/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-sam-lab/"
    "providers/Microsoft.Network/networkInterfaces/cloud-rt-a-nic",
    parse=parse_nic_ref,
    lookup="az network nic show -g <rg> -n <nic> --query id",
)

PROVIDER = Provider(
    name="azure",
    title="Azure",
    capabilities=CAPABILITIES,
    nic_ref=NIC_REF,
    detect=imds.detect,
    read_instance_metadata=imds.read_instance_metadata,
    plan_actions=action.plan_actions,
    profile_fields=(("subscription", "subscription_id"),),
)
