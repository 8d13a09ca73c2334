"""Functions that run *inside* a NetnsWorker child and drive a LinuxBackend there.

The backend lives in the child (its sockets, sysctl writes and wireguard-go belong to the
test namespace); tests send these functions by reference and get plain data back. ``STATE``
holds the backend between calls. ``start_loop`` is a minimal engine: observe -> diff ->
apply, run only when the backend calls ``on_change`` (no periodic resync), which is what
the drift tests need to prove that events alone heal the dataplane.
"""

from __future__ import annotations

import logging
import socket
import struct
import threading
import time
from pathlib import Path
from typing import Any

from routerd.backends.linux.backend import LinuxBackend
from routerd.core import desired as d
from routerd.core.plan import diff
from routerd.core.port import Change, PathCheck
from routerd.state.store import Store
from tests.support.netns import STATE


def open_backend(state_dir: str, log_path: str, **kwargs: Any) -> int:
    """Create the backend, log to ``log_path`` (DEBUG for routerd), start watching."""
    handler = logging.FileHandler(log_path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG)
    for noisy in ("pyroute2", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    store = Store.open(state_dir)
    backend = LinuxBackend(store, state_dir=Path(state_dir), **kwargs)
    STATE.update(backend=backend, store=store, changes=0, passes=[], kick=threading.Event())
    backend.start(_on_change)
    return backend.host.sock.portid


def _on_change() -> None:
    STATE["changes"] += 1
    STATE["kick"].set()


Wanted = d.DesiredState | d.DesiredBuilder


def desired_of(want: Wanted) -> d.DesiredState:
    """Tests build their desired states object by object; the backend reads them built."""
    return want.build() if isinstance(want, d.DesiredBuilder) else want


def backend() -> LinuxBackend:
    b: LinuxBackend = STATE["backend"]
    return b


def scope_for(want: Wanted) -> d.ObserveScope:
    want = desired_of(want)
    objs = list(want.objects.values())
    return d.ObserveScope(
        sysctls={o.name for o in objs if isinstance(o, d.Sysctl)},
        absent_addresses={o.address for o in objs if isinstance(o, d.AbsentAddress)},
        links={o.dev for o in objs if isinstance(o, d.Route | d.ProxyNeighbour) and o.dev},
        wireguard={o.ifname for o in objs if isinstance(o, d.WireGuardDevice)},
        desired=want,
    )


def observe(want: Wanted) -> d.Observed:
    want = desired_of(want)
    return backend().observe(scope_for(want))


def observe_with_lossy_dump(want: Wanted, drop: str) -> d.Observed:
    """Observe while the proxy dump skips ``drop`` (as a dump racing other namespaces can).

    The cache is invalidated first, so this observe really dumps (a cached one would not).
    """
    want = desired_of(want)
    from routerd.backends.linux import neighbours

    real = neighbours.dump

    def lossy(sock: Any) -> list[Any]:
        return [e for e in real(sock) if e.address != drop]

    neighbours.dump = lossy
    try:
        backend().cache.invalidate()
        return observe(want)
    finally:
        neighbours.dump = real


def observe_uncached(want: Wanted) -> d.Observed:
    want = desired_of(want)
    return backend().observe_uncached(scope_for(want))


def cache_mismatch(want: Wanted) -> str | None:
    """None when the cached observe equals a full read; else what differs (a few keys)."""
    want = desired_of(want)
    scope = scope_for(want)
    cached = backend().observe(scope)
    full = backend().observe_uncached(scope)
    problems = [
        f"{key}: cached {cached.objects.get(key)} vs full {full.objects.get(key)}"
        for key in sorted(cached.objects.keys() | full.objects.keys())
        if cached.objects.get(key) != full.objects.get(key)
    ]
    problems += [f"owned only in cached: {k}" for k in sorted(cached.owned - full.owned)]
    problems += [f"owned only in full: {k}" for k in sorted(full.owned - cached.owned)]
    if cached.links != full.links:
        problems.append(f"links: cached {cached.links} vs full {full.links}")
    return "; ".join(problems[:6]) if problems else None


def plan(want: Wanted) -> list[str]:
    """What the engine would change now (nothing is applied)."""
    want = desired_of(want)
    return [c.describe() for c in diff(want, observe(want))]


def reconcile(want: Wanted) -> list[tuple[str, bool, str]]:
    """One pass: observe, diff, apply; returns (change, ok, error) per change."""
    want = desired_of(want)
    changes = diff(want, observe(want))
    results = backend().apply(changes)
    return [(c.describe(), r.ok, r.error) for c, r in zip(changes, results, strict=True)]


def apply(changes: list[Change]) -> list[tuple[bool, str, int | None]]:
    return [(r.ok, r.error, r.errno) for r in backend().apply(changes)]


def build_through_registry(state_dir: str) -> tuple[str, bool]:
    """``registry.create("linux")`` as ``routerd serve`` does it; closed again at once."""
    from routerd.backends.linux import factory
    from routerd.daemon import registry

    b = registry.create("linux", config=None, store=None, state_dir=Path(state_dir))  # type: ignore[arg-type]
    name = type(b).__name__
    b.close()
    return name, factory.in_own_netns_of_init()


def conforms_to_port() -> bool:
    from routerd.core.port import DataplaneBackend

    return isinstance(backend(), DataplaneBackend) and backend().name == "linux"


def stats() -> dict[str, int]:
    out = backend().stats()
    out["on_change"] = STATE["changes"]
    return out


def start_loop(want: Wanted) -> None:
    """Reconcile ``want`` every time on_change fires (never periodically)."""
    want = desired_of(want)
    STATE["want"] = want

    def run() -> None:
        while not STATE.get("stop_loop"):
            if not STATE["kick"].wait(0.2):
                continue
            STATE["kick"].clear()
            changes = reconcile(STATE["want"])
            STATE["passes"].append((time.monotonic(), changes))

    STATE["loop"] = threading.Thread(target=run, daemon=True)
    STATE["loop"].start()


def set_loop_desired(want: Wanted) -> None:
    want = desired_of(want)
    STATE["want"] = want


def loop_passes() -> list[tuple[float, list[tuple[str, bool, str]]]]:
    return list(STATE["passes"])


def verify(checks: list[PathCheck]) -> dict[str, Any]:
    return backend().verify(checks)


def reannounced() -> list[tuple[str, str, int]]:
    """(device, new MAC, addresses announced) per capture-interface MAC change seen."""
    return list(backend().reannounced)


def set_probe_wait(seconds: float) -> None:
    """How long ``verify`` waits for a first overlay probe (0: never waits)."""
    backend().probes.wait = seconds


def send_garp(address: str, dev: str, to: str = "") -> None:
    garp = d.Garp(address, dev, to)
    (result,) = backend().apply([Change("announce", garp.key, new=garp)])
    assert result.ok, result.error


def wg_records() -> dict[str, str]:
    return STATE["store"].owned("wireguard-go")


def close_backend(*, cleanup: bool) -> None:
    STATE["stop_loop"] = True
    backend().close(cleanup=cleanup)


# -- helpers for traffic tests (no backend involved) --------------------------------------------

ETH_P_ALL = 0x0003


def open_capture(ifname: str) -> None:
    """Start capturing on ``ifname`` before the traffic is sent."""
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    s.bind((ifname, 0))
    s.settimeout(0.5)
    STATE.setdefault("captures", {})[ifname] = s


def tcp_mss_seen(ifname: str, *, syn_ack: bool, timeout: float = 10.0) -> int | None:
    """The MSS option of the first captured SYN (or SYN-ACK) on ``ifname``."""
    s = STATE["captures"][ifname]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            frame = s.recv(65535)
        except TimeoutError:
            continue
        mss = _syn_mss(frame, syn_ack=syn_ack)
        if mss is not None:
            return mss
    return None


def _syn_mss(frame: bytes, *, syn_ack: bool) -> int | None:
    if len(frame) < 54 or frame[12:14] != b"\x08\x00" or frame[23] != 6:
        return None
    ihl = (frame[14] & 0x0F) * 4
    tcp = frame[14 + ihl :]
    flags = tcp[13]
    if not flags & 0x02 or bool(flags & 0x10) != syn_ack:
        return None
    offset = (tcp[12] >> 4) * 4
    opts, i = tcp[20:offset], 0
    while i < len(opts):
        kind = opts[i]
        if kind == 0:
            break
        if kind == 1:
            i += 1
            continue
        if kind == 2:
            return int(struct.unpack("!H", opts[i + 2 : i + 4])[0])
        i += opts[i + 1]
    return None


def listen(address: str, port: int) -> None:
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((address, port))
    s.listen(4)
    STATE["listener"] = s


def connect(address: str, port: int) -> None:
    with socket.create_connection((address, port), timeout=10):
        pass


def tcp_connect_ok(address: str, port: int) -> bool:
    try:
        connect(address, port)
    except OSError:
        return False
    return True


def drain() -> dict[str, Any]:
    """What the backend says drifted since the last call."""
    drift = backend().drain()
    return {"keys": sorted(drift.keys), "everything": drift.everything}


def observe_keys(want: Wanted, keys: list[d.Key]) -> d.Observed:
    """An observation of only ``keys`` (a scoped pass's)."""
    scope = scope_for(want)
    scope.keys = frozenset(keys)
    return backend().observe(scope)
