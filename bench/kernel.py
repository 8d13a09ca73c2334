"""Items 1-3: cold apply, one claim added/removed, and a no-op pass through the Linux backend.

Each repetition gets fresh namespaces created here and removed at the end, pass or fail
(``tests.support.netns.Cleanup``): one for the floor and one for routerd. A namespace holds
two veth pairs, ``<p>cap`` (capture interface) and ``<p>ov`` (the delivery device, MTU 1420
so the path steps down and the clamp table exists); see ``bench.claims`` for why the
delivery device is not WireGuard here.

Floors (baselines), all process wall time, as docs/background.md measures them. Each is
exactly the kernel work routerd's backend does for the lowered state (``floor_objects``):
per claim only its ``/32`` delivery route, on either side (a proxy-ARP claim is captured by
that route; routerd writes no proxy neighbour entry), and once per namespace the sysctls
(on the proxy-ARP side the capture interface's ``proxy_arp``, ``forwarding`` and
``proxy_delay``) and the clamp table:

* cold apply: one ``ip -batch`` with the same routes, one ``sysctl -w`` of the lowered
  sysctls the fresh namespace does not already satisfy (those the backend writes), and one
  ``nft -f`` with the same clamp table (the table routerd renders);
* one claim: one ``ip -batch`` adding (removing) that claim's route with N present;
* no-op pass: reading the routes and the table back (``read_commands``).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from bench import kernel_worker as kw
from bench.claims import SIDES, Names, claim_address, floor_batch, load_config, route_line
from bench.result import Result, Target, skipped
from routerd.backends.linux.nftables import render
from routerd.core.desired import MSS_TABLE, MssClampTable, Sysctl
from routerd.core.lowering import lower
from tests.support.netns import Cleanup, IpMonitor, Netns, NetnsWorker, uid

COLD_TARGET = Target("ratio", "<=", 3)
OBJECTS_TARGET = Target("value", "<=", 5, "objects")
NOOP_TARGET = Target("value", "<", 0.02, "s")
MIN_OBJECTS = {"proxy-arp": 1, "provider": 1}
"""What one claim needs in the kernel at least: its route (a proxy-ARP capture is the route)."""
OPS = {"add": 1, "remove": 1, "modify": 2}
"""One-claim changes and how many times the claim's objects change (a move: away, then in)."""
NOOP_PASSES = 10
ONE_CLAIM_CYCLES = 3
"""Add, remove, modify cycles per namespace; the median is the figure, the first is noted
(the first scoped change of a process runs slower: nothing of its path has run yet)."""
ONCE_ABOVE = 10_000
"""Sizes above this run once whatever the repetitions (a 100,000-claim run takes minutes)."""


def one_claim_target(n: int) -> Target:
    """The one-claim budget: 10 ms up to 10,000 claims, 20 ms above."""
    return Target("value", "<", 0.01 if n <= ONCE_ABOVE else 0.02, "s")


def steady_sizes(sizes: list[int]) -> list[int]:
    """The sizes items 2 and 3 run at: the largest, and every size of 10,000 or more.

    Args:
        sizes: the kernel item's claim counts.

    Returns:
        Those of ``sizes`` that also get the engine's first pass, one-claim and no-op figures.
    """
    return [n for n in sizes if n == max(sizes) or n >= ONCE_ABOVE]


def reps_at(n: int, reps: int) -> int:
    """Repetitions at ``n`` claims: ``reps``, but one above ``ONCE_ABOVE``."""
    return reps if n <= ONCE_ABOVE else 1


def unavailable() -> str:
    """Why items 1-3 cannot run here ("" when they can)."""
    if os.geteuid() != 0:
        return "needs root (network namespaces, netlink, nftables)"
    missing = [t for t in ("ip", "nft", "sysctl") if shutil.which(t) is None]
    return f"missing tools: {', '.join(missing)}" if missing else ""


