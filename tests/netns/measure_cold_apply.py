"""Measure cold apply of N claims through LinuxBackend against ``ip -batch`` + ``nft -f``.

Not a test (nothing is asserted): ``sudo .venv/bin/python -m tests.netns.measure_cold_apply
1000 10000 --reps 3`` prints one JSON line per run and a median table. Each run gets a fresh
namespace with two veth pairs (``cap`` stands for the capture interface, ``ov`` for the
tunnel); a claim is one ``/32 dev ov metric 120`` route plus one proxy entry on ``cap``;
both sides also write the two-rule ``routerd_mss`` table.

Backend phases: ``observe`` + ``diff`` + ``apply`` of the cold plan (what one engine pass
costs), then a second pass (``noop_pass``: observe + diff, expected empty) and the removal
of everything (``remove``). The baseline is ``ip -n NS -batch`` (one process for routes and
proxies) plus ``nft -f`` (one process), timed as wall time like the figures of
docs/background.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from routerd.core import desired as d
from routerd.core.plan import diff
from tests.support.netns import STATE, Cleanup, Netns, NetnsWorker, uid


def claim_address(i: int) -> str:
    return f"10.{16 + i // 65536}.{(i // 256) % 256}.{i % 256}"


def build(n: int, cap: str, ov: str) -> d.DesiredBuilder:
    want = d.DesiredBuilder(generation=1)
    for i in range(n):
        a = claim_address(i)
        want.add(d.Route(f"{a}/32", ov, d.DELIVERY_METRIC), f"claim-{i}")
        want.add(d.ProxyNeighbour(a, cap), f"claim-{i}")
    rules = frozenset({d.MssRule(cap, ov, 1300), d.MssRule(ov, cap, 1300)})
    want.add(d.MssClampTable(rules, generation=1), "mss")
    return want


def _open(state_dir: str) -> None:
    from routerd.backends.linux.backend import LinuxBackend
    from routerd.state.store import Store

    STATE["b"] = LinuxBackend(Store.open(state_dir), state_dir=Path(state_dir))
    STATE["b"].start(lambda: None)


def _timed_pass(want: d.DesiredState) -> dict[str, float]:
    b = STATE["b"]
    t0 = time.perf_counter()
    obs = b.observe(d.ObserveScope(desired=want))
    t1 = time.perf_counter()
    changes = diff(want, obs)
    t2 = time.perf_counter()
    results = b.apply(changes)
    t3 = time.perf_counter()
    failed = [r.error for r in results if not r.ok]
    if failed:
        raise RuntimeError(f"{len(failed)} failed, first: {failed[0]}")
    return {"observe": t1 - t0, "diff": t2 - t1, "apply": t3 - t2, "changes": len(changes)}


def _run_backend(n: int, cap: str, ov: str) -> dict[str, float]:
    want = build(n, cap, ov).build()
    cold = _timed_pass(want)
    t = time.perf_counter()
    left = diff(want, STATE["b"].observe(d.ObserveScope(desired=want)))
    noop = time.perf_counter() - t
    removal = _timed_pass(d.DesiredBuilder().build())
    return {
        **{f"cold_{k}": v for k, v in cold.items()},
        "cold_total": cold["observe"] + cold["diff"] + cold["apply"],
        "noop_pass": noop,
        "noop_changes": len(left),
        "remove": removal["observe"] + removal["diff"] + removal["apply"],
    }


def topology(cleanup: Cleanup) -> tuple[Netns, str, str]:
    p = uid()
    ns = Netns.create(f"rdm-{p}", cleanup)
    cap, ov = f"{p}cap", f"{p}ov"
    ns.ip("link", "add", cap, "type", "veth", "peer", "name", f"{p}capp")
    ns.ip("link", "add", ov, "type", "veth", "peer", "name", f"{p}ovp")
    for name in (cap, f"{p}capp", ov, f"{p}ovp"):
        ns.ip("link", "set", name, "up")
    return ns, cap, ov


def baseline(n: int) -> dict[str, float]:
    cleanup = Cleanup()
    try:
        ns, cap, ov = topology(cleanup)
        with tempfile.TemporaryDirectory() as tmp:
            batch, ruleset = Path(tmp, "b"), Path(tmp, "r.nft")
            lines = []
            for i in range(n):
                a = claim_address(i)
                lines.append(f"route add {a}/32 dev {ov} metric 120 proto 196")
                lines.append(f"neigh add proxy {a} dev {cap}")
            batch.write_text("\n".join(lines) + "\n")
            table = build(0, cap, ov).objects[("nft", "inet", d.MSS_TABLE)]
            from routerd.backends.linux.nftables import render

            ruleset.write_text(render(table))  # type: ignore[arg-type]
            t0 = time.perf_counter()
            subprocess.run(["ip", "-n", ns.name, "-batch", str(batch)], check=True)
            t1 = time.perf_counter()
            subprocess.run(["ip", "netns", "exec", ns.name, "nft", "-f", str(ruleset)], check=True)
            t2 = time.perf_counter()
        return {"ip_batch": t1 - t0, "nft_f": t2 - t1, "total": t2 - t0}
    finally:
        cleanup.close()


def backend(n: int) -> dict[str, float]:
    cleanup = Cleanup()
    try:
        ns, cap, ov = topology(cleanup)
        worker = NetnsWorker(ns.name)
        cleanup.push("worker", worker.kill)
        with tempfile.TemporaryDirectory() as tmp:
            worker.call(_open, tmp)
            result: dict[str, float] = worker.call(_run_backend, n, cap, ov)
            worker.close()
        return result
    finally:
        cleanup.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("sizes", nargs="+", type=int)
    ap.add_argument("--reps", type=int, default=3)
    args = ap.parse_args()
    table = []
    for n in args.sizes:
        base, mine = [], []
        for rep in range(args.reps):
            base.append(baseline(n))
            mine.append(backend(n))
            print(json.dumps({"n": n, "rep": rep, "baseline": base[-1], "backend": mine[-1]}))
        med = {k: statistics.median(r[k] for r in mine) for k in mine[0]}
        bmed = {k: statistics.median(r[k] for r in base) for k in base[0]}
        table.append((n, bmed, med))
    print(
        "\n| claims | ip -batch + nft -f s | backend cold pass s (observe/diff/apply) | ratio "
        "| no-op pass s | remove all s |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    for n, bmed, med in table:
        parts = f"{med['cold_observe']:.3f}/{med['cold_diff']:.3f}/{med['cold_apply']:.3f}"
        print(
            f"| {n:,} | {bmed['total']:.3f} | {med['cold_total']:.3f} ({parts}) "
            f"| {med['cold_total'] / bmed['total']:.2f}x | {med['noop_pass']:.3f} "
            f"| {med['remove']:.3f} |"
        )


if __name__ == "__main__":
    main()
