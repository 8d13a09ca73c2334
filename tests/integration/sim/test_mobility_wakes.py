"""Nothing in a handover waits for a timer: each event wakes the engine, and the pass it
wakes does the work.

The daemon's ``MobilityRuntime`` runs for router ``ra`` of the three-site world (site A,
on-prem) over the real engine and ``SimBackend``, with a route exchange the test drives (a
gobgpd watch calls ``on_change`` when a path is learned, which is what this one does) and no
presence source. The engine's ``wake`` is counted; the clock does not move between the event
and the pass, so work that waited for a timer or a later full pass would be missing:

* a path learned from another site wakes the engine, and that one pass derives the claim and
  applies it (the address is captured and routed into the tunnel);
* a ``MoveAddress`` request wakes the engine, and that one pass originates the address with
  a higher sequence (the speaker is synced in the same pass) and releases the capture this
  router held for the old home;
* the moves' log lines are written after that pass applied the release (from the engine's
  listener, as the daemon's mobility component calls ``log_moves``), not before it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType

import pytest

from routerd.backends.sim import SimBackend
from routerd.backends.sim.segment import arp_answer
from routerd.core.engine import Engine, EngineSettings
from routerd.core.exchange import (
    ExchangeView,
    ImportPolicy,
    LearnedPath,
    Origination,
    SessionState,
    SpeakerSettings,
)
from routerd.core.mobility.port import MemoryMobilityStore
from routerd.daemon.mobility_port import ControllerPort
from routerd.daemon.mobility_presence import PresenceFeed
from routerd.daemon.mobility_runtime import FIRST_VIEW_WAIT, MobilityRuntime
from routerd.keys import KeyFiles
from tests.support import configs
from tests.support import mobility_world as mw

pytestmark = pytest.mark.integration

VM = "10.77.0.22"
RR = "10.255.0.1"
CLAIM = "mobility.lab.10-77-0-22"


class Exchange:
    """A route exchange whose learned paths the test sets; ``learn`` calls ``on_change`` at
    once, as the gobgpd watcher does for every Adj-RIB-In update."""

    def __init__(self) -> None:
        self.paths: dict[str, tuple[LearnedPath, ...]] = {}
        self.synced: list[dict[str, Origination]] = []
        self.on_change: Callable[[], None] = lambda: None

    def start(self, on_change: Callable[[], None]) -> None:
        self.on_change = on_change

    def learn(self, path: LearnedPath) -> None:
        self.paths[path.address] = (path,)
        self.on_change()

    def sync(self, originations: Mapping[str, Origination]) -> list[str]:
        self.synced.append(dict(originations))
        return []

    def view(self) -> ExchangeView:
        last = self.synced[-1] if self.synced else {}
        return ExchangeView(
            paths=MappingProxyType(dict(self.paths)),
            sessions=MappingProxyType({RR: SessionState(RR, "established", 0.0)}),
            originated=MappingProxyType(last),
        )

    def close(self, *, cleanup: bool) -> None:
        del cleanup


@pytest.fixture
def rig(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Name: rig / Scope: function / Depends: tmp_path. (world, engine, runtime, exchange,
    wakes): the runtime wired as the daemon wires it, after its first pass."""
    world, _control, clock = mw.build()
    text = configs.without_gateway((configs.EXAMPLES / "mobility" / "site-a.yaml").read_text())
    config = configs.load(configs.with_keys(text, tmp_path / "keys"))
    settings = EngineSettings(key_dir=str(tmp_path / "keys"), keys_in_key_dir=True)
    engine = Engine(
        SimBackend(world, "ra"), config, settings=settings, clock=clock, keys=KeyFiles()
    )
    exchange = Exchange()
    wakes: list[str] = []

    def wake() -> None:
        wakes.append("wake")
        engine.wake()

    def exchange_for(settings: SpeakerSettings, policy: ImportPolicy) -> Exchange:
        del settings, policy
        return exchange

    rt = MobilityRuntime(
        config,
        MemoryMobilityStore(),
        engine.backend,
        exchange_for,  # type: ignore[arg-type]
        PresenceFeed(None),
        clock=clock,
        wake=wake,
    )
    engine.add_claim_source(rt.source)
    engine.listeners.append(lambda snapshot, records: rt.log_moves())  # as the component
    rt.start()
    engine.run_pass()
    wakes.clear()
    yield world, engine, rt, exchange, wakes
    rt.close(cleanup=True)
    engine.close()


def test_a_learned_path_wakes_the_engine_and_is_applied_in_that_pass(rig) -> None:
    world, engine, _rt, exchange, wakes = rig
    host = world.hosts["ra"]

    exchange.learn(LearnedPath(VM, 2, 1, "10.255.0.21", RR, "10.255.0.21"))
    assert wakes, "a learned path must wake the engine, not wait for its next timer"
    engine.run_pass()

    assert engine.snapshot.claims[CLAIM].origin == "mobility"
    assert arp_answer(host, "ens19", VM) == "proxy"
    assert [r.dev for r in host.fib.routes_for(f"{VM}/32")] == ["wg-mob"]


