"""Item 10: the daemon's memory per claim (``routerd serve``, process RSS).

What is measured: ``routerd serve --backend linux`` started as its own process in a fresh
namespace (the item 1-3 topology) on the provider-side config of N claims, until
``routerctl status`` shows every claim verified; then its resident set (``VmRSS``) is read
and the daemon stopped (SIGTERM, pass or fail). The figure is the growth per claim between
a small config and N claims: ``(RSS(N) - RSS(small)) / (N - small)``, everything the process
holds per claim (config, engine, backend cache, journal ring, allocator overhead).

Baseline: the same growth measured right after the config is loaded (``routerd validate``
on the same file, its RSS read at exit): what loading the config alone costs per claim.

Only the provider side is measured: one ``routerd serve`` at 100,000 claims takes minutes,
and a proxy-ARP claim holds no more kernel objects (its capture is its route and the
capture interface's shared sysctls).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.claims import config_text
from bench.kernel import topology, unavailable
from bench.result import Result, Target, skipped
from tests.support.netns import Cleanup

TARGET = Target("value", "<=", 4096, "B")
SMALL = 100
SETTLE_SECONDS = 1800


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def _status(ns: str, socket: str) -> dict[str, Any] | None:
    routerctl = str(Path(sys.executable).with_name("routerctl"))
    r = subprocess.run(
        ["ip", "netns", "exec", ns, routerctl, "--socket", socket, "status", "-o", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    return json.loads(r.stdout) if r.returncode == 0 and r.stdout.strip() else None


def serve_rss(n: int) -> dict[str, float]:
    """RSS of ``routerd serve`` once all ``n`` claims are verified, and of loading alone."""
    cleanup = Cleanup()
    try:
        ns, names = topology(cleanup)
        tmp = Path(tempfile.mkdtemp(prefix="rdbench-rss-"))
        cleanup.push("state dir", lambda: subprocess.run(["rm", "-rf", str(tmp)], check=False))
        cfg = tmp / "router.yaml"
        cfg.write_text(config_text("provider", n, names))
        routerd = str(Path(sys.executable).with_name("routerd"))
        socket = str(tmp / "routerd.sock")
        argv = ["ip", "netns", "exec", ns.name, routerd, "serve", "-c", str(cfg)]
        argv += ["--backend", "linux", "--state-dir", str(tmp / "state"), "--socket", socket]
        log = (tmp / "serve.log").open("w")
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        cleanup.push("routerd serve", lambda: _stop(proc))
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            status = _status(ns.name, socket)
            counts = (status or {}).get("claimCounts", {})
            if status is not None and counts.get("verified", 0) == n:
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"routerd serve did not settle at {n:,} claims: {status}")
            time.sleep(1.0)
        rss = _rss_kib(_daemon_pid(proc.pid))
        load = _validate_rss(ns.name, routerd, cfg)
        return {"rss_kib": rss, "load_kib": load}
    finally:
        cleanup.close()


def _daemon_pid(pid: int) -> int:
    """``ip netns exec`` execs the daemon in place: the same PID."""
    return pid


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


_PEAK = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], capture_output=True); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def _validate_rss(ns: str, routerd: str, cfg: Path) -> int:
    """Peak RSS (KiB) of loading and validating the config alone (``routerd validate``)."""
    r = subprocess.run(
        ["ip", "netns", "exec", ns, sys.executable, "-c", _PEAK, routerd, "validate"]
        + ["-c", str(cfg)],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(r.stdout.strip().splitlines()[-1])


def run(n: int) -> list[Result]:
    name = f"rss.per_claim.{n}"
    reason = unavailable()
    if reason:
        return [skipped(name, "B", reason, TARGET)]
    small, big = serve_rss(SMALL), serve_rss(n)
    per_claim = (big["rss_kib"] - small["rss_kib"]) * 1024 / (n - SMALL)
    load = (big["load_kib"] - small["load_kib"]) * 1024 / (n - SMALL)
    return [
        Result(
            name,
            per_claim,
            "B",
            load,
            TARGET,
            f"routerd serve (linux backend, provider side, in a namespace) with every claim "
            f"verified: {big['rss_kib'] / 1024:.0f} MiB at {n:,} claims vs "
            f"{small['rss_kib'] / 1024:.0f} MiB at {SMALL}; baseline: the growth of the peak "
            f"RSS of `routerd validate` on the same files ({big['load_kib'] / 1024:.0f} vs "
            f"{small['load_kib'] / 1024:.0f} MiB), i.e. loading the config alone",
        )
    ]
