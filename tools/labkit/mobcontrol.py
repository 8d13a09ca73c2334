"""The mobility lab's two control planes behind one interface: hand-played, or routerd.

Scenarios only ``move``, ask ``homes`` and ``doctor``, and ``restart`` a router; which
control plane answers is a property of the run, printed in the JSON as ``"control"``:

* ``HandPlayed`` (``"hand-played"``): the lab brings up each router's tunnel, forwarding,
  ``proxy_delay=0`` and the anycast gateway (a macvlan with the shared MAC, which also
  carries the proxy entries: see ``handplay``) itself, then
  runs one ``handplay`` controller per router in a ``NetnsWorker``. A restart is a SIGKILL
  of that worker and a fresh one (gobgpd and the kernel objects stay, as with routerd).
* ``Routerd`` (``"routerd"``): one ``routerd serve --backend linux`` per router on the
  config ``mobconfig.router_config`` generates; moves through ``MoveAddress`` over a gRPC
  channel the lab holds open (a migration tool's way: the handover starts at the call, as
  the goal says), homes through ``routerctl get homes``, findings through ``routerctl
  doctor mobility`` (the surfaces of the mobility design). What ``routerctl move`` adds in
  front of that call (a Python process starting) is measured on its own (``cli_move``)
  and reported as a figure, not hidden in the handover. ``available()`` says whether this
  routerd has them.

``choose(mode)`` picks one: ``auto`` prefers routerd when it is available.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import grpc

from routerd.backends.linux.wguapi import RUN_DIR as WG_RUN_DIR
from routerd.backends.linux.wguapi import UapiClient
from routerd.v1 import mobility_pb2, mobility_pb2_grpc
from tests.support.netns import Netns, NetnsWorker
from tests.support.wait import wait_until

from . import handplay
from .mobconfig import OverlaySpec, controller_config, router_config, static_overlay
from .mobtopo import GATEWAY, GATEWAY_IF, GATEWAY_MAC, SITE, SITES, WG_MTU, WG_PORT, Site, tunnel
from .registry import Registry
from .routers import ROUTERCTL, ROUTERD, Router

if TYPE_CHECKING:
    from .moblab import MobilityLab

MODES = ("auto", "hand-played", "routerd")
SERVES_MOBILITY = (
    "import sys; from routerd.daemon.service import COMPONENTS; "
    "sys.exit(not any(c.__module__.rsplit('.', 1)[-1] == 'mobility' for c in COMPONENTS))"
)
"""Exits 0 when one of the daemon's components is a mobility one."""
DOCTOR_FAIL = 3


class Control(Protocol):
    mode: str

    def start(self) -> None: ...
    def move(self, site: str, addresses: list[str]) -> float: ...
    def cli_move(self, site: str, addresses: list[str]) -> float | None: ...
    def homes(self, site: str) -> dict[str, tuple[str, int]]: ...
    def doctor(self, site: str) -> list[dict[str, str]]: ...
    def restart(self, site: str) -> None: ...
    def logs(self) -> list[Path]: ...
    def evidence(self, dest: Path) -> None: ...


def start_tunnel(ns: Netns, spec: OverlaySpec, registry: Registry, log: Path) -> None:
    """wireguard-go for ``spec`` in ``ns`` (recorded), keyed, addressed and up."""
    registry.push("path", path=str(WG_RUN_DIR / f"{spec.device}.sock"))
    with log.open("ab") as out:
        proc = subprocess.Popen(
            ["ip", "netns", "exec", ns.name, "wireguard-go", "-f", spec.device],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={"LOG_LEVEL": "error", "PATH": "/usr/bin:/bin"},
        )
    registry.push_process(proc, f"wireguard-go {spec.device}")
    uapi = UapiClient(spec.device)
    wait_until(
        lambda: None if uapi.available() else "no UAPI socket",
        timeout=10,
        interval=0.05,
        what=f"wireguard-go {spec.device}",
    )
    argv = [
        "wg",
        "set",
        spec.device,
        "private-key",
        str(spec.key_file),
        "listen-port",
        str(WG_PORT),
    ]
    for key, endpoint, allowed in spec.peers:
        argv += [
            "peer",
            key,
            "endpoint",
            endpoint,
            "allowed-ips",
            allowed,
            "persistent-keepalive",
            "5",
        ]
    ns.exec(*argv)
    ns.ip("addr", "add", f"{spec.address}/24", "dev", spec.device)
    ns.ip("link", "set", spec.device, "mtu", str(WG_MTU), "up")


def _sysctl(ns: Netns, *settings: str) -> None:
    ns.exec("sysctl", "-q", "-w", *settings)