def test_a_move_request_wakes_the_engine_and_is_stepped_in_that_pass(rig) -> None:
    world, engine, rt, exchange, wakes = rig
    host = world.hosts["ra"]
    exchange.learn(LearnedPath(VM, 2, 4, "10.255.0.21", RR, "10.255.0.21"))
    engine.run_pass()
    assert arp_answer(host, "ens19", VM) == "proxy"
    wakes.clear()
    synced = len(exchange.synced)

    results = ControllerPort(rt).move([VM], "site-a", "cutover")
    assert [r.status for r in results] == ["queued"]
    assert wakes, "a move request must wake the engine"
    engine.run_pass()

    assert len(exchange.synced) > synced  # the speaker heard of it in that pass
    assert exchange.synced[-1][VM].sequence == 5  # above the old home's 4
    assert CLAIM not in engine.snapshot.claims
    assert arp_answer(host, "ens19", VM) is None  # the old home's capture is released
    assert host.fib.routes_for(f"{VM}/32") == []


def test_a_moves_log_lines_follow_the_dataplane_change_it_caused(rig, caplog) -> None:
    world, engine, rt, exchange, _wakes = rig
    host = world.hosts["ra"]
    exchange.learn(LearnedPath(VM, 2, 4, "10.255.0.21", RR, "10.255.0.21"))
    engine.run_pass()
    events: list[str] = []
    apply = engine.backend.apply

    def recording_apply(changes):  # type: ignore[no-untyped-def]
        if any(c.op == "remove" for c in changes):
            events.append("release applied")
        return apply(changes)

    engine.backend.apply = recording_apply  # type: ignore[method-assign]

    class Handler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if "address moved" in record.getMessage() and "cause=explicit" in record.getMessage():
                events.append("logged")

    handler = Handler()
    caplog.set_level(logging.INFO, logger="routerd.daemon.mobility_runtime")
    logging.getLogger("routerd.daemon.mobility_runtime").addHandler(handler)
    try:
        ControllerPort(rt).move([VM], "site-a", "cutover")
        engine.run_pass()
    finally:
        logging.getLogger("routerd.daemon.mobility_runtime").removeHandler(handler)
    assert arp_answer(host, "ens19", VM) is None
    assert events == ["release applied", "logged"]


class SlowExchange(Exchange):
    """A speaker adopted after a restart: it kept a learned path, and its tables are read
    on the watcher's thread a moment after ``start``."""

    def __init__(self, path: LearnedPath, delay: float) -> None:
        super().__init__()
        self.kept, self.delay, self.read = path, delay, threading.Event()

    def start(self, on_change: Callable[[], None]) -> None:
        super().start(on_change)

        def read_tables() -> None:
            time.sleep(self.delay)
            self.paths[self.kept.address] = (self.kept,)
            self.read.set()
            self.on_change()

        threading.Thread(target=read_tables, daemon=True).start()

    def view(self) -> ExchangeView:
        return replace(super().view(), connected=self.read.is_set())


@pytest.mark.parametrize("wait", [FIRST_VIEW_WAIT, 0.0], ids=["waits", "does-not-wait"])
def test_a_restarted_router_s_first_pass_sees_what_its_speaker_kept(
    tmp_path: Path, wait: float
) -> None:
    world, _control, clock = mw.build()
    text = configs.without_gateway((configs.EXAMPLES / "mobility" / "site-a.yaml").read_text())
    config = configs.load(configs.with_keys(text, tmp_path / "keys"))
    settings = EngineSettings(key_dir=str(tmp_path / "keys"), keys_in_key_dir=True)
    backend = SimBackend(world, "ra")
    engine = Engine(backend, config, settings=settings, clock=clock, keys=KeyFiles())
    exchange = SlowExchange(LearnedPath(VM, 2, 1, "10.255.0.21", RR, "10.255.0.21"), 0.2)
    rt = MobilityRuntime(
        config,
        MemoryMobilityStore(),
        engine.backend,
        lambda settings, policy: exchange,  # type: ignore[arg-type,return-value]
        PresenceFeed(None),
        clock=clock,
        wake=engine.wake,
    )
    engine.add_claim_source(rt.source)
    try:
        rt.start(first_view_wait=wait)
        engine.run_pass()
        first = CLAIM in engine.snapshot.claims
    finally:
        rt.close(cleanup=True)
        engine.close()
    # Without the wait the first pass has no derived claim: it would release the route and
    # capture a restarted router had in place, and install them again a pass later.
    assert first is (wait > 0)
