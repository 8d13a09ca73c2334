"""Two real routerd daemons as a redundant pair on one LAN (for ``test_redundancy_daemon``).

Namespace ``sw`` holds a bridge; routers ``ra`` (10.40.8.2, priority 150) and ``rb``
(10.40.8.3, priority 100) and a client ``cl`` (10.40.8.9) each have an ``eth0`` on it. Each
router runs ``routerd serve --backend linux`` with the same claim: 10.40.8.21 captured by
proxy-ARP on ``eth0`` and delivered into its WireGuard tunnel (the far end does not exist:
capture is what these tests look at), and one ``RedundancyGroup`` (VRRP 42, virtual address
10.40.8.254). Everything of a router lives in its namespace, so killing every process there
(routerd, its keepalived, wireguard-go) is a crashed router.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

from routerd.backends.linux.wgsupervisor import process_start_time
from tests.support.netns import Netns, veth
from tests.support.wait import wait_until

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
ROUTERD = BIN / "routerd" if (BIN / "routerd").exists() else ROOT / ".venv" / "bin" / "routerd"
ROUTERCTL = ROUTERD.with_name("routerctl")
ADDR = {"ra": "10.40.8.2", "rb": "10.40.8.3", "cl": "10.40.8.9"}
PRIORITY = {"ra": 150, "rb": 100}
CLAIMED = "10.40.8.21"
VIP = "10.40.8.254"
PEER_KEY = "Q0xPVUQtUk9VVEVSLVBVQkxJQy1LRVktUkVQTEFDRSE="


def router_yaml(name: str, wg: str, key_dir: Path, **group: Any) -> str:
    partner = ADDR["rb" if name == "ra" else "ra"]
    spec = {
        "role": "onprem",
        "interface": "lan",
        "virtualRouterID": 42,
        "priority": PRIORITY[name],
        "peers": [partner],
        "virtualAddresses": [f"{VIP}/24"],
        **group,
    }
    return textwrap.dedent(f"""\
        apiVersion: routerd.net/v1alpha1
        kind: Router
        metadata: {{name: {name}}}
        spec:
          resources:
            - apiVersion: net.routerd.net/v1alpha1
              kind: Interface
              metadata: {{name: lan}}
              spec: {{ifname: eth0, managed: false}}
            - apiVersion: net.routerd.net/v1alpha1
              kind: WireGuardInterface
              metadata: {{name: {wg}}}
              spec: {{privateKeyFile: {key_dir}/{wg}.key, listenPort: 51820, mtu: 1420}}
            - apiVersion: net.routerd.net/v1alpha1
              kind: IPv4StaticAddress
              metadata: {{name: overlay}}
              spec: {{interface: {wg}, address: 10.255.40.1/31}}
            - apiVersion: net.routerd.net/v1alpha1
              kind: WireGuardPeer
              metadata: {{name: cloud-a}}
              spec: {{interface: {wg}, publicKey: {PEER_KEY}, endpoint: "192.0.2.10:51820"}}
            - apiVersion: hybrid.routerd.net/v1alpha1
              kind: OverlayPeer
              metadata: {{name: cloud-a}}
              spec:
                role: cloud
                nodeID: cloud-rt-a
                underlay: {{type: wireguard, interface: {wg}, address: 10.255.40.1}}
                remote: {{nodeID: cloud-rt-a, address: 10.255.40.0}}
            - apiVersion: hybrid.routerd.net/v1alpha1
              kind: AddressMobilityDomain
              metadata: {{name: edge-lan}}
              spec: {{prefix: 10.40.8.0/24, mode: selective-address, peerRef: cloud-a}}
            - apiVersion: hybrid.routerd.net/v1alpha1
              kind: RemoteAddressClaim
              metadata: {{name: cloud-vm-21}}
              spec:
                domainRef: edge-lan
                address: {CLAIMED}/32
                ownerSide: cloud
                capture: {{type: proxy-arp, interface: eth0, gratuitousARP: false}}
                delivery: {{peerRef: cloud-a, mode: route, tunnelInterface: {wg}}}
            - apiVersion: hybrid.routerd.net/v1alpha1
              kind: RedundancyGroup
              metadata: {{name: site-a}}
              spec: {json.dumps(spec)}
        """)


class Daemon:
    """One router: its namespace, directory and ``routerd serve`` process."""

    def __init__(
        self, name: str, ns: Netns, root: Path, wg: str, cleanup: Any, **group: Any
    ) -> None:
        self.name = name
        self.ns = ns
        self.wg = wg
        self.dir = root / name
        self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.config = self.dir / "router.yaml"
        self.state = self.dir / "state"
        self.socket = self.dir / "routerd.sock"
        self.log = self.dir / "routerd.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.switch: Netns | None = None  # the bridge's namespace and our port on it
        self.port = ""
        self.config.write_text(router_yaml(name, wg, self.dir / "keys", **group))
        cleanup.push(f"routerd {name}", self.stop)

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                ["ip", "netns", "exec", self.ns.name, str(ROUTERD), "serve", "-c",
                 str(self.config), "--backend", "linux", "--state-dir", str(self.state),
                 "--socket", str(self.socket)],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        self.started(self.proc)
        wait_until(self._answers, timeout=30, what=f"routerd {self.name} API")

    def started(self, proc: subprocess.Popen[bytes]) -> None:
        """Called with each routerd process right after it started (a lab records it)."""

    def _answers(self) -> str | None:
        assert self.proc is not None and self.proc.poll() is None, self.log.read_text()[-3000:]
        p = self.ctl("status", check=False)
        return None if p.returncode == 0 else p.stderr

    def stop(self) -> None:
        """SIGTERM routerd (keepalived and the dataplane stay: the namespace ends them)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def kill_routerd(self) -> None:
        """SIGKILL routerd alone (keepalived and wireguard-go keep running)."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()
        self.proc = None

    def crash(self) -> None:
        """SIGKILL every process of this router (routerd, keepalived, wireguard-go) at once:
        stop them all first, so none reacts to another's death, then kill them."""
        pids = [(p, process_start_time(p)) for p in self.ns.pids()]
        for pid, _ in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGSTOP)
        for pid, start in pids:
            if process_start_time(pid) == start:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait()
            self.proc = None
        wait_until(lambda: None if not self.ns.pids() else "alive", timeout=10, what="crash")

    def cut(self, up: bool = False) -> None:
        """Take this router's switch port down (its link is cut) or back up."""
        assert self.switch is not None
        self.switch.ip("link", "set", self.port, "up" if up else "down")

    def pause(self, resume: bool = False) -> None:
        """SIGSTOP (or SIGCONT) every process of this router at once: a hung router."""
        for pid in self.ns.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT if resume else signal.SIGSTOP)

    def ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        argv = [str(ROUTERCTL), "--socket", str(self.socket), "--timeout", "20", *args]
        p = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
        assert not check or p.returncode == 0, (args, p.returncode, p.stdout, p.stderr)
        return p

    def status(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.ctl("status", "-o", "json").stdout)
        return data

    def role(self) -> str:
        return str(self.status().get("pair", {}).get("role", ""))

    def wait_role(self, want: str, timeout: float = 15) -> None:
        def check() -> str | None:
            got = self.role()
            return None if got == want else f"{self.name} is {got!r}"

        wait_until(check, timeout=timeout, interval=0.05, what=f"{self.name} {want}")

    def proxy_arp(self) -> str:
        return self.ns.sysctl("net.ipv4.conf.eth0.proxy_arp")

    def mac(self) -> str:
        mac: str = self.ns.ipj("link", "show", "dev", "eth0")[0]["address"]
        return mac

    def has_vip(self) -> bool:
        addrs = self.ns.ipj("addr", "show", "dev", "eth0")
        return any(a.get("local") == VIP for link in addrs for a in link.get("addr_info", []))

    def claim_state(self) -> tuple[str, str]:
        """(state, reason) of the claim."""
        claims = json.loads(self.ctl("get", "claims", "-o", "json").stdout).get("claims", [])
        c = next((c for c in claims if c.get("name") == "cloud-vm-21"), {})
        return str(c.get("state", "")), str(c.get("reason", ""))