def topology(cleanup: Cleanup) -> tuple[Netns, Names]:
    p = uid()
    ns = Netns.create(f"rdbench-{p}", cleanup)
    names = Names(f"{p}cap", f"{p}ov")
    for dev, mtu in ((names.cap, 1500), (names.tunnel, 1420)):
        ns.ip("link", "add", dev, "mtu", str(mtu), "type", "veth", "peer", "name", f"{dev}p")
        ns.ip("link", "set", dev, "up")
        ns.ip("link", "set", f"{dev}p", "up")
    return ns, names


def _wall(args: list[str], stdin: str | None = None) -> float:
    t0 = time.perf_counter()
    subprocess.run(args, input=stdin, text=True, check=True, capture_output=True)
    return time.perf_counter() - t0


def floor_objects(side: str, names: Names) -> tuple[list[Sysctl], str]:
    """The per-namespace part of the floor: the lowered state's sysctls and clamp ruleset.

    Both come from lowering one claim, so the floor follows whatever the backend is asked
    to write besides the routes; any other kind of object in the lowered state raises, so
    the floor cannot silently leave out work routerd does (nor keep work it stopped doing).

    Args:
        side: ``proxy-arp`` or ``provider``.
        names: the namespace's interface names.

    Returns:
        The sysctls, and the clamp table as ``nft -f`` input.
    """
    desired = lower(load_config(side, 1, names), generation=1).desired
    sysctls = [o for o in desired.objects.values() if isinstance(o, Sysctl)]
    table = desired.objects[("nft", "inet", MSS_TABLE)]
    assert isinstance(table, MssClampTable)
    other = {k[0] for k in desired.objects} - {"route", "sysctl", "nft", "absent"}
    if other:
        raise RuntimeError(f"the kernel floor does not install {sorted(other)} objects")
    return sysctls, render(table)


def sysctl_writes(sysctls: list[Sysctl], current: dict[str, str]) -> list[str]:
    """``name=value`` for each sysctl the backend would write (its current value is not wanted)."""
    return [
        f"{s.name}={s.value}"
        for s in sysctls
        if current.get(s.name) != s.value and current.get(s.name) not in s.accept
    ]


def _current(ns: Netns, sysctls: list[Sysctl]) -> dict[str, str]:
    out = {}
    for s in sysctls:
        path = Path("/proc/sys", s.name.replace(".", "/"))
        got = subprocess.run(
            ["ip", "netns", "exec", ns.name, "cat", str(path)],
            text=True,
            capture_output=True,
            check=False,
        )
        out[s.name] = got.stdout.strip() if got.returncode == 0 else ""
    return out


def read_commands(ns_name: str) -> list[list[str]]:
    """The no-op floor: what a pass reads of routerd's objects (routes, the clamp table)."""
    return [
        ["ip", "-n", ns_name, "route", "show", "proto", "196"],
        ["ip", "netns", "exec", ns_name, "nft", "list", "table", "inet", MSS_TABLE],
    ]


def one_claim_lines(n: int, names: Names, op: str) -> str:
    """``ip -batch`` input for the one-claim floor (``add``, ``del`` or ``move``), N present."""
    if op == "move":  # the first claim from its address to another one
        return one_claim_lines(0, names, "del") + one_claim_lines(n + 1, names, "add")
    return route_line(op, claim_address(n), names) + "\n"


def floor_run(side: str, n: int, *, steady: bool) -> dict[str, float]:
    """The floor for one (side, N) in a fresh namespace; ``steady`` adds the item 2/3 floors."""
    cleanup = Cleanup()
    try:
        ns, names = topology(cleanup)
        with tempfile.TemporaryDirectory(prefix="rdbench-") as tmp:
            batch, ruleset = Path(tmp, "batch"), Path(tmp, "clamp.nft")
            sysctls, clamp = floor_objects(side, names)
            writes = sysctl_writes(sysctls, _current(ns, sysctls))
            batch.write_text(floor_batch(side, n, names))
            ruleset.write_text(clamp)
            ip_s = _wall(["ip", "-n", ns.name, "-batch", str(batch)])
            sysctl_s = (
                _wall(["ip", "netns", "exec", ns.name, "sysctl", "-qw", *writes]) if writes else 0.0
            )
            nft_s = _wall(["ip", "netns", "exec", ns.name, "nft", "-f", str(ruleset)])
        out = {
            "cold": ip_s + sysctl_s + nft_s,
            "ip_batch": ip_s,
            "sysctl": sysctl_s,
            "sysctls_written": float(len(writes)),
            "nft_f": nft_s,
        }
        if steady:
            out["read"] = sum(_wall(cmd) for cmd in read_commands(ns.name))
            for op in ("add", "del", "move"):
                lines = one_claim_lines(n, names, op)
                out[f"one_{op}"] = _wall(["ip", "-n", ns.name, "-batch", "-"], stdin=lines)
        return out
    finally:
        cleanup.close()


