"""The machine a run happened on: the figures mean little without it (docs/background.md).

Collected once per run and printed with the table / included in the JSON, so the table
copied into ``docs/performance.md`` always carries its date, CPU, kernel and versions.
"""

from __future__ import annotations

import datetime
import gc
import os
import platform
import sqlite3
import subprocess
from importlib import metadata
from pathlib import Path

TOOLS = {
    "iproute2": ["ip", "-V"],
    "nftables": ["nft", "--version"],
    "wireguard-go": ["wireguard-go", "--version"],
    "iperf3": ["iperf3", "--version"],
}
PACKAGES = ("transitions", "grpcio", "protobuf", "pyroute2", "pip-nftables", "pydantic")


def _first_line(argv: list[str]) -> str:
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "not installed"
    text = (proc.stdout or proc.stderr).strip()
    return text.splitlines()[0] if text else "unknown"


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / (1 << 20):.1f} GiB"
    except OSError:
        pass
    return "unknown"


def _os() -> str:
    try:
        for line in Path("/etc/os-release").read_text().splitlines():
            if line.startswith("PRETTY_NAME="):
                return line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return platform.system()


def _commit() -> str:
    root = Path(__file__).resolve().parents[1]
    return _first_line(["git", "-C", str(root), "rev-parse", "--short", "HEAD"])


def loadavg() -> str:
    """1/5/15-minute load averages: other work on a shared machine skews every figure."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def describe() -> dict[str, str]:
    """Date, CPU, memory, kernel, OS, Python and the versions of every tool the bench drives."""
    out = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": _commit(),
        "cpu": f"{os.cpu_count()} x {_cpu()}",
        "memory": _memory(),
        "kernel": platform.release(),
        "os": _os(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "gc_thresholds": str(gc.get_threshold()),
        "loadavg_start": loadavg(),
    }
    out.update({name: _first_line(argv) for name, argv in TOOLS.items()})
    for pkg in PACKAGES:
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "not installed"
    return out


def render(info: dict[str, str]) -> str:
    rows = ["| item | value |", "|---|---|"]
    rows += [f"| {k} | {v} |" for k, v in info.items()]
    return "\n".join(rows) + "\n"
