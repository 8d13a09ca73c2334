"""A router pair on one LAN for the redundancy tests (built with the ``lab`` fixture).

Namespace ``sw`` holds a bridge; routers ``ra`` (10.40.8.2, priority 150) and ``rb``
(10.40.8.3, priority 100) and a client ``cl`` (10.40.8.9) each have an ``eth0`` on it. Each
router's routerd side (a ``KeepalivedRoleSource``) runs in a NetnsWorker; ``ra`` starts
first and becomes master, then ``rb`` joins as its backup. The virtual address is
10.40.8.254/24.
"""

from __future__ import annotations

import itertools
import os
import re
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from routerd.core.redundancy import PairPlan, VirtualAddress, token_address
from tests.netns import vrrp_host as vh
from tests.support.netns import Netns, NetnsWorker, veth
from tests.support.wait import wait_until

VIP = "10.40.8.254"
ADDR = {"ra": "10.40.8.2", "rb": "10.40.8.3", "cl": "10.40.8.9"}
PRIORITY = {"ra": 150, "rb": 100}


def plan_for(name: str, *, vip: str | None = VIP, **changes: Any) -> PairPlan:
    peer = ADDR["rb" if name == "ra" else "ra"]
    addresses = (VirtualAddress(f"{vip}/24", "eth0"),) if vip else (token_address(42),)
    base = PairPlan(
        ref=f"RedundancyGroup/{name}",
        name="site-a",
        role="onprem" if vip else "cloud",
        interface="eth0",
        vrid=42,
        priority=PRIORITY[name],
        peers=(peer,),
        source_address="",
        advert_interval=0.1,
        addresses=addresses,
        preempt=False,
        hold_down=None,
        track_interfaces=(),
    )
    return PairPlan(**{**base.__dict__, **changes})


@dataclass
class Router:
    name: str
    ns: Netns
    port: str  # its bridge port in ``sw``
    run_dir: Path
    log: Path
    worker: NetnsWorker | None = None
    starts: int = 0

    def call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        assert self.worker is not None
        return self.worker.call(fn, *args, **kwargs)

    def role(self) -> str:
        role: str = self.call(vh.role)[0]
        return role

    def wait_role(self, want: str, timeout: float = 10.0) -> None:
        def check() -> str | None:
            got = self.call(vh.role)
            return None if got[0] == want else f"{self.name} is {got}"

        wait_until(check, timeout=timeout, interval=0.02, what=f"{self.name} {want}")

    def active_since(self, t0: float) -> float:
        """Seconds from ``t0`` until this router's RoleSource first reported active after it
        (its ``on_change`` record, which may trail ``role()`` by a moment)."""
        found: list[float] = []

        def check() -> str | None:
            found[:] = [
                at - t0 for at, role, _ in self.call(vh.history) if at >= t0 and role == "active"
            ]
            return None if found else "no active report yet"

        wait_until(check, timeout=5, interval=0.02, what=f"{self.name} reported active")
        return found[0]

    def has_vip(self) -> bool:
        addrs = self.ns.ipj("addr", "show", "dev", "eth0")
        return any(a.get("local") == VIP for link in addrs for a in link.get("addr_info", []))

    def kill_keepalived(self) -> None:
        """SIGKILL keepalived so it cannot shut down gracefully: stop the daemon, kill its
        VRRP process, then kill the daemon (a killed daemon's VRRP process would otherwise
        get SIGTERM and give mastership up cleanly)."""
        parent, child = self.keepalived_pids()
        os.kill(parent, signal.SIGSTOP)
        os.kill(child, signal.SIGKILL)
        os.kill(parent, signal.SIGKILL)

    def stop_keepalived(self) -> None:
        """SIGSTOP both keepalived processes: a hung daemon."""
        for pid in self.keepalived_pids():
            os.kill(pid, signal.SIGSTOP)

    def keepalived_pids(self) -> tuple[int, int]:
        parent, child = self.call(vh.keepalived_pids)
        assert parent is not None and child is not None, (parent, child)
        return parent, child


@dataclass
class Pair:
    sw: Netns
    client: Netns
    ra: Router
    rb: Router
    lab: Any
    sweeper: NetnsWorker | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def routers(self) -> tuple[Router, Router]:
        return self.ra, self.rb

    def start(self, r: Router, plan: PairPlan | None = None, binary: str = "keepalived") -> None:
        r.starts += 1
        r.worker = self.lab.worker(r.ns)
        log = r.log.with_name(f"{r.log.stem}-{r.starts}.log")
        self.lab.logs.append(log)
        r.worker.call(vh.open_source, plan or plan_for(r.name), str(r.run_dir), str(log), binary)

    def start_sweep(self) -> None:
        self.sweeper = self.lab.worker(self.client)
        self.sweeper.call(vh.start_sweep, "eth0", ADDR["cl"], VIP)

    def mac(self, r: Router) -> str:
        mac: str = r.ns.ipj("link", "show", "dev", "eth0")[0]["address"]
        return mac


def build(lab: Any, tmp: Path) -> Pair:
    sw = lab.netns("sw")
    sw.ip("link", "add", "br0", "type", "bridge")
    sw.ip("link", "set", "br0", "up")
    nodes = {}
    for name in ("ra", "rb", "cl"):
        ns = lab.netns(name)
        port = lab.name(f"p{name}")
        veth(ns, "eth0", sw, port)
        sw.ip("link", "set", port, "master", "br0")
        ns.ip("addr", "add", f"{ADDR[name]}/24", "dev", "eth0")
        nodes[name] = (ns, port)
    routers = {
        name: Router(name, nodes[name][0], nodes[name][1], tmp / f"ka-{name}", tmp / f"{name}.log")
        for name in ("ra", "rb")
    }
    return Pair(sw, nodes["cl"][0], routers["ra"], routers["rb"], lab)


def up(lab: Any, tmp: Path) -> Pair:
    """The pair running: ``ra`` active, ``rb`` standby."""
    pair = build(lab, tmp)
    pair.start(pair.ra)
    pair.ra.wait_role("active")
    pair.start(pair.rb)
    pair.rb.wait_role("standby")
    time.sleep(0.2)
    return pair


def ping_train(lab: Any, client: Netns, seconds: float) -> subprocess.Popen[str]:
    """Ping the virtual address every 10 ms for ``seconds`` (wall-clock stamped replies)."""
    proc = client.popen(
        "ping",
        "-D",
        "-n",
        "-i",
        "0.01",
        "-W",
        "1",
        "-w",
        str(seconds),
        VIP,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    lab.cleanup.push(f"ping {proc.pid}", lambda: _reap(proc))
    return proc


def _reap(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.kill()
    proc.communicate(timeout=10)


_REPLY = re.compile(r"^\[(\d+\.\d+)\] \d+ bytes from .*icmp_seq=(\d+)")


def outages(output: str) -> list[tuple[float, int, float]]:
    """Every run of lost pings: (wall time of the reply before it, pings lost, reply gap).

    Lost sequence numbers, not time gaps, decide: a ping process delayed by a busy machine
    sends late but loses nothing.
    """
    replies = sorted(
        {
            int(m.group(2)): float(m.group(1))
            for ln in output.splitlines()
            if (m := _REPLY.match(ln))
        }.items()
    )
    assert len(replies) > 10, output[-500:]
    return [
        (t1, s2 - s1 - 1, t2 - t1)
        for (s1, t1), (s2, t2) in itertools.pairwise(replies)
        if s2 - s1 > 1
    ]