def routerd_run(side: str, n: int, *, steady: bool, profile: bool) -> dict[str, Any]:
    """Backend cold apply in a fresh namespace; with ``steady`` the engine's items 2 and 3 in
    another fresh namespace and worker process.

    The engine starts in a process that has applied nothing, as ``routerd serve`` does: run
    after the backend's cold apply and removal of N routes in the same process, its first pass
    measured ~15-25% slower in every phase (the allocator and caches that work left behind),
    which no daemon start pays.
    """
    cleanup = Cleanup()
    try:
        worker, ns = _open(side, n, cleanup)
        out: dict[str, Any] = {"cold": worker.call(kw.cold_apply, timeout=600), "profiled": profile}
        _close(worker)
        if steady:
            worker, ns = _open(side, n, cleanup)
            out.update(_steady(worker, ns, cleanup, profile=profile))
            _close(worker)
        return out
    finally:
        cleanup.close()


def _open(side: str, n: int, cleanup: Cleanup) -> tuple[NetnsWorker, Netns]:
    """A fresh bench namespace with a worker holding store, backend and engine for N claims."""
    ns, names = topology(cleanup)
    worker = NetnsWorker(ns.name)
    cleanup.push("worker", worker.kill)
    tmp = tempfile.mkdtemp(prefix="rdbench-")
    cleanup.push("state dir", lambda: shutil.rmtree(tmp, ignore_errors=True))
    worker.call(kw.open_engine, side, n, names.cap, names.tunnel, tmp, timeout=600)
    return worker, ns


def _close(worker: NetnsWorker) -> None:
    worker.call(kw.close)
    worker.close()


def _steady(worker: NetnsWorker, ns: Netns, cleanup: Cleanup, *, profile: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"engine_cold": worker.call(kw.engine_cold_pass, timeout=600)}
    out["states"] = worker.call(kw.settle, timeout=600)
    out["noop"] = worker.call(kw.noop_passes, NOOP_PASSES, profile=profile, timeout=600)
    monitor = IpMonitor(ns, cleanup)
    cycles: dict[str, list[dict[str, Any]]] = {op: [] for op in OPS}
    for _ in range(ONE_CLAIM_CYCLES):
        for op in OPS:
            box: dict[str, Any] = {}
            lines = monitor.window(partial(_one_claim_into, box, worker, op))
            box["notifications"] = len(lines)
            cycles[op].append(box)
        worker.call(kw.one_claim, "unmodify")
    for op, boxes in cycles.items():
        out[op] = {
            **boxes[0],
            "first_seconds": boxes[0]["seconds"],
            **{k: statistics.median(b[k] for b in boxes) for k in ("seconds", "apply_seconds")},
            "objects": max(b["objects"] for b in boxes),  # the worst change of the claim
        }
    if profile:
        for op in OPS:
            out[op]["profile"] = worker.call(kw.one_claim, op, profile=True)["profile"]
            if op == "modify":
                worker.call(kw.one_claim, "unmodify")
    return out


def _field(*path: str) -> Callable[[dict[str, Any]], float]:
    """A reader of the figure at ``path`` in one run's results."""

    def get(run: dict[str, Any]) -> float:
        value: Any = run
        for step in path:
            value = value[step]
        return float(value)

    return get


