"""Item 6: the gRPC API under load, through a real ``routerd serve`` on a temp Unix socket.

The daemon runs as its own process (``routerd serve --backend sim``), as in production: the
bench's 50 watcher threads must not share the daemon's interpreter (and its GIL), or the
figure would measure the bench. The sim backend needs no root; with the bench's config the
claims verify in the same pass that applies them (no peer to probe, a route to look up).

* List: ``ListClaims`` with N claims present, median of ``LIST_CALLS`` calls; baseline: the
  protobuf floor, serializing and parsing the same response in-process.
* Watch fan-out: ``WATCHERS`` streams opened on an empty daemon, then a reload (SIGHUP) to
  the N-claim config; each watcher must end up holding every journaled sequence number from
  1 to the head, exactly once. A watcher that routerd disconnects for falling behind resumes
  from the sequence it is told (what ``routerctl watch`` does); such resumes are counted
  and are not losses. A watcher refused outright loses every event.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc

from bench.claims import Names, config_text
from bench.result import Result, Target
from routerd.cli.ctl_client import resume_point
from routerd.v1 import claims_pb2, claims_pb2_grpc, status_pb2, status_pb2_grpc

WATCHERS = 50
LIST_CALLS = 5
LIST_TARGET = Target("value", "<", 1.0, "s")
LOSS_TARGET = Target("value", "==", 0, "events")
SETTLE_TIMEOUT = 600.0
NAMES = Names("bcap0", "bov0")


class Watcher(threading.Thread):
    """One ``WatchClaims`` stream from sequence 0, resuming the way ``routerctl watch`` does."""

    def __init__(self, channel: grpc.Channel) -> None:
        super().__init__(daemon=True)
        self.stub = claims_pb2_grpc.ClaimServiceStub(channel)
        self.seqs: set[int] = set()
        self.duplicates = 0
        self.resumes = 0
        self.refused = ""
        self.call: grpc.Future | None = None
        self.stop = threading.Event()

    def run(self) -> None:
        since = 0
        while not self.stop.is_set():
            self.call = self.stub.WatchClaims(claims_pb2.WatchClaimsRequest(since_seq=since))
            try:
                for e in self.call:
                    if e.seq in self.seqs:
                        self.duplicates += 1
                    self.seqs.add(e.seq)
                    since = e.seq
                return
            except grpc.RpcError as e:
                resume = resume_point(e)
                if e.code() is grpc.StatusCode.RESOURCE_EXHAUSTED and resume is not None:
                    self.resumes += 1
                    since = resume
                    continue
                if not self.stop.is_set():
                    self.refused = f"{e.code().name}: {e.details()}"
                return

    def close(self) -> None:
        self.stop.set()
        if self.call is not None:
            self.call.cancel()


def _wait(check: Callable[[], bool], timeout: float, what: str) -> float:
    t0 = time.monotonic()
    while not check():
        if time.monotonic() - t0 > timeout:
            raise TimeoutError(f"{what} not reached in {timeout:.0f}s")
        time.sleep(0.05)
    return time.monotonic() - t0


class Daemon:
    """``routerd serve --backend sim`` in a temp dir, stopped by PID."""

    def __init__(self, tmp: Path) -> None:
        self.config = tmp / "router.yaml"
        self.config.write_text(config_text("proxy-arp", 0, NAMES))
        self.socket = str(tmp / "routerd.sock")
        self.log = (tmp / "routerd.log").open("w")
        argv = [sys.executable, "-m", "routerd.cli.routerd_main", "serve", "-c", str(self.config)]
        argv += ["--backend", "sim", "--state-dir", str(tmp / "state"), "--socket", self.socket]
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT)
        self.channel = grpc.insecure_channel(
            f"unix:{self.socket}", options=[("grpc.max_receive_message_length", 256 << 20)]
        )
        self.status = status_pb2_grpc.StatusServiceStub(self.channel)
        _wait(self._serving, 60, "routerd serving its first pass")

    def _serving(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"routerd exited with {self.proc.returncode}")
        try:
            status: status_pb2.Status = self.status.GetStatus(
                status_pb2.GetStatusRequest(), timeout=2
            )
            return status.pass_count > 0
        except grpc.RpcError:
            return False

    def get_status(self) -> status_pb2.Status:
        status: status_pb2.Status = self.status.GetStatus(status_pb2.GetStatusRequest(), timeout=30)
        return status

    def reload(self, n: int) -> None:
        self.config.write_text(config_text("proxy-arp", n, NAMES))
        os.kill(self.proc.pid, signal.SIGHUP)

    def close(self) -> None:
        self.channel.close()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def _verified(d: Daemon, n: int) -> Callable[[], bool]:
    return lambda: d.get_status().claim_counts.get("verified", 0) == n


def _fanout(d: Daemon, n: int, watchers: list[Watcher]) -> dict[str, Any]:
    t0 = time.monotonic()
    d.reload(n)
    settled = _wait(_verified(d, n), SETTLE_TIMEOUT, f"{n} claims verified")
    head = d.get_status().journal_seq
    live = [w for w in watchers if not w.refused]
    _wait(
        lambda: all(len(w.seqs) >= head or w.refused for w in live),
        SETTLE_TIMEOUT,
        "every watcher holding every event",
    )
    delivered = time.monotonic() - t0
    expected = set(range(1, head + 1))
    return {
        "head": head,
        "settled": settled,
        "delivered": delivered,
        "lost": sum(len(expected - w.seqs) for w in watchers),
        "duplicates": sum(w.duplicates for w in watchers),
        "resumes": sum(w.resumes for w in watchers),
        "refused": sum(1 for w in watchers if w.refused),
        "refusal": next((w.refused for w in watchers if w.refused), ""),
    }


def _list(d: Daemon, n: int) -> tuple[float, float]:
    stub = claims_pb2_grpc.ClaimServiceStub(d.channel)
    times, floors = [], []
    for _ in range(LIST_CALLS):
        t0 = time.perf_counter()
        resp = stub.ListClaims(claims_pb2.ListClaimsRequest(), timeout=60)
        times.append(time.perf_counter() - t0)
        if len(resp.claims) != n:
            raise RuntimeError(f"ListClaims returned {len(resp.claims)} of {n} claims")
        t0 = time.perf_counter()
        claims_pb2.ListClaimsResponse.FromString(resp.SerializeToString())
        floors.append(time.perf_counter() - t0)
    return statistics.median(times), statistics.median(floors)


def run(n: int) -> list[Result]:
    with tempfile.TemporaryDirectory(prefix="rdapi-", dir="/tmp") as tmp:
        d = Daemon(Path(tmp))
        watchers: list[Watcher] = []
        try:
            watchers = [Watcher(d.channel) for _ in range(WATCHERS)]
            for w in watchers:
                w.start()
            fan = _fanout(d, n, watchers)
            listed, floor = _list(d, n)
        finally:
            for w in watchers:
                w.close()
            d.close()
    return _results(n, fan, listed, floor)


def _results(n: int, fan: dict[str, Any], listed: float, floor: float) -> list[Result]:
    head = int(fan["head"])
    refused = int(fan["refused"])
    refusal = f"; {refused} watcher(s) refused: {fan['refusal']}" if refused else ""
    return [
        Result(
            f"api.list_claims.{n}",
            listed,
            "s",
            floor,
            LIST_TARGET,
            f"ListClaims of {n:,} claims over the Unix socket, median of {LIST_CALLS}; "
            "baseline: serializing + parsing the same response in-process",
        ),
        Result(
            f"api.watch_lost_events.{WATCHERS}",
            fan["lost"],
            "events",
            head * WATCHERS,
            LOSS_TARGET,
            f"{WATCHERS} watchers during a {n:,}-claim apply ({head:,} transitions each); "
            f"baseline: events owed in total; {int(fan['duplicates'])} duplicates; "
            f"{int(fan['resumes'])} resume(s) after routerd disconnected a watcher that fell "
            f"behind{refusal}",
        ),
        Result(
            f"api.watch_fanout_seconds.{WATCHERS}",
            fan["delivered"],
            "s",
            fan["settled"],
            note=f"from the reload until every watcher held all {head:,} events; baseline: "
            f"until the status showed all {n:,} claims verified (config load, one engine "
            "pass, journal)",
        ),
    ]
