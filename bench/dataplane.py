"""Item 7: TCP throughput through the lab's SAM path vs the bare WireGuard tunnel (iperf3).

The namespace lab (``tools/labkit``, lab.md) runs two real ``routerd serve --backend
linux`` with wireguard-go between them. Once every claim is verified:

* SAM path: iperf3 from the cloud VM to the on-prem VM's own address (10.40.8.31), i.e.
  cloud VM -> fabric -> cloud router (captured secondary IP) -> WireGuard -> internet ->
  on-prem router -> LAN bridge -> on-prem VM;
* baseline, the bare tunnel: iperf3 from the cloud router to the on-prem router's overlay
  address over the same wireguard-go pair, same direction.

Single TCP stream, ``-J``; received bits per second. Runs alternate (SAM, bare, SAM, ...)
so drift on this shared 2-vCPU machine hits both alike; medians are reported. The lab is
built for this item and torn down afterwards, pass or fail (``Lab.down``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

import yaml

from bench.result import Result, Target, skipped
from routerd.core.desired import MSS_TABLE

TARGET = Target("ratio", ">=", 0.9)
PROVIDER = "azure"
PORT = 5201
NAME = f"dataplane.sam_vs_tunnel.{PROVIDER}"


def unavailable() -> str:
    """Why the item cannot run ("" when it can)."""
    if os.geteuid() != 0:
        return "needs root (the namespace lab)"
    missing = [t for t in ("ip", "nft", "wg", "wireguard-go", "iperf3") if not shutil.which(t)]
    if missing:
        return f"missing tools: {', '.join(missing)}"
    try:
        from tools.labkit.lab import Lab  # noqa: F401
        from tools.labkit.smoke import wait_verified  # noqa: F401
    except ImportError as e:
        return f"the namespace lab (tools/labkit) is not available: {e}"
    return ""


def _overlay_address(config_path: Any) -> str:
    """This router's overlay address: its IPv4StaticAddress on the tunnel."""
    doc = yaml.safe_load(config_path.read_text())
    for r in doc["spec"]["resources"]:
        if r["kind"] == "IPv4StaticAddress":
            return str(r["spec"]["address"]).split("/", 1)[0]
    raise RuntimeError(f"no overlay address in {config_path}")


def _machine_ticks() -> tuple[int, int, int]:
    """(busy, softirq, total) jiffies of all CPUs from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, fields[6], sum(fields)


def _process_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(stat[11]) + int(stat[12])  # utime + stime
    return total


class CpuMeter:
    """Machine busy and softirq % (of 100 x CPUs) and wireguard-go % (100 = one core)."""

    def __init__(self, wg_pids: list[int]) -> None:
        self.wg_pids = wg_pids
        self.hz = os.sysconf("SC_CLK_TCK")

    def __enter__(self) -> CpuMeter:
        self.t0 = time.monotonic()
        self.machine0 = _machine_ticks()
        self.wg0 = _process_ticks(self.wg_pids)
        return self

    def __exit__(self, *exc: object) -> None:
        busy, softirq, total = _machine_ticks()
        seconds = time.monotonic() - self.t0
        share = (os.cpu_count() or 1) * 100.0 / max(1, total - self.machine0[2])
        self.machine = share * (busy - self.machine0[0])
        self.softirq = share * (softirq - self.machine0[1])
        self.wg = 100.0 * (_process_ticks(self.wg_pids) - self.wg0) / self.hz / seconds


def _listening(ns: Any, port: int) -> bool:
    out = ns.exec("ss", "-Hltn", f"sport = :{port}", check=False)
    return bool(out.strip())


def clamp_mss(ns: Any) -> int | None:
    """The MSS routerd's clamp table sets in this namespace (None without a clamp)."""
    out = ns.exec("nft", "list", "table", "inet", MSS_TABLE, check=False)
    found = [int(m) for m in re.findall(r"maxseg size set (\d+)", out)]
    return min(found) if found else None


