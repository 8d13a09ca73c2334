"""One lab run: topology, fabric, internet, VMs and both routerd, built and torn down together.

``Lab.up(provider)`` does what lab.md describes, in the order a real deployment happens:
namespaces and links; the provider's fabric and the internet (OCI: the black hole); on OCI
the cloud router's image firewall; sshd in both VMs; the VMs' default routes recorded (the
smoke proves routerd never changed them); the provider provisioning step (secondary IP,
forwarding); then each router's config (the example pair, keys paired, tunnel renamed) and
one ``routerd serve`` per router. Opening OCI's image firewall is *not* part of ``up``: the
smoke first shows that ``doctor hybrid`` warns about it.

Everything created goes through the run's ``Registry``; ``down()`` releases it in reverse,
and ``tools/lab down`` does the same for a kept run from its manifest. A failure half-way
through ``up`` tears down whatever already exists before the error propagates.
"""

from __future__ import annotations

import hashlib
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from routerd.backends.linux.wguapi import RUN_DIR as WG_RUN_DIR
from tests.support.netns import Netns, uid

from . import firewall
from .cloud_actions import PROVIDERS as ACTION_PROVIDERS
from .cloud_actions import CloudActions
from .config import render_pair, tunnel_names
from .fabric import Fabric
from .internet import Internet
from .registry import Registry
from .routers import Router
from .topology import (
    CLOUD_ROUTER,
    CLOUD_VM,
    FABRIC_ROUTER_PORT,
    LISTEN_PORT,
    ONPREM_LAN_IF,
    ONPREM_ROUTER,
    ONPREM_VM,
    PROVIDERS,
    Topology,
    capture_ifname,
)
from .vms import Vms

RUNS_DIR = Path("/run/routerd-lab")
XFER_DIR = "/var/tmp"
PAYLOAD_BYTES = 100 * 1024 * 1024
SIDE_ROLE = {"cloud": CLOUD_ROUTER, "onprem": ONPREM_ROUTER}


@dataclass
class Payload:
    """The 100 MiB file the smoke copies, and its digest."""

    path: Path
    sha256: str


