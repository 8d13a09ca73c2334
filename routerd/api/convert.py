"""Converters from core values to ``routerd.v1`` messages (one direction: core -> proto).

Servicers stay thin: they pick what to show from the engine snapshot and the store, and the
shape of each message is decided here once, so ``routerctl -o json`` is the same for the same
core value whichever RPC returned it. Documents (configs, dynamic parts, action plans) travel
as ``google.protobuf.Struct`` so the JSON mapping prints them as plain JSON objects.
"""

from __future__ import annotations

import json
from typing import Any

from google.protobuf import duration_pb2, struct_pb2, timestamp_pb2

from routerd.core.doctor import Finding, Report
from routerd.core.dynamic import DynamicPart
from routerd.core.engine import ClaimView
from routerd.core.errors import ConfigIssue
from routerd.core.plugins import PluginInfo
from routerd.core.port import Change, describe_object
from routerd.core.state_port import JournalEntry, PluginRun
from routerd.v1 import claims_pb2, config_pb2, doctor_pb2, plugins_pb2


def timestamp(epoch: float | None) -> timestamp_pb2.Timestamp | None:
    """Epoch seconds -> Timestamp (None stays None so the field stays unset)."""
    if epoch is None or epoch <= 0:
        return None
    ts = timestamp_pb2.Timestamp()
    ts.FromNanoseconds(round(epoch * 1e9))
    return ts


def duration(seconds: float) -> duration_pb2.Duration:
    d = duration_pb2.Duration()
    d.FromNanoseconds(round(seconds * 1e9))
    return d


def struct(doc: Any) -> struct_pb2.Struct:
    """A JSON-ready mapping -> Struct (tuples and other non-JSON values normalised first)."""
    s = struct_pb2.Struct()
    s.update(json.loads(json.dumps(doc, default=str)))
    return s


def claim(v: ClaimView, generation: int) -> claims_pb2.Claim:
    intent = v.intent
    return claims_pb2.Claim(
        name=v.name,
        address=intent.address,
        state=v.state,
        reason=v.reason,
        message=v.message,
        since=timestamp(v.since),
        origin=v.origin,
        capture_type=intent.capture_type,
        capture_interface=intent.capture_interface,
        tunnel=intent.tunnel,
        peer=intent.peer,
        mss=intent.mss or 0,
        domain=intent.domain,
        gratuitous_arp=intent.gratuitous_arp,
        config_generation=generation,
    )


def claim_event(e: JournalEntry) -> claims_pb2.ClaimEvent:
    return claims_pb2.ClaimEvent(
        seq=e.seq,
        claim=e.claim,
        address=e.address,
        from_state=e.from_state,
        to_state=e.to_state,
        trigger=e.trigger,
        reason=e.reason,
        message=e.message,
        at=timestamp(e.at),
        config_generation=e.generation,
    )


def issue(i: ConfigIssue) -> config_pb2.ConfigIssue:
    return config_pb2.ConfigIssue(
        resource=i.resource, path=i.path, message=i.message, line=i.line or 0
    )


def change(c: Change) -> config_pb2.Change:
    obj = c.new if c.new is not None else c.old
    was = describe_object(c.old) if c.old is not None and c.op == "replace" else ""
    return config_pb2.Change(
        op=c.op,
        key="/".join(c.key),
        object=describe_object(obj) if obj is not None else "",
        was=was,
        owners=sorted(c.owners),
    )


def dynamic_part(
    p: DynamicPart, status: str, reasons: tuple[str, ...] = ()
) -> config_pb2.DynamicPart:
    return config_pb2.DynamicPart(
        source=p.source,
        generation=p.generation,
        status=status,
        reasons=list(reasons),
        received_at=timestamp(p.received_at),
        expires_at=timestamp(p.expires_at),
        ttl=duration(p.ttl),
        observed_at=p.observed_at,
        digest=p.digest,
        resources=len(p.resources),
        directives=len(p.directives),
        document=struct(p.to_resource_doc()),
    )


def finding(f: Finding) -> doctor_pb2.Finding:
    return doctor_pb2.Finding(
        area=f.area,
        name=f.name,
        status=f.status.value,
        detail=f.detail,
        remedy=f.remedy,
        claim=f.claim,
    )


def doctor_report(area: str, r: Report) -> doctor_pb2.DoctorReport:
    return doctor_pb2.DoctorReport(
        area=area,
        overall=r.overall.value,
        counts=r.counts,
        findings=[finding(f) for f in r.findings],
    )


def plugin_run(r: PluginRun) -> plugins_pb2.PluginRun:
    return plugins_pb2.PluginRun(
        id=r.id,
        trigger_type=r.trigger_type,
        started_at=timestamp(r.started_at),
        completed_at=timestamp(r.completed_at),
        status=r.status,
        exit_code=r.exit_code,
        error=r.error,
        generation=r.generation or 0,
    )


def plugin_info(i: PluginInfo) -> plugins_pb2.PluginInfo:
    return plugins_pb2.PluginInfo(
        name=i.name,
        source=i.source,
        executable=i.executable,
        timeout=i.timeout,
        triggers=[
            plugins_pb2.PluginTrigger(type=t.type, every=t.every, topic=t.topic, origin=t.origin)
            for t in i.triggers
        ],
        ttl=i.ttl,
        ttl_origin=i.ttl_origin,
        last_run=plugin_run(i.last_run) if i.last_run else None,
        latest_generation=i.latest_generation or 0,
        part_state=i.part_state,
        part_expires_at=timestamp(i.part_expires_at),
    )
