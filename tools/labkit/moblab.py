"""One run of the three-site mobility lab: built, driven and torn down together.

``MobilityLab.up(control)`` builds, in order: the namespaces and links (``mobtopo``), the
cloud fabric with the cloud VMs' addresses on their NICs and every address homed on-prem on
the cloud router's NIC (capture declared statically, the operator's provider step), a
partition table in the internet namespace, keys, the reflector's tunnel and BIRD2, one
measurement worker per VM and monitor namespace, then the control plane (``mobcontrol``).
Finally the homes the lab starts with are made known the way they would be: each on-prem VM
sends a gratuitous ARP (as it does when it boots), and the cloud's addresses are moved to
the cloud explicitly (presence in a cloud is the provider's inventory or an explicit call).
With ``cloud_actions`` (``mobcloud``) the provider is the AWS double instead: the lab assigns
nothing to the cloud router's NIC, routerd does, and the cloud's addresses are homed by the
cloud router's inventory presence.
``up`` returns once every router agrees on every home and the reflector holds exactly one
originator per address.

Everything is recorded in the run's ``Registry`` (``tools/lab down`` can release a kept
run); ``down`` releases it in reverse. Workers are forked while the lab process has no
other thread (every agent thread lives inside a worker).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from routerd.backends.linux.wgsupervisor import process_start_time
from tests.support.netns import Cleanup, NetnsWorker, uid
from tests.support.wait import WaitTimeout, wait_until

from . import agents, hypervisor, mobcloud
from .birdrr import BirdRR
from .lab import RUNS_DIR
from .mobcloud import MobilityCloud
from .mobconfig import Keys, rr_config, static_overlay
from .mobcontrol import Control, choose, start_tunnel
from .mobfabric import MobilityFabric
from .mobmeasure import parse_bird_routes
from .mobtopo import (
    CLOUD,
    FABRIC_ROUTER_PORT,
    HV,
    MIGRATING,
    NET,
    ONPREM,
    RR,
    SITE,
    VM,
    VM_IF,
    VMS,
    MobilityTopology,
    initial_homes,
)
from .mobwatch import Report
from .registry import Registry

PARTITION = """
table inet partition {
  comment "mobility lab: underlay cuts between sites"
  set cut { type ipv4_addr . ipv4_addr; }
  chain forward {
    type filter hook forward priority filter; policy accept;
    ip saddr . ip daddr @cut counter drop
  }
}
"""
CONVERGE_TIMEOUT = 60.0
PRESENCE_TIMEOUT = 15.0


@dataclass
class MobilityLab:
    """A built mobility lab (module docstring)."""

    run_id: str
    dir: Path
    registry: Registry
    topo: MobilityTopology
    fabric: MobilityFabric
    keys: Keys
    control: Control | None = None
    rr: BirdRR | None = None
    workers: dict[str, NetnsWorker] = field(default_factory=dict)
    log: Callable[[str], None] = lambda _: None
    migrant_site: str = "site-a"
    """The LAN ``mig`` is on now."""
    moved: dict[str, str] = field(default_factory=dict)
    echo_serving: bool = False
    startup: Report = field(default_factory=Report)
    """Checks made while the lab came up (reported with the scenarios')."""
    cloud: MobilityCloud | None = None
    """The AWS double and the migration tool (``--cloud-actions``), else None."""

    @classmethod
    def up(
        cls,
        control: str = "auto",
        *,
        cloud_actions: bool = False,
        base_dir: Path = RUNS_DIR,
        log: Callable[[str], None] = lambda _: None,
    ) -> MobilityLab:
        """Build the lab and settle the initial homes (module docstring)."""
        run_id = uid(4)
        run_dir = base_dir / run_id
        run_dir.mkdir(mode=0o700, parents=True)
        registry = Registry.create(run_dir, run=run_id, provider="mobility", created=time.time())
        registry.push("path", path=str(run_dir))
        topo = MobilityTopology(run_id)
        lab = cls(
            run_id, run_dir, registry, topo, MobilityFabric(topo), Keys.create(run_dir / "keys")
        )
        lab.log = log
        if cloud_actions:
            lab.cloud = MobilityCloud(lab)
        try:
            lab._build(control)
        except BaseException:
            lab.down()
            raise
        return lab

    def _build(self, control: str) -> None:
        self.topo.build(self.registry)
        self.fabric.build()
        for vm in VMS:
            if vm.site == CLOUD.name:
                self.topo.add_vm(vm)
                if self.cloud is None:
                    self.fabric.assign(vm.port, vm.addresses)
        homes = initial_homes()
        if self.cloud is None:
            self.fabric.assign(
                FABRIC_ROUTER_PORT, sorted(a for a, s in homes.items() if s != CLOUD.name)
            )
        else:
            self.cloud.start(self.registry)
            self.log("cloud actions: the AWS double, its fabric sync and the migration tool")
        self.topo.ns[NET].exec("nft", "-f", "-", input=PARTITION)
        self.log(f"namespaces lab{self.run_id}-*: built")
        for vm in VMS:
            self.worker(vm.role, name=f"agent {vm.role}")
        self.worker(RR, name="agent rr")
        switches = {s.name: hypervisor.switch_name(s.letter) for s in ONPREM}
        self.worker(HV, name="agent hv").call(
            hypervisor.open_switch,
            self.topo.ns_name(HV),
            self.topo.ns_name(MIGRATING),
            VM_IF,
            VM[MIGRATING].port,
            switches,
        )
        rr_ns = self.topo.ns[RR]
        start_tunnel(
            rr_ns,
            static_overlay("r", self.run_id, self.keys),
            self.registry,
            self.dir / "rr-wireguard-go.log",
        )
        self.rr = BirdRR(rr_ns, rr_config(), self.dir / "rr")
        self.rr.start(Cleanup())
        assert self.rr.process is not None
        self.registry.push_process(self.rr.process, "bird rr")  # type: ignore[arg-type]
        self.control = choose(control, self)
        self.log(f"control plane: {self.control.mode}")
        self.control.start()
        wait_until(self._sessions_up, timeout=CONVERGE_TIMEOUT, interval=0.2, what="BGP sessions")
        self.log("BGP sessions established at the reflector")
        self.announce_initial()
        self.wait_homes(homes)
        self.log(f"{len(homes)} homes agreed by every router and the reflector")

    def worker(self, role: str, *, name: str) -> NetnsWorker:
        """A worker in ``role``'s namespace, recorded (stopped by PID at teardown)."""
        w = NetnsWorker(self.topo.ns_name(role))
        self.registry.push("process", pid=w.pid, start=process_start_time(w.pid), what=name)
        if name.startswith("agent "):
            self.workers[role] = w
        return w

    def migrate(self, to: str) -> tuple[float, float]:
        """Live-migrate ``mig`` to ``to``'s LAN (``hypervisor``); (switched at, GARP at)."""
        t = self.workers[HV].call(hypervisor.migrate, to, list(VM[MIGRATING].addresses))
        self.migrant_site = to
        return t

    def _sessions_up(self) -> str | None:
        assert self.rr is not None
        up = self.rr.established()
        return None if len(up) == len(SITE) else f"established at the reflector: {up}"

    def announce_initial(self) -> None:
        """On-prem VMs announce themselves; the cloud's addresses are moved there.

        A VM's gratuitous ARP must be enough to home it. One the control plane has not homed
        within ``PRESENCE_TIMEOUT`` is moved explicitly so the scenarios can run, and the
        startup check ``startup: presence homes every announced VM`` fails.
        """
        assert self.control is not None
        onprem = {}
        for vm in VMS:
            if vm.up and not vm.monitor and SITE[vm.site].kind == "onprem":
                self.workers[vm.role].call(agents.announce, VM_IF, list(vm.addresses))
                onprem.update(dict.fromkeys(vm.addresses, vm.site))
        cloud = [a for vm in VMS if vm.up and vm.site == CLOUD.name for a in vm.addresses]
        if self.cloud is None:
            self.control.move(CLOUD.name, cloud)
        else:
            mobcloud.startup(self, self.cloud, CONVERGE_TIMEOUT)
        try:
            took = f"in {self.wait_homes(onprem, timeout=PRESENCE_TIMEOUT):.1f}s"
            missing: list[str] = []
        except WaitTimeout:
            missing = [a for a, s in onprem.items() if self.control.homes(s).get(a, ("",))[0] != s]
            took = ""
        for address in missing:
            self.control.move(onprem[address], [address])
        self.startup.check(
            "startup: presence homes every announced VM",
            not missing,
            f"{len(onprem)} on-prem addresses homed from their gratuitous ARP {took}"
            if not missing
            else f"not homed by presence within {PRESENCE_TIMEOUT:.0f}s (moved explicitly): "
            + ", ".join(missing),
        )

    def rr_table(self) -> dict[str, tuple[tuple[int, int], ...]]:
        assert self.rr is not None
        return parse_bird_routes(self.rr.birdc("show route all"))

    def disagreement(self, expected: dict[str, str]) -> str | None:
        """None when every router and the reflector agree with ``expected`` (address ->
        home site), else what differs (first few)."""
        assert self.control is not None
        wrong = []
        for site in SITE:
            homes = self.control.homes(site)
            wrong += [
                f"{site} has {a} at {homes.get(a, ('nowhere',))[0]}"
                for a, s in expected.items()
                if homes.get(a, ("",))[0] != s
            ]
        table = self.rr_table()
        ids = {s.site_id: s.name for s in SITE.values()}
        for a, s in expected.items():
            paths = table.get(a, ())
            if [ids.get(p[0]) for p in paths] != [s]:
                wrong.append(f"reflector has {a} from {[ids.get(p[0]) for p in paths]}")
        return (
            "; ".join(wrong[:6]) + (f" (+{len(wrong) - 6})" if len(wrong) > 6 else "")
            if wrong
            else None
        )

    @property
    def control_plane(self) -> Control:
        assert self.control is not None, "the control plane is not started"
        return self.control

    def wait_homes(self, expected: dict[str, str], timeout: float = CONVERGE_TIMEOUT) -> float:
        """Until every router and the reflector agree with ``expected``; seconds it took.

        Raises:
            WaitTimeout: naming what still disagrees.
        """
        started = time.monotonic()
        wait_until(
            lambda: self.disagreement(expected), timeout=timeout, interval=0.1, what="homes agreed"
        )
        return time.monotonic() - started

    def partition(self, a: str, b: str, *, cut: bool) -> None:
        """Cut (or heal) the underlay between two public addresses, both directions."""
        op = "add" if cut else "delete"
        elements = f"{{ {a} . {b}, {b} . {a} }}"
        self.topo.ns[NET].exec("nft", op, "element", "inet", "partition", "cut", elements)

    def down(self) -> list[str]:
        """Tear everything down (LIFO); returns what could not be released."""
        errors = []
        if self.rr is not None:
            try:
                self.rr.stop()  # by PID, and its stderr pipe closed (the registry cannot)
            except Exception as exc:
                errors.append(f"bird: {exc}")
        return errors + self.registry.close()