def iperf(server_ns: Any, client_ns: Any, dst: str, seconds: int, mss: int | None = None) -> float:
    """Gbit/s received by a one-off iperf3 server in ``server_ns`` from ``client_ns``."""
    server = server_ns.popen("iperf3", "-s", "-1", "-B", dst, "-p", str(PORT),
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    try:
        deadline = time.monotonic() + 15
        while not _listening(server_ns, PORT):
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"iperf3 server on {dst} did not start")
            time.sleep(0.05)
        proc = subprocess.run(
            ["ip", "netns", "exec", client_ns.name, "iperf3", "-c", dst, "-p", str(PORT),
             "-t", str(seconds), "-J", *(["-M", str(mss)] if mss else [])],
            capture_output=True, text=True, timeout=seconds + 60, check=False,
        )  # fmt: skip
        doc: dict[str, Any] = (
            json.loads(proc.stdout) if proc.stdout.strip() else {"error": proc.stderr}
        )
        if "error" in doc:
            raise RuntimeError(f"iperf3 to {dst}: {doc['error']}")
        return float(doc["end"]["sum_received"]["bits_per_second"]) / 1e9
    finally:
        server.kill()
        server.communicate()


def measure(seconds: int, reps: int) -> dict[str, list[float]]:
    from tools.labkit import topology as T
    from tools.labkit.lab import Lab
    from tools.labkit.smoke import wait_verified

    lab = Lab.up(PROVIDER)
    try:
        wait_verified(lab)
        ns = lab.topo.ns
        onprem_overlay = _overlay_address(lab.onprem.config)
        wg = lab.cloud.wireguard_go_pids() + lab.onprem.wireguard_go_pids()
        out: dict[str, list[float]] = {}
        mss = clamp_mss(ns[T.CLOUD_ROUTER])
        out["mss"] = [float(mss or 0)]
        paths = {
            "sam": (ns[T.ONPREM_VM], ns[T.CLOUD_VM], T.ONPREM_VM_IP, None),
            "bare": (ns[T.ONPREM_ROUTER], ns[T.CLOUD_ROUTER], onprem_overlay, None),
            "bare_mss": (ns[T.ONPREM_ROUTER], ns[T.CLOUD_ROUTER], onprem_overlay, mss),
        }
        for _ in range(reps):
            for path, (server, client, dst, seg) in paths.items():
                with CpuMeter(wg) as cpu:
                    out.setdefault(path, []).append(iperf(server, client, dst, seconds, seg))
                out.setdefault(f"{path}_busy", []).append(cpu.machine)
                out.setdefault(f"{path}_wg", []).append(cpu.wg)
                out.setdefault(f"{path}_softirq", []).append(cpu.softirq)
        return out
    finally:
        errors = lab.down()
        if errors:
            raise RuntimeError("lab teardown left: " + "; ".join(errors))


def run(seconds: int, reps: int) -> list[Result]:
    reason = unavailable()
    if reason:
        return [skipped(NAME, "Gbit/s", reason, TARGET)]
    m = measure(seconds, reps)
    med = {k: statistics.median(v) for k, v in m.items()}
    cores = 100 * (os.cpu_count() or 1)
    return [
        Result(
            NAME,
            med["sam"],
            "Gbit/s",
            med["bare"],
            TARGET,
            f"iperf3 single stream, {seconds}s x {reps}: cloud VM -> on-prem VM through both "
            "routers (SAM path) vs cloud router -> on-prem router overlay address (the bare "
            f"wireguard-go tunnel); SAM runs {[round(x, 3) for x in m['sam']]}, tunnel runs "
            f"{[round(x, 3) for x in m['bare']]} Gbit/s; machine busy {med['sam_busy']:.0f}% "
            f"(SAM) vs {med['bare_busy']:.0f}% (tunnel) of {cores}%, both wireguard-go "
            f"together {med['sam_wg']:.0f}% vs {med['bare_wg']:.0f}% (100% = one core), "
            f"softirq {med['sam_softirq']:.0f}% vs {med['bare_softirq']:.0f}%; "
            f"routerd clamps the SAM path's MSS to {med['mss']:.0f}: the tunnel forced to that "
            f"MSS (iperf3 -M) gives {med['bare_mss']:.3f} Gbit/s "
            f"({med['sam'] / med['bare_mss']:.2f}x)",
        )
    ]
