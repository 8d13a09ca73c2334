"""Figures and verdicts from what the agents recorded: pure functions, unit-tested.

* ``gaps``/``longest_gap``: the outage a ping train saw (longest interval without a reply);
* ``handover``: from a moment (a ``MoveAddress`` call, a VM's gratuitous ARP) until every
  target answered a request sent after it;
* ``lost``: requests sent in a window that never got their reply;
* ``two_responders``: ARP sweeps in which one address was answered by two MACs. A VM that
  arrives at a site answers at once and the router stops answering for it one pass later,
  so a sweep may catch both; it fails only when the sweeps prove the overlap lasted longer
  than the tolerance (the handover goal: ``TOLERANCE`` for one address, ``TOLERANCE_BULK``
  when 100 move at once);
* ``two_homes``: reflector samples in which two sites originate one address: a tie at the
  top sequence fails at once, an old home still announcing below the top fails when the
  samples prove it lasted longer than the tolerance;
* ``parse_bird_routes``: BIRD 2's ``show route all`` (text only) -> the originators.
"""

from __future__ import annotations

import itertools
import re
import statistics
from collections.abc import Iterable, Sequence
from typing import Any

Rounds = Sequence[tuple[float, dict[str, tuple[str, ...]]]]
Samples = Sequence[tuple[float, dict[str, tuple[tuple[int, int], ...]]]]

TOLERANCE = 0.1
"""Seconds a transient overlap may last (the one-address handover goal)."""
TOLERANCE_BULK = 0.5
"""The same when 100 addresses move at once (their handover goal)."""

_PREFIX = re.compile(r"^(\d+\.\d+\.\d+\.\d+)/32\s")
_LC = re.compile(r"\((\d+), (\d+), (\d+)\)")


def parse_bird_routes(text: str, asn: int = 65000) -> dict[str, tuple[tuple[int, int], ...]]:
    """address -> ((site id, sequence), ...) of every path BIRD holds for a ``/32``."""
    out: dict[str, list[tuple[int, int]]] = {}
    current = ""
    for line in text.splitlines():
        m = _PREFIX.match(line)
        if m:
            current = m.group(1)
            out.setdefault(current, [])
        if current and "BGP.large_community:" in line:
            values = [tuple(map(int, v)) for v in _LC.findall(line)]
            site = [v[2] for v in values if v[:2] == (asn, 100)]
            seq = [v[2] for v in values if v[:2] == (asn, 101)]
            if site and seq:
                out[current].append((site[0], seq[0]))
    return {a: tuple(sorted(p)) for a, p in out.items() if p}


def replies(probe: dict[str, Any], index: int) -> list[float]:
    """Receive times of target ``index``'s replies, in order."""
    return sorted(probe["recv"][index].values())


def gaps(times: Sequence[float], start: float, end: float) -> list[float]:
    """Intervals between consecutive replies in [start, end], edges included."""
    inside = [t for t in times if start <= t <= end]
    points = [start, *inside, end]
    return [b - a for a, b in itertools.pairwise(points)]


def longest_gap(times: Sequence[float], start: float, end: float) -> float:
    return max(gaps(times, start, end))


def handover(probe: dict[str, Any], t0: float) -> tuple[float | None, list[str]]:
    """Seconds from ``t0`` until every target answered a request sent at or after ``t0``
    (None if one never did), and the targets that never did."""
    latest = 0.0
    missing = []
    for i, target in enumerate(probe["targets"]):
        sent = probe["sent"][i]
        got = [r for seq, r in probe["recv"][i].items() if sent[seq] >= t0]
        if not got:
            missing.append(target)
            continue
        latest = max(latest, min(got) - t0)
    return (None if missing else latest), missing


def answered_between(probe: dict[str, Any], start: float, end: float) -> list[str]:
    """Targets that got a reply received in [start, end]."""
    return [
        t
        for i, t in enumerate(probe["targets"])
        if any(start <= r <= end for r in probe["recv"][i].values())
    ]


