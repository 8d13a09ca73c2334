"""Measurement agents that run inside ``NetnsWorker`` children (VM, monitor, reflector).

Each agent is a thread in the worker, started by one call and collected by another, so the
lab's own process stays single-threaded (it forks workers) and every timestamp is
``CLOCK_MONOTONIC``, one clock for all namespaces:

* ``Prober``: ICMP echo to many targets at a fixed interval from a raw socket, each reply
  matched to its request (target index and sequence in the payload). ``mark(t)`` makes a
  target stop once it has answered a request sent after ``t`` (a handover needs no more).
* ``Stream``: a TCP connection that sends a numbered record every interval and expects it
  echoed back in order (``serve`` is the echo end): a reset or a hole fails it.
* ``Sweeper``: ARP requests for every target each round from the segment's monitor, and
  every MAC that answered each target in that round (two MACs: two responders).
* ``RRPoller``: the reflector's table (``birdc show route all``) every interval: which sites
  originate each address at which sequence.

The module functions are the worker-side API (``start_*``, ``collect``).
"""

from __future__ import annotations

import contextlib
import random
import select
import socket
import struct
import subprocess
import threading
import time
from typing import Any

from routerd.backends.linux import garp
from tests.support.netns import STATE

from .mobmeasure import parse_bird_routes

_ECHO = struct.Struct("!BBHHH")
_PAYLOAD = struct.Struct("!HI")
_ARP = struct.Struct("!6s6sHHHBBH6s4s6s4s")
ETH_P_ARP = 0x0806


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def echo_request(ident: int, index: int, seq: int) -> bytes:
    payload = _PAYLOAD.pack(index, seq) + b"routerd-lab-probe"
    header = _ECHO.pack(8, 0, 0, ident, seq & 0xFFFF)
    return _ECHO.pack(8, 0, _checksum(header + payload), ident, seq & 0xFFFF) + payload