def _anycast_gateway(ns: Netns, lan_if: str) -> None:
    """The gateway device: a macvlan of the LAN with the shared MAC and address.

    It answers ARP for the gateway and, holding the proxy entries, for every address homed
    elsewhere (``handplay``); the LAN interface itself answers only for its own address
    (``arp_ignore=1``) and asks only from it (``arp_announce=2``: a reply sent from the
    gateway address would otherwise make the router ask "who has VM, tell gateway" with the
    LAN interface's MAC, and every VM that hears it caches the router's own MAC for its
    gateway, which is wrong at every other site). Neither delays proxied answers
    (``proxy_delay=0``).
    """
    gw = GATEWAY_IF
    ns.ip("link", "add", gw, "link", lan_if, "type", "macvlan", "mode", "bridge")
    ns.ip("link", "set", gw, "address", GATEWAY_MAC, "up")
    ns.ip("addr", "add", f"{GATEWAY}/32", "dev", gw)
    _sysctl(
        ns,
        f"net.ipv4.conf.{lan_if}.arp_ignore=1",
        f"net.ipv4.conf.{lan_if}.arp_announce=2",
        f"net.ipv4.neigh.{lan_if}.proxy_delay=0",
        f"net.ipv4.neigh.{gw}.proxy_delay=0",
    )


class HandPlayed:
    """The hand-played control plane (module docstring)."""

    mode = "hand-played"

    def __init__(self, lab: MobilityLab) -> None:
        self.lab = lab
        self.workers: dict[str, NetnsWorker] = {}

    def _dir(self, site: Site) -> Path:
        return self.lab.dir / site.name

    def start(self) -> None:
        lab = self.lab
        for site in SITES:
            ns = lab.topo.ns[site.role]
            self._dir(site).mkdir(mode=0o700, exist_ok=True)
            spec = static_overlay(site.letter, lab.run_id, lab.keys)
            start_tunnel(ns, spec, lab.registry, self._dir(site) / "wireguard-go.log")
            _sysctl(ns, "net.ipv4.ip_forward=1")
            if site.kind == "onprem":
                _anycast_gateway(ns, site.lan_if)
        for site in SITES:
            self._spawn(site)

    def _spawn(self, site: Site) -> None:
        worker = self.lab.worker(site.role, name=f"controller {site.name}")
        cfg = controller_config(site, self.lab.run_id, self.lab.keys, self._dir(site))
        worker.call(handplay.start, cfg, str(self._dir(site) / "controller.log"))
        self.workers[site.name] = worker

    def move(self, site: str, addresses: list[str]) -> float:
        t0 = time.monotonic()
        self.workers[site].call(handplay.move, addresses)
        return t0

    def cli_move(self, site: str, addresses: list[str]) -> float | None:
        return None  # no command-line client in front of the hand-played controller

    def homes(self, site: str) -> dict[str, tuple[str, int]]:
        raw = self.workers[site].call(handplay.homes)
        names = {s.site_id: s.name for s in SITES}
        return {a: (names[s], seq) for a, (s, seq, _) in raw.items()}

    def doctor(self, site: str) -> list[dict[str, str]]:
        findings: list[dict[str, str]] = self.workers[site].call(handplay.doctor)
        return findings

    def restart(self, site: str) -> None:
        """SIGKILL the controller (a crash: nothing is cleaned up) and start a fresh one."""
        self.workers.pop(site).kill()
        self._spawn(SITE[site])

    def evidence(self, dest: Path) -> None:
        """Each controller's homes, findings, journal and pass timings, as JSON."""
        for site, w in self.workers.items():
            data = {
                name: _safe(lambda fn=fn, w=w: w.call(fn, timeout=10))
                for name, fn in (
                    ("homes", handplay.homes),
                    ("doctor", handplay.doctor),
                    ("journal", handplay.journal),
                    ("passes", handplay.pass_log),
                )
            }
            (dest / f"{site}-controller.json").write_text(json.dumps(data, indent=1))

    def logs(self) -> list[Path]:
        out = []
        for site in SITES:
            d = self._dir(site)
            out += [d / "controller.log", d / "wireguard-go.log", d / "bgp" / "gobgpd.log"]
        return out