def _phases(runs: list[dict[str, Any]]) -> str:
    """The first pass's phases, median over ``runs`` (``routerd.core.phases.PHASES``, then
    ``publish``: the published snapshot)."""
    names = list(runs[0]["engine_cold"]["phases"])
    return ", ".join(
        f"{p} {_median(runs, _field('engine_cold', 'phases', p)):.3f}"
        for p in names
        if all(p in r["engine_cold"]["phases"] for r in runs)
    )


def _one_claim_into(box: dict[str, Any], worker: NetnsWorker, op: str) -> None:
    box.update(worker.call(kw.one_claim, op))


def _median(runs: list[dict[str, Any]], get: Callable[[dict[str, Any]], float]) -> float:
    return statistics.median(get(r) for r in runs)


def run(sizes: list[int], reps: int) -> list[Result]:
    """Items 1-3 for both sides; items 2 and 3 at ``steady_sizes(sizes)``.

    Args:
        sizes: claim counts; above ``ONCE_ABOVE`` one repetition whatever ``reps``.
        reps: fresh namespaces (floor and routerd each) per size.

    Returns:
        The figures, in side then size order.
    """
    reason = unavailable()
    if reason:
        return _all_skipped(sizes, reason)
    results: list[Result] = []
    for side in SIDES:
        for n in sizes:
            steady = n in steady_sizes(sizes)
            k = reps_at(n, reps)
            floors = [floor_run(side, n, steady=steady) for _ in range(k)]
            mine = [routerd_run(side, n, steady=steady, profile=False) for _ in range(k)]
            results.append(_cold_result(side, n, floors, mine))
            if steady:
                profile = _missed(n, floors, mine)
                if profile:
                    mine.append(routerd_run(side, n, steady=True, profile=True))
                results += _steady_results(side, n, floors, mine)
    return results


def _missed(n: int, floors: list[dict[str, Any]], mine: list[dict[str, Any]]) -> bool:
    noop = _median(mine, lambda r: statistics.median(r["noop"]["seconds"]))
    one = max(_median(mine, _field(op, "seconds")) for op in OPS)
    return not (NOOP_TARGET.check(noop, None) and one_claim_target(n).check(one, None))


def _cold_result(
    side: str, n: int, floors: list[dict[str, Any]], mine: list[dict[str, Any]]
) -> Result:
    changes = int(mine[0]["cold"]["changes"])
    note = (
        f"LinuxBackend observe+diff+apply of the lowered {n:,}-claim state ({changes:,} "
        f"changes; {_median(mine, lambda r: r['cold']['gc']):.3f}s of it in Python's cyclic "
        f"GC) on an empty namespace vs one `ip -batch` of the {n:,} routes (median "
        f"{_median(floors, lambda r: r['ip_batch']):.3f}s) + one `sysctl -w` of "
        f"{int(floors[0]['sysctls_written'])} sysctls "
        f"({_median(floors, lambda r: r['sysctl']):.3f}s) + one `nft -f` of the clamp table "
        f"({_median(floors, lambda r: r['nft_f']):.3f}s); removing it all again took "
        f"{_median(mine, lambda r: r['cold']['remove_seconds']):.3f}s; {_runs(n, len(mine))}"
    )
    return Result(
        f"cold_apply.{side}.{n}",
        _median(mine, lambda r: r["cold"]["seconds"]),
        "s",
        _median(floors, lambda r: r["cold"]),
        COLD_TARGET,
        note,
    )


