"""``ControllerPort``: the API's ``MobilityPort`` over the running mobility controller.

``routerd.api.mobility`` serves ``MobilityService`` over ``daemon.mobility``; this is that
object when the router has mobility. It turns the controller's answers into the port's plain
results and its refusals into ``MobilityRefused`` with the controller's own reason code, so
the API never re-derives why a move or pin was refused:

* ``move`` judges every address on its own first (``Requests.check_move``), so a refused
  move lists each refused address with its reason; it is all or none, and an address this
  router already originates is ``already-home`` (nothing is queued for it);
* ``where``/``homes`` read the controller's snapshot, with the presence evidence (kind, MAC,
  interface, time) for homes a host answered for, the BGP session for homes learned over
  BGP, the caller's reason for explicit moves, and what to do for each conflict;
* the journal is the store's move journal, and ``wait_for_moves`` waits on the signal the
  engine thread advances after each step that stored moves.

Every method runs on gRPC worker threads; the controller's views and requests are made for
that (immutable snapshots, a locked request queue).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from routerd.api.mobility_port import (
    ALREADY_HOME,
    QUEUED,
    REFUSED,
    WOULD_MOVE,
    Conflict,
    Evidence,
    Home,
    MobilityRefused,
    MoveRecord,
    MoveResult,
    Pin,
)
from routerd.core.mobility import CONFLICTS, MobilityError, Where
from routerd.core.mobility import Conflict as CoreConflict
from routerd.core.mobility import Home as CoreHome
from routerd.core.mobility import MoveRecord as CoreMove
from routerd.core.mobility import Pin as CorePin

if TYPE_CHECKING:
    from routerd.daemon.mobility_runtime import MobilityRuntime

PAGE = 1000
"""Journal records read at once while filtering by domain."""


def _refused(e: MobilityError, field: str = "") -> MobilityRefused:
    return MobilityRefused(e.code or "not-mobile", str(e), field=field)


class ControllerPort:
    """``routerd.api.mobility_port.MobilityPort`` over a ``MobilityRuntime``."""

    def __init__(self, runtime: MobilityRuntime) -> None:
        self.rt = runtime

    # -- moves and pins -----------------------------------------------------------------------

    def move(
        self, addresses: Sequence[str], to_site: str, cause: str, *, dry_run: bool = False
    ) -> list[MoveResult]:
        ctl = self.rt.ctl
        results: list[MoveResult] = []
        for address in addresses:
            try:
                ctl.requests.check_move(address, to_site)
            except MobilityError as e:
                results.append(MoveResult(address, REFUSED, reason=e.code, message=str(e)))
                continue
            where = ctl.where(address)
            if where.originating and where.home is not None:
                results.append(
                    MoveResult(
                        address, ALREADY_HOME, where.home.sequence, message="already home here"
                    )
                )
            else:
                results.append(MoveResult(address, QUEUED, message="queued"))
        if dry_run:
            return [MoveResult(r.address, WOULD_MOVE) if r.status == QUEUED else r for r in results]
        if any(r.status == REFUSED for r in results):
            return results
        queued = [r.address for r in results if r.status == QUEUED]
        if queued:
            try:
                ctl.move(queued, to_site, cause)
            except MobilityError as e:  # the config changed since the check
                raise _refused(e) from None
        return results

    def pin(self, address: str, site: str, cause: str) -> Pin:
        try:
            pin = self.rt.ctl.pin(address, site, cause)
        except MobilityError as e:
            raise _refused(e, "site" if e.code == "unknown-site" else "") from None
        return _pin(pin)

    def unpin(self, address: str) -> bool:
        try:
            return self.rt.ctl.unpin(address)
        except MobilityError as e:
            raise _refused(e) from None

    # -- views ---------------------------------------------------------------------------------

    def where(self, address: str) -> Home:
        try:
            where = self.rt.ctl.where(address)
        except MobilityError as e:
            raise _refused(e, "address") from None
        return self._home(where)

    def homes(self, domain: str = "") -> list[Home]:
        names = [d.name for d in self.rt.plan.domains]
        if domain and domain not in names:
            raise MobilityRefused(
                "unknown-domain",
                f"no mobile domain {domain!r} on this router (mobile domains: {', '.join(names)})",
                field="domain",
            )
        return [self._home(w) for w in self.rt.ctl.wheres(domain)]

    def conflicts(self) -> list[CoreConflict]:
        """Every current conflict (the doctor lists those of addresses with no home too)."""
        return self.rt.ctl.conflicts()

    def _home(self, w: Where) -> Home:
        dom = self.rt.plan.by_name.get(w.domain)
        local = dom.local.name if dom is not None else ""
        pin = _pin(w.pin) if w.pin is not None else None
        conflicts = tuple(
            Conflict(c.code, c.detail, CONFLICTS.get(c.code, "")) for c in w.conflicts
        )
        h = w.home
        if h is None:
            return Home(
                w.address, w.domain, "", local, originating=w.originating, pin=pin,
                conflicts=conflicts,
            )  # fmt: skip
        static = h.origin == "pin" and w.pin is not None and bool(w.pin.claim)
        return Home(
            address=w.address,
            domain=w.domain,
            site=h.site,
            local_site=local,
            sequence=h.sequence,
            since=h.since,
            origin="static" if static else h.origin,
            evidence=self._evidence(h, w.pin, static),
            originating=w.originating,
            stale_until=h.stale_until,
            pin=pin,
            conflicts=conflicts,
        )

    def _evidence(self, h: CoreHome, pin: CorePin | None, static: bool) -> Evidence:
        if h.origin == "presence":
            ev = self.rt.feed.evidence(h.address)
            if ev is not None:
                detail = f"{ev.kind} from {ev.mac} on {ev.interface}" if ev.mac else ev.kind
                return Evidence(ev.kind, ev.mac, ev.interface, ev.at, detail)
            return Evidence("presence", at=h.since, detail=h.evidence)
        if h.origin == "bgp":
            return Evidence("bgp", at=h.since, detail=h.evidence, peer=h.neighbor)
        if h.origin == "explicit":
            reason = h.evidence.removeprefix("explicit").lstrip(": ")
            return Evidence("explicit", at=h.since, detail=reason)
        if h.origin == "pin":
            at = pin.since if pin is not None else h.since
            return Evidence("static" if static else "pin", at=at, detail=h.evidence)
        return Evidence(h.origin, at=h.since, detail=h.evidence)

    # -- the journal ---------------------------------------------------------------------------

    def history(
        self, *, address: str = "", domain: str = "", after: int = 0, limit: int = 1000
    ) -> list[MoveRecord]:
        store = self.rt.store
        out: list[MoveRecord] = []
        while len(out) < limit:
            want = limit - len(out) if not domain else PAGE
            page = store.mobility_moves(address=address or None, after=after, limit=want)
            out += [_move(m) for m in page if not domain or m.domain == domain]
            if len(page) < want:
                break
            after = page[-1].seq
        return out[:limit]

    def journal_head(self) -> int:
        return self.rt.journal.head

    def wait_for_moves(self, after: int, timeout: float) -> int:
        return self.rt.journal.wait(after, timeout)


def _pin(p: CorePin) -> Pin:
    return Pin(p.address, p.domain, p.site, p.since, p.cause, p.claim)


def _move(m: CoreMove) -> MoveRecord:
    return MoveRecord(
        m.seq, m.address, m.domain, m.from_site, m.to_site, m.sequence, m.cause, m.evidence, m.at
    )
