"""The kernel's own route decision for many addresses, asked of one ``ip -batch`` process.

``route get`` is the one route question a table dump cannot answer: policy rules, other
tables and metrics decide, and only the kernel knows the outcome. So every address the run
will ask about (each claim, each WireGuard peer endpoint for the firewall's underlay) is
looked up together, one ``route get <addr>`` per line of one ``ip_batch`` process, instead
of one ``ip -j -4 route get <addr>`` process per address.

We chose the ``ip`` process over a raw ``RTM_GETROUTE`` exchange written here (or borrowed
from ``routerd.backends.linux``): the doctor diagnoses that backend, so it keeps its own
independent eyes, and an ``ip`` batch goes through ``Host`` like every other probe, which
keeps it recordable and replayable in unit tests. It costs one process per run, about
0.07 ms per address.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from routerd.core.resources import WireGuardPeer
from routerd.doctor import ip_batch
from routerd.doctor.inputs import Inputs


@dataclass(frozen=True)
class Lookup:
    """The kernel's route for one address (``ip -j route get``'s object), or why none."""

    route: dict[str, Any] | None
    error: str = ""


def lookups(inputs: Inputs) -> dict[str, Lookup]:
    """Every address of the run (``wanted``), asked in one batch, once per run."""
    return inputs.host.once(("route-lookups",), lambda: ask(inputs, wanted(inputs)))  # type: ignore[return-value]


def lookup(inputs: Inputs, ip: str) -> Lookup:
    """``route get <ip>``, answered from the run's batch (an unexpected address gets its own)."""
    table = lookups(inputs)
    if ip in table:
        return table[ip]
    one: dict[str, Lookup] = inputs.host.once(  # type: ignore[assignment]
        ("route-lookup", ip), lambda: ask(inputs, [ip])
    )
    return one[ip]


def wanted(inputs: Inputs) -> list[str]:
    """Every claim address, then every literal IPv4 WireGuard peer endpoint, once each.

    Endpoints are only looked up for the claims' firewall check, so none without claims.
    """
    ips = [c.ip for c in inputs.intents.values() if c.ip]
    if not ips:
        return []
    for wgp in inputs.config.of(WireGuardPeer):
        host = (wgp.spec.endpoint or "").rpartition(":")[0].strip("[]")
        if host.count(".") == 3:
            ips.append(host)
    return list(dict.fromkeys(ips))


def ask(inputs: Inputs, ips: Iterable[str]) -> dict[str, Lookup]:
    """Run one batch for ``ips`` and pair each address with its answer."""
    order = list(ips)
    answers = ip_batch.ask(inputs.host, [f"route get {ip}" for ip in order])
    return {ip: _lookup(ip, a) for ip, a in zip(order, answers, strict=True)}


def _lookup(ip: str, answer: ip_batch.Answer) -> Lookup:
    if answer.line is None:
        return Lookup(None, answer.error)
    try:
        doc = json.loads(answer.line)
    except ValueError:
        return Lookup(None, f"route get {ip}: unreadable answer {answer.line[:80]!r}")
    rows = [d for d in doc if isinstance(d, dict)] if isinstance(doc, list) else []
    return Lookup(rows[0]) if rows else Lookup(None, f"route get {ip}: empty answer")