def _steady_results(
    side: str, n: int, floors: list[dict[str, Any]], mine: list[dict[str, Any]]
) -> list[Result]:
    measured = [r for r in mine if not r["profiled"]]
    profiled_run = next((r for r in mine if r["profiled"]), None)
    out = [
        Result(
            f"engine_cold_pass.{side}.{n}",
            _median(measured, lambda r: r["engine_cold"]["seconds"]),
            "s",
            _median(floors, lambda r: r["cold"]),
            COLD_TARGET,
            note="the engine's first pass on an empty namespace (effective config, lowering, "
            "observe, apply, verify lookups, state machine walk, journal) vs the item 1 floor; "
            f"seconds by phase: {_phases(measured)}; "
            f"claim states after settling: {measured[0]['states']}; {_runs(n, len(measured))}",
        )
    ]
    out += _one_claim_results(side, n, floors, measured, profiled_run)
    gc_ms = 1000 * _median(measured, lambda r: statistics.median(r["noop"]["gc"]))
    noop_note = (
        f"Engine.run_pass with nothing to do, median of {NOOP_PASSES} passes x "
        f"{len(measured)} namespace(s) ({gc_ms:.0f} ms of it in Python's cyclic GC), vs "
        "reading the same state with `ip route show proto 196` + `nft list table`"
    )
    if profiled_run is not None and not NOOP_TARGET.check(
        _median(measured, lambda r: statistics.median(r["noop"]["seconds"])), None
    ):
        noop_note += "; " + profiled_run["noop"]["profile"]
    out.append(
        Result(
            f"noop_pass.{side}.{n}",
            _median(measured, lambda r: statistics.median(r["noop"]["seconds"])),
            "s",
            _median(floors, lambda r: r["read"]),
            NOOP_TARGET,
            noop_note,
        )
    )
    return out


def _one_claim_results(
    side: str,
    n: int,
    floors: list[dict[str, Any]],
    measured: list[dict[str, Any]],
    profiled_run: dict[str, Any] | None,
) -> list[Result]:
    out = []
    floors_of = {"add": "one_add", "remove": "one_del", "modify": "one_move"}
    for op, floor_key in floors_of.items():
        first = measured[0][op]
        seconds = _median(measured, _field(op, "seconds"))
        note = (
            f"one engine pass carrying the change at N={n:,} "
            f"({'a full' if first['full'] else 'a scoped'} pass, {first['judged']} claim(s) "
            f"judged, {first['observed_keys']} key(s) observed): "
            "backend apply "
            f"{_median(measured, _field(op, 'apply_seconds')) * 1000:.1f} ms of it, "
            f"Python's cyclic GC {_median(measured, _field(op, 'gc')) * 1000:.0f} ms; "
            f"objects by kind {first['by_kind']}, {first['lookups']} route lookup(s); "
            f"`ip monitor` saw {first['notifications']} notification(s); floor: one `ip -batch` "
            f"with the claim's route lines; median of {ONE_CLAIM_CYCLES} changes (the first "
            "after start-up: "
            f"{_median(measured, _field(op, 'first_seconds')) * 1000:.1f} ms) x "
            f"{_runs(n, len(measured))}"
        )
        if profiled_run is not None and not one_claim_target(n).check(seconds, None):
            note += "; " + profiled_run[op]["profile"]
        out.append(
            Result(
                f"one_claim.{op}.{side}.{n}.objects",
                _median(measured, _field(op, "objects")),
                "objects",
                MIN_OBJECTS[side] * OPS[op],
                OBJECTS_TARGET,
                f"kernel objects changed by one claim {op} at N={n:,} vs the minimum the "
                f"claim needs; by kind {first['by_kind']}",
            )
        )
        out.append(
            Result(
                f"one_claim.{op}.{side}.{n}.time",
                seconds,
                "s",
                _median(floors, _field(floor_key)),
                one_claim_target(n),
                note,
            )
        )
    return out


def _runs(n: int, k: int) -> str:
    if k == 1 and n > ONCE_ABOVE:
        return f"one fresh namespace (sizes above {ONCE_ABOVE:,} run once)"
    return f"median of {k} fresh namespace(s)"


def _all_skipped(sizes: list[int], reason: str) -> list[Result]:
    out = []
    for side in SIDES:
        for n in sizes:
            out.append(skipped(f"cold_apply.{side}.{n}", "s", reason, COLD_TARGET))
            if n not in steady_sizes(sizes):
                continue
            out.append(skipped(f"engine_cold_pass.{side}.{n}", "s", reason, COLD_TARGET))
            for op in OPS:
                out.append(skipped(f"one_claim.{op}.{side}.{n}.objects", "objects", reason))
                target = one_claim_target(n)
                out.append(skipped(f"one_claim.{op}.{side}.{n}.time", "s", reason, target))
            out.append(skipped(f"noop_pass.{side}.{n}", "s", reason, NOOP_TARGET))
    return out
