"""Functions that run *inside* a NetnsWorker child and drive a GobgpExchange there.

The exchange lives in the child, so the gobgpd it starts belongs to the router's namespace.
Tests and the bench send these functions by reference and get plain data back (an
``ExchangeView`` holds mapping proxies, which do not pickle). ``STATE`` keeps the exchange,
a change counter and an event set by ``on_change``.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from routerd.bgp.gobgp import GobgpExchange
from routerd.bgp.supervisor import GobgpdSupervisor
from routerd.core.exchange import ImportPolicy, Origination, SpeakerSettings
from tests.support.netns import STATE


def open_exchange(
    settings: SpeakerSettings, policy: ImportPolicy, run_dir: str, log_path: str
) -> dict[str, Any]:
    """Create and start the exchange (adopting a running gobgpd); log to ``log_path``."""
    handler = logging.FileHandler(log_path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG)
    supervisor = GobgpdSupervisor(Path(run_dir))
    exchange = GobgpExchange(settings, policy, supervisor)
    changed = threading.Event()
    STATE.update(exchange=exchange, changed=changed, changes=0)

    def on_change() -> None:
        STATE["changes"] += 1
        changed.set()

    exchange.start(on_change)
    return {"pid": supervisor.pid(), "connected": exchange.connected, "error": exchange.error}


def exchange() -> GobgpExchange:
    ex: GobgpExchange = STATE["exchange"]
    return ex


def sync(originations: dict[str, Origination]) -> list[str]:
    return exchange().sync(originations)


def snapshot() -> dict[str, Any]:
    """The view as plain data."""
    v = exchange().view()
    return {
        "paths": {a: list(p) for a, p in v.paths.items()},
        "sessions": dict(v.sessions),
        "originated": dict(v.originated),
        "refused": list(v.refused),
        "refused_counts": dict(v.refused_counts),
        "connected": v.connected,
        "error": v.error,
        "changes": STATE["changes"],
    }


def wait_synced(timeout: float) -> bool:
    """Until the view reflects gobgpd (its tables read in full after a start)."""
    deadline = time.monotonic() + timeout
    while not exchange().view().connected:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def close(cleanup: bool) -> None:
    exchange().close(cleanup=cleanup)


def gobgpd_pid() -> int | None:
    return exchange().supervisor.pid()


def arm(count: int, sequence: int) -> None:
    """Start a thread that records when the view holds ``count`` addresses at ``sequence``
    (``count`` 0: when it holds none). ``armed`` returns that moment (monotonic)."""
    ex = exchange()
    changed: threading.Event = STATE["changed"]
    done = threading.Event()
    STATE.update(armed_at=None, armed_done=done)

    def reached() -> bool:
        paths = ex.view().paths
        if count == 0:
            return not paths
        if len(paths) < count:
            return False
        return sum(1 for p in paths.values() if any(x.sequence == sequence for x in p)) >= count

    def wait() -> None:
        while True:
            changed.clear()
            if reached():
                STATE["armed_at"] = time.monotonic()
                done.set()
                return
            changed.wait(1.0)

    threading.Thread(target=wait, daemon=True).start()


def armed(timeout: float) -> float | None:
    done: threading.Event = STATE["armed_done"]
    done.wait(timeout)
    at: float | None = STATE["armed_at"]
    return at


def timed_sync(originations: dict[str, Origination]) -> tuple[float, list[str]]:
    """``sync`` with the monotonic time it was called at."""
    t0 = time.monotonic()
    return t0, exchange().sync(originations)


def inject(originations: list[Origination]) -> None:
    """Announce paths through the raw API, bypassing ``sync`` and its checks: a peer that
    speaks for another site, or outside the domains, as a misconfigured router would."""
    import grpc

    from routerd.bgp import codec
    from routerd.bgp.gobgpapi import gobgp_pb2 as api
    from routerd.bgp.gobgpapi import gobgp_pb2_grpc as rpc

    ex = exchange()
    with grpc.insecure_channel(ex.supervisor.target) as channel:
        paths = [codec.announcement(o, ex.settings.asn) for o in originations]
        request = api.AddPathStreamRequest(table_type=api.TableType.GLOBAL, paths=paths)
        rpc.GobgpApiStub(channel).AddPathStream(iter([request]), timeout=10)
