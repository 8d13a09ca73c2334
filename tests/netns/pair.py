"""A router pair on one LAN for the redundancy tests (built with the ``lab`` fixture).

Namespace ``sw`` holds a bridge; routers ``ra`` (10.40.8.2, priority 150) and ``rb``
(10.40.8.3, priority 100) and a client ``cl`` (10.40.8.9) each have an ``eth0`` on it. Each
router's routerd side (a ``KeepalivedRoleSource``) runs in a NetnsWorker; ``ra`` starts
first and becomes master, then ``rb`` joins as its backup. The virtual address is
10.40.8.254/24.

The routers forward (``net.ipv4.ip_forward=1``), as routerd sets on every router with a
claim: keepalived sends the new master's advert before its gratuitous ARP, so the old
master can drop the address while the client still sends to it, and it forwards those
packets to the new master (``test_redundancy`` tests it with the announcement lost).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
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
    client_port: str  # the client's bridge port in ``sw``
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

    @contextlib.contextmanager
    def garp_lost_to_client(self, r: Router) -> Iterator[None]:
        """While inside, the bridge drops ``r``'s gratuitous ARPs for the virtual address on
        their way to the client: the client goes on sending to the router it knew until
        something else tells it."""
        self.sw.exec(
            "nft",
            "-f",
            "-",
            input=(
                "table bridge lost_garp {\n  chain forward {\n"
                "    type filter hook forward priority 0;\n"
                f'    oifname "{self.client_port}" ether saddr {self.mac(r)}'
                f" arp saddr ip {VIP} arp daddr ip {VIP} drop\n"
                "  }\n}\n"
            ),
        )
        try:
            yield
        finally:
            self.sw.exec("nft", "delete", "table", "bridge", "lost_garp")


def forwarded(r: Router) -> int:
    """IPv4 datagrams ``r``'s kernel has forwarded (``Ip: ForwDatagrams``)."""
    head, values = (ln.split() for ln in r.ns.exec("cat", "/proc/net/snmp").splitlines()[:2])
    return int(values[head.index("ForwDatagrams")])


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
        if name != "cl":
            ns.exec("sysctl", "-qw", "net.ipv4.ip_forward=1")
        nodes[name] = (ns, port)
    routers = {
        name: Router(name, nodes[name][0], nodes[name][1], tmp / f"ka-{name}", tmp / f"{name}.log")
        for name in ("ra", "rb")
    }
    return Pair(sw, nodes["cl"][0], routers["ra"], routers["rb"], lab, nodes["cl"][1])


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


_REPLY = re.compile(r"^\[(\d+\.\d+)\] \d+ bytes from .*icmp_seq=(\d+) .*time=([\d.]+) ms")

LATE = 0.1
"""A reply slower than this (seconds) was no service: a router held the ping in its queue
until the address had a holder again (a forwarding router does that when the address leaves
it before the client knows; the ping is then answered, not lost)."""


def outages(output: str) -> list[tuple[float, int, float]]:
    """Every run of pings not answered in time: (wall time of the timely reply before it,
    pings in the run, gap to the next timely reply). A ping is not answered in time when it
    is lost or its round trip took longer than ``LATE``.

    Sequence numbers, not time gaps between replies, decide: a ping process delayed by a
    busy machine sends late but loses nothing.
    """
    lines = [m for ln in output.splitlines() if (m := _REPLY.match(ln))]
    replies = sorted(
        {
            int(m.group(2)): float(m.group(1)) for m in lines if float(m.group(3)) <= LATE * 1000
        }.items()
    )
    assert len(replies) > 10, output[-500:]
    return [
        (t1, s2 - s1 - 1, t2 - t1)
        for (s1, t1), (s2, t2) in itertools.pairwise(replies)
        if s2 - s1 > 1
    ]
