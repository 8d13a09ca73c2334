"""PresenceTracker against simulated hosts: hundreds of seeded random scenarios.

A simulated host holds one address and goes down for random windows. It answers each probe
shortly after it is sent while it is up, and speaks on its own at random moments (ARP
requests, gratuitous ARPs). The driver calls ``due_probes`` late by a random jitter, as a
busy engine would, and delivers the evidence heard since its last call before each round.
The properties hold for every seed:

* an address goes absent only after ``absent_after`` rounds of silence: its last evidence
  is at least ``absent_after * interval`` old at that moment;
* a blink (every outage no longer than ``(absent_after - 1) * interval``) never makes it absent;
* a long outage always does, and the first evidence after it makes it present again;
* after ``stale(at)``, no evidence heard at or before ``at`` makes it present.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

import pytest

from routerd.core.presence import ABSENT, PRESENT, PresenceEvidence, PresenceTracker

ADDR = "10.40.8.10"
MAC = "02:00:00:00:0a:01"
SEEDS = range(150)


@dataclass
class Host:
    outages: list[tuple[float, float]]  # [start, end)
    chatter: list[float]  # spontaneous evidence times (only those while up are heard)
    delay: float  # probe answer delay

    def up(self, t: float) -> bool:
        return not any(s <= t < e for s, e in self.outages)


@dataclass
class Run:
    tracker: PresenceTracker
    states: list[tuple[float, str]] = field(default_factory=list)


def drive(host: Host, *, k: int, interval: float, horizon: float, rng: random.Random) -> Run:
    t = PresenceTracker(absent_after=k)
    t.track([ADDR])
    run = Run(t)
    pending: list[PresenceEvidence] = [
        PresenceEvidence(ADDR, "arp-request", MAC, "lan", c) for c in host.chatter if host.up(c)
    ]
    now = 0.0
    while now < horizon:
        heard = sorted((e for e in pending if e.at <= now), key=lambda e: e.at)
        pending = [e for e in pending if e.at > now]
        t.observe(heard)
        r = t.due_probes(now, interval)
        for _ in r.addresses:
            answer = now + host.delay
            if host.up(answer):
                pending.append(PresenceEvidence(ADDR, "probe-answer", MAC, "lan", answer))
        run.states.append((now, t.get(ADDR).state))  # type: ignore[union-attr]
        nxt = t.next_probe_at(interval)
        assert nxt is not None
        now = max(nxt, now) + rng.uniform(0, 0.3 * interval)
    return run


def scenario(
    rng: random.Random, interval: float, *, max_outage: float, long_outage: float | None
) -> Host:
    """Outages separated by at least two intervals up (so a probe lands in between)."""
    horizon_outages: list[tuple[float, float]] = []
    t = rng.uniform(1, 4)
    for _ in range(rng.randint(1, 4)):
        length = rng.uniform(0.05, max_outage)
        horizon_outages.append((t, t + length))
        t += length + rng.uniform(2, 5) * interval
    if long_outage is not None:
        horizon_outages.append((t, t + long_outage))
        t += long_outage + 3
    chatter = sorted(rng.uniform(0, t + 5) for _ in range(rng.randint(0, 30)))
    return Host(horizon_outages, chatter, rng.uniform(0.001, 0.05))


@pytest.mark.parametrize("seed", SEEDS)
def test_blinks_never_make_an_address_absent(seed: int) -> None:
    rng = random.Random(seed)
    k, interval = rng.choice([2, 3, 5]), rng.choice([0.5, 1.0, 2.0])
    host = scenario(rng, interval, max_outage=(k - 1) * interval, long_outage=None)
    host.chatter.insert(0, 0.0)  # present from the start
    run = drive(host, k=k, interval=interval, horizon=host.outages[-1][1] + 5, rng=rng)
    assert all(state == PRESENT for at, state in run.states if at > 0), (k, interval, host)


@pytest.mark.parametrize("seed", SEEDS)
def test_long_outages_always_make_it_absent_and_evidence_brings_it_back(seed: int) -> None:
    rng = random.Random(seed)
    k, interval = rng.choice([1, 2, 3, 5]), rng.choice([0.5, 1.0, 2.0])
    long = (k + 2) * 1.3 * interval + rng.uniform(0, 3)
    host = scenario(rng, interval, max_outage=3 * interval, long_outage=long)
    host.chatter.insert(0, 0.0)
    start, end = host.outages[-1]
    run = drive(host, k=k, interval=interval, horizon=end + 4 * interval, rng=rng)
    during = [state for at, state in run.states if start <= at < end]
    assert ABSENT in during, (k, interval, host)
    after = [state for at, state in run.states if at >= end + 2 * interval]
    assert after and all(state == PRESENT for state in after), (k, interval, host)


@pytest.mark.parametrize("seed", SEEDS)
def test_absence_always_follows_absent_after_intervals_of_silence(seed: int) -> None:
    rng = random.Random(seed)
    k, interval = rng.choice([1, 2, 3]), rng.choice([0.5, 1.0])
    host = scenario(rng, interval, max_outage=rng.uniform(0.1, 8.0), long_outage=None)
    host.chatter.insert(0, 0.0)
    tracker = PresenceTracker(absent_after=k)
    tracker.track([ADDR])
    pending = sorted(
        (PresenceEvidence(ADDR, "arp-request", MAC, "lan", c) for c in host.chatter if host.up(c)),
        key=lambda e: e.at,
    )
    now, last_heard = 0.0, -1.0
    while now < host.outages[-1][1] + 5:
        heard = [e for e in pending if e.at <= now]
        pending = [e for e in pending if e.at > now]
        tracker.observe(heard)
        if heard:
            last_heard = max(last_heard, max(e.at for e in heard))
        r = tracker.due_probes(now, interval)
        for tr in r.transitions:
            assert tr.new == ABSENT
            assert now - last_heard >= k * interval - 1e-9, (now, last_heard, k, interval)
        for _ in r.addresses:
            if host.up(now + host.delay):
                pending.append(PresenceEvidence(ADDR, "probe-answer", MAC, "lan", now + host.delay))
        pending.sort(key=lambda e: e.at)
        now = max(tracker.next_probe_at(interval) or now, now) + rng.uniform(0, 0.3 * interval)


@pytest.mark.parametrize("seed", SEEDS)
def test_evidence_from_before_a_stale_mark_never_claims(seed: int) -> None:
    rng = random.Random(seed)
    tracker = PresenceTracker(absent_after=2)
    tracker.track([ADDR])
    times = sorted(rng.uniform(0, 100) for _ in range(60))
    mark = -math.inf
    for at in times:
        if rng.random() < 0.15:
            mark = at - rng.uniform(0, 5)  # moved away at some moment before now
            tracker.stale(ADDR, mark)
            assert not tracker.present(ADDR) or tracker.get(ADDR).evidence.at > mark  # type: ignore[union-attr]
        # deliveries are out of order: some evidence is from before the mark
        heard_at = at - rng.uniform(0, 10)
        for tr in tracker.observe([PresenceEvidence(ADDR, "garp", MAC, "lan", heard_at)]):
            assert tr.new == PRESENT
            assert heard_at > mark
        if tracker.present(ADDR):
            assert tracker.get(ADDR).evidence.at > mark  # type: ignore[union-attr]
