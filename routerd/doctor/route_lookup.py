"""The kernel's own route decision for many addresses, asked of one ``ip -batch`` process.

``route get`` is the one route question a table dump cannot answer: policy rules, other
tables and metrics decide, and only the kernel knows the outcome. So every address the run
will ask about (each claim, each WireGuard peer endpoint for the firewall's underlay) is
looked up together in one process, ``ip -j -4 -force -batch -``, fed one ``route get
<addr>`` per line, instead of one ``ip -j -4 route get <addr>`` process per address.

How iproute2 6.1 answers a batch, which is what the parser relies on: with ``-j`` every
successful command prints its own one-line JSON list on stdout, in input order; a failing
command prints nothing on stdout and ``RTNETLINK answers: ...`` then ``Command failed -:N``
(N the 1-based input line) on stderr; ``-force`` goes on after a failure and the exit
status is then 1. When the counts do not add up the batch is not trusted and every address
says so, rather than pairing an answer with the wrong address.

We chose the ``ip`` process over a raw ``RTM_GETROUTE`` exchange written here (or borrowed
from ``routerd.backends.linux``): the doctor diagnoses that backend, so it keeps its own
independent eyes, and an ``ip`` batch goes through ``Host`` like every other probe, which
keeps it recordable and replayable in unit tests.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from routerd.core.resources import WireGuardPeer
from routerd.doctor.host import CommandResult
from routerd.doctor.inputs import Inputs

BATCH = ("ip", "-j", "-4", "-force", "-batch", "-")
_FAILED = re.compile(r"^Command failed -:(\d+)\s*$")


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
    if not order:
        return {}
    text = "".join(f"route get {ip}\n" for ip in order)
    return parse(order, inputs.host.command(*BATCH, input=text))


def parse(order: list[str], res: CommandResult) -> dict[str, Lookup]:
    """Pair the batch's stdout lines and ``Command failed -:N`` errors with ``order``."""
    failed = _failures(res.stderr) if res.rc in (0, 1) else None
    if failed is None:
        return {ip: Lookup(None, res.describe()) for ip in order}
    answers = [line for line in res.stdout.splitlines() if line.strip()]
    if len(answers) != len(order) - len(failed) or any(n > len(order) for n in failed):
        why = (
            f"{' '.join(BATCH)}: {len(answers)} answers and {len(failed)} errors for "
            f"{len(order)} lookups; output not trusted"
        )
        return {ip: Lookup(None, why) for ip in order}
    out: dict[str, Lookup] = {}
    it = iter(answers)
    for n, ip in enumerate(order, start=1):
        if n in failed:
            said = failed[n] or "no answer"
            out[ip] = Lookup(None, f"ip -j -4 route get {ip} failed: {said}")
        else:
            out[ip] = _answer(ip, next(it))
    return out


def _failures(stderr: str) -> dict[int, str] | None:
    """``line number -> message`` of every failed command (None: stderr is not batch errors)."""
    out: dict[int, str] = {}
    said: list[str] = []
    for line in stderr.splitlines():
        m = _FAILED.match(line.strip())
        if m:
            out[int(m.group(1))] = "; ".join(said)
            said = []
        elif line.strip():
            said.append(line.strip())
    return None if said and not out else out


def _answer(ip: str, line: str) -> Lookup:
    try:
        doc = json.loads(line)
    except ValueError:
        return Lookup(None, f"route get {ip}: unreadable answer {line[:80]!r}")
    rows = [d for d in doc if isinstance(d, dict)] if isinstance(doc, list) else []
    return Lookup(rows[0]) if rows else Lookup(None, f"route get {ip}: empty answer")
