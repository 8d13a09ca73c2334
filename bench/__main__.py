"""``python -m bench [--quick] [-o table|json] [--only ITEMS] [--sizes N,...]``: run the bench.

Items (issue numbering): ``kernel`` (1 cold apply, 2 one claim, 3 no-op pass; root),
``fsm`` (4), ``sim`` (5), ``api`` (6), ``dataplane`` (7; root and the namespace lab),
``doctor`` (8, ``doctor hybrid`` at N claims; root), ``mobility`` (9, announce -> received
through a BIRD2 route reflector at 1, 100 and 10,000 addresses; root, gobgpd, bird2),
``capture`` (proxy-ARP capture mechanisms at N addresses with real ARP checks; root),
``rss`` (10, the daemon's memory per claim; root), ``cli`` (``routerctl`` start-up against
``python -c pass``, with a sim daemon for a real call).
Sizes come from a preset: the full run (10,000 claims in the kernel, 100,000 in the state
machine and the capture item), ``--quick`` (1,000 claims in the kernel, the dataplane ratio;
under 3 minutes) or ``--toy`` (tiny sizes for the smoke test; its figures mean nothing).
``--sizes`` replaces the kernel item's claim counts, e.g. ``--only kernel --sizes
10000,100000`` for the 100,000-claim figures the full run leaves out (a size above 10,000
runs once; both sides at 100,000 alone took 4 minutes on a lightly loaded 2-vCPU machine
and 17 on a busy one).

The bench process runs under ``routerd serve``'s garbage-collector policy
(``routerd.daemon.gcpolicy``; namespace workers inherit it), because the engine, backend and
state machine it measures run under that policy in the daemon.

Exit status: 0 when no figure missed its target (skipped and informational figures do not
count), 1 when one did or an item failed, 2 on usage errors. Progress goes to stderr so
``-o json`` output stays machine-readable.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace

from bench import machine
from bench.result import Result, render_json, render_table

ITEMS = (
    "kernel",
    "fsm",
    "sim",
    "api",
    "dataplane",
    "doctor",
    "mobility",
    "capture",
    "rss",
    "cli",
)


@dataclass(frozen=True)
class Preset:
    kernel_sizes: tuple[int, ...]
    kernel_reps: int
    fsm_claims: int
    sim_claims: int
    api_claims: int
    iperf_seconds: int
    iperf_reps: int
    doctor_sizes: tuple[int, ...] = (1_000, 10_000)
    mobility_sizes: tuple[int, ...] = (1, 100, 10_000)
    capture_sizes: tuple[int, ...] = (10_000, 100_000)
    capture_reps: int = 3
    rss_claims: int = 100_000
    cli_reps: int = 5


FULL = Preset((1_000, 10_000), 3, 100_000, 10_000, 10_000, 10, 3)
QUICK = Preset(
    (1_000,),
    3,
    10_000,
    1_000,
    1_000,
    5,
    1,
    doctor_sizes=(1_000,),
    mobility_sizes=(1, 1_000),
    capture_sizes=(1_000,),
    capture_reps=1,
    rss_claims=1_000,
)
TOY = Preset(
    (100,),
    1,
    200,
    20,
    20,
    1,
    1,
    doctor_sizes=(20,),
    mobility_sizes=(1, 10),
    capture_sizes=(100,),
    capture_reps=1,
    rss_claims=300,
    cli_reps=1,
)


def _runners(p: Preset) -> dict[str, Callable[[], list[Result]]]:
    def kernel() -> list[Result]:
        from bench import kernel

        return kernel.run(list(p.kernel_sizes), p.kernel_reps)

    def fsm() -> list[Result]:
        from bench import fsm

        return fsm.run(p.fsm_claims)

    def sim() -> list[Result]:
        from bench import sim

        return sim.run(p.sim_claims)

    def api() -> list[Result]:
        from bench import api

        return api.run(p.api_claims)

    def dataplane() -> list[Result]:
        from bench import dataplane

        return dataplane.run(p.iperf_seconds, p.iperf_reps)

    def doctor() -> list[Result]:
        from bench import doctor

        return doctor.run(list(p.doctor_sizes))

    def rss() -> list[Result]:
        from bench import rss

        return rss.run(p.rss_claims)

    def mobility() -> list[Result]:
        from bench import mobility

        return mobility.run(p.mobility_sizes)

    def capture() -> list[Result]:
        from bench import capture

        return capture.run(list(p.capture_sizes), p.capture_reps)

    def cli() -> list[Result]:
        from bench import cli

        return cli.run(p.cli_reps)

    return {
        "rss": rss,
        "kernel": kernel,
        "fsm": fsm,
        "sim": sim,
        "api": api,
        "dataplane": dataplane,
        "doctor": doctor,
        "mobility": mobility,
        "capture": capture,
        "cli": cli,
    }


def run_items(items: list[str], preset: Preset) -> list[Result]:
    """Run the items in order; an item that raises becomes one ERROR row, the rest go on."""
    runners = _runners(preset)
    results: list[Result] = []
    for item in items:
        t0 = time.monotonic()
        print(f"# {item} ...", file=sys.stderr, flush=True)
        try:
            results += runners[item]()
        except Exception as e:
            traceback.print_exc(file=sys.stderr)
            results.append(Result(item, None, "", error=f"{type(e).__name__}: {e}"))
        gc.collect()
        print(f"# {item} done in {time.monotonic() - t0:.1f}s", file=sys.stderr, flush=True)
    return results


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    size = ap.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="1,000-claim sizes, < 3 minutes")
    size.add_argument("--toy", action="store_true", help="tiny sizes (smoke test only)")
    ap.add_argument("-o", "--output", choices=("table", "json"), default="table")
    ap.add_argument(
        "--only",
        metavar="ITEMS",
        help=f"comma-separated subset of {','.join(ITEMS)} (default: all)",
    )
    ap.add_argument(
        "--sizes",
        metavar="N,...",
        help="the kernel item's claim counts instead of the preset's (e.g. 10000,100000); "
        "items 2-3 run at the largest and at every size >= 10,000; sizes above 10,000 run once",
    )
    ap.add_argument(
        "--json-file", metavar="PATH", help="also write the JSON document to PATH (for docs)"
    )
    args = ap.parse_args(argv)
    args.items = args.only.split(",") if args.only else list(ITEMS)
    unknown = [i for i in args.items if i not in ITEMS]
    if unknown:
        ap.error(f"unknown item(s) {', '.join(unknown)}; choose from {', '.join(ITEMS)}")
    args.kernel_sizes = None if args.sizes is None else _sizes(ap, args.sizes, args.items)
    return args


def _sizes(ap: argparse.ArgumentParser, text: str, items: list[str]) -> tuple[int, ...]:
    if "kernel" not in items:
        ap.error("--sizes sets the kernel item's claim counts; add kernel to --only")
    try:
        sizes = tuple(int(s.replace("_", "")) for s in text.split(","))
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) < 1:
        ap.error(f"--sizes {text!r}: give positive claim counts separated by commas (10000,100000)")
    return tuple(sorted(set(sizes)))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    preset = TOY if args.toy else QUICK if args.quick else FULL
    if args.kernel_sizes:
        preset = replace(preset, kernel_sizes=args.kernel_sizes)
    info = machine.describe()
    t0 = time.monotonic()
    results = run_items(args.items, preset)
    info["bench_seconds"] = f"{time.monotonic() - t0:.0f}"
    info["loadavg_end"] = machine.loadavg()
    info["preset"] = "toy" if args.toy else "quick" if args.quick else "full"
    if "kernel" in args.items:
        info["kernel_sizes"] = ",".join(str(n) for n in preset.kernel_sizes)
    if args.json_file:
        with open(args.json_file, "w") as f:
            f.write(render_json(results, info))
    if args.output == "json":
        sys.stdout.write(render_json(results, info))
    else:
        sys.stdout.write(render_table(results) + "\n" + machine.render(info))
    return 1 if any(r.ok is False for r in results) else 0


if __name__ == "__main__":
    from routerd.daemon import gcpolicy

    gcpolicy.apply()
    sys.exit(main())
