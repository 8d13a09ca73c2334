"""The half of items 1-3 that runs *inside* the bench namespace (in a ``NetnsWorker`` child).

The Linux backend and the engine live in the forked child so their netlink sockets, sysctl
writes and nft context belong to the bench namespace, never the host's. The parent sends
these functions by reference and gets plain numbers back; ``STATE`` keeps the engine
between calls.

"Kernel objects touched" is counted from what the backend asks of the kernel: each
route/neighbour/address change message in a netlink batch, each nft transaction and each
sysctl write is one object (lookups are counted apart). The counters wrap the backend's own
handles, so nothing the backend does escapes them and nothing else is counted.

The garbage collector runs as in ``routerd serve`` (``routerd.daemon.gcpolicy``): the
daemon's thresholds from ``open_engine`` on, whoever started the worker, and the first
engine pass with the collector paused and the start-up state frozen after it.
"""

from __future__ import annotations

import gc
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from bench.claims import Names, claim_address, load_config
from bench.profile import profiled
from routerd.backends.linux import netlink_codec as nl
from routerd.backends.linux.backend import LinuxBackend
from routerd.core.config import RouterConfig
from routerd.core.desired import DesiredState
from routerd.core.engine import Engine, EngineSettings
from routerd.core.lowering import lower, observe_scope
from routerd.core.plan import diff
from routerd.core.resources import RemoteAddressClaim
from routerd.daemon import gcpolicy
from routerd.keys import KeyFiles
from routerd.state.store import Store
from tests.support.netns import STATE

T = TypeVar("T")

CHANGE_TYPES = {
    nl.RTM_NEWROUTE: "route",
    nl.RTM_DELROUTE: "route",
    nl.RTM_NEWNEIGH: "neigh",
    nl.RTM_DELNEIGH: "neigh",
    nl.RTM_NEWADDR: "addr",
    nl.RTM_DELADDR: "addr",
}


class GcClock:
    """Seconds spent in the cyclic garbage collector, summed over every collection.

    At 10,000 claims the process holds a few hundred thousand tracked objects (the loaded
    config above all), so one full collection costs tens of milliseconds; this is how the
    bench tells that apart from routerd's own work.
    """

    def __init__(self) -> None:
        self.seconds = 0.0
        self._start = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.seconds += time.perf_counter() - self._start

    def since(self, mark: float) -> float:
        return self.seconds - mark


