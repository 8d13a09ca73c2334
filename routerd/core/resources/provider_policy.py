"""``ProviderActionPolicy`` (``hybrid.routerd.net/v1alpha1``): what routerd may do at a cloud.

routerd writes to a cloud only for a ``CloudProviderProfile`` with ``execution: execute``,
and only what that profile's policy allows: the addresses (``allowedPrefixes``), the
operations (``actions``), how many per run (``maxActionsPerRun``) and whether a person must
approve each one first (``approval``). Everything is denied unless listed: a policy with no
prefixes or no actions is refused, not read as "everything".

Approval defaults to ``required``: a policy written without saying otherwise never lets an
unattended action happen. Address mobility needs ``approval: none`` (a move cannot wait for a
person), and says so when it is not.

Rules that relate the policy to its profile and to claims live in
``routerd.providers.policy_check`` (they need the provider registry).
"""

from __future__ import annotations

import ipaddress
from typing import ClassVar

from pydantic import Field, field_validator

from routerd.core.resources.base import HYBRID_API, ResourceModel, Spec, one_of

ACTION_ASSIGN = "assign"
ACTION_UNASSIGN = "unassign"
ACTION_REASSIGN = "reassign"
POLICY_ACTIONS = (ACTION_ASSIGN, ACTION_UNASSIGN, ACTION_REASSIGN)
"""``assign``: put a free address on the router's NIC. ``unassign``: take an address routerd
assigned off the router's NIC once no claim wants it. ``reassign``: move an address another
NIC holds onto the router's NIC (failover from another router)."""
APPROVALS = ("none", "required")
EXECUTION_MODES = ("plan", "execute")
"""``CloudProviderProfile.spec.execution``: ``plan`` prints the provider commands (routerd
never writes to the cloud), ``execute`` lets routerd run them under a policy."""


class ProviderActionPolicySpec(Spec):
    """What routerd may do at the cloud of one profile.

    Attributes:
        provider_ref: the CloudProviderProfile this policy governs.
        enabled: false stops every action (the journal and approvals stay).
        allowed_prefixes: only addresses inside one of these may be acted on.
        actions: the operations allowed (``assign``, ``unassign``, ``reassign``).
        max_actions_per_run: at most this many provider calls per reconciler run.
        approval: ``required``: each action waits for ``routerctl action approve``;
            ``none``: actions run at once.
    """

    provider_ref: str
    enabled: bool = True
    allowed_prefixes: tuple[str, ...]
    actions: tuple[str, ...]
    max_actions_per_run: int = Field(10, ge=1, le=10000)
    approval: str = "required"

    _approval = field_validator("approval")(one_of("approval", APPROVALS))

    @field_validator("provider_ref")
    @classmethod
    def _ref(cls, v: str) -> str:
        if not v:
            raise ValueError("providerRef is required: name the CloudProviderProfile it governs")
        return v

    @field_validator("allowed_prefixes")
    @classmethod
    def _prefixes(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not v:
            raise ValueError(
                "allowedPrefixes is empty: nothing would be allowed; list the prefixes routerd "
                "may assign at the provider (for example 10.40.8.0/24)"
            )
        out = []
        for p in v:
            try:
                out.append(str(ipaddress.IPv4Network(p, strict=True)))
            except ValueError as e:
                raise ValueError(
                    f"{p!r} is not an IPv4 prefix in CIDR form (for example 10.40.8.0/24): {e}"
                ) from None
        return tuple(out)

    @field_validator("actions")
    @classmethod
    def _actions(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not v:
            raise ValueError(
                "actions is empty: nothing would be allowed; list what routerd may do: "
                f"{', '.join(POLICY_ACTIONS)}"
            )
        for a in v:
            if a not in POLICY_ACTIONS:
                raise ValueError(f"{a!r} is not an action; use any of {', '.join(POLICY_ACTIONS)}")
        return tuple(dict.fromkeys(v))

    def allows_address(self, address: str) -> bool:
        """Whether ``address`` (bare or ``/32``) lies inside an allowed prefix."""
        ip = ipaddress.IPv4Address(address.split("/", 1)[0])
        return any(ip in ipaddress.IPv4Network(p) for p in self.allowed_prefixes)


class ProviderActionPolicy(ResourceModel):
    KIND: ClassVar[str] = "ProviderActionPolicy"
    API_VERSION: ClassVar[str] = HYBRID_API
    spec: ProviderActionPolicySpec
