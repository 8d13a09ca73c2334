"""Presence in namespaces: the segment topology, and functions run inside NetnsWorker children.

Router side (``open_presence`` ... ``close_presence``): a ``LinuxPresence`` in the router's
namespace with a collector thread playing the engine: woken by ``on_event``, it drains and
records each piece of evidence with the moment ``drain()`` returned it. Host side
(``send_garp``, ``send_rarp``): frames built by hand on an ``AF_PACKET`` socket, returning
the moment just before ``send`` (``CLOCK_MONOTONIC`` is one clock for every namespace).

Topology (``segment``): the router namespace holds a bridge (the capture segment, as on a
hypervisor) with address 10.40.8.1/24; each host namespace hangs off it by a veth with a
fixed MAC and its addresses.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

from routerd.backends.linux import presence_frames as pf
from routerd.backends.linux.presence import LinuxPresence
from routerd.core.presence import PresenceEvidence
from tests.support.netns import STATE, Netns, veth

ROUTER_IP = "10.40.8.1"


@dataclass
class Host:
    ns: Netns
    dev: str  # the host's interface
    port: str  # its bridge port in the router namespace
    mac: str
    addresses: tuple[str, ...]


def bridge(r: Netns, name: str, address: str = ROUTER_IP) -> None:
    """A bridge in the router namespace holding the router's segment address."""
    r.ip("link", "add", name, "type", "bridge")
    r.ip("link", "set", name, "up")
    if address:
        r.ip("addr", "add", f"{address}/24", "dev", name)


def attach(
    r: Netns, br: str, ns: Netns, port: str, dev: str, mac: str, addresses: tuple[str, ...]
) -> Host:
    """A host namespace on the bridge with a fixed MAC and its addresses (/24)."""
    veth(r, port, ns, dev)
    r.ip("link", "set", port, "master", br)
    ns.ip("link", "set", dev, "address", mac)
    for a in addresses:
        ns.ip("addr", "add", f"{a}/24", "dev", dev)
    return Host(ns, dev, port, mac, addresses)


# -- router side (inside the router's worker) ----------------------------------------------


def open_presence(*, collect: bool = True, queue_limit: int = 65536) -> None:
    """Start a LinuxPresence; with ``collect``, a thread drains it whenever it signals."""
    wake = threading.Event()
    signals: list[float] = []

    def on_event() -> None:
        signals.append(time.monotonic())
        wake.set()

    p = LinuxPresence(queue_limit=queue_limit)
    got: list[tuple[PresenceEvidence, float]] = []
    cv = threading.Condition()
    stop = threading.Event()
    STATE.update(presence=p, got=got, cv=cv, stop=stop, signals=signals, wake=wake)
    p.start(on_event)
    if collect:
        t = threading.Thread(target=_collect, args=(p, wake, got, cv, stop), daemon=True)
        STATE["collector"] = t
        t.start()


def _collect(
    p: LinuxPresence,
    wake: threading.Event,
    got: list[tuple[PresenceEvidence, float]],
    cv: threading.Condition,
    stop: threading.Event,
) -> None:
    while not stop.is_set():
        if not wake.wait(0.2):
            continue
        wake.clear()
        items = p.drain()
        done = time.monotonic()
        with cv:
            got.extend((e, done) for e in items)
            cv.notify_all()


def watch(interface: str, addresses: list[str], ignore_macs: tuple[str, ...] = ()) -> None:
    STATE["presence"].watch(interface, addresses, ignore_macs=ignore_macs)


def probe(interface: str, addresses: list[str]) -> tuple[float, float]:
    """Send probes; (wall seconds, this thread's CPU seconds) spent in ``probe``."""
    c0, t0 = time.thread_time(), time.monotonic()
    STATE["presence"].probe(interface, addresses)
    return time.monotonic() - t0, time.thread_time() - c0


def taken() -> list[tuple[PresenceEvidence, float]]:
    """Everything collected so far (and forget it)."""
    with STATE["cv"]:
        out = list(STATE["got"])
        STATE["got"].clear()
    return out


def wait_for(
    count: int, timeout: float, kind: str | None = None
) -> list[tuple[PresenceEvidence, float]]:
    """Wait until ``count`` pieces of evidence (of ``kind``) were collected; take them all."""
    deadline = time.monotonic() + timeout
    cv: threading.Condition = STATE["cv"]
    with cv:
        while True:
            n = sum(1 for e, _ in STATE["got"] if kind is None or e.kind == kind)
            left = deadline - time.monotonic()
            if n >= count or left <= 0:
                break
            cv.wait(left)
        out = list(STATE["got"])
        STATE["got"].clear()
    return out


def drain_now() -> list[PresenceEvidence]:
    """Drain from the caller (for a presence opened without a collector)."""
    out: list[PresenceEvidence] = STATE["presence"].drain()
    return out


def presence_call(name: str, *args: Any) -> Any:
    """Call a LinuxPresence method and return its result (``lost``, ``own_macs``)."""
    return getattr(STATE["presence"], name)(*args)


def presence_stats() -> dict[str, int]:
    return dict(STATE["presence"].stats)


def signalled() -> int:
    return len(STATE["signals"])


def cpu_seconds() -> float:
    """CPU time of the whole worker process (every thread: the reader included)."""
    return time.process_time()


def close_presence() -> None:
    STATE["stop"].set()
    STATE["presence"].close()
    t = STATE.get("collector")
    if t is not None:
        t.join(2)


# -- host side (inside a host's worker) ----------------------------------------------------


def _send(dev: str, build: Any) -> float:
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(pf.ETH_P_ARP)) as s:
        s.bind((dev, pf.ETH_P_ARP))
        mac = s.getsockname()[4]
        raw = build(mac)
        t = time.monotonic()
        s.send(raw)
    return t


def send_garp(dev: str, address: str) -> float:
    """A gratuitous ARP request for ``address`` from ``dev``; when it was sent."""
    ip = socket.inet_aton(address)

    def build(mac: bytes) -> bytes:
        head = pf.BROADCAST + mac + b"\x08\x06" + bytes.fromhex("0001 0800 0604 0001")
        return head + mac + ip + pf.BROADCAST + ip + pf.PAD

    return _send(dev, build)


def send_rarp(dev: str) -> float:
    """A RARP request as a hypervisor sends it for a resumed VM (MAC only, no address)."""

    def build(mac: bytes) -> bytes:
        head = pf.BROADCAST + mac + b"\x80\x35" + bytes.fromhex("0001 0800 0604 0003")
        return head + mac + pf.ZERO_IP + mac + pf.ZERO_IP + pf.PAD

    return _send(dev, build)