class Agent:
    """A thread-backed measurement; ``stop`` ends it and returns its data."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def _spawn(self, fn: Any) -> None:
        t = threading.Thread(target=fn, daemon=True)
        t.start()
        self._threads.append(t)

    def stop(self) -> Any:
        self._stop.set()
        for t in self._threads:
            t.join(10)
        return self.result()

    def result(self) -> Any:
        raise NotImplementedError


class Prober(Agent):
    """ICMP echo trains (module docstring)."""

    def __init__(self, targets: list[str], interval: float) -> None:
        super().__init__()
        self.targets = targets
        self.interval = interval
        self.ident = random.randrange(1, 0xFFFF)
        self.sent: list[list[float]] = [[] for _ in targets]
        self.recv: list[dict[int, float]] = [{} for _ in targets]
        self.active = set(range(len(targets)))
        self.until: float | None = None
        self.send_errors = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        self._spawn(self._receive)
        self._spawn(self._send)

    def _send(self) -> None:
        due = time.monotonic()
        while not self._stop.is_set():
            for i in sorted(self.active):
                seq = len(self.sent[i])
                self.sent[i].append(time.monotonic())
                try:
                    self.sock.sendto(echo_request(self.ident, i, seq), (self.targets[i], 0))
                except OSError:
                    self.send_errors += 1
            due += self.interval
            time.sleep(max(0.0, due - time.monotonic()))

    def _receive(self) -> None:
        while not self._stop.is_set():
            if not select.select([self.sock], [], [], 0.2)[0]:
                continue
            data = self.sock.recv(2048)
            now = time.monotonic()
            ihl = (data[0] & 0x0F) * 4
            if len(data) < ihl + 14:
                continue
            kind, _, _, ident, _ = _ECHO.unpack_from(data, ihl)
            if kind != 0 or ident != self.ident:
                continue
            index, seq = _PAYLOAD.unpack_from(data, ihl + 8)
            if index >= len(self.targets) or seq >= len(self.sent[index]):
                continue
            self.recv[index].setdefault(seq, now)
            if self.until is not None and self.sent[index][seq] >= self.until:
                self.active.discard(index)

    def result(self) -> dict[str, Any]:
        self.sock.close()
        return {
            "targets": self.targets,
            "sent": self.sent,
            "recv": self.recv,
            "send_errors": self.send_errors,
        }


class Stream(Agent):
    """A TCP stream of numbered 32-byte records, echoed by the far end."""

    RECORD = struct.Struct("!Q24x")

    def __init__(self, address: str, port: int, interval: float) -> None:
        super().__init__()
        self.interval = interval
        self.sent = 0
        self.echoed = 0
        self.errors: list[str] = []
        self.last_echo = time.monotonic()
        self.max_gap = 0.0
        self.sock = socket.create_connection((address, port), timeout=5)
        self.sock.settimeout(None)
        self._spawn(self._send)
        self._spawn(self._receive)

    def _send(self) -> None:
        while not self._stop.is_set():
            try:
                self.sock.sendall(self.RECORD.pack(self.sent))
            except OSError as exc:
                self.errors.append(f"send: {exc}")
                return
            self.sent += 1
            self._stop.wait(self.interval)

    def _receive(self) -> None:
        buf = b""
        deadline = None
        while True:
            if self._stop.is_set():
                deadline = deadline or time.monotonic() + 5
                if self.echoed >= self.sent or time.monotonic() > deadline:
                    return
            if not select.select([self.sock], [], [], 0.1)[0]:
                continue
            try:
                data = self.sock.recv(65536)
            except OSError as exc:
                self.errors.append(f"receive: {exc}")
                return
            if not data:
                self.errors.append("connection closed by the far end")
                return
            buf += data
            while len(buf) >= self.RECORD.size:
                (n,) = self.RECORD.unpack_from(buf)
                buf = buf[self.RECORD.size :]
                if n != self.echoed:
                    self.errors.append(f"record {n} arrived where {self.echoed} was due")
                self.echoed += 1
                now = time.monotonic()
                self.max_gap = max(self.max_gap, now - self.last_echo)
                self.last_echo = now

    def result(self) -> dict[str, Any]:
        with contextlib.suppress(OSError):
            self.sock.close()
        return {
            "sent": self.sent,
            "echoed": self.echoed,
            "errors": self.errors,
            "max_gap": self.max_gap,
        }


def _echo_server(address: str, port: int, ready: threading.Event) -> None:
    with socket.create_server((address, port)) as srv:
        ready.set()
        while True:
            conn, _ = srv.accept()
            threading.Thread(target=_echo, args=(conn,), daemon=True).start()


def _echo(conn: socket.socket) -> None:
    with conn:
        while data := conn.recv(65536):
            conn.sendall(data)


class Sweeper(Agent):
    """ARP sweeps of a segment from its monitor (module docstring)."""

    def __init__(self, dev: str, source: str, targets: list[str], interval: float) -> None:
        super().__init__()
        self.targets = {socket.inet_aton(t): t for t in targets}
        self.interval = interval
        self.rounds: list[tuple[float, dict[str, tuple[str, ...]]]] = []
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP))
        self.sock.bind((dev, ETH_P_ARP))
        self.mac = self.sock.getsockname()[4]
        self.src = socket.inet_aton(source)
        self._spawn(self._run)

    def _request(self, target: bytes) -> bytes:
        return _ARP.pack(
            b"\xff" * 6,
            self.mac,
            ETH_P_ARP,
            1,
            0x0800,
            6,
            4,
            1,
            self.mac,
            self.src,
            b"\0" * 6,
            target,
        )

    def _run(self) -> None:
        while not self._stop.is_set():
            start = time.monotonic()
            seen: dict[str, set[str]] = {}
            for target in self.targets:
                with contextlib.suppress(OSError):
                    self.sock.send(self._request(target))
            end = start + self.interval
            while (left := end - time.monotonic()) > 0:
                if not select.select([self.sock], [], [], left)[0]:
                    continue
                frame = self.sock.recv(128)
                if len(frame) < _ARP.size:
                    continue
                f = _ARP.unpack_from(frame)
                if f[2] != ETH_P_ARP or f[7] != 2 or f[9] not in self.targets:
                    continue
                seen.setdefault(self.targets[f[9]], set()).add(f[8].hex(":"))
            self.rounds.append((start, {a: tuple(sorted(m)) for a, m in seen.items()}))

    def result(self) -> list[tuple[float, dict[str, tuple[str, ...]]]]:
        self.sock.close()
        return self.rounds


class RRPoller(Agent):
    """The reflector's table every ``interval`` (module docstring)."""

    def __init__(self, ctl: str, interval: float) -> None:
        super().__init__()
        self.ctl = ctl
        self.interval = interval
        self.samples: list[tuple[float, dict[str, tuple[tuple[int, int], ...]]]] = []
        self._spawn(self._run)

    def _run(self) -> None:
        while not self._stop.is_set():
            t = time.monotonic()
            out = subprocess.run(
                ["birdc", "-s", self.ctl, "show", "route", "all"],
                capture_output=True,
                text=True,
                check=False,
            ).stdout
            self.samples.append((t, parse_bird_routes(out)))
            self._stop.wait(max(0.0, t + self.interval - time.monotonic()))

    def result(self) -> list[tuple[float, dict[str, tuple[tuple[int, int], ...]]]]:
        return self.samples


# -- the worker-side API ---------------------------------------------------------------------


def _agents() -> dict[str, Agent]:
    agents: dict[str, Agent] = STATE.setdefault("agents", {})
    return agents


def start_prober(name: str, targets: list[str], interval: float) -> None:
    _agents()[name] = Prober(targets, interval)


def mark(name: str, at: float) -> None:
    """Targets of prober ``name`` stop once they answered a request sent after ``at``."""
    prober = _agents()[name]
    assert isinstance(prober, Prober)
    prober.until = at


def start_stream(name: str, address: str, port: int, interval: float) -> None:
    _agents()[name] = Stream(address, port, interval)


def serve_echo(address: str, port: int) -> None:
    ready = threading.Event()
    threading.Thread(target=_echo_server, args=(address, port, ready), daemon=True).start()
    if not ready.wait(5):
        raise TimeoutError(f"echo server on {address}:{port} did not start")


def start_sweeper(name: str, dev: str, source: str, targets: list[str], interval: float) -> None:
    _agents()[name] = Sweeper(dev, source, targets, interval)


def start_rr_poller(name: str, ctl: str, interval: float) -> None:
    _agents()[name] = RRPoller(ctl, interval)


def collect(name: str) -> Any:
    """Stop agent ``name`` and return its data."""
    return _agents().pop(name).stop()


def announce(dev: str, addresses: list[str]) -> float:
    """Gratuitous ARP for ``addresses`` from this host (a VM after migration); the moment
    just before the first frame left."""
    t = time.monotonic()
    garp.send_many(addresses, dev)
    return t
