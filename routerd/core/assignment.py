"""Provider-side evidence for ``provider-secondary-ip`` capture: the port and its answers.

A cloud fabric delivers a claimed address to the router only while the provider has it
assigned to the router's NIC, and from inside the VM only the provider's instance-metadata
service can say so. Without asking, ``captured`` on the cloud side would mean no more than
"the address is not on a local interface", and a router whose secondary IP was never
assigned would still verify (route lookup and handshake say nothing about the fabric).

Core does no I/O, so the engine asks through ``ProviderEvidence``, implemented outside core:
``routerd.providers.evidence`` reads the metadata services (cached, rate-limited, in the
background), the sim answers from its simulated fabric. Answers are advisory in one
direction only: ``not-assigned`` and ``pending`` hold a claim in ``pending``; ``unknown``
(no metadata service, or it cannot tell) lets the capture count as declared, and the claim's
message says the provider side is unproven.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from routerd.core.frozen import maker
from routerd.core.lowering import ClaimIntent

PROVIDER_CAPTURE = "provider-secondary-ip"

AssignmentStatus = Literal["assigned", "not-assigned", "unknown", "pending"]
"""``assigned``: the provider lists the address on the claim's NIC. ``not-assigned``: the
provider answered and does not (or lists it elsewhere). ``unknown``: no answer can be had
(no metadata service here, unreachable, or the provider does not list secondary IPs).
``pending``: the first read has not finished yet (never counted as success)."""


@dataclass(frozen=True, slots=True)
class AssignmentQuery:
    """What to ask about one claim.

    Attributes:
        address: the bare claimed IPv4 address.
        provider: the ``CloudProviderProfile.spec.provider`` (``aws``, ``azure`` ...).
        nic_ref: the claim's ``spec.capture.nicRef`` ("" when unset).
        interface: the capture interface's OS name ("" when unset).
    """

    address: str
    provider: str
    nic_ref: str = ""
    interface: str = ""


@dataclass(frozen=True, slots=True)
class Assignment:
    """The provider's answer for one address.

    Attributes:
        status: see ``AssignmentStatus``.
        detail: a sentence naming the provider and the NIC, and what to do when it fails.
    """

    status: AssignmentStatus
    detail: str = ""


@runtime_checkable
class ProviderEvidence(Protocol):
    """What the engine needs from whoever can see the provider's assignments."""

    def start(self, on_change: Callable[[], None]) -> None:
        """Begin; call ``on_change`` (from any thread) when an answer may have changed."""

    def assignments(self, queries: frozenset[AssignmentQuery]) -> Mapping[str, Assignment]:
        """The latest answer per queried address; must not block for long.

        Implementations return the same mapping object while nothing changed, so the
        engine's comparison of two passes costs nothing at steady state.
        """

    def close(self) -> None:
        """Stop background work."""


def query_for(intent: ClaimIntent) -> AssignmentQuery | None:
    """The question to ask for one claim, or None when it has no provider-side capture."""
    facts = intent.facts
    if facts.capture_type != PROVIDER_CAPTURE or not facts.provider:
        return None
    return _query(intent.ip, facts.provider, intent.nic_ref, facts.capture_interface)


_query = maker(AssignmentQuery)  # a first pass asks about every provider-side claim
