"""Requests from API threads: explicit moves and pins, checked at once and queued.

``MoveAddress``, ``Pin`` and ``Unpin`` arrive on gRPC threads while the engine thread runs
the controller. Each is checked here against the current plan (an error names what is
wrong and what to do, and nothing is queued), made durable where it must be (a pin), then
queued; the controller's next step applies the queue, and ``wake`` asks the engine for that
step at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass

from routerd.core.errors import RouterdError
from routerd.core.mobility.plan import MobileDomain, MobilityPlan
from routerd.core.mobility.port import MobilityStore
from routerd.core.mobility.records import Explicit, Pin


class MobilityError(RouterdError):
    """A move or pin that cannot be done; the message says why and what to do.

    Args:
        message: what is wrong and what to do.
        code: a stable reason code for the API (``not-mobile``, ``unknown-site``,
            ``remote-site``, ``pinned``, ``pinned-by-config``).
    """

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Unpin:
    """A queued removal of a stored pin."""

    address: str


Request = Explicit | Pin | Unpin
"""What API threads queue for the next step."""


class Requests:
    """The checked queue of requests (thread-safe).

    Args:
        plan: the current mobility plan (read at each request).
        store: where pins are made durable.
        clock: the engine's clock (a request's time).
        stored_pin: the pin the controller holds for an address.
    """

    def __init__(
        self,
        plan: Callable[[], MobilityPlan],
        store: MobilityStore,
        clock: Callable[[], float],
        stored_pin: Callable[[str], Pin | None],
    ) -> None:
        self._plan = plan
        self._store = store
        self._clock = clock
        self._stored_pin = stored_pin
        self._lock = threading.Lock()
        self._queue: list[Request] = []
        self.wake: Callable[[], None] = lambda: None

    def take(self) -> list[Request]:
        """Everything queued, oldest first (engine thread)."""
        with self._lock:
            out, self._queue = self._queue, []
        return out

    def put_back(self, requests: list[Request]) -> None:
        """Requeue what a failed step took, ahead of anything newer."""
        with self._lock:
            self._queue[:0] = requests

    def _add(self, items: list[Request]) -> None:
        with self._lock:
            self._queue.extend(items)
        self.wake()

    def domain(self, address: str) -> MobileDomain:
        """The address's domain, or an error saying what moves on this router."""
        plan = self._plan()
        dom = plan.domain_of(address)
        if dom is not None:
            return dom
        mobile = ", ".join(f"{d.name} {d.prefix}" for d in plan.domains) or "none"
        raise MobilityError(
            f"{address} is not a mobile address on this router (mobile domains: {mobile}; "
            "excluded addresses, the gateway and the prefix's network and broadcast "
            "addresses never move)",
            "not-mobile",
        )

    def move(self, addresses: Collection[str], to_site: str, cause: str = "") -> list[str]:
        """Move addresses to ``to_site``, which must be this router's site (all or none).

        Args:
            addresses: bare IPv4 addresses.
            to_site: the site to move them to.
            cause: why (journaled with each move).

        Returns:
            The addresses queued (the next step originates them).

        Raises:
            MobilityError: naming the first address or site that cannot move, and the
                router to call when ``to_site`` is another site.
        """
        if not addresses:
            raise MobilityError("no address given: name at least one address to move")
        now = self._clock()
        queued: list[Request] = []
        for address in addresses:
            self.check_move(address, to_site)
            queued.append(Explicit(address, now, cause))
        self._add(queued)
        return [r.address for r in queued]

    def check_move(self, address: str, to_site: str) -> MobileDomain:
        """Whether ``address`` may move to ``to_site`` on this router (nothing is queued).

        Returns:
            The address's domain.

        Raises:
            MobilityError: with the reason's ``code`` and what to do.
        """
        dom = self.domain(address)
        site = dom.sites.get(to_site)
        if site is None:
            raise MobilityError(
                f"site {to_site!r} is not a site of domain {dom.name} "
                f"(sites: {', '.join(dom.sites)})",
                "unknown-site",
            )
        if site.name != dom.local.name:
            raise MobilityError(
                f"{address}: this router serves {dom.local.name}; a router moves addresses "
                f"only to its own site: call MoveAddress on {site.name}'s router "
                f"({', '.join(site.router_ids)}, reached through OverlayPeer/{site.peer_ref})",
                "remote-site",
            )
        pin = self._pin_of(address)
        if pin is not None and pin.site != dom.local.name:
            if pin.claim:
                raise MobilityError(
                    f"{address} is pinned at {pin.site}: remove RemoteAddressClaim/{pin.claim} "
                    "first",
                    "pinned-by-config",
                )
            raise MobilityError(
                f"{address} is pinned at {pin.site}: routerctl unpin first", "pinned"
            )
        return dom

    def _pin_of(self, address: str) -> Pin | None:
        static = self._plan().static_pins.get(address)
        if static is not None:
            return Pin(address, static.domain, static.site, 0.0, claim=static.claim)
        with self._lock:
            for r in reversed(self._queue):
                if r.address == address and not isinstance(r, Explicit):
                    return r if isinstance(r, Pin) else None
        return self._stored_pin(address)

    def pin(self, address: str, site: str, cause: str = "") -> Pin:
        """Pin an address to a site (durable at once; applied by the next step).

        Raises:
            MobilityError: not mobile here, unknown site, or pinned by a static claim.
        """
        dom = self.domain(address)
        if site not in dom.sites:
            raise MobilityError(
                f"site {site!r} is not a site of domain {dom.name} (sites: {', '.join(dom.sites)})",
                "unknown-site",
            )
        static = self._plan().static_pins.get(address)
        if static is not None:
            raise MobilityError(
                f"{address} is pinned by RemoteAddressClaim/{static.claim} in the config; edit "
                "the config instead",
                "pinned-by-config",
            )
        pin = Pin(address, dom.name, site, self._clock(), cause)
        self._store.mobility_put_pin(pin)
        self._add([pin])
        return pin

    def unpin(self, address: str) -> bool:
        """Remove a stored pin; False when the address had none (static pins stay)."""
        self.domain(address)
        if address in self._plan().static_pins:
            raise MobilityError(
                f"{address} is pinned by RemoteAddressClaim/"
                f"{self._plan().static_pins[address].claim} in the config; remove that claim",
                "pinned-by-config",
            )
        existed = self._store.mobility_drop_pin(address)
        self._add([Unpin(address)])
        return existed
