"""Item ``cli``: how long ``routerctl`` takes to start, as a ratio to a bare ``python -c pass``.

Operators and migration scripts run ``routerctl`` once per step (``routerctl move ADDRESS
--to SITE`` at a cutover), so its start-up is part of every handover a script drives. Each
figure is the median wall time of ``REPS`` runs of a fresh process, against the median of
``python -c pass`` with the same interpreter measured in the same run (the interpreter's own
start-up, which no change in routerd can remove):

* ``cli.startup``: ``routerctl status`` answered by a real ``routerd serve --backend sim``
  on a temp Unix socket (imports, the channel, one unary call, the printed table);
* ``cli.startup.help``, ``cli.startup.get-help``, ``cli.startup.move-help``: ``routerctl
  --help``, ``get claims --help`` and ``move --help`` (argument parsing alone; informational).

The daemon is started before the clock and stopped by PID.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.api import Daemon
from bench.result import Result, Target

REPS = 5
STARTUP_TARGET = Target("ratio", "<=", 12.0)
HELP = {
    "cli.startup.help": ["--help"],
    "cli.startup.get-help": ["get", "claims", "--help"],
    "cli.startup.move-help": ["move", "--help"],
}


def wall(argv: list[str], reps: int) -> float:
    """Median wall time of ``reps`` runs of ``argv``, each of which must exit 0."""
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def routerctl(*argv: str) -> list[str]:
    return [sys.executable, "-m", "routerd.cli.routerctl_main", *argv]


def run(reps: int = REPS) -> list[Result]:
    """Measure every figure against one ``python -c pass`` baseline.

    Args:
        reps: runs per figure (the median is reported).

    Returns:
        ``cli.startup`` with its target, then the informational ``--help`` figures.
    """
    with tempfile.TemporaryDirectory(prefix="routerd-bench-cli-") as tmp:
        daemon = Daemon(Path(tmp))
        try:
            base = wall([sys.executable, "-c", "pass"], reps)
            call = wall(routerctl("--socket", daemon.socket, "status"), reps)
        finally:
            daemon.close()
    results = [
        Result(
            "cli.startup",
            call,
            "s",
            baseline=base,
            target=STARTUP_TARGET,
            note=f"routerctl status against routerd serve --backend sim, median of {reps}; "
            "baseline: python -c pass",
        )
    ]
    for name, argv in HELP.items():
        results.append(
            Result(
                name,
                wall(routerctl(*argv), reps),
                "s",
                baseline=base,
                note=f"routerctl {' '.join(argv)}, median of {reps}",
            )
        )
    return results
