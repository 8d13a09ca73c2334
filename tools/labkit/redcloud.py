"""The redundancy lab's cloud pair: two routerd routers on one cloud subnet, AWS double.

``CloudPair.up()`` builds a fabric namespace ``fab`` (the provider's network, as
``fabric`` describes it: ARP answered by the fabric, each address delivered to the port of
the NIC that holds it, the source/destination check) with ports for routers ``ca``
(10.40.8.2, priority 150) and ``cb`` (10.40.8.3, priority 100) and a VM ``vm`` (10.40.8.9).
The AWS double (moto behind the layer enforcing one address, one ENI) runs in ``fab`` on
the gateway 10.40.8.1 with one ENI per machine, and ``fabric_sync`` moves each address to
the port of the ENI the double says holds it. Each router runs ``routerd serve`` with a
``RedundancyGroup`` (``role: cloud``, VRRP unicast to its partner through the fabric), a
``CloudProviderProfile`` that executes against the double, a ``ProviderActionPolicy``
(approval none, reassign allowed) and two claims captured as provider secondary IPs on its
own ENI. Nothing is assigned by the lab: the active router's reconciler assigns them.

Delivery is measured where a cloud decides it: a worker in ``fab`` records every ICMP echo
to a claimed address the fabric sends out of a router's port. If a secondary IP stayed on
a dead router's ENI, the VM's pings would keep going there and the new active would see
none.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from routerd.backends.linux.wgsupervisor import process_start_time
from routerd.backends.linux.wguapi import RUN_DIR as WG_RUN_DIR
from tests.netns import pair_routers as pr
from tests.support.netns import Netns, NetnsWorker, veth
from tests.support.wait import wait_until

from .cloud_actions import double_env, spawn_in, start_double
from .fabric import RULESET, SINK, SINK_PEER, TABLE
from .redlab import LabRouter
from .registry import Registry

SUBNET = "10.40.8.0/24"
GATEWAY = "10.40.8.1"
ADDR = {"ca": "10.40.8.2", "cb": "10.40.8.3", "vm": "10.40.8.9"}
PRIORITY = {"ca": 150, "cb": 100}
CLAIMS = ["10.40.8.21", "10.40.8.22"]
"""The claimed addresses (``set_claims`` changes how many, in place: importers share it)."""
PINGED = CLAIMS[0]
MAX_CLAIMS = 49
"""An ENI holds at most 50 addresses, its primary one of them."""


def set_claims(count: int) -> None:
    """Claim ``count`` addresses from 10.40.8.21 up (``--cloud-claims``)."""
    if not 1 <= count <= MAX_CLAIMS:
        raise ValueError(f"--cloud-claims must be 1..{MAX_CLAIMS}, not {count}")
    CLAIMS[:] = [f"10.40.8.{21 + i}" for i in range(count)]


ROOT = Path(__file__).resolve().parents[2]


def _res(api: str, kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": f"{api}.routerd.net/v1alpha1", "kind": kind,
            "metadata": {"name": name}, "spec": spec}  # fmt: skip


def cloud_router_yaml(name: str, wg: str, key_dir: Path, nic: str, subnet_id: str) -> str:
    """A cloud router of the pair: its own ENI as ``nicRef``, the partner in ``peers``."""
    partner = ADDR["cb" if name == "ca" else "ca"]
    claims = [
        _res("hybrid", "RemoteAddressClaim", f"onprem-{a.split('.')[-1]}", {
            "domainRef": "edge-lan", "address": f"{a}/32", "ownerSide": "onprem",
            "capture": {"type": "provider-secondary-ip", "providerRef": "aws-lab",
                        "providerMode": "eni-secondary-ip", "nicRef": nic,
                        "configureOSAddress": False, "interface": "eth0"},
            "delivery": {"peerRef": "onprem-1", "mode": "route", "tunnelInterface": wg},
        })
        for a in CLAIMS
    ]  # fmt: skip
    resources = [
        _res("net", "Interface", "lan", {"ifname": "eth0", "managed": False}),
        _res("net", "WireGuardInterface", wg,
             {"privateKeyFile": f"{key_dir}/{wg}.key", "listenPort": 51820, "mtu": 1420}),
        _res("net", "IPv4StaticAddress", "overlay",
             {"interface": wg, "address": "10.255.40.0/31"}),
        _res("net", "WireGuardPeer", "onprem-1", {"interface": wg, "publicKey": pr.PEER_KEY}),
        _res("hybrid", "OverlayPeer", "onprem-1", {
            "role": "onprem", "nodeID": "onprem-rt-1",
            "underlay": {"type": "wireguard", "interface": wg, "address": "10.255.40.0"},
            "remote": {"nodeID": "onprem-rt-1", "address": "10.255.40.1"}}),
        _res("hybrid", "AddressMobilityDomain", "edge-lan",
             {"prefix": SUBNET, "mode": "selective-address", "peerRef": "onprem-1"}),
        _res("hybrid", "CloudProviderProfile", "aws-lab", {
            "provider": "aws", "region": "us-east-1", "execution": "execute",
            "subnet": subnet_id,
            "capabilities": ["eni-secondary-ip", "source-dest-check-disabled"]}),
        _res("hybrid", "ProviderActionPolicy", "lab-actions", {
            "providerRef": "aws-lab", "allowedPrefixes": [SUBNET],
            "actions": ["assign", "unassign", "reassign"],
            "maxActionsPerRun": max(10, len(CLAIMS)),
            "approval": "none"}),
        *claims,
        _res("hybrid", "RedundancyGroup", "cloud-pair", {
            "role": "cloud", "interface": "lan", "virtualRouterID": 43,
            "priority": PRIORITY[name], "peers": [partner], "advertInterval": "100ms"}),
    ]  # fmt: skip
    doc = {"apiVersion": "routerd.net/v1alpha1", "kind": "Router",
           "metadata": {"name": name}, "spec": {"resources": resources}}  # fmt: skip
    return yaml.safe_dump(doc, sort_keys=False)


class CloudRouter(LabRouter):
    """A router of the cloud pair: routerd with the double as EC2 API and its own IMDS."""

    def __init__(self, name: str, ns: Netns, root: Path, wg: str, config: str) -> None:
        self.name, self.ns, self.wg = name, ns, wg
        self.dir = root / name
        (self.dir / "keys").mkdir(mode=0o700, parents=True)
        self.config = self.dir / "router.yaml"
        self.state = self.dir / "state"
        self.socket = self.dir / "routerd.sock"
        self.log = self.dir / "routerd.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.switch: Netns | None = None
        self.port = ""
        self.config.write_text(config.replace("@KEYS@", str(self.dir / "keys")))
        self.env: dict[str, str] = {}

    def start(self) -> None:
        saved = dict(os.environ)
        os.environ.update(self.env)  # Daemon.start inherits the environment
        try:
            super().start()
        finally:
            os.environ.clear()
            os.environ.update(saved)

    def actions(self) -> list[dict[str, Any]]:
        """This router's action journal, newest first."""
        doc = pr.json.loads(self.ctl("action", "list", "--limit", "1000", "-o", "json").stdout)
        out = [a for a in doc.get("actions", []) if a.get("address") in CLAIMS]
        return sorted(out, key=lambda a: -int(a["id"]))


