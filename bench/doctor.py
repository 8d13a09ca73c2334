"""Item 8: ``doctor hybrid`` at N proxy-ARP claims, against the per-claim probes it replaced.

Each size gets fresh namespaces (``tests.netns.measure_doctor.build``: N claims with their
``/32`` routes, captured by route (``proxy_arp`` and ``forwarding`` on the capture interface,
no proxy entries), WireGuard allowed IPs and the clamp table; a LAN namespace on
the capture segment where nobody answers ARP), removed at the end, pass or fail.

* ``doctor.hybrid.<N>``: wall time of ``run_doctor("hybrid")`` inside the router namespace
  (claim intents lowered beforehand, as the daemon hands them over). Baseline: the previous
  doctor on the same router. It spent its time in per-claim probes run by 8 workers (``ip -j
  -4 route show <addr>``, ``ip -j -4 route get <ip>``, ``ip -j neigh show proxy <ip> dev
  <if>``, ``arping -b -c 3 -w 2 -I <if> <ip>``: 4 processes and a 2 s arping per claim);
  those exact probes are timed here on ``SAMPLE`` of the claims and scaled to N (all of them
  take ~45 min at 10,000; measured in full at 1,000: 273 s). Target: seconds, not minutes.
* ``doctor.hybrid.<N>.processes``: processes one run starts (every ``subprocess.Popen``),
  against the previous doctor's 4 per claim plus ~10 per run (4,010 counted at 1,000).
"""

from __future__ import annotations

import concurrent.futures
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from bench.result import Result, Target, skipped
from tests.netns.measure_doctor import build, claim_address, timed_doctor
from tests.support.netns import Cleanup, NetnsWorker

SAMPLE = 64
WORKERS = 8
PER_RUN_PROCESSES = 10
WALL_TARGET = Target("value", "<", 10, "s")
PROCESS_TARGET = Target("value", "<=", 20, "processes")
TOOLS = ("ip", "nft", "wg", "wireguard-go", "arping")


def unavailable() -> str:
    """Why the item cannot run here ("" when it can)."""
    if os.geteuid() != 0:
        return "needs root (network namespaces, raw ARP sockets)"
    missing = [t for t in TOOLS if shutil.which(t) is None]
    return f"missing tools: {', '.join(missing)}" if missing else ""


def legacy_probes(cap: str, ips: list[str]) -> float:
    """Runs in the router namespace: the previous doctor's per-claim probes, 8 workers."""

    def one(ip: str) -> None:
        for argv in (
            ["ip", "-j", "-4", "route", "show", f"{ip}/32"],
            ["ip", "-j", "-4", "route", "get", ip],
            ["ip", "-j", "neigh", "show", "proxy", ip, "dev", cap],
            ["arping", "-b", "-c", "3", "-w", "2", "-I", cap, ip],
        ):
            subprocess.run(argv, capture_output=True, check=False, timeout=10)

    t = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=WORKERS) as pool:
        list(pool.map(one, ips))
    return time.perf_counter() - t


def measure(n: int) -> tuple[dict[str, object], float, int]:
    """One size: the doctor's run, the sampled legacy seconds, the sample size."""
    cleanup = Cleanup()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            ns, text, cap = build(n, Path(tmp), cleanup)
            worker = NetnsWorker(ns.name)
            cleanup.push(f"worker {worker.pid}", worker.kill)
            after = worker.call(timed_doctor, text, timeout=3600)
            sample = [claim_address(i) for i in range(min(n, SAMPLE))]
            legacy = worker.call(legacy_probes, cap, sample, timeout=3600)
            worker.close()
            return after, legacy, len(sample)
    finally:
        cleanup.close()


def run(sizes: list[int]) -> list[Result]:
    why = unavailable()
    if why:
        return [skipped(f"doctor.hybrid.{n}", "s", why, WALL_TARGET) for n in sizes]
    out: list[Result] = []
    for n in sizes:
        after, legacy, sampled = measure(n)
        wall, processes = float(after["wall_s"]), float(after["processes"])  # type: ignore[arg-type]
        before = legacy / sampled * n
        note = (
            f"run_doctor('hybrid') at {n:,} proxy-ARP claims, {before / wall:,.0f}x faster; "
            f"baseline: the previous doctor's per-claim probes timed on {sampled} claims "
            f"({legacy:.1f} s) and scaled to {n:,}"
        )
        out.append(
            Result(
                f"doctor.hybrid.{n}",
                wall,
                "s",
                before,
                WALL_TARGET,
                note,
            )
        )
        out.append(
            Result(
                f"doctor.hybrid.{n}.processes",
                processes,
                "processes",
                float(4 * n + PER_RUN_PROCESSES),
                PROCESS_TARGET,
            )
        )
    return out
