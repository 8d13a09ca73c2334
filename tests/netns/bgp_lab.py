"""A BGP mobility topology in namespaces: a BIRD2 route reflector and gobgpd routers.

One bridge namespace joins every other namespace's ``eth0`` on 10.99.0.0/24 (standing in
for the overlay): the reflector at 10.99.0.1, the routers at 10.99.0.11 and up, each router
id equal to its address. Each router's ``GobgpExchange`` runs in a ``NetnsWorker`` inside
its namespace (``bgp_host``), so the gobgpd it starts lives there. gobgpd run directories
go under a short temporary directory (Unix socket paths are limited to 107 bytes).
Everything is pushed on the caller's ``Cleanup``: namespaces (destroying one kills its
processes by PID), workers, BIRD, the directory.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from routerd.core.exchange import ImportPolicy, Neighbor, Origination, SpeakerSettings
from tests.netns import bgp_host
from tests.support.netns import Cleanup, Netns, NetnsWorker, uid, veth
from tests.support.wait import wait_until
from tools.labkit.birdrr import BirdRR, RRClient, RRConfig

ASN = 65000
DOMAINS = ("10.77.0.0/16",)
RR_ADDRESS = "10.99.0.1"


@dataclass
class Router:
    """One router: its namespace, site, address (= router id) and worker."""

    name: str
    ns: Netns
    site_id: int
    address: str
    run_dir: Path
    log: Path
    worker: NetnsWorker | None = None
    extra_neighbors: tuple[Neighbor, ...] = ()

    def call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        assert self.worker is not None, f"router {self.name} has no exchange open"
        return self.worker.call(fn, *args, **kwargs)

    def originate(self, address: str, sequence: int) -> Origination:
        return Origination(address, self.site_id, sequence, self.address)


@dataclass
class BgpLab:
    """The topology (module docstring); ``build`` creates it."""

    cleanup: Cleanup
    prefix: str = field(default_factory=uid)
    routers: dict[str, Router] = field(default_factory=dict)
    namespaces: list[Netns] = field(default_factory=list)
    rr: BirdRR | None = None
    tmp: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="rdbgp-")))

    def __post_init__(self) -> None:
        self.cleanup.push(f"rm {self.tmp}", lambda: shutil.rmtree(self.tmp, ignore_errors=True))

    def _netns(self, role: str, bridge: Netns | None) -> Netns:
        ns = Netns.create(f"rdb-{self.prefix}-{role}", self.cleanup)
        self.namespaces.append(ns)
        if bridge is not None:
            peer = f"p{role}"
            veth(ns, "eth0", bridge, peer)
            bridge.ip("link", "set", peer, "master", "br0")
        return ns

    def build(self, sites: dict[str, int]) -> BgpLab:
        """Bridge, reflector and one namespace per router (``name -> site id``)."""
        bridge = self._netns("br", None)
        bridge.ip("link", "add", "br0", "type", "bridge")
        bridge.ip("link", "set", "br0", "up")
        rr_ns = self._netns("rr", bridge)
        rr_ns.ip("addr", "add", f"{RR_ADDRESS}/24", "dev", "eth0")
        for i, (name, site) in enumerate(sites.items()):
            address = f"10.99.0.{11 + i}"
            ns = self._netns(name, bridge)
            ns.ip("addr", "add", f"{address}/24", "dev", "eth0")
            run_dir = self.tmp / name
            log = self.tmp / f"routerd-{name}.log"
            self.routers[name] = Router(name, ns, site, address, run_dir, log)
        clients = tuple(RRClient(r.address, r.site_id, r.name) for r in self.routers.values())
        cfg = RRConfig(ASN, RR_ADDRESS, DOMAINS, clients, local_address=RR_ADDRESS)
        self.rr = BirdRR(rr_ns, cfg, self.tmp / "rr")
        self.rr.start(self.cleanup)
        return self

    def policy(self) -> ImportPolicy:
        sites: dict[int, frozenset[str]] = {}
        for r in self.routers.values():
            sites[r.site_id] = sites.get(r.site_id, frozenset()) | {r.address}
        return ImportPolicy(ASN, DOMAINS, sites)

    def settings(self, router: Router) -> SpeakerSettings:
        rr = Neighbor(RR_ADDRESS, description="route reflector")
        return SpeakerSettings(
            ASN,
            router.site_id,
            router.address,
            router.address,
            neighbors=(rr, *router.extra_neighbors),
        )

    def open(self, name: str) -> dict[str, Any]:
        """Start (or adopt) the router's exchange, in a fresh worker unless one was kept."""
        r = self.routers[name]
        if r.worker is None:
            r.worker = NetnsWorker(r.ns.name)
            self.cleanup.push(f"worker {r.worker.pid}", r.worker.kill)
        result: dict[str, Any] = r.worker.call(
            bgp_host.open_exchange, self.settings(r), self.policy(), str(r.run_dir), str(r.log)
        )
        return result

    def close(self, name: str, *, cleanup: bool, keep_worker: bool = False) -> None:
        """Close the router's exchange (``cleanup`` stops gobgpd) and end its worker, unless
        ``keep_worker``: the next ``open`` then runs in the same (warm) process, as a
        restarted exchange would in a long-running daemon."""
        r = self.routers[name]
        if r.worker is not None:
            r.call(bgp_host.close, cleanup)
            if not keep_worker:
                r.worker.close()
                r.worker = None

    def wait_established(self, *names: str, timeout: float = 30.0) -> None:
        """Until each router's session to the reflector is established, seen by both ends."""

        def check() -> str | None:
            assert self.rr is not None
            up = set(self.rr.established())
            for name in names:
                r = self.routers[name]
                protocol = RRClient(r.address, r.site_id).protocol
                if protocol not in up:
                    return f"reflector: {protocol} not established ({sorted(up)})"
                s = r.call(bgp_host.snapshot)["sessions"].get(RR_ADDRESS)
                if s is None or s.state != "established":
                    return f"{name}: session to the reflector is {s}"
            return None

        wait_until(check, timeout=timeout, interval=0.1, what="BGP sessions")
