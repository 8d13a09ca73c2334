"""The hand-played controller: one per router, inside a ``NetnsWorker`` in its namespace.

It does what routerd's mobility will do, with routerd's own parts where they exist:

* BGP through ``routerd.bgp.gobgp.GobgpExchange`` (gobgpd started detached, adopted after
  a controller restart, ``WatchEvent`` for learned paths);
* on-prem presence through ``routerd.backends.linux.presence.LinuxPresence`` on the LAN
  (gratuitous ARP and ARP from hosts; this router's own frames are never evidence);
* the decisions of ``handplay_rules``;
* the dataplane by hand: for every address homed elsewhere a proxy neighbour entry on the
  anycast gateway's device (on-prem), a ``/32`` route into the tunnel and the address in
  the home site's WireGuard allowed IPs (over the UAPI socket); a gratuitous ARP from the
  gateway's device when it starts capturing an address (hosts that stayed repoint at once);
  to a host that just arrived, one unicast gratuitous ARP per address homed at the site it
  left (its cached entries for the hosts it left behind repoint to the gateway).

Proxy-ARP answers carry the **anycast gateway's MAC**, the same at every on-prem site, not
the router's own: a live-migrated VM keeps its ARP cache, and every entry it holds for an
address homed elsewhere must stay valid at the new site. With the router's own MAC the VM
keeps sending to the old site's router, which is not on the new LAN, until its neighbour
entries time out (measured here: about a second, with the TCP stream stalling longer).

A pass runs whenever the exchange, the listener or a request wakes the loop (and every half
second). A restarted controller reads the kernel's objects and gobgpd's originations back
and changes nothing that is already right. The worker-side API is the module's functions
(``start`` ... ``stop``), sent by reference from the lab.
"""

from __future__ import annotations

import json
import logging
import socket
import subprocess
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

from routerd.backends.linux import garp
from routerd.backends.linux.presence import LinuxPresence
from routerd.backends.linux.wguapi import UapiClient
from routerd.bgp.gobgp import GobgpExchange
from routerd.bgp.supervisor import GobgpdSupervisor
from routerd.core.exchange import ImportPolicy, Neighbor, SpeakerSettings
from tests.support.netns import STATE

from .handplay_rules import Book, CtlConfig, Home, findings, step
from .mobconfig import hex_key

LOG = logging.getLogger("handplay")
ROUTE_PROTO = "199"
"""The hand-played routes' protocol number (never routerd's own)."""
TICK = 0.5


