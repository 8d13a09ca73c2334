"""Item 9: announce -> received at the other router, through a BIRD2 route reflector.

Namespaces from ``tests.netns.bgp_lab``: BIRD2 reflector, routers ``a`` (site 1) and ``b``
(site 2), one gobgpd each, sessions established before anything is timed. For N addresses
(1, 100 and 10,000 in ``10.77.0.0/16``), each run announces all N at a fresh sequence:

* ``mobility.announce_received.<N>``: routerd's exchange end to end. ``GobgpExchange.sync``
  on ``a`` (validation, diff, wire encoding, ``AddPathStream``), then at ``b`` the
  ``WatchEvent`` decoding, the import rule and the view, until ``b``'s view holds all N at
  that sequence (its ``on_change`` wakes the waiter). One monotonic clock spans both
  namespaces' processes.
* Baseline, the speaker's own floor: the same N paths through the raw GoBGP API, requests
  built before the clock starts, one ``AddPathStream`` on ``a``; at ``b`` a bare
  ``WatchEvent`` counting announced paths, nothing decoded. During baseline runs both
  exchanges are closed (gobgpd keeps running), so no routerd thread competes for the CPU.

Runs alternate (baseline, routerd, ...) so drift hits both alike; each run withdraws
everything and waits until ``b`` holds nothing before the next. Medians are reported. The
target bounds what routerd adds on top of the speaker: at most as much again (ratio <= 2).
"""

from __future__ import annotations

import os
import shutil
import statistics
import threading
import time

import grpc

from bench.result import Result, Target, skipped
from routerd.bgp import codec
from routerd.bgp.gobgpapi import gobgp_pb2 as api
from routerd.bgp.gobgpapi import gobgp_pb2_grpc as rpc
from routerd.core.exchange import Origination
from tests.netns import bgp_host as h
from tests.netns.bgp_lab import ASN, BgpLab
from tests.support.netns import STATE, Cleanup, NetnsWorker

SIZES = (1, 100, 10_000)
TARGET = Target("ratio", "<=", 2.0)
TOOLS = ("ip", "gobgpd", "bird", "birdc")


def unavailable() -> str:
    """Why the item cannot run here ("" when it can)."""
    if os.geteuid() != 0:
        return "needs root (network namespaces)"
    missing = [t for t in TOOLS if shutil.which(t) is None]
    return f"missing tools: {', '.join(missing)} (run tools/bootstrap)" if missing else ""


def address(i: int) -> str:
    return f"10.77.{i // 250}.{i % 250 + 1}"


# --- run inside the router namespaces (NetnsWorker) ------------------------------------


def raw_arm(target: str, count: int, withdrawn: bool) -> None:
    """At ``b``: a bare WatchEvent counting ``count`` announcements (or withdrawals).
    Returns once gobgpd confirmed the registration; ``raw_armed`` gives the time."""
    channel = grpc.insecure_channel(target)
    f = api.WatchEventRequest.Table.Filter
    request = api.WatchEventRequest(
        peer=api.WatchEventRequest.Peer(),
        table=api.WatchEventRequest.Table(filters=[f(type=f.ADJIN)]),
    )
    call = rpc.GobgpApiStub(channel).WatchEvent(request)
    registered, done = threading.Event(), threading.Event()
    STATE.update(raw_at=None, raw_done=done, raw_channel=channel, raw_call=call)

    def watch() -> None:
        seen = 0
        try:
            for ev in call:
                if ev.HasField("peer"):
                    registered.set()
                    continue
                seen += sum(1 for p in ev.table.paths if p.is_withdraw == withdrawn)
                if seen >= count:
                    STATE["raw_at"] = time.monotonic()
                    done.set()
                    return
        except grpc.RpcError:
            return

    threading.Thread(target=watch, daemon=True).start()
    registered.wait(10)


def raw_armed(timeout: float) -> float | None:
    STATE["raw_done"].wait(timeout)
    STATE["raw_call"].cancel()
    STATE["raw_channel"].close()
    at: float | None = STATE["raw_at"]
    return at


def raw_announce(target: str, asn: int, originations: list[Origination], withdraw: bool) -> float:
    """At ``a``: one AddPathStream of requests built beforehand; returns its start time."""
    if withdraw:
        paths = [codec.withdrawal(o.address) for o in originations]
    else:
        paths = [codec.announcement(o, asn) for o in originations]
    requests = [
        api.AddPathStreamRequest(table_type=api.TableType.GLOBAL, paths=paths[i : i + 1000])
        for i in range(0, len(paths), 1000)
    ]
    with grpc.insecure_channel(target) as channel:
        stub = rpc.GobgpApiStub(channel)
        stub.GetBgp(api.GetBgpRequest(), timeout=10)  # channel connected before the clock
        t0 = time.monotonic()
        stub.AddPathStream(iter(requests), timeout=120)
    return t0


