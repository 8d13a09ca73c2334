"""Does the cloud say the claimed address is on this router's NIC? (provider-secondary-ip)

Cloud capture works only when the fabric delivers the address to the router's NIC, which
only the instance-metadata service can confirm from inside the VM. The reading and the
comparison belong to ``routerd.providers`` (one reader per cloud, and
``check_address_assigned``); this module only picks the reader for the claim's
``CloudProviderProfile``, reads metadata once per provider per run, and turns the answer
into a finding. ``ROUTERD_IMDS_URL`` overrides the metadata base URL (a fake in tests, a
proxy in odd networks). Without that override the provider's cheap DMI check runs first,
so a router that is not on that cloud skips at once instead of waiting for timeouts.
"""

from __future__ import annotations

from routerd.core.doctor import Finding, Status
from routerd.core.errors import ProviderError
from routerd.core.lowering import ClaimIntent
from routerd.core.resources import CloudProviderProfile, RemoteAddressClaim
from routerd.doctor.inputs import Inputs, claim_name
from routerd.providers.assignment import check_address_assigned
from routerd.providers.base import InstanceMetadata, Provider
from routerd.providers.evidence import IMDS_ENV
from routerd.providers.registry import NAME_TO_PROVIDER

AREA = "hybrid"
CHECK = "provider assignment"
IMDS_TIMEOUT = 2.0
STATUS = {"pass": Status.PASS, "warn": Status.WARN, "fail": Status.FAIL, "skip": Status.SKIP}


def metadata(inputs: Inputs, provider: Provider) -> tuple[InstanceMetadata | None, str]:
    """One metadata read per provider per run: ``(metadata, why none)``."""
    got = inputs.host.once(("imds", provider.name), lambda: _read(inputs, provider))
    return got  # type: ignore[return-value]


def _read(inputs: Inputs, provider: Provider) -> tuple[InstanceMetadata | None, str]:
    url = inputs.host.env.get(IMDS_ENV, "")
    if not url and not provider.detect(root=inputs.host.dmi_root):
        return None, (
            f"this host is not on {provider.title} according to DMI; metadata not queried "
            f"(set {IMDS_ENV} to query one anyway)"
        )
    kwargs: dict[str, object] = {"timeout": IMDS_TIMEOUT}
    if url:
        kwargs["base_url"] = url
    try:
        md = provider.read_instance_metadata(**kwargs)
    except ProviderError as e:
        return None, f"{provider.title} instance metadata unreachable: {e.reason}"
    if md is None:
        where = url or "its default address"
        return None, f"no {provider.title} metadata service answers at {where}"
    return md, ""


def in_use(inputs: Inputs) -> list[Provider]:
    """Every metadata reader some claim's check will ask (so a run can read them up front)."""
    out: dict[str, Provider] = {}
    for c in inputs.intents.values():
        if c.capture_type != "provider-secondary-ip":
            continue
        claim = inputs.config.get(RemoteAddressClaim, c.name)
        cap = claim.spec.capture if claim else None
        profile = inputs.config.get(CloudProviderProfile, cap.provider_ref) if cap else None
        provider = NAME_TO_PROVIDER.get(profile.spec.provider) if profile else None
        if provider is not None and cap is not None and cap.nic_ref:
            out.setdefault(provider.name, provider)
    return list(out.values())


def check(inputs: Inputs, c: ClaimIntent) -> Finding | None:
    """The ``… provider assignment`` finding (None for proxy-arp claims)."""
    if c.capture_type != "provider-secondary-ip":
        return None
    name = claim_name(c.name, CHECK)
    claim = inputs.config.get(RemoteAddressClaim, c.name)
    cap = claim.spec.capture if claim else None
    profile = inputs.config.get(CloudProviderProfile, cap.provider_ref) if cap else None
    if cap is None or profile is None:
        return Finding(
            AREA, name, Status.SKIP, "no CloudProviderProfile (providerRef)", claim=c.name
        )
    provider = NAME_TO_PROVIDER.get(profile.spec.provider)
    if provider is None:
        why = f"provider {profile.spec.provider!r} has no metadata reader"
        return Finding(AREA, name, Status.SKIP, why, claim=c.name)
    if not cap.nic_ref:
        why = "spec.capture.nicRef is empty: nothing to compare with metadata"
        return Finding(AREA, name, Status.SKIP, why, claim=c.name)
    md, why = metadata(inputs, provider)
    if md is None:
        return Finding(AREA, name, Status.SKIP, why, claim=c.name)
    status, detail = check_address_assigned(md, cap.nic_ref, c.address)
    remedy = "" if status in ("pass", "skip") else "see docs/troubleshooting.md#provider-assignment"
    return Finding(AREA, name, STATUS[status], detail, remedy, claim=c.name)