class Dataplane:
    """Proxy entries, tunnel routes and allowed IPs for the addresses homed elsewhere."""

    def __init__(self, cfg: CtlConfig) -> None:
        self.cfg = cfg
        self.uapi = UapiClient(cfg.wg_if)
        self.peer_key = {p.site_id: hex_key(p.public_key) for p in cfg.peers}
        self.peer_overlay = {p.site_id: p.overlay for p in cfg.peers}
        self.proxies, self.routes = self._read_kernel()
        self.allowed = self._read_allowed()

    def _ip_json(self, *args: str) -> list[dict[str, Any]]:
        out = subprocess.run(["ip", "-j", *args], capture_output=True, text=True, check=True)
        return list(json.loads(out.stdout or "[]"))

    def _read_kernel(self) -> tuple[set[str], set[str]]:
        proxies: set[str] = set()
        if self.cfg.kind == "onprem":
            proxies = {
                e["dst"] for e in self._ip_json("neigh", "show", "proxy", "dev", self.cfg.proxy_if)
            }
        routes = {r["dst"] for r in self._ip_json("route", "show", "proto", ROUTE_PROTO)}
        return proxies, routes

    def _read_allowed(self) -> dict[int, set[str]]:
        by_key = {k: s for s, k in self.peer_key.items()}
        out: dict[int, set[str]] = {s: set() for s in self.peer_key}
        current = None
        for line in self.uapi.get().splitlines():
            key, _, value = line.partition("=")
            if key == "public_key":
                current = by_key.get(value)
            elif key == "allowed_ip" and current is not None:
                address = value.removesuffix("/32")
                if address != self.peer_overlay[current]:
                    out[current].add(address)
        return out

    def apply(self, homes: dict[str, Home]) -> list[str]:
        """Make the kernel match ``homes``; returns the addresses newly captured."""
        remote = {a: h.site_id for a, h in homes.items() if h.site_id != self.cfg.site_id}
        want_allowed: dict[int, set[str]] = {s: set() for s in self.peer_key}
        for a, s in remote.items():
            want_allowed.setdefault(s, set()).add(a)
        changed = [s for s in want_allowed if want_allowed[s] != self.allowed.get(s, set())]
        changed.sort(key=lambda s: not (want_allowed[s] - self.allowed.get(s, set())))
        for s in changed:  # peers gaining an address first: an address is never unroutable
            lines = ["set=1", f"public_key={self.peer_key[s]}", "replace_allowed_ips=true"]
            lines += [f"allowed_ip={self.peer_overlay[s]}/32"]
            lines += [f"allowed_ip={a}/32" for a in sorted(want_allowed[s])]
            self.uapi.set(lines)
            self.allowed[s] = want_allowed[s]
        want = set(remote)
        batch = [
            f"route replace {a}/32 dev {self.cfg.wg_if} proto {ROUTE_PROTO}"
            for a in want - self.routes
        ]
        batch += [
            f"route del {a}/32 dev {self.cfg.wg_if} proto {ROUTE_PROTO}" for a in self.routes - want
        ]
        new_proxies: list[str] = []
        if self.cfg.kind == "onprem":
            new_proxies = sorted(want - self.proxies)
            batch += [f"neigh replace proxy {a} dev {self.cfg.proxy_if}" for a in new_proxies]
            batch += [f"neigh del proxy {a} dev {self.cfg.proxy_if}" for a in self.proxies - want]
            self.proxies = want
        self.routes = want
        if batch:
            proc = subprocess.run(
                ["ip", "-force", "-batch", "-"],
                input="\n".join(batch) + "\n",
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode:
                LOG.warning("ip batch: %s", proc.stderr.strip())
        if new_proxies:
            garp.send_many(new_proxies, self.cfg.proxy_if)
        return new_proxies

    def repoint(self, mac: str, addresses: list[str]) -> None:
        """Tell the host at ``mac`` that ``addresses`` are behind the anycast gateway: one
        gratuitous ARP request per address, unicast to it (the kernel lets a gratuitous ARP
        override a neighbour entry at once, and no other host needs to hear it)."""
        if not addresses or self.cfg.kind != "onprem":
            return
        dst = bytes.fromhex(mac.replace(":", ""))
        with socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(garp.ETH_P_ARP)) as s:
            s.bind((self.cfg.proxy_if, garp.ETH_P_ARP))
            own = s.getsockname()[4]
            for address in addresses:
                frame = garp.garp_frames(own, address)[0]
                s.send(dst + frame[6:])