def start_delivery_watch(ports: list[str], ip: str) -> None:
    """(In the fabric's worker) record (monotonic time, port) of every ICMP echo request to
    ``ip`` the fabric sends out of one of ``ports`` (towards that NIC)."""
    import socket
    import threading

    from tests.support.netns import STATE

    want = socket.inet_aton(ip)
    seen: list[tuple[float, str]] = []
    STATE["delivered"] = seen

    def run(port: str) -> None:
        # every protocol (ETH_P_ALL): only such sockets see what the kernel sends
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(3))
        sock.bind((port, 3))
        while True:
            try:
                data, addr = sock.recvfrom(256)
            except OSError:  # the port is down (a cut link): wait for it
                time.sleep(0.01)
                continue
            if addr[1] != 0x0800 or addr[2] != socket.PACKET_OUTGOING:
                continue
            if data[9] == 1 and data[16:20] == want and data[(data[0] & 0x0F) * 4] == 8:
                seen.append((time.monotonic(), port))

    for port in ports:
        threading.Thread(target=run, args=(port,), daemon=True).start()


def delivered(since: float) -> list[tuple[float, str]]:
    from tests.support.netns import STATE

    return [(t, p) for t, p in STATE["delivered"] if t >= since]


def holders(url: str) -> dict[str, str]:
    from tools.labkit.fabric_sync import read_holders

    return read_holders(url)


