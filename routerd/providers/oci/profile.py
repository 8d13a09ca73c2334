"""What a ``provider: oci`` CloudProviderProfile means: capture prerequisites and VNIC OCIDs.

On OCI the router captures a remote address by holding it as a *secondary private IP on
its VNIC*; the VCN then delivers the address to that VNIC. OCI drops forwarded traffic
unless the VNIC has ``skipSourceDestCheck=true``. Both are provisioned by a person;
routerd validates the references, reads metadata and prints the ``oci`` commands.

One more prerequisite is not a provider setting at all: OCI's Ubuntu images ship an
iptables policy that rejects forwarded traffic and non-SSH input, so no WireGuard handshake
and no forwarding happen until the guest firewall is opened (D17, docs/decisions.md). It is
a ``note``.

The examples of the Go implementation routerd succeeds spell the capabilities
``vnic-private-ip`` and ``disable-source-dest-check``, its MSS test ``vnic-secondary-ip`` and
``skip-source-dest-check``; all four are accepted.
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
from routerd.providers.oci import action, imds

CAPABILITIES = (
    Capability(
        "vnic-secondary-ip",
        ROLE_ADDRESS,
        "the claimed address is a secondary private IP on the router's VNIC",
        ("vnic-private-ip", "vnic-secondary-private-ip", "private-ip"),
    ),
    Capability(
        "skip-source-dest-check",
        ROLE_FORWARDING,
        "skipSourceDestCheck is true on the router's VNIC",
        (
            "disable-source-dest-check",
            "source-dest-check-disabled",
            "no-source-dest-check",
            "vnic-skip-source-dest-check",
        ),
    ),
)

HOST_FIREWALL_NOTE = (
    "OCI Ubuntu images reject forwarded traffic and non-SSH input in the guest iptables "
    "policy: allow UDP to the WireGuard listen port in INPUT and FORWARD between the "
    "VNIC and the tunnel in both directions (docs/howto-oci.md)"
)

# OCID: ocid1.<resource type>.<realm>.[region][.future use].<unique id>
_OCID = re.compile(r"ocid1\.(?P<type>[a-z0-9]+)\.(?P<rest>.+)")
_REALM = re.compile(r"oc\d+")
_REGION = re.compile(r"[a-z][a-z0-9-]*[a-z0-9]")
_UNIQUE = re.compile(r"[a-z0-9]{8,}")


def parse_nic_ref(ref: str) -> dict[str, str]:
    """``ocid1.vnic.<realm>.<region>.<unique id>`` (a future-use segment may precede the id).

    Raises:
        NicRefError: naming the part that is wrong.
    """
    m = _OCID.fullmatch(ref)
    if m is None:
        raise NicRefError("an OCID starts with 'ocid1.<resource type>.'")
    if m["type"] != "vnic":
        what = {"privateip": "a private IP", "instance": "an instance"}.get(
            m["type"], f"a {m['type']!r}"
        )
        raise NicRefError(f"that is the OCID of {what}, not of a VNIC")
    realm, region, *rest = m["rest"].split(".")
    if not _REALM.fullmatch(realm):
        raise NicRefError(f"realm {realm!r} is not oc<N> (oc1 is the commercial realm)")
    if not _REGION.fullmatch(region):
        raise NicRefError(f"region {region!r} is missing or malformed")
    if not rest or len(rest) > 2 or not _UNIQUE.fullmatch(rest[-1]):
        raise NicRefError("the unique ID after the region is missing or malformed")
    return {"vnic": ref, "realm": realm, "region": region, "canonical": ref}


NIC_REF = NicRefFormat(
    noun="VNIC OCID",
    forms=("ocid1.vnic.<realm>.<region>.<unique id>",),
    example="ocid1.vnic.oc1.ap-tokyo-1.abxhiljrexampleexampleexampleexampleexampleexample",
    parse=parse_nic_ref,
    lookup="oci compute instance list-vnics --instance-id <instance OCID>",
)

PROVIDER = Provider(
    name="oci",
    title="OCI",
    capabilities=CAPABILITIES,
    nic_ref=NIC_REF,
    detect=imds.detect,
    read_instance_metadata=imds.read_instance_metadata,
    plan_actions=action.plan_actions,
    notes=(HOST_FIREWALL_NOTE,),
)