# --- driven from the bench process ---------------------------------------------------


def _raw_run(lab: BgpLab, workers: tuple[NetnsWorker, NetnsWorker], n: int, seq: int) -> float:
    a, b = lab.routers["a"], lab.routers["b"]
    homes = [a.originate(address(i), seq) for i in range(n)]
    wa, wb = workers
    wb.call(raw_arm, f"unix://{b.run_dir}/gobgpd.sock", n, False)
    t0 = wa.call(raw_announce, f"unix://{a.run_dir}/gobgpd.sock", ASN, homes, False)
    t1 = wb.call(raw_armed, 120.0)
    if t1 is None:
        raise RuntimeError(f"raw: {n} announcements never all arrived at b")
    wb.call(raw_arm, f"unix://{b.run_dir}/gobgpd.sock", n, True)
    wa.call(raw_announce, f"unix://{a.run_dir}/gobgpd.sock", ASN, homes, True)
    if wb.call(raw_armed, 120.0) is None:
        raise RuntimeError(f"raw: {n} withdrawals never all arrived at b")
    return float(t1 - t0)


def _routerd_run(lab: BgpLab, n: int, seq: int) -> float:
    a, b = lab.routers["a"], lab.routers["b"]
    lab.open("a")
    lab.open("b")
    lab.wait_established("a", "b")
    b.call(h.wait_synced, 10.0)
    homes = {address(i): a.originate(address(i), seq) for i in range(n)}
    b.call(h.arm, n, seq)
    t0, errors = a.call(h.timed_sync, homes)
    if errors:
        raise RuntimeError(f"sync: {errors[:3]}")
    t1 = b.call(h.armed, 120.0)
    if t1 is None:
        raise RuntimeError(f"routerd: {n} addresses never all arrived in b's view")
    b.call(h.arm, 0, 0)
    a.call(h.sync, {})
    if b.call(h.armed, 120.0) is None:
        raise RuntimeError(f"routerd: {n} withdrawals never all left b's view")
    lab.close("a", cleanup=False, keep_worker=True)
    lab.close("b", cleanup=False, keep_worker=True)
    return float(t1 - t0)


def reps(n: int) -> int:
    """Runs per size: 10 up to a hundred addresses (each run takes milliseconds), else 3."""
    return 10 if n <= 100 else 3


def measure(sizes: tuple[int, ...]) -> dict[int, tuple[float, float]]:
    """size -> (routerd median seconds, baseline median seconds)."""
    cleanup = Cleanup()
    try:
        lab = BgpLab(cleanup).build({"a": 1, "b": 2})
        lab.open("a")
        lab.open("b")
        lab.wait_established("a", "b")
        lab.close("a", cleanup=False)
        lab.close("b", cleanup=False)
        workers = (NetnsWorker(lab.routers["a"].ns.name), NetnsWorker(lab.routers["b"].ns.name))
        for w in workers:
            cleanup.push(f"worker {w.pid}", w.kill)
        out = {}
        seq = 0
        for n in sizes:
            ours, floor = [], []
            for _ in range(reps(n)):
                seq += 1
                floor.append(_raw_run(lab, workers, n, seq))
                seq += 1
                ours.append(_routerd_run(lab, n, seq))
            out[n] = (statistics.median(ours), statistics.median(floor))
        return out
    finally:
        cleanup.close()


def run(sizes: tuple[int, ...] = SIZES) -> list[Result]:
    why = unavailable()
    names = [f"mobility.announce_received.{n}" for n in sizes]
    if why:
        return [skipped(name, "ms", why, TARGET) for name in names]
    got = measure(sizes)
    out = []
    for name, n in zip(names, sizes, strict=True):
        ours, floor = got[n]
        note = (
            f"{n:,} /32s: GobgpExchange.sync at a until b's view holds all (median of "
            f"{reps(n)}); baseline: raw AddPathStream at a until a bare WatchEvent "
            "at b counted all, through the same gobgpd pair and BIRD2 reflector"
        )
        out.append(Result(name, ours * 1000, "ms", floor * 1000, TARGET, note))
    return out