@dataclass
class CloudPair:
    """A built cloud pair (module docstring)."""

    fab: Netns
    vm: Netns
    routers: dict[str, CloudRouter]
    watcher: NetnsWorker
    url: str
    nics: dict[str, str]
    ports: dict[str, str]

    @classmethod
    def up(
        cls,
        run_id: str,
        run_dir: Path,
        registry: Registry,
        netns: Callable[[str], Netns],
        log: Callable[[str], None],
    ) -> CloudPair:
        fab = netns("fab")
        fab.exec("sysctl", "-q", "-w", "net.ipv4.ip_forward=1")
        fab.ip("addr", "add", f"{GATEWAY}/32", "dev", "lo")
        fab.ip("link", "add", SINK, "type", "veth", "peer", "name", SINK_PEER)
        for dev in (SINK, SINK_PEER):
            fab.ip("link", "set", dev, "up")
        fab.ip("route", "add", SUBNET, "dev", SINK)
        fab.exec("nft", "-f", "-", input=RULESET)
        nss, ports = {}, {}
        for name in ("ca", "cb", "vm"):
            ns = nss[name] = netns(name)
            port = ports[name] = f"p{name}"
            veth(ns, "eth0", fab, port)
            ns.ip("addr", "add", f"{ADDR[name]}/24", "dev", "eth0")
            fab.exec("sysctl", "-q", "-w", f"net.ipv4.conf.{port}.proxy_arp=1")
            fab.exec("sysctl", "-q", "-w", f"net.ipv4.neigh.{port}.proxy_delay=0")
        fab.exec("nft", "add", "element", "inet", TABLE, "forwarding", '{ "pca", "pcb" }')
        cdir = run_dir / "cloud"
        cdir.mkdir(mode=0o700)
        url, world = _spawn_double(fab, registry, cdir)
        nics = dict(zip(("ca", "cb", "vm"), world["nics"], strict=True))
        sync = [sys.executable, "-m", "tools.labkit.fabric_sync", "--url", url]
        sync += ["--subnet", SUBNET, "--log", str(cdir / "fabric-sync.jsonl")]
        for name, nic in nics.items():
            mac = nss[name].ipj("link", "show", "dev", "eth0")[0]["address"]
            sync += ["--port", f"{nic}={ports[name]}={mac}"]
        spawn_in(fab.name, registry, sync, cdir / "fabric-sync.out", "fabric sync")
        routers = {}
        for i, name in enumerate(("ca", "cb")):
            wg = f"w{run_id}{name[1]}c"
            registry.push("path", path=str(WG_RUN_DIR / f"{wg}.sock"))
            config = cloud_router_yaml(name, wg, Path("@KEYS@"), nics[name], world["subnet"])
            r = CloudRouter(name, nss[name], cdir, wg, config)
            r.registry = registry
            r.switch, r.port = fab, ports[name]
            r.env = double_env(url, imds=f"{url}/instance/{i}")
            routers[name] = r
        watcher = NetnsWorker(fab.name)
        registry.push("process", pid=watcher.pid, start=process_start_time(watcher.pid))
        watcher.call(start_delivery_watch, [ports["ca"], ports["cb"]], PINGED)
        pair = cls(fab, nss["vm"], routers, watcher, url, nics, ports)
        routers["ca"].start()
        routers["ca"].wait_role("active", timeout=30)
        routers["cb"].start()
        routers["cb"].wait_role("standby", timeout=30)
        pair.wait_held("ca", timeout=30)
        log("cloud pair: ca active, cb standby, both claims on ca's ENI")
        return pair

    def holders(self) -> dict[str, str]:
        held: dict[str, str] = self.watcher.call(holders, self.url)
        return held

    def held_by(self) -> dict[str, str]:
        """claimed address -> the router whose ENI holds it ('' for none)."""
        by_nic = {nic: name for name, nic in self.nics.items()}
        h = self.holders()
        return {a: by_nic.get(h.get(a, ""), "") for a in CLAIMS}

    def wait_held(self, name: str, timeout: float = 30) -> float:
        """Monotonic time the double first showed every claim on ``name``'s ENI."""

        def check() -> str | None:
            got = self.held_by()
            return None if set(got.values()) == {name} else str(got)

        wait_until(check, timeout=timeout, interval=0.02, what=f"claims on {name}'s ENI")
        return pr.now()

    def delivered(self, since: float) -> list[tuple[float, str]]:
        out: list[tuple[float, str]] = self.watcher.call(delivered, since)
        return out

    def wait_delivered_to(self, name: str, since: float, timeout: float = 60) -> float:
        """Monotonic time of the first echo the fabric sent to ``name``'s NIC after ``since``."""
        found: list[float] = []

        def check() -> str | None:
            found[:] = [t for t, p in self.delivered(since) if p == self.ports[name]]
            return None if found else "not delivered there yet"

        wait_until(check, timeout=timeout, interval=0.05, what=f"delivery to {name}")
        return found[0]

    def ping_train(self, seconds: float) -> subprocess.Popen[str]:
        argv = ["ping", "-D", "-n", "-i", "0.01", "-W", "1", "-w", str(seconds), PINGED]
        # nobody reads its output: a pipe would fill (a line per reply) and stall the train
        return self.vm.popen(*argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def logs(self) -> list[Path]:
        out = [r.log for r in self.routers.values()]
        return out + [r.state / "keepalived" / "keepalived.log" for r in self.routers.values()]

    def down(self) -> None:
        for r in self.routers.values():
            r.pause(resume=True)
            r.stop()
        self.watcher.close(timeout=5)  # type: ignore[call-arg]


def _spawn_double(fab: Netns, registry: Registry, cdir: Path) -> tuple[str, dict[str, Any]]:
    primaries = [ADDR[n] for n in ("ca", "cb", "vm")]
    out = cdir / "aws-fake.out"
    return start_double(
        fab.name,
        registry,
        out,
        host=GATEWAY,
        subnet=SUBNET,
        primaries=primaries,
        instance_nic=False,  # each router reads its own /instance/<n>/ metadata
    )