class Routerd:
    """routerd per router (module docstring); written against the mobility design's surfaces."""

    mode = "routerd"

    def __init__(self, lab: MobilityLab) -> None:
        self.lab = lab
        self.routers: dict[str, Router] = {}
        self._stubs: dict[str, mobility_pb2_grpc.MobilityServiceStub] = {}
        self._channels: list[grpc.Channel] = []

    @staticmethod
    def available(config: Path | None = None) -> tuple[bool, str]:
        """Whether this routerd has mobility: ``routerd serve`` starts a mobility component
        (the API alone answers every move with FAILED_PRECONDITION and no BGP session comes
        up), ``routerctl move`` exists and, given a generated config, ``routerd validate``
        accepts it."""
        proc = subprocess.run(
            [str(ROUTERD.with_name("python")), "-c", SERVES_MOBILITY],
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            return False, "routerd serve starts no mobility component (no route exchange)"
        proc = subprocess.run(
            [str(ROUTERCTL), "move", "--help"], capture_output=True, text=True, check=False
        )
        if proc.returncode != 0:
            return False, "routerctl has no 'move' command"
        if config is not None:
            proc = subprocess.run(
                [str(ROUTERD), "validate", "-c", str(config)],
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode != 0:
                return False, f"routerd validate refuses the mobility config: {proc.stdout[-300:]}"
        return True, ""

    def start(self) -> None:
        lab = self.lab
        for site in SITES:
            wg = tunnel(lab.run_id, site.letter)  # routerd starts its wireguard-go
            lab.registry.push("path", path=str(WG_RUN_DIR / f"{wg}.sock"))
            r = Router(
                site.name,
                lab.topo.ns[site.role],
                lab.dir,
                tunnel=wg,
                capture_if=site.lan_if,
            )
            text = router_config(site, lab.run_id, lab.keys)
            if site.kind == "cloud" and lab.cloud is not None:  # --cloud-actions
                text = lab.cloud.rewrite(text)
                r.env = lab.cloud.router_env()
            r.write_config(text)
            self.routers[site.name] = r
        for r in self.routers.values():
            r.start(lab.registry)

    def move(self, site: str, addresses: list[str]) -> float:
        """``MoveAddress`` (waiting until originated, as ``routerctl move`` does); returns
        the monotonic time of the call."""
        stub = self._stubs.get(site)
        if stub is None:
            channel = grpc.insecure_channel(f"unix:{self.routers[site].socket}")
            stub = self._stubs[site] = mobility_pb2_grpc.MobilityServiceStub(channel)
            self._channels.append(channel)
        request = mobility_pb2.MoveAddressRequest(addresses=addresses, to_site=site)
        t0 = time.monotonic()
        resp = stub.MoveAddress(request, timeout=30)
        refused = [f"{r.address}: {r.message}" for r in resp.results if not r.accepted]
        if refused:
            raise RuntimeError(f"MoveAddress to {site} refused: {'; '.join(refused[:3])}")
        return t0

    def cli_move(self, site: str, addresses: list[str]) -> float | None:
        """Seconds ``routerctl move --dry-run`` takes from exec to exit: what the command
        line adds to a move (interpreter start, imports, one call) on this machine now."""
        t0 = time.monotonic()
        self.routers[site].ctl("move", *addresses, "--to", site, "--dry-run")
        return time.monotonic() - t0

    def homes(self, site: str) -> dict[str, tuple[str, int]]:
        """``routerctl get homes -o json``: ``{"homes": [Home]}``, each with ``address``,
        ``home`` (the site; absent while unknown) and ``sequence`` (proto JSON: absent at 0)."""
        data = self.routers[site].ctl_json("get", "homes")
        items: list[dict[str, Any]] = data.get("homes", [])
        return {
            str(h["address"]): (str(h["home"]), int(h.get("sequence", 0)))
            for h in items
            if h.get("home")
        }

    def doctor(self, site: str) -> list[dict[str, str]]:
        report = self.routers[site].ctl_json("doctor", "mobility", ok_codes=(0, DOCTOR_FAIL))
        return [f for f in report.get("findings", []) if f.get("status") in ("warn", "fail")]

    def restart(self, site: str) -> None:
        r = self.routers[site]
        r.stop()
        r.start(self.lab.registry)

    def evidence(self, dest: Path) -> None:
        """What each routerd says about homes and mobility, as routerctl prints it."""
        for site, r in self.routers.items():
            for name, args in (("homes", ("get", "homes")), ("doctor", ("doctor", "mobility"))):
                proc = r.ctl(*args, "-o", "json", check=False, timeout=10)
                (dest / f"{site}-{name}.json").write_text(proc.stdout or proc.stderr)
            shutil.copy(r.config, dest / f"{site}-router.yaml")

    def logs(self) -> list[Path]:
        return [r.log for r in self.routers.values()]


def choose(mode: str, lab: MobilityLab) -> Control:
    """The control plane for ``mode`` (``auto``: routerd when available, else hand-played).

    Raises:
        ValueError: ``routerd`` was asked for and this routerd has no mobility.
    """
    if mode not in MODES:
        raise ValueError(f"unknown control {mode!r}: one of {', '.join(MODES)}")
    if lab.cloud is not None and mode == "hand-played":
        raise ValueError("--cloud-actions runs routerd (--control routerd or auto)")
    if mode == "hand-played":
        return HandPlayed(lab)
    probe = lab.dir / "validate-site-a.yaml"
    probe.write_text(router_config(SITES[0], lab.run_id, lab.keys))
    ok, why = Routerd.available(probe)
    probe.unlink()
    if ok:
        return Routerd(lab)
    if mode == "routerd" or lab.cloud is not None:
        raise ValueError(f"--control routerd: {why}; use --control hand-played")
    return HandPlayed(lab)


def _safe(fn: Any) -> Any:
    try:
        return fn()
    except Exception as exc:  # evidence is best effort: say why a piece is missing
        return f"unavailable: {type(exc).__name__}: {exc}"