def lost(probe: dict[str, Any], start: float, end: float) -> dict[str, int]:
    """target -> requests sent in [start, end] without a reply (only targets that lost)."""
    out = {}
    for i, target in enumerate(probe["targets"]):
        sent = probe["sent"][i]
        n = sum(
            1 for seq, t in enumerate(sent) if start <= t <= end and seq not in probe["recv"][i]
        )
        if n:
            out[target] = n
    return out


def lasting(runs: Sequence[float], interval: float) -> float:
    """The shortest duration a run of consecutive sightings (start times, ``interval``
    apart) proves: from the end of the first sample to the start of the last."""
    return max(0.0, runs[-1] - runs[0] - interval) if runs else 0.0


def _overlaps(
    sightings: Sequence[tuple[float, set[str]]], interval: float
) -> tuple[dict[str, float], int]:
    """(key -> longest proven overlap, number of separate sightings)."""
    longest: dict[str, float] = {}
    current: dict[str, list[float]] = {}
    count = 0
    for t, keys in sightings:
        for k in list(current):
            if k not in keys:
                longest[k] = max(longest.get(k, 0.0), lasting(current.pop(k), interval))
        for k in keys:
            if k not in current:
                count += 1
            current.setdefault(k, []).append(t)
    for k, runs in current.items():
        longest[k] = max(longest.get(k, 0.0), lasting(runs, interval))
    return longest, count


def _interval(times: Sequence[float]) -> float:
    steps = [b - a for a, b in itertools.pairwise(times)]
    return statistics.median(steps) if steps else 0.0


def two_responders(
    rounds: Rounds, addresses: Iterable[str], tolerance: float = TOLERANCE
) -> tuple[list[str], int]:
    """(failures, sightings): an address answered by two MACs for longer than
    ``tolerance`` seconds is a failure; a shorter overlap a sighting (module docstring)."""
    wanted = set(addresses)
    sightings = [
        (t, {a for a, macs in seen.items() if a in wanted and len(macs) > 1}) for t, seen in rounds
    ]
    longest, count = _overlaps(sightings, _interval([t for t, _ in rounds]))
    failures = [
        f"{a} answered by two MACs for at least {d * 1000:.0f} ms"
        for a, d in sorted(longest.items())
        if d > tolerance
    ]
    return failures, count


def gateway_answers(rounds: Rounds, gateway: str, mac: str) -> tuple[int, list[str]]:
    """(rounds in which the gateway answered, answers by any other MAC)."""
    answered, wrong = 0, []
    for t, seen in rounds:
        macs = seen.get(gateway, ())
        answered += bool(macs)
        wrong += [f"{m} at {t:.3f}" for m in macs if m != mac]
    return answered, wrong


def two_homes(
    samples: Samples, addresses: Iterable[str] | None = None, tolerance: float = TOLERANCE
) -> tuple[list[str], int]:
    """(failures, sightings) of two sites originating one address (module docstring)."""
    wanted = set(addresses) if addresses is not None else None
    failures = []
    stale_seen = []
    for t, table in samples:
        stale: set[str] = set()
        for address, paths in table.items():
            if wanted is not None and address not in wanted:
                continue
            top = max(seq for _, seq in paths)
            at_top = {site for site, seq in paths if seq == top}
            if len(at_top) > 1:
                failures.append(f"{address}: sites {sorted(at_top)} at sequence {top} ({t:.3f})")
            stale |= {f"{address} from site {site}" for site, seq in paths if seq < top}
        stale_seen.append((t, stale))
    longest, count = _overlaps(stale_seen, _interval([t for t, _ in samples]))
    failures += [
        f"{k} still originated below the top for at least {d * 1000:.0f} ms"
        for k, d in sorted(longest.items())
        if d > tolerance
    ]
    return failures, count


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))