def build(lab: Any, root: Path, **group: Any) -> tuple[Netns, dict[str, Daemon]]:
    """The LAN and both routers (not started); returns the client namespace and them.

    ``group`` overrides fields of the RedundancyGroup's spec on both routers.
    """
    sw = lab.netns("sw")
    sw.ip("link", "add", "br0", "type", "bridge")
    sw.ip("link", "set", "br0", "up")
    nss, ports = {}, {}
    for name in ("ra", "rb", "cl"):
        ns = lab.netns(name)
        port = ports[name] = lab.name(f"p{name}")
        veth(ns, "eth0", sw, port)
        sw.ip("link", "set", port, "master", "br0")
        ns.ip("addr", "add", f"{ADDR[name]}/24", "dev", "eth0")
        nss[name] = ns
    routers = {
        n: Daemon(n, nss[n], root, lab.name(f"wg{n[1]}"), lab.cleanup, **group)
        for n in ("ra", "rb")
    }
    for n, r in routers.items():
        r.switch, r.port = sw, ports[n]
    lab.logs.extend(r.log for r in routers.values())  # no Traceback allowed in them
    return nss["cl"], routers


def answers(samples: list[tuple[float, frozenset[str]]]) -> list[frozenset[str]]:
    """The distinct answer sets of an ARP sweep, in order (consecutive repeats merged)."""
    out: list[frozenset[str]] = []
    for _, macs in samples:
        if not out or out[-1] != macs:
            out.append(macs)
    return out


