"""The shared vocabulary of the cloud provider packages.

``routerd.providers.{azure,aws,oci,gcp}`` must stay mutually independent (one cloud's quirks
never leak into another's), so everything they have in common lives here and only here:
the ``Provider`` descriptor the registry hands out, capability names and their
normalisation, nicRef parse errors, the display-only ``ActionPlan``, and the typed result of
an instance-metadata read. This module imports nothing provider-specific and no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

ROLE_ADDRESS = "secondary-ip"
"""Capability role: the claimed address is assigned to the router's NIC at the provider."""
ROLE_FORWARDING = "forwarding"
"""Capability role: the provider delivers packets not addressed to the NIC's own IPs."""

GENERIC_SYNONYMS = {
    ROLE_ADDRESS: ("secondary-ip", "secondary-private-ip"),
    ROLE_FORWARDING: ("forwarding", "ip-forwarding"),
}
"""Provider-neutral spellings every provider accepts for its capability of that role."""

CheckStatus = Literal["pass", "warn", "fail", "skip"]

ASSIGN = "assign-secondary-ip"
UNASSIGN = "unassign-secondary-ip"
FORWARDING_ON = "ensure-forwarding-enabled"
FORWARDING_OFF = "ensure-forwarding-disabled"
"""The canonical action verbs (the action-plan vocabulary of the Go implementation routerd
succeeds, so plugins written for it speak the same words)."""

UNDO_ADDRESS_NOTE = (
    "undo only after the claim is removed or its address has moved to another router; "
    "until then the fabric keeps delivering the address here, and routerd never unassigns "
    "it by itself"
)
"""Printed with every assign plan: unassigning is left to a person (D30, docs/decisions.md)."""
UNDO_FORWARDING_NOTE = (
    "undo only when no other claim captures through this NIC: forwarding is shared by "
    "every capture on it; restore the value it had before, which may already have "
    "been enabled"
)

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SEPARATORS = re.compile(r"[\s_./]+|-{2,}")


def normalize_token(name: str) -> str:
    """Fold a capability spelling to lower-kebab-case.

    ``skipSourceDestCheck``, ``skip_source_dest_check`` and ``Skip-Source-Dest-Check`` all
    become ``skip-source-dest-check`` (and ``enableIPForwarding`` ``enable-ip-forwarding``);
    capability strings are free-form, so people write them every way.
    """
    text = _CAMEL.sub("-", name.strip())
    return _SEPARATORS.sub("-", text).strip("-").lower()


@dataclass(frozen=True)
class Capability:
    """One provider-side prerequisite of ``provider-secondary-ip`` capture.

    Attributes:
        name: the canonical capability string (the Go implementation's spelling where it has
            one, so its configs load unchanged).
        role: ``ROLE_ADDRESS`` or ``ROLE_FORWARDING``.
        prerequisite: what must be true at the provider, in the provider's own terms.
        synonyms: other accepted spellings (already normalised).
    """

    name: str
    role: str
    prerequisite: str
    synonyms: tuple[str, ...] = ()

    def spellings(self) -> tuple[str, ...]:
        """Every accepted spelling, canonical first."""
        extra = GENERIC_SYNONYMS.get(self.role, ())
        seen = dict.fromkeys((self.name, *self.synonyms, *extra))
        return tuple(seen)


