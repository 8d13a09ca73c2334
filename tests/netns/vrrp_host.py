"""Functions that run *inside* a NetnsWorker child for the router-pair tests.

A router namespace's worker holds a ``KeepalivedRoleSource`` (routerd's side of the pair)
and records every role it reports with CLOCK_MONOTONIC (shared by all processes, so the
test can subtract the moment it injected a failure). It can also record when a virtual
address appears through netlink, to compare that signal with keepalived's FIFO. A client
namespace's worker runs an ARP sweep: a request for the virtual address every 10 ms and the
set of MACs answering each one.
"""

from __future__ import annotations

import logging
import select
import socket
import struct
import threading
import time
from pathlib import Path

from routerd.backends.linux import netlink_codec as nl
from routerd.backends.linux.addresses import decode
from routerd.core.redundancy import PairPlan
from routerd.redundancy.source import KeepalivedRoleSource
from tests.support.netns import STATE

RTMGRP_IPV4_IFADDR = 0x10
ETH_P_ARP = 0x0806


def open_source(plan: PairPlan, run_dir: str, log_path: str, binary: str = "keepalived") -> str:
    """Start routerd's side of the pair; returns the first role reported."""
    handler = logging.FileHandler(log_path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG)
    source = KeepalivedRoleSource(plan, Path(run_dir), binary=binary)
    history: list[tuple[float, str, str]] = []
    STATE.update(source=source, history=history)

    def on_change() -> None:
        r = source.role()
        history.append((time.monotonic(), r.role.value, r.why))

    source.start(on_change)
    r = source.role()
    history.append((time.monotonic(), r.role.value, r.why))
    return r.role.value


def role() -> tuple[str, str]:
    r = STATE["source"].role()
    return r.role.value, r.why


def history() -> list[tuple[float, str, str]]:
    return list(STATE["history"])


def take_over() -> str:
    message: str = STATE["source"].take_over()
    return message


def update(plan: PairPlan) -> None:
    STATE["source"].update(plan)


def hang_watch_armed() -> bool:
    """Whether routerd's silence rule is armed: master, and one of its own adverts seen in
    this mastership (until then only a partner's adverts can reveal a hang)."""
    source = STATE["source"]
    with source._lock:
        armed: bool = source._watchdog() is not None
    return armed


def keepalived_pids() -> tuple[int | None, int | None]:
    pids: tuple[int | None, int | None] = STATE["source"].ka.pids()
    return pids


def close(cleanup: bool) -> None:
    STATE["source"].close(cleanup=cleanup)


def watch_address(ip: str) -> None:
    """Record (monotonic time, added?) each time ``ip`` is added to or removed from a link."""
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, 0)
    sock.bind((0, RTMGRP_IPV4_IFADDR))
    events: list[tuple[float, bool]] = []
    STATE["address_events"] = events

    def run() -> None:
        while True:
            data = sock.recv(65536)
            now = time.monotonic()
            for msg in nl.iter_messages(data):
                entry = decode(msg.body) if msg.type in (nl.RTM_NEWADDR, nl.RTM_DELADDR) else None
                if entry is not None and entry.address == ip:
                    events.append((now, msg.type == nl.RTM_NEWADDR))

    threading.Thread(target=run, daemon=True).start()


def address_events() -> list[tuple[float, bool]]:
    return list(STATE["address_events"])


# ---------------------------------------------------------------------------------------
# The ARP sweep (client namespace)


def _arp_request(mac: bytes, sender: str, target: str) -> bytes:
    eth = b"\xff" * 6 + mac + struct.pack("!H", ETH_P_ARP)
    arp = struct.pack(
        "!HHBBH6s4s6s4s",
        1,
        0x0800,
        6,
        4,
        1,
        mac,
        socket.inet_aton(sender),
        b"\0" * 6,
        socket.inet_aton(target),
    )
    return eth + arp


def start_sweep(dev: str, sender: str, target: str, period: float = 0.01) -> None:
    """Ask who has ``target`` every ``period``; keep (time, MACs that answered) per request."""
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP))
    sock.bind((dev, ETH_P_ARP))
    mac = sock.getsockname()[4]
    frame = _arp_request(mac, sender, target)
    samples: list[tuple[float, frozenset[str]]] = []
    stop = threading.Event()
    STATE.update(sweep=samples, sweep_stop=stop)
    want = socket.inet_aton(target)

    def run() -> None:
        while not stop.is_set():
            sent = time.monotonic()
            sock.send(frame)
            seen: set[str] = set()
            while (left := sent + period - time.monotonic()) > 0:
                if not select.select([sock], [], [], left)[0]:
                    break
                data = sock.recv(128)
                op, sha, spa = struct.unpack_from("!H6s4s", data, 20)
                if op == 2 and spa == want:
                    seen.add(sha.hex(":"))
            samples.append((sent, frozenset(seen)))
        sock.close()

    thread = threading.Thread(target=run, daemon=True)
    STATE["sweep_thread"] = thread
    thread.start()


def sweep(since: float = 0.0) -> list[tuple[float, frozenset[str]]]:
    return [s for s in STATE["sweep"] if s[0] >= since]


def stop_sweep() -> None:
    STATE["sweep_stop"].set()
    STATE["sweep_thread"].join(5)
