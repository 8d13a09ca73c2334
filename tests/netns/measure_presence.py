"""Measure presence on a real kernel: GARP -> evidence latency, and probe rounds (root only).

Not a test (nothing is asserted): ``sudo .venv/bin/python -m tests.netns.measure_presence
1 100 10000 --reps 5`` prints one JSON line per run and a median table. Topology: ``r`` (the
router: bridge ``br`` 10.40.8.1/24, a ``LinuxPresence`` in a worker there) and ``h`` (one host
on the bridge holding N addresses 10.44.0.1 ... as /32s, so it answers a probe for each).
Everything is torn down LIFO afterwards, pass or fail.

* ``garp``: 50 gratuitous ARPs from the host, 10 ms apart; from just before ``send`` in the
  host's namespace to ``drain()`` returning the evidence in the router's (one monotonic
  clock), and to the moment the reader stamped it.
* ``round N``: one probe round for N watched addresses as the engine runs it, inside the
  router's worker: ``PresenceTracker.due_probes``, ``LinuxPresence.probe``, then waiting until
  every answer was drained and observed. Reported: wall time to the last answer, CPU of the
  engine thread (tracker + probe + observe), CPU of the whole router process over the round
  (the reader thread decoding N answers included), answers heard and drops. ``--silent``
  rounds probe addresses nobody holds (the cost of sending alone).
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import statistics
import threading
import time
from typing import Any

from routerd.core.presence import PresenceTracker
from tests.netns import presence_host as ph
from tests.support.netns import STATE, Cleanup, Netns, NetnsWorker, uid

FIRST = ipaddress.IPv4Address("10.44.0.1")
VM_MAC = "02:00:00:00:0a:01"


def addresses(n: int, offset: int = 0) -> list[str]:
    return [str(FIRST + offset + i) for i in range(n)]


def track(addrs: list[str]) -> None:
    """(router worker) A tracker probing ``addrs``; their first round is sent at once."""
    t = PresenceTracker()
    t.track(addrs)
    STATE["tracker"] = t
    STATE["round_at"] = 0.0


def probe_round(interface: str, n_expected: int, timeout: float) -> dict[str, Any]:
    """(router worker) One round: due -> probe -> wait for the answers -> observe."""
    t: PresenceTracker = STATE["tracker"]
    before = dict(STATE["presence"].stats)
    now = max(time.monotonic(), STATE["round_at"] + 1.0)
    proc0, thread0, wall0 = time.process_time(), time.thread_time(), time.monotonic()
    due = t.due_probes(now, 1.0).addresses
    STATE["round_at"] = now
    STATE["presence"].probe(interface, due)
    sent = time.monotonic()
    engine_cpu = time.thread_time() - thread0
    got = ph.wait_for(n_expected, timeout, "probe-answer") if n_expected else []
    last = max((done for _, done in got), default=sent)
    c1 = time.thread_time()
    t.observe(e for e, _ in got)
    engine_cpu += time.thread_time() - c1
    after = STATE["presence"].stats
    return {
        "due": len(due),
        "answers": sum(1 for e, _ in got if e.kind == "probe-answer"),
        "send_ms": (sent - wall0) * 1000,
        "last_answer_ms": (last - wall0) * 1000,
        "engine_cpu_ms": engine_cpu * 1000,
        "process_cpu_ms": (time.process_time() - proc0) * 1000,
        "drops": {
            k: after[k] - before[k] for k in ("kernel-drops", "queue-drops") if after[k] > before[k]
        },
    }


def build(cleanup: Cleanup, n: int) -> tuple[Netns, NetnsWorker, NetnsWorker, str, str]:
    prefix = uid()
    r = Netns.create(f"rdm-{prefix}-r", cleanup)
    h = Netns.create(f"rdm-{prefix}-h", cleanup)
    br = f"{prefix}br"
    ph.bridge(r, br)
    host = ph.attach(r, br, h, f"{prefix}p0", f"{prefix}v0", VM_MAC, ())
    h.exec(
        "ip",
        "-batch",
        "-",
        input="".join(f"addr add {a}/32 dev {host.dev}\n" for a in addresses(n)),
    )
    router, hw = NetnsWorker(r.name), NetnsWorker(h.name)
    cleanup.push(f"worker {router.pid}", router.kill)
    cleanup.push(f"worker {hw.pid}", hw.kill)
    router.call(ph.open_presence)
    cleanup.push("presence", lambda: router.call(ph.close_presence))
    return r, router, hw, br, host.dev


def garp_latency(count: int = 50) -> dict[str, float]:
    with_cleanup = Cleanup()
    try:
        _, router, hw, br, dev = build(with_cleanup, 1)
        router.call(ph.watch, br, addresses(1))
        sent = []
        for _ in range(count):
            sent.append(hw.call(ph.send_garp, dev, addresses(1)[0]))
            time.sleep(0.01)
        got = router.call(ph.wait_for, count, 10.0, "garp")
        drain = [(done - t) * 1000 for (_, done), t in zip(got, sent, strict=True)]
        stamp = [(e.at - t) * 1000 for (e, _), t in zip(got, sent, strict=True)]
        return {
            "garp_to_drain_median_ms": statistics.median(drain),
            "garp_to_drain_p90_ms": statistics.quantiles(drain, n=10)[-1],
            "garp_to_stamp_median_ms": statistics.median(stamp),
        }
    finally:
        errors = with_cleanup.close()
        assert not errors, errors


def rounds(n: int, reps: int, *, silent: bool) -> list[dict[str, Any]]:
    cleanup = Cleanup()
    try:
        _, router, _, br, _ = build(cleanup, 0 if silent else n)
        watched = addresses(n, offset=20000 if silent else 0)
        router.call(ph.watch, br, watched)
        router.call(track, watched)
        out = []
        for _ in range(reps):
            res = router.call(probe_round, br, 0 if silent else n, 30.0)
            res.update(n=n, silent=silent)
            print(json.dumps(res), flush=True)
            out.append(res)
            time.sleep(0.2)
        return out
    finally:
        errors = cleanup.close()
        assert not errors, errors


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("sizes", nargs="*", type=int, default=[1, 100, 10000])
    ap.add_argument("--reps", type=int, default=5)
    args = ap.parse_args()
    print(json.dumps(garp_latency()), flush=True)
    table = []
    for silent in (False, True):
        for n in args.sizes:
            runs = rounds(n, args.reps, silent=silent)
            med = {
                k: statistics.median(r[k] for r in runs)
                for k in ("answers", "send_ms", "last_answer_ms", "engine_cpu_ms", "process_cpu_ms")
            }
            table.append((n, silent, med))
    print(
        f"{'N':>6} {'who':>7} {'answers':>8} {'send ms':>8} {'last ms':>8} "
        f"{'engine cpu':>10} {'proc cpu':>9}"
    )
    for n, silent, m in table:
        print(
            f"{n:>6} {'nobody' if silent else 'host':>7} {m['answers']:>8.0f} {m['send_ms']:>8.2f} "
            f"{m['last_answer_ms']:>8.2f} {m['engine_cpu_ms']:>10.2f} {m['process_cpu_ms']:>9.2f}"
        )


if __name__ == "__main__":
    threading.current_thread().name = "measure"
    main()
