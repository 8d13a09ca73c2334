"""Derived claims: what this router must capture and deliver for addresses homed elsewhere.

A derived claim is an ordinary ``RemoteAddressClaim`` (so capture, delivery and the
WireGuard allowed IPs come from the machinery every static claim uses): its name is
``mobility.<domain>.<a-b-c-d>``, its capture is the domain's ``mobility.capture`` on the
device that answers for addresses homed elsewhere (``MobileDomain.derived_capture``: the
anycast-gateway device when the domain has a gateway), its delivery the home site's overlay
peer. Why it exists (a BGP path with its neighbor and
sequence, or a pin) is kept beside it in a ``ClaimOrigin``, never in the spec, so a new
sequence for the same home changes no claim and costs the engine nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from routerd.core.mobility.decision import ClaimWant
from routerd.core.mobility.plan import MobileDomain
from routerd.core.resources import HYBRID_API, Metadata, RemoteAddressClaim
from routerd.core.resources.hybrid import Delivery, RemoteAddressClaimSpec

PREFIX = "mobility."


def claim_name(domain: str, address: str) -> str:
    """``mobility.<domain>.<a-b-c-d>``: unique per address, and never a name people write
    (the ``mobility.`` prefix is reserved for derived claims)."""
    return f"{PREFIX}{domain}.{address.replace('.', '-')}"


@dataclass(frozen=True, slots=True)
class ClaimOrigin:
    """Why a derived claim exists, shown beside it and journaled with it.

    Attributes:
        kind: ``bgp`` (a site announces the address) or ``pin`` (pinned there here).
        site: the home site.
        neighbor: the BGP session the path came over ("" for a pin).
        sequence: the home's mobility sequence (0 for a pin without a path).
        stale: the path went with a session that is down; kept for ``staleTime``.
    """

    kind: str
    site: str
    neighbor: str = ""
    sequence: int = 0
    stale: bool = False

    def describe(self) -> str:
        """One line for views: ``bgp site-b seq 7 via 10.255.0.1``."""
        if self.kind == "pin":
            return f"pin {self.site}"
        text = f"bgp {self.site} seq {self.sequence} via {self.neighbor}"
        return text + " (stale)" if self.stale else text


@dataclass(frozen=True, slots=True)
class DerivedClaim:
    """A derived claim and its origin."""

    claim: RemoteAddressClaim
    origin: ClaimOrigin


class ClaimFactory:
    """Builds derived claims, sharing the parts equal across claims of one domain and site.

    Every claim of a domain has the same capture object and every claim homed at one site
    the same delivery object, so thousands of claims cost one small spec each.
    """

    def __init__(self) -> None:
        self._delivery: dict[str, Delivery] = {}

    def build(self, domain: MobileDomain, address: str, want: ClaimWant) -> DerivedClaim:
        """The claim for ``address`` homed at ``want.site``.

        Args:
            domain: the address's domain (capture, sites).
            address: the bare address.
            want: the decision's claim (site, origin, sequence, neighbor, staleness).

        Returns:
            The claim with its origin.
        """
        site = domain.sites[want.site]
        delivery = self._delivery.get(site.peer_ref)
        if delivery is None:
            delivery = self._delivery[site.peer_ref] = Delivery(peer_ref=site.peer_ref)
        spec = RemoteAddressClaimSpec.model_construct(
            domain_ref=domain.name,
            address=f"{address}/32",
            owner_side=site.kind,
            capture=domain.derived_capture,
            delivery=delivery,
        )
        claim = RemoteAddressClaim.model_construct(
            api_version=HYBRID_API,
            kind=RemoteAddressClaim.KIND,
            metadata=Metadata.model_construct(
                name=claim_name(domain.name, address), owner_refs=(), annotations={}, labels={}
            ),
            spec=spec,
            status=None,
        )
        origin = ClaimOrigin(want.origin, want.site, want.neighbor, want.sequence, want.stale)
        return DerivedClaim(claim, origin)


def same_claim(a: RemoteAddressClaim | None, b: RemoteAddressClaim | None) -> bool:
    """Whether two derived claims program the same thing (same spec; origins may differ)."""
    if a is None or b is None:
        return a is b
    return a.name == b.name and a.spec == b.spec