@dataclass
class Lab:
    """A built lab (see the module docstring)."""

    run_id: str
    provider: str
    dir: Path
    registry: Registry
    topo: Topology
    fabric: Fabric
    internet: Internet
    vms: Vms
    routers: dict[str, Router] = field(default_factory=dict)
    vm_default_routes: dict[str, list[dict[str, object]]] = field(default_factory=dict)
    firewall_opened: list[str] = field(default_factory=list)
    variant: str = ""
    cloud_actions: CloudActions | None = None
    figures: dict[str, float] = field(default_factory=dict)
    _payload: Payload | None = None

    @classmethod
    def up(
        cls,
        provider: str,
        *,
        base_dir: Path = RUNS_DIR,
        run_id: str | None = None,
        log: Callable[[str], None] = lambda _: None,
        variant: str = "",
        cloud_actions: bool = False,
    ) -> Lab:
        """Build the lab and start both routerd (see the module docstring).

        ``variant`` selects a config variant of ``config.VARIANTS`` ("" runs the examples).
        ``cloud_actions``: no provider step; routerd assigns the secondary IP itself through
        the cloud's double (``cloud_actions``).
        """
        if provider not in PROVIDERS:
            raise ValueError(f"unknown provider {provider!r}: one of {', '.join(PROVIDERS)}")
        if cloud_actions and provider not in ACTION_PROVIDERS:
            raise ValueError(
                f"--cloud-actions runs with --provider {' or '.join(ACTION_PROVIDERS)} (the "
                f"clouds whose double the lab runs), not {provider}"
            )
        run_id = run_id or uid(4)
        run_dir = base_dir / run_id
        run_dir.mkdir(mode=0o700, parents=True)
        registry = Registry.create(run_dir, run=run_id, provider=provider, created=time.time())
        registry.push("path", path=str(run_dir))
        topo = Topology(run_id, provider)
        parts = (Fabric(topo), Internet(topo), Vms(topo, run_dir))
        lab = cls(run_id, provider, run_dir, registry, topo, *parts)
        lab.variant = variant
        if cloud_actions:
            lab.cloud_actions = CloudActions(topo, run_dir)
        try:
            lab._build(log)
        except BaseException:
            lab.down()
            raise
        return lab

    def _build(self, log: Callable[[str], None]) -> None:
        tunnels = tunnel_names(self.run_id)
        for name in tunnels.values():  # sockets left by a killed wireguard-go; removed last
            self.registry.push("path", path=str(WG_RUN_DIR / f"{name}.sock"))
        self.topo.build(self.registry)
        self.fabric.build()
        self.internet.build()
        if self.provider == "oci":
            firewall.load_image_default(self.topo.ns[CLOUD_ROUTER])
        log(f"namespaces lab{self.run_id}-*: built ({self.provider})")
        self.vms.build(self.registry)
        for role in (CLOUD_VM, ONPREM_VM):
            self.vm_default_routes[role] = self.topo.default_route(role)
        if self.cloud_actions is not None:
            self.cloud_actions.start(self.registry)
            self.fabric.set_forwarding(FABRIC_ROUTER_PORT, True)
            log(f"AWS double (moto) at {self.cloud_actions.url}; forwarding on; no provider step")
        else:
            self.fabric.provision()
            log("provider step: 10.40.8.31 assigned to the router NIC, forwarding on")
        configs = render_pair(self.provider, self.dir / "keys", tunnels, variant=self.variant)
        if self.cloud_actions is not None:
            configs["cloud"] = self.cloud_actions.rewrite(configs["cloud"])
        capture = {"cloud": capture_ifname(self.provider), "onprem": ONPREM_LAN_IF}
        for side, role in SIDE_ROLE.items():
            router = Router(
                side,
                self.topo.ns[role],
                self.dir,
                tunnel=tunnels[side],
                capture_if=capture[side],
            )
            router.write_config(configs[side])
            if side == "cloud" and self.cloud_actions is not None:
                router.env = self.cloud_actions.router_env()
            self.routers[side] = router
        for router in self.routers.values():
            router.start(self.registry)
            log(f"routerd ({router.side}) serving on {router.socket}")

    def down(self) -> list[str]:
        """Tear everything down (LIFO); returns what could not be released."""
        return self.registry.close()

    # -- views for steps, reports and evidence -------------------------------------------

    @property
    def cloud(self) -> Router:
        return self.routers["cloud"]

    @property
    def onprem(self) -> Router:
        return self.routers["onprem"]

    def namespaces(self) -> list[Netns]:
        return list(self.topo.ns.values())

    def logs(self) -> list[Path]:
        out = [r.log for r in self.routers.values()]
        for r in self.routers.values():
            out += sorted((r.state_dir / "wireguard-go").glob("*.log"))
        return out + list(self.vms.logs)

    def open_firewall(self) -> list[str]:
        """Apply the documented host rule on the cloud router (OCI image firewall)."""
        cloud = self.cloud
        self.firewall_opened = firewall.open_documented(
            cloud.ns, LISTEN_PORT, cloud.capture_if, cloud.tunnel
        )
        return self.firewall_opened

    def payload(self) -> Payload:
        """The 100 MiB random file (made once per run).

        It lives on disk under ``XFER_DIR``, not in the run directory: ``/run`` is a small
        tmpfs on many machines, and the copies need room for a second 100 MiB file.
        """
        if self._payload is None:
            xfer = Path(tempfile.mkdtemp(prefix=f"routerd-lab-{self.run_id}-", dir=XFER_DIR))
            self.registry.push("path", path=str(xfer))
            path = xfer / "payload.bin"
            digest = hashlib.sha256()
            with path.open("wb") as out, open("/dev/urandom", "rb") as rnd:
                left = PAYLOAD_BYTES
                while left:
                    chunk = rnd.read(min(left, 1 << 20))
                    digest.update(chunk)
                    out.write(chunk)
                    left -= len(chunk)
            self._payload = Payload(path, digest.hexdigest())
        return self._payload


def kept_runs(base_dir: Path = RUNS_DIR) -> list[Registry]:
    """Registries of runs still on this machine (kept, or left by a killed lab)."""
    if not base_dir.is_dir():
        return []
    return [Registry.load(p.parent) for p in sorted(base_dir.glob("*/manifest.json"))]