def answerers(samples: list[tuple[float, frozenset[str]]]) -> set[str]:
    """Every MAC that answered in an ARP sweep (a sample without an answer is a reply that
    came later than the sweep's 10 ms window on a busy machine, or none: not counted)."""
    return {mac for _, macs in samples for mac in macs}


def wait_answered_by(sweep: Any, mac: str, since: float, timeout: float = 10) -> float:
    """Monotonic time of the first sweep sample after ``since`` answered by ``mac`` alone."""
    found: list[float] = []

    def check() -> str | None:
        found[:] = [t for t, macs in sweep(since) if macs == frozenset({mac})]
        return None if found else "not answered by it yet"

    wait_until(check, timeout=timeout, interval=0.05, what=f"answers from {mac}")
    return found[0]


def now() -> float:
    return time.monotonic()


def start_garp_watch(dev: str, ip: str) -> None:
    """(In the client's worker) record (monotonic time, sender MAC, op) of every gratuitous
    ARP for ``ip`` (sender and target address both ``ip``) heard on ``dev``; routerd announces
    with a request (op 1) and a reply (op 2)."""
    import socket
    import struct
    import threading

    from tests.support.netns import STATE

    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0806))
    sock.bind((dev, 0x0806))
    want = socket.inet_aton(ip)
    seen: list[tuple[float, str, int]] = []
    STATE["garps"] = seen

    def run() -> None:
        while True:
            data = sock.recv(128)
            op, sha, spa = struct.unpack_from("!H6s4s", data, 20)
            tpa = struct.unpack_from("!4s", data, 38)[0]
            if spa == want and tpa == want:
                seen.append((time.monotonic(), sha.hex(":"), op))

    threading.Thread(target=run, daemon=True).start()


def garps(since: float = 0.0) -> list[tuple[str, int]]:
    """(sender MAC, op) of the gratuitous ARPs heard since ``since``."""
    from tests.support.netns import STATE

    return [(mac, op) for t, mac, op in STATE["garps"] if t >= since]
