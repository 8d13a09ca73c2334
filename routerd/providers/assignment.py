"""Does the provider think the claim's address is on this router's NIC? (for the doctor)

Capture on a cloud works only when the fabric delivers the address to the router's NIC,
and the only view of that from inside the VM is the instance-metadata service. This module
compares one metadata read with one claim and answers in the doctor's terms
(``pass``/``warn``/``fail``/``skip`` plus a sentence saying what to do).

The clouds do not expose the same things, and the answer says which gap applies: Azure
has no NIC IDs in metadata (the nicRef cannot be confirmed, only the address), OCI lists
no secondary IPs at all, and no cloud exposes its forwarding switch.
"""

from __future__ import annotations

import ipaddress
import shlex

from routerd.providers.base import (
    ASSIGN,
    ROLE_FORWARDING,
    CheckStatus,
    InstanceMetadata,
    Nic,
    NicRefError,
    PlanTarget,
    Provider,
)
from routerd.providers.registry import get_provider

_VERIFY = {
    "oci": "oci network private-ip list --vnic-id {nic}",
    "azure": "az network nic show --ids {nic} --query 'ipConfigurations[].privateIPAddress'",
}


def _holds(nic: Nic, ip: ipaddress.IPv4Address) -> bool:
    for entry in nic.secondary_ips or ():
        try:
            if ip in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def _assign_hint(provider: Provider, nic: dict[str, str], nic_ref: str, address: str) -> str:
    target = PlanTarget(claim="claim", address=address, nic_ref=nic_ref, nic=nic)
    plan = next(p for p in provider.plan_actions(target) if p.action == ASSIGN)
    return shlex.join(plan.command)


def check_address_assigned(
    metadata: InstanceMetadata | None, nic_ref: str, address: str
) -> tuple[CheckStatus, str]:
    """Whether ``address`` is assigned to the NIC ``nic_ref`` names, per instance metadata.

    Args:
        metadata: one read of this router's metadata service (None: nothing was read).
        nic_ref: the claim's ``spec.capture.nicRef``.
        address: the claim's address, ``10.40.8.31/32`` or bare.

    Returns:
        ``(status, detail)``: ``pass`` assigned (forwarding not known to be off); ``fail``
        not assigned, assigned elsewhere, the NIC's primary IP, another router's NIC, or
        forwarding off; ``skip`` metadata cannot tell.
    """
    if metadata is None:
        return "skip", "no instance metadata was read (not on a cloud VM, or IMDS unreachable)"
    provider = get_provider(metadata.provider)
    ip = ipaddress.IPv4Address(address.split("/", 1)[0])
    try:
        nic_parts = provider.parse_nic_ref(nic_ref)
    except NicRefError as e:
        return "fail", str(e)
    hint = _assign_hint(provider, nic_parts, nic_ref, str(ip))
    for nic in metadata.nics:
        if nic.primary_ip == str(ip):
            return "fail", (
                f"{ip} is the primary IP of NIC {nic.nic_id or nic.mac}; a claim captures a "
                "secondary address, never the router's own: fix spec.address"
            )
    exposed = [n for n in metadata.nics if n.nic_id is not None]
    if exposed:
        return _by_nic_id(provider, metadata, nic_parts["canonical"], ip, hint)
    return _by_address(provider, metadata, nic_ref, ip, hint)


def _by_nic_id(
    provider: Provider, md: InstanceMetadata, want: str, ip: ipaddress.IPv4Address, hint: str
) -> tuple[CheckStatus, str]:
    nic = next((n for n in md.nics if n.nic_id == want), None)
    if nic is None:
        have = ", ".join(str(n.nic_id) for n in md.nics) or "none"
        return "fail", (
            f"nicRef {want} is not attached to this instance {md.instance_id} (its NICs: "
            f"{have}); the claim names another machine's NIC: fix spec.capture.nicRef"
        )
    if nic.secondary_ips is None:
        check = _VERIFY.get(provider.name, "the provider console").format(nic=want)
        return "skip", (
            f"{provider.title} instance metadata does not list secondary IPs; "
            f"verify {ip} on {want} with: {check}"
        )
    if _holds(nic, ip):
        return _forwarding(provider, nic, f"{ip} is assigned to {want}")
    elsewhere = next((n for n in md.nics if _holds(n, ip)), None)
    if elsewhere is not None:
        return "fail", (
            f"{ip} is assigned to {elsewhere.nic_id}, not to nicRef {want}: move it, or fix "
            "spec.capture.nicRef"
        )
    return "fail", f"{ip} is not assigned to {want}; assign it: {hint}"


def _by_address(
    provider: Provider, md: InstanceMetadata, nic_ref: str, ip: ipaddress.IPv4Address, hint: str
) -> tuple[CheckStatus, str]:
    nic = next((n for n in md.nics if _holds(n, ip)), None)
    if nic is None:
        return "fail", f"{ip} is not assigned to any NIC of this VM; assign it: {hint}"
    status, detail = _forwarding(provider, nic, f"{ip} is assigned to NIC {nic.mac}")
    check = _VERIFY.get(provider.name, "the provider console").format(nic=nic_ref)
    return status, (
        f"{detail}; {provider.title} metadata has no NIC IDs, so nicRef is not confirmed "
        f"(check: {check})"
    )


def _forwarding(provider: Provider, nic: Nic, found: str) -> tuple[CheckStatus, str]:
    fwd = provider.capability(ROLE_FORWARDING)
    if nic.forwarding is False:
        return "fail", f"{found}, but metadata shows forwarding off; needed: {fwd.prerequisite}"
    if nic.forwarding is True:
        return "pass", f"{found}; forwarding is enabled"
    return "pass", (f"{found}; metadata does not show forwarding: make sure {fwd.prerequisite}")