class NicRefError(ValueError):
    """A nicRef that does not have the provider's shape; ``reason`` says what is off."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class NicRefFormat:
    """The accepted textual forms of one provider's NIC reference.

    Attributes:
        noun: what the reference names (``ENI ID``).
        forms: the accepted shapes, for messages and docs.
        example: a complete valid example.
        parse: returns the parts (always with a ``canonical`` key used for comparisons) or
            raises ``NicRefError``.
        lookup: where a user finds the value (a console path or CLI command).
    """

    noun: str
    forms: tuple[str, ...]
    example: str
    parse: Callable[[str], dict[str, str]]
    lookup: str = ""


@dataclass(frozen=True)
class PlanTarget:
    """What an action plan acts on: one claim's address on one NIC.

    Attributes:
        claim: the RemoteAddressClaim name.
        address: the bare IPv4 address (never ``/32``: AWS rejects it, D19).
        nic_ref: the nicRef as written.
        nic: the parts ``NicRefFormat.parse`` returned.
        region: the profile's region, when set.
        capture_interface: the OS name of the capture NIC, when set.
        tunnel_interface: the delivery tunnel device, when set.
    """

    claim: str
    address: str
    nic_ref: str
    nic: Mapping[str, str]
    region: str = ""
    capture_interface: str = ""
    tunnel_interface: str = ""


@dataclass(frozen=True)
class ActionPlan:
    """A provider operation a person would run, with its undo; never executed by routerd.

    Attributes:
        name: ``<claim>/<action>``.
        provider: ``azure`` | ``aws`` | ``oci`` | ``gcp``.
        action: the canonical verb (``assign-secondary-ip``, ``ensure-forwarding-enabled``).
        target: what is acted on (``nicRef``, ``address`` and the parsed NIC parts).
        command: the exact CLI argv.
        undo_command: the argv that reverts it, or None when there is none.
        undo_action: the canonical verb of the undo.
        notes: caveats a person must read before running either command.
        display_only: always True; plans are text for a person (``executor`` acts).
    """

    name: str
    provider: str
    action: str
    target: Mapping[str, str]
    command: tuple[str, ...]
    undo_command: tuple[str, ...] | None
    undo_action: str | None = None
    notes: tuple[str, ...] = ()
    display_only: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "target", MappingProxyType(dict(self.target)))

    def as_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (lists, dicts) for ``-o json``."""
        return {
            "name": self.name,
            "provider": self.provider,
            "action": self.action,
            "target": dict(self.target),
            "command": list(self.command),
            "undoAction": self.undo_action,
            "undoCommand": None if self.undo_command is None else list(self.undo_command),
            "notes": list(self.notes),
            "displayOnly": self.display_only,
        }


@dataclass(frozen=True)
class Nic:
    """One NIC as the instance-metadata service reports it.

    Attributes:
        nic_id: the provider's NIC identity in canonical nicRef form, or None when the
            metadata service does not expose it (Azure).
        mac: lower-case, colon-separated.
        primary_ip: the NIC's primary private IPv4.
        secondary_ips: further addresses (GCP alias ranges as CIDRs), or None when the
            metadata service does not list them (OCI).
        forwarding: provider-side forwarding, or None when metadata does not expose it.
    """

    nic_id: str | None
    mac: str
    primary_ip: str
    secondary_ips: tuple[str, ...] | None
    forwarding: bool | None = None


@dataclass(frozen=True)
class InstanceMetadata:
    """What one read of a cloud's instance-metadata service told us."""

    provider: str
    instance_id: str
    nics: tuple[Nic, ...]


@dataclass(frozen=True)
class Provider:
    """Everything routerd knows about one cloud, as the registry hands it out.

    Attributes:
        name: the ``CloudProviderProfile.spec.provider`` value.
        title: the display name (``AWS``).
        capabilities: the prerequisites of provider-secondary-ip capture.
        nic_ref: the accepted nicRef forms.
        detect: cheap DMI check, no network (``detect(*, root="/") -> bool``).
        read_instance_metadata: the metadata reader.
        plan_actions: builds the display-only action plans for one target.
        profile_fields: ``(nic part, CloudProviderProfile spec attribute)`` pairs that must
            agree when both are set.
        notes: guest-side prerequisites that are not provider operations.
    """

    name: str
    title: str
    capabilities: tuple[Capability, ...]
    nic_ref: NicRefFormat
    detect: Callable[..., bool]
    read_instance_metadata: Callable[..., InstanceMetadata | None]
    plan_actions: Callable[..., list[ActionPlan]]
    profile_fields: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = ()

    def normalize_capability(self, name: str) -> str | None:
        """The canonical capability a spelling means on this provider, or None."""
        token = normalize_token(name)
        for cap in self.capabilities:
            if token in cap.spellings():
                return cap.name
        return None

    def capability(self, role: str) -> Capability:
        """The capability that fills ``role``."""
        return next(c for c in self.capabilities if c.role == role)

    def missing_capabilities(self, declared: Iterable[str]) -> list[Capability]:
        """Capture prerequisites not covered by any declared spelling."""
        have = {self.normalize_capability(d) for d in declared}
        return [c for c in self.capabilities if c.name not in have]

    def parse_nic_ref(self, ref: str) -> dict[str, str]:
        """Parse a nicRef; raises ``NicRefError`` with a complete, actionable message."""
        try:
            return self.nic_ref.parse(ref.strip())
        except NicRefError as e:
            raise NicRefError(self.nic_ref_message(ref, e.reason)) from None

    def nic_ref_message(self, ref: str, reason: str) -> str:
        fmt = self.nic_ref
        where = f" ({fmt.lookup})" if fmt.lookup else ""
        forms = " or ".join(fmt.forms)
        return (
            f"{ref!r} is not a valid {self.title} {fmt.noun}: {reason}; expected {forms}, "
            f"for example {fmt.example}{where}"
        )
