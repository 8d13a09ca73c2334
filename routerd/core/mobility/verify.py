"""The far end of a derived claim: is its home site still announcing the address?

A static claim is ``verified`` when capture, delivery and the path to the peer are proven.
A derived claim also rests on a belief, that the VM lives at the home site; the evidence for
it is the home site's own announcement. So ``verified`` additionally requires that
announcement to be in the exchange view now. Two reasons name what is missing:

* ``home-unconfirmed``: the home's path went with a BGP session that is down (or the speaker
  cannot be read); routerd keeps capturing and delivering for ``staleTime`` so traffic keeps
  flowing through a short outage, but nothing confirms the VM is still there;
* ``home-not-originating``: the address is pinned to a site that does not announce it, so
  nothing shows that the VM is there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from routerd.core.exchange import LearnedPath
from routerd.core.mobility.derive import ClaimOrigin

MOBILITY_REASONS = {
    "home-not-originating": "the home site of a derived claim does not announce the address",
    "home-unconfirmed": "the home site's announcement went with a BGP session that is down",
}
"""The claim reason codes address mobility adds, with what each means."""


@dataclass(frozen=True, slots=True)
class FarEnd:
    """The verdict on a derived claim's far end.

    Attributes:
        ok: the home site announces the address now.
        reason: a ``MOBILITY_REASONS`` code when not ok ("" when ok).
        message: what is missing and what to do.
    """

    ok: bool
    reason: str = ""
    message: str = ""


def far_end(
    address: str, origin: ClaimOrigin, site_id: int, paths: Mapping[str, tuple[LearnedPath, ...]]
) -> FarEnd:
    """Judge one derived claim's far end.

    Args:
        address: the claim's bare address.
        origin: why the claim exists.
        site_id: the home site's identity.
        paths: the exchange view's paths at the last step.

    Returns:
        The verdict.
    """
    if origin.stale:
        return FarEnd(
            False,
            "home-unconfirmed",
            f"the path from {origin.site} went with BGP session {origin.neighbor or '?'}, which "
            "is down: routerd keeps delivering for staleTime; check the session "
            "(`routerctl doctor mobility`)",
        )
    if any(p.site_id == site_id for p in paths.get(address, ())):
        return FarEnd(True)
    if origin.kind == "pin":
        return FarEnd(
            False,
            "home-not-originating",
            f"{address} is pinned at {origin.site}, but {origin.site} does not announce it: "
            f"check `routerctl where {address}` on {origin.site}'s router, or unpin it here",
        )
    return FarEnd(
        False,
        "home-not-originating",
        f"{origin.site} no longer announces {address}; the next pass follows the address",
    )
