"""The redundant-router lab: an on-prem router pair of real routerd daemons on one LAN.

With ``cloud=True`` the same run also builds the cloud pair of ``redcloud``.

``RedundancyLab.up()`` builds namespace ``sw`` (a bridge), routers ``ra`` (10.40.8.2,
priority 150) and ``rb`` (10.40.8.3, priority 100) and a client ``cl`` (10.40.8.9), each
with an ``eth0`` on the bridge, and starts ``routerd serve --backend linux`` in each router
with the same claim (10.40.8.21, proxy-ARP on ``eth0``, delivered into its tunnel) and one
``RedundancyGroup`` (VRRP 42, 0.1 s adverts, virtual address 10.40.8.254); the configs are
those of ``tests/netns/pair_routers``. ``up`` returns once ``ra`` is active, ``rb`` standby
and the client's ARP sweep (every 10 ms, for the captured address) hears ``ra`` alone.

Everything created is recorded in the run's ``Registry`` (namespaces, routerd processes,
the sweep worker), so ``tools/lab down`` releases a kept run; ``down`` releases it in
reverse, and destroying a namespace ends keepalived and wireguard-go there by PID.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from routerd.backends.linux.wgsupervisor import process_start_time
from routerd.backends.linux.wguapi import RUN_DIR as WG_RUN_DIR
from tests.netns import pair_routers as pr
from tests.netns import vrrp_host as vh
from tests.support.netns import Netns, NetnsWorker, uid, veth

from .lab import RUNS_DIR
from .registry import Registry

if TYPE_CHECKING:
    from .redcloud import CloudPair

VIP = pr.VIP
CLAIMED = pr.CLAIMED


class LabRouter(pr.Daemon):
    """A router of the pair whose routerd processes go into the run's registry."""

    registry: Registry

    def started(self, proc: subprocess.Popen[bytes]) -> None:
        self.registry.push_process(proc, f"routerd {self.name}")


class _NoCleanup:
    """The registry releases what a router creates; nothing to push here."""

    def push(self, what: str, action: Callable[[], object]) -> None:
        return None


@dataclass
class RedundancyLab:
    """A built pair (module docstring)."""

    run_id: str
    dir: Path
    registry: Registry
    sw: Netns
    client: Netns
    routers: dict[str, LabRouter]
    sweeper: NetnsWorker
    cloud: CloudPair | None = None

    @classmethod
    def up(
        cls, log: Callable[[str], None] = lambda s: None, *, cloud: bool = False
    ) -> RedundancyLab:
        run_id = uid()
        run_dir = RUNS_DIR / run_id
        run_dir.mkdir(parents=True, mode=0o700)
        registry = Registry.create(run_dir, run=run_id, provider="redundancy")
        registry.push("path", path=str(run_dir))
        try:
            lab = cls._build(run_id, run_dir, registry, log)
        except BaseException:
            registry.close()
            raise
        try:
            if cloud:
                from .redcloud import CloudPair

                lab.cloud = CloudPair.up(run_id, run_dir, registry, lab.netns, log)
            return lab
        except BaseException:
            lab.down()
            raise

    @classmethod
    def _build(
        cls, run_id: str, run_dir: Path, registry: Registry, log: Callable[[str], None]
    ) -> RedundancyLab:
        netns = _namespaces(run_id, registry)
        sw = netns("sw")
        sw.ip("link", "add", "br0", "type", "bridge")
        sw.ip("link", "set", "br0", "up")
        nss: dict[str, Netns] = {}
        for name in ("ra", "rb", "cl"):
            ns = nss[name] = netns(name)
            veth(ns, "eth0", sw, f"p{name}")
            sw.ip("link", "set", f"p{name}", "master", "br0")
            ns.ip("addr", "add", f"{pr.ADDR[name]}/24", "dev", "eth0")
        routers = {}
        for name in ("ra", "rb"):
            wg = f"w{run_id}{name[1]}"
            for sock in (WG_RUN_DIR / f"{wg}.sock",):
                registry.push("path", path=str(sock))
            r = LabRouter(name, nss[name], run_dir, wg, _NoCleanup())
            r.registry = registry
            r.switch, r.port = sw, f"p{name}"
            routers[name] = r
        sweeper = NetnsWorker(nss["cl"].name)
        registry.push("process", pid=sweeper.pid, start=process_start_time(sweeper.pid))
        lab = cls(run_id, run_dir, registry, sw, nss["cl"], routers, sweeper)
        log(f"run {run_id}: namespaces lab{run_id}-{{sw,ra,rb,cl}}; starting routerd")
        routers["ra"].start()
        routers["ra"].wait_role("active")
        routers["rb"].start()
        routers["rb"].wait_role("standby")
        sweeper.call(pr.start_garp_watch, "eth0", CLAIMED)
        sweeper.call(vh.start_sweep, "eth0", pr.ADDR["cl"], CLAIMED)
        pr.wait_answered_by(lab.sweep, routers["ra"].mac(), 0.0)
        log("ra active, rb standby, the client hears ra alone")
        return lab

    def netns(self, role: str) -> Netns:
        """A new namespace of this run (recorded for teardown)."""
        return _namespaces(self.run_id, self.registry)(role)

    # -- what scenarios use ---------------------------------------------------------------

    def sweep(self, since: float = 0.0) -> list[tuple[float, frozenset[str]]]:
        samples: list[tuple[float, frozenset[str]]] = self.sweeper.call(vh.sweep, since)
        return samples

    def garps(self, since: float) -> list[tuple[str, int]]:
        found: list[tuple[str, int]] = self.sweeper.call(pr.garps, since)
        return found

    def ping_train(self, seconds: float) -> subprocess.Popen[str]:
        """Ping the virtual address every 10 ms for ``seconds`` (replies time-stamped)."""
        argv = ["ping", "-D", "-n", "-i", "0.01", "-W", "1", "-w", str(seconds), VIP]
        return self.client.popen(*argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def logs(self) -> list[Path]:
        out = [r.log for r in self.routers.values()]
        out += [r.state / "keepalived" / "keepalived.log" for r in self.routers.values()]
        return out + (self.cloud.logs() if self.cloud is not None else [])

    def down(self) -> list[str]:
        if self.cloud is not None:
            self.cloud.down()
        for r in self.routers.values():
            r.pause(resume=True)  # a paused router must be able to stop
            r.stop()
        with_sweep_closed: Any = self.sweeper
        with_sweep_closed.close(timeout=5)
        time.sleep(0.05)
        return self.registry.close()


def _namespaces(run_id: str, registry: Registry) -> Callable[[str], Netns]:
    def netns(role: str) -> Netns:
        ns = Netns(f"lab{run_id}-{role}")
        subprocess.run(["ip", "netns", "add", ns.name], check=True)
        registry.push("netns", name=ns.name)
        ns.ip("link", "set", "lo", "up")
        return ns

    return netns
