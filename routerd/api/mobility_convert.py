"""Converters from the mobility port's results to ``routerd.v1`` mobility messages.

One direction only (port dataclass -> proto), decided once here so ``routerctl where -o json``
and ``routerctl get homes -o json`` print the same shape for the same home. A home's
``state`` is derived here (``home_state``), never taken from the port, so every port reports
it by the same rule.
"""

from __future__ import annotations

from routerd.api.convert import timestamp
from routerd.api.mobility_port import (
    REFUSED,
    Conflict,
    Evidence,
    Home,
    MoveRecord,
    MoveResult,
    Pin,
    home_state,
)
from routerd.v1 import mobility_pb2


def evidence(e: Evidence) -> mobility_pb2.Evidence:
    return mobility_pb2.Evidence(
        kind=e.kind,
        mac=e.mac,
        interface=e.interface,
        at=timestamp(e.at),
        detail=e.detail,
        peer=e.peer,
    )


def pin(p: Pin) -> mobility_pb2.AddressPin:
    return mobility_pb2.AddressPin(
        address=p.address,
        domain=p.domain,
        site=p.site,
        since=timestamp(p.since),
        cause=p.cause,
        claim=p.claim,
    )


def conflict(c: Conflict) -> mobility_pb2.Conflict:
    return mobility_pb2.Conflict(code=c.code, detail=c.detail, remedy=c.remedy)


def home(h: Home) -> mobility_pb2.Home:
    return mobility_pb2.Home(
        address=h.address,
        domain=h.domain,
        home=h.site,
        state=home_state(h),
        sequence=h.sequence,
        since=timestamp(h.since),
        origin=h.origin,
        evidence=evidence(h.evidence),
        local_site=h.local_site,
        originating=h.originating,
        stale_until=timestamp(h.stale_until),
        pin=pin(h.pin) if h.pin is not None else None,
        conflicts=[conflict(c) for c in h.conflicts],
    )


def move_result(r: MoveResult) -> mobility_pb2.MoveResult:
    return mobility_pb2.MoveResult(
        address=r.address,
        accepted=r.status != REFUSED,
        status=r.status,
        sequence=r.sequence,
        reason=r.reason,
        message=r.message,
    )


def move_record(r: MoveRecord) -> mobility_pb2.MoveRecord:
    return mobility_pb2.MoveRecord(
        seq=r.seq,
        address=r.address,
        domain=r.domain,
        from_site=r.from_site,
        to_site=r.to_site,
        sequence=r.sequence,
        cause=r.cause,
        evidence=r.evidence,
        at=timestamp(r.at),
    )