class Controller:
    """The loop of one router (module docstring)."""

    def __init__(self, cfg: CtlConfig) -> None:
        self.cfg = cfg
        self.book = Book()
        self.exchange = GobgpExchange(
            self._settings(), self._policy(), GobgpdSupervisor(Path(cfg.run_dir) / "bgp")
        )
        self.presence = LinuxPresence() if cfg.kind == "onprem" else None
        self.dataplane = Dataplane(cfg)
        self.homes: dict[str, Home] = {}
        self.paths: dict[str, Any] = {}
        self.adopted = False
        self.passes = 0
        self.pass_log: deque[tuple[float, float, int]] = deque(maxlen=10000)
        """(start, seconds, home changes) of every pass that changed a home."""
        self._requests: list[str] = []
        self._queued = 0
        self._handled = 0
        self._synced: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._done = threading.Condition(self._lock)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="handplay", daemon=True)

    def _settings(self) -> SpeakerSettings:
        c = self.cfg
        rr = Neighbor(c.rr, description="rr", hold_time=c.hold, keepalive=c.keepalive)
        return SpeakerSettings(c.asn, c.site_id, c.router_id, c.router_id, neighbors=(rr,))

    def _policy(self) -> ImportPolicy:
        return ImportPolicy(
            self.cfg.asn, (self.cfg.domain,), {s: frozenset(r) for s, r in self.cfg.sites}
        )

    def start(self) -> None:
        self.exchange.start(self._wake.set)
        if self.presence is not None:
            self.presence.start(self._wake.set)
            self.presence.watch(self.cfg.lan_if, self.cfg.mobile())
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(TICK)
            self._wake.clear()
            try:
                self.pass_once()
            except Exception:
                LOG.exception("pass failed")

    def pass_once(self) -> None:
        view = self.exchange.view()
        if view.connected and not self.adopted:
            self.book.adopt(view.originated)
            self._synced = dict(self.book.own)
            self.adopted = True
        if not self.adopted:
            return
        if view.connected:
            self.paths = dict(view.paths)
        session = view.sessions.get(self.cfg.rr)
        up = view.connected and session is not None and session.state == "established"
        evidence = []
        if self.presence is not None:
            evidence = [(e.address, e.at, e.mac) for e in self.presence.drain() if e.address]
        with self._lock:
            requests, self._requests = self._requests, []
            handled = self._queued
        now = time.monotonic()
        changes = len(self.book.journal)
        homes = step(
            self.book,
            self.cfg,
            self.paths,
            session_up=up,
            evidence=evidence,
            requests=requests,
            now=now,
        )
        if self.book.own != self._synced:
            self._synced = dict(self.book.own)
            for error in self.exchange.sync(self._synced):
                LOG.warning("sync: %s", error)
        self.dataplane.apply(homes)
        arrivals, self.book.arrivals = self.book.arrivals, []
        for arrival in arrivals:
            left = [a for a, h in homes.items() if h.site_id == arrival.from_site]
            self.dataplane.repoint(arrival.mac, left)
        changes = len(self.book.journal) - changes
        if changes:
            self.pass_log.append((now, time.monotonic() - now, changes))
        with self._lock:
            self.homes = homes
            self.passes += 1
            self._handled = handled
            self._done.notify_all()

    def request(self, addresses: list[str], timeout: float = 10.0) -> float:
        """Queue an explicit move here; returns once a pass has originated them."""
        with self._lock:
            self._requests.extend(addresses)
            self._queued += 1
            token = self._queued
            self._wake.set()
            if not self._done.wait_for(lambda: self._handled >= token, timeout):
                raise TimeoutError(f"{self.cfg.site}: no pass handled the move within {timeout}s")
        return time.monotonic()

    def stop(self, cleanup: bool) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(5)
        if self.presence is not None:
            self.presence.close()
        self.exchange.close(cleanup=cleanup)


# -- the worker-side API ---------------------------------------------------------------------


def start(cfg: CtlConfig, log_path: str) -> int:
    """Create and start the controller; returns gobgpd's PID once it answers."""
    handler = logging.FileHandler(log_path)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    logging.getLogger().handlers[:] = [handler]
    logging.getLogger().setLevel(logging.INFO)
    ctl = Controller(cfg)
    STATE["ctl"] = ctl
    ctl.start()
    return ctl.exchange.supervisor.pid() or 0


def _ctl() -> Controller:
    ctl: Controller = STATE["ctl"]
    return ctl


def move(addresses: list[str]) -> float:
    return _ctl().request(addresses)


def homes() -> dict[str, tuple[int, int, bool]]:
    """address -> (home site id, sequence, stale)."""
    with _ctl()._lock:
        return {a: (h.site_id, h.sequence, h.stale) for a, h in _ctl().homes.items()}


def doctor() -> list[dict[str, str]]:
    ctl = _ctl()
    view = ctl.exchange.view()
    sessions = {n: s.state for n, s in view.sessions.items()}
    if not view.connected:
        sessions = {ctl.cfg.rr: f"unknown ({view.error})"}
    with ctl._lock:
        return findings(ctl.book, ctl.cfg, ctl.paths, sessions)


def journal() -> list[tuple[float, str, int, int, str]]:
    with _ctl()._lock:
        return [(m.at, m.address, m.to_site, m.sequence, m.cause) for m in _ctl().book.journal]


def pass_log() -> list[tuple[float, float, int]]:
    return list(_ctl().pass_log)


def stop(cleanup: bool) -> None:
    _ctl().stop(cleanup)
