"""A cloud site's router in a mobility domain, against one cloud's enforcing double.

``CloudSiteKit`` runs the real pieces of the cloud router that a move touches, on the
test's thread and a manual clock, with nothing faked but the other sites' BGP paths:

* the ``MobilityController`` of the example site C, its domain's prefix moved into the
  double's subnet (the NICs' primary addresses excluded) and its capture through the
  double's router NIC (``world.nics[0]``), with an executing profile and a policy;
* cloud presence (``SitePresence`` over ``CloudPresence``) reading the double's inventory
  through the real ``ExecutorFactory``;
* the provider reconciler's ``ActionRunner`` on a real state store, its targets the
  controller's derived claims, and ``may_take`` answered by ``mobility_take.verdict``.

``world.nics[2]`` is the VM's NIC; what the migration tool does to it goes straight to the
double.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from routerd.core.exchange import ExchangeView, LearnedPath, SessionState
from routerd.core.mobility import MobilityController, MobilityPlan, MobilityStep
from routerd.core.mobility.port import MemoryMobilityStore
from routerd.core.resources import CloudProviderProfile, ProviderActionPolicy
from routerd.daemon.mobility_cloud import CloudPresence, InventoryPoller, SitePresence, cloud_site
from routerd.daemon.mobility_take import verdict
from routerd.providers.action_runner import ActionRunner, ProfileReport
from routerd.providers.targets import ProfileTargets, Target
from routerd.state.store import Store
from tests.unit.providers.action_kit import MODES, factory_for, load_config
from tests.unit.providers.exec_worlds import World

ROOT = Path(__file__).resolve().parents[3]
SITE_C = ROOT / "examples" / "mobility" / "site-c.yaml"
RR = "10.255.0.1"
SITE_A_ROUTER = "10.255.0.11"


def site_c_text(world: World, *, absent_after: int = 2) -> str:
    """The example site C router, its domain and capture moved onto the world's double."""
    doc = yaml.safe_load(SITE_C.read_text())
    prefix = str(ipaddress.IPv4Network(f"{world.vm_primary}/24", strict=False))
    primaries = sorted(ip for ip in world.holders() if ip not in world.free)
    for res in doc["spec"]["resources"]:
        kind, spec = res["kind"], res["spec"]
        if kind == "CloudProviderProfile":
            spec.update(provider=world.cloud, execution="execute", subnet=world.subnet)
            spec["region"] = world.config.region or "local"
            spec["capabilities"] = ["secondary-ip", "forwarding"]
            if world.cloud == "azure":
                spec["subscriptionID"] = world.scope["subscription"]
            if world.cloud == "gcp":
                spec["project"] = world.scope["project"]
        if kind == "AddressMobilityDomain":
            spec["prefix"] = prefix
            mob = spec["mobility"]
            mob["exclude"] = [f"{ip}/32" for ip in primaries]
            mob["capture"]["nicRef"] = world.nics[0]
            mob["capture"]["providerMode"] = MODES.get(world.cloud, "alias-ip-range")
            mob["presence"] = {"absentAfter": absent_after, "inventoryInterval": "1s"}
    doc["spec"]["resources"].append(
        {
            "apiVersion": "hybrid.routerd.net/v1alpha1",
            "kind": "ProviderActionPolicy",
            "metadata": {"name": "aws-lab-actions"},
            "spec": {
                "providerRef": "aws-lab",
                "allowedPrefixes": [prefix],
                "actions": ["assign", "unassign", "reassign"],
                "approval": "none",
            },
        }
    )
    return yaml.safe_dump(doc, sort_keys=False)


class Clock:
    """The engine's clock, moved by the test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class CloudSiteKit:
    """Site C's router against ``world`` (see the module docstring)."""

    world: World
    store: Store
    absent_after: int = 2
    clock: Clock = field(default_factory=Clock)
    paths: dict[str, tuple[LearnedPath, ...]] = field(default_factory=dict)
    claims: dict[str, Any] = field(default_factory=dict)
    steps: list[MobilityStep] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.config = load_config(site_c_text(self.world, absent_after=self.absent_after))
        self.factory = factory_for(self.world)
        self.mstore = MemoryMobilityStore()
        self.ctl = MobilityController(self.config, self.mstore, clock=self.clock)
        self.plan: MobilityPlan = self.ctl.plan
        self.cloud = CloudPresence(InventoryPoller(self.factory, clock=self.clock))
        self.feed = SitePresence(None, self.cloud)
        self.feed.configure(self.plan)
        self.site = cloud_site(self.plan.domains[0])
        assert self.site is not None
        self.profile = self.config.of(CloudProviderProfile)[0]
        self.policy = self.config.of(ProviderActionPolicy)[0]
        self.runner = ActionRunner(
            self.store,
            lambda pt: self.factory(pt.profile),
            may_take=lambda address, holder: verdict(self, address, holder),  # type: ignore[arg-type]
        )
        self.router_nic, self.vm_nic = self.world.nics[0], self.world.nics[2]

    # -- the pieces, one at a time -------------------------------------------------------

    def tick(self, seconds: float = 1.0) -> None:
        self.clock.now += seconds

    def read(self) -> None:
        """One inventory read by cloud presence (a fresh one: the tests move fast)."""
        self.factory(self.profile).forget_inventory()
        assert self.site is not None
        read = self.cloud.poller.read(self.site)
        assert read.error == "", read.error

    def step(self) -> MobilityStep:
        """Presence takes what was read, the controller steps; its claims are kept."""
        self.feed.take(self.clock.now)
        view = ExchangeView(
            paths=MappingProxyType(dict(self.paths)),
            sessions=MappingProxyType({RR: SessionState(RR, "established", 0.0)}),
            originated=MappingProxyType(dict(self.ctl.originations())),
        )
        step = self.ctl.step(self.clock.now, view, self.feed, None)
        assert step.error == "", step.error
        for claim in step.claims.put:
            self.claims[claim.name] = claim
        for name in step.claims.removed:
            self.claims.pop(name, None)
        self.steps.append(step)
        return step

    def announce(self, address: str, sequence: int) -> None:
        """Site A originates ``address`` at ``sequence`` (the VM is there)."""
        self.paths[address] = (LearnedPath(address, 1, sequence, SITE_A_ROUTER, RR, SITE_A_ROUTER),)

    def targets(self) -> dict[str, ProfileTargets]:
        """The reconciler's desired state: every derived claim's address on its NIC."""
        wanted = {c.ip: Target(c.ip, c.spec.capture.nic_ref, c.name) for c in self.claims.values()}
        return {self.profile.name: ProfileTargets(self.profile, self.policy, wanted)}

    def reconcile(self) -> ProfileReport:
        """One reconciler run, reading the provider anew."""
        [report] = self.runner.run(self.targets(), fresh=True)
        assert report.error == "", report.error
        return report

    def home(self, address: str) -> str:
        where = self.ctl.where(address)
        return where.home.site if where.home is not None else ""

    def holder(self, address: str) -> list[str]:
        return self.world.held_by(address)