def _count(counts: Counter[str], key: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        counts[key] += 1
        return fn(*args, **kwargs)

    return wrapper


def _instrument(backend: LinuxBackend) -> Counter[str]:
    """Count what the backend asks of the kernel, on every way its netlink socket sends a
    change or a lookup (``transact``; ``change_all`` for bare route bodies; ``lookup`` for
    route look-ups read in place)."""
    counts: Counter[str] = Counter()
    host = backend.host
    sock = host.sock
    transact, change_all, lookup = sock.transact, sock.change_all, sock.lookup

    def counted_transact(requests: Any) -> Any:
        for r in requests:
            counts[CHANGE_TYPES.get(r.type, "lookup")] += 1
        return transact(requests)

    def counted_change_all(kind: int, flags: int, bodies: Any) -> Any:
        counts[CHANGE_TYPES[kind]] += len(bodies)
        return change_all(kind, flags, bodies)

    def counted_lookup(kind: int, bodies: Any, start: int, attr: int) -> Any:
        counts["lookup"] += len(bodies)
        return lookup(kind, bodies, start, attr)

    sock.transact = counted_transact  # type: ignore[method-assign]
    sock.change_all = counted_change_all  # type: ignore[method-assign]
    sock.lookup = counted_lookup  # type: ignore[method-assign]
    host.nft.apply = _count(counts, "nft", host.nft.apply)  # type: ignore[method-assign]
    host.nft.delete = _count(counts, "nft", host.nft.delete)  # type: ignore[method-assign]
    host.sysctls.set = _count(counts, "sysctl", host.sysctls.set)  # type: ignore[method-assign]
    host.sysctls.restore = _count(  # type: ignore[method-assign]
        counts, "sysctl", host.sysctls.restore
    )
    return counts


def open_engine(side: str, n: int, cap: str, tunnel: str, state_dir: str) -> None:
    """Load the N- and (N+1)-claim configs and build store, backend and engine (no I/O yet)."""
    gcpolicy.apply()
    full = load_config(side, n + 1, Names(cap, tunnel))
    base = full.replace(full.resources[:-1])
    moved = _moved(base, claim_address(n + 1))
    store = Store.open(state_dir)
    backend = LinuxBackend(store, state_dir=Path(state_dir), wireguard_go=None)
    counts = _instrument(backend)
    settings = EngineSettings(key_dir=str(Path(state_dir) / "keys"))
    engine = Engine(backend, base, store=store, keys=KeyFiles(), settings=settings)
    STATE.update(full=full, base=base, moved=moved, store=store, backend=backend, engine=engine)
    STATE["counts"] = counts
    STATE["gc"] = GcClock()


def _moved(config: RouterConfig, address: str) -> RouterConfig:
    """``config`` with its first claim moved to ``address`` (one claim re-specified)."""
    first = config.of(RemoteAddressClaim)[0]
    spec = first.spec.model_copy(update={"address": f"{address}/32"})
    moved = first.model_copy(update={"spec": spec})
    return config.replace(moved if r is first else r for r in config)


def _apply_timed(want: DesiredState, scope: Any) -> dict[str, float]:
    backend: LinuxBackend = STATE["backend"]
    gc_mark = STATE["gc"].seconds
    t0 = time.perf_counter()
    observed = backend.observe(scope)
    changes = diff(want, observed)
    results = backend.apply(changes)
    seconds = time.perf_counter() - t0
    failed = [r.error for r in results if not r.ok]
    if failed:
        raise RuntimeError(f"{len(failed)} of {len(changes)} changes failed; first: {failed[0]}")
    return {"seconds": seconds, "changes": len(changes), "gc": STATE["gc"].since(gc_mark)}


def cold_apply() -> dict[str, float]:
    """Item 1: observe + diff + apply of the lowered N-claim state on an empty namespace."""
    lowered = lower(STATE["base"], generation=1)
    cold = _apply_timed(lowered.desired, observe_scope(lowered))
    removal = _apply_timed(DesiredState(), observe_scope(lowered))
    return {**cold, "remove_seconds": removal["seconds"]}


def engine_cold_pass() -> dict[str, Any]:
    """The engine's first pass on an empty namespace (lowering, FSM, journal, verify too),
    with its phases (``PassResult.phases``, and ``publish``: the published snapshot and the
    listeners, which the pass's own ``seconds`` leaves out).

    As at daemon start, the collector is off during the pass and what is alive after it is
    frozen (``gcpolicy.FirstPass``).
    """
    engine: Engine = STATE["engine"]
    first = gcpolicy.FirstPass()
    first.begin()
    try:
        result, seconds = _wall(engine.run_pass)
    finally:
        first.after_pass()
    phases = {**result.phases, "publish": max(0.0, seconds - result.seconds)}
    return {
        "seconds": seconds,
        "changes": result.changes,
        "failures": len(result.failures),
        "phases": phases,
    }


def _wall(fn: Callable[[], T]) -> tuple[T, float]:
    """``fn()`` and its wall time. Engine passes are timed so, the published snapshot and
    the listeners included: the pass's own ``seconds`` stops before it builds the snapshot
    that records them."""
    t0 = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - t0


def settle(passes: int = 5) -> dict[str, Any]:
    """Run passes until one changes nothing and no claim moves; report the claim states."""
    engine: Engine = STATE["engine"]
    for _ in range(passes):
        r = engine.run_pass()
        if r.changes == 0 and r.transitions == 0:
            break
    return engine.snapshot.counts()


def noop_passes(k: int, *, profile: bool = False) -> dict[str, Any]:
    """Item 3: ``k`` steady-state passes; every one must change nothing."""
    engine: Engine = STATE["engine"]
    seconds, gc_seconds = [], []
    for _ in range(k):
        gc_mark = STATE["gc"].seconds
        r, wall = _wall(engine.run_pass)
        if r.changes or r.transitions:
            raise RuntimeError(f"not steady: {r.changes} changes, {r.transitions} transitions")
        seconds.append(wall)
        gc_seconds.append(STATE["gc"].since(gc_mark))
    out: dict[str, Any] = {"seconds": seconds, "gc": gc_seconds}
    if profile:
        _, out["profile"] = profiled(engine.run_pass)
    return out


def one_claim(op: str, *, profile: bool = False) -> dict[str, Any]:
    """Item 2: add the (N+1)th claim, remove it again, or move the first claim to another
    address (``modify``; ``unmodify`` moves it back), in one engine pass.

    The config object is prepared outside the timing (the daemon loads it on its reload
    thread); the pass then rebuilds the effective config, lowers, observes, applies and
    judges, which is what a reload or a dynamic part costs the engine thread.
    """
    engine: Engine = STATE["engine"]
    backend: LinuxBackend = STATE["backend"]
    counts: Counter[str] = STATE["counts"]
    configs = {"add": "full", "remove": "base", "modify": "moved", "unmodify": "base"}
    engine.set_startup(STATE[configs[op]])
    apply_seconds: list[float] = []
    apply = backend.apply

    def timed_apply(changes: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return apply(changes)
        finally:
            apply_seconds.append(time.perf_counter() - t0)

    backend.apply = timed_apply  # type: ignore[method-assign]
    counts.clear()
    gc_mark = STATE["gc"].seconds
    try:
        if profile:
            (result, summary), wall = _wall(lambda: profiled(engine.run_pass))
        else:
            (result, wall), summary = _wall(engine.run_pass), ""
    finally:
        backend.apply = apply  # type: ignore[method-assign]
    objects = {k: v for k, v in counts.items() if k != "lookup"}
    return {
        "seconds": wall,
        "gc": STATE["gc"].since(gc_mark),
        "apply_seconds": sum(apply_seconds),
        "changes": result.changes,
        "failures": len(result.failures),
        "full": result.full,
        "judged": result.judged,
        "observed_keys": result.observed_keys,
        "objects": sum(objects.values()),
        "by_kind": objects,
        "lookups": counts.get("lookup", 0),
        "profile": summary,
    }


def close() -> None:
    engine: Engine | None = STATE.get("engine")
    if engine is not None:
        engine.close(cleanup=False)
        STATE["store"].close()
