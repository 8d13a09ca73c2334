"""Cloud presence without a cloud: the rules of reading inventories, on a scripted executor.

The SDK path is proved against each cloud's double in
``tests/unit/providers/test_cloud_moves.py``; these tests pin what a scripted inventory
cannot be mistaken for: the router's own NIC, a cached copy read twice, a failed read.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
import yaml

from routerd.core.errors import ProviderError
from routerd.core.loader import load_text
from routerd.core.mobility import MobilityPlan
from routerd.daemon.mobility_cloud import CloudPresence, InventoryPoller, SitePresence, cloud_site
from routerd.daemon.mobility_take import may_take_for
from routerd.providers.execution import Inventory
from tests.unit.core.mobility.kit import EXAMPLES

ROUTER_NIC = "eni-0a1b2c3d4e5f60789"
VM_NIC = "eni-0000000000000vm01"
IP = "10.77.5.5"


def site_c(*, execution: str = "execute", subnet: str = "subnet-0abc", absent_after: int = 1):
    doc = yaml.safe_load((EXAMPLES / "site-c.yaml").read_text())
    for res in doc["spec"]["resources"]:
        if res["kind"] == "CloudProviderProfile":
            res["spec"].update(execution=execution, subnet=subnet)
        if res["kind"] == "AddressMobilityDomain":
            res["spec"]["prefix"] = "10.77.5.0/24"
            res["spec"]["mobility"]["exclude"] = []
            res["spec"]["mobility"]["presence"] = {"absentAfter": absent_after}
    doc["spec"]["resources"].append(
        {
            "apiVersion": "hybrid.routerd.net/v1alpha1",
            "kind": "ProviderActionPolicy",
            "metadata": {"name": "p"},
            "spec": {
                "providerRef": "aws-lab",
                "allowedPrefixes": ["10.77.5.0/24"],
                "actions": ["assign"],
                "approval": "none",
            },
        }
    )
    return load_text(yaml.safe_dump(doc)).raise_for_errors()


@dataclass
class ScriptedExecutor:
    """Answers ``inventory`` with the next scripted read (holders, or an exception)."""

    script: list[object] = field(default_factory=list)
    fetched: float = 0.0
    calls: int = 0

    def inventory(self, subnet: str | None = None, *, max_age: float | None = None) -> Inventory:
        self.calls += 1
        item = self.script.pop(0) if self.script else {}
        if isinstance(item, Exception):
            raise item
        if item == "cached":
            return Inventory("subnet-0abc", self.last, frozenset(), self.fetched, 0.5, True)
        self.fetched += 1.0
        self.last = dict(item)  # type: ignore[arg-type]
        return Inventory("subnet-0abc", self.last, frozenset(), self.fetched, 0.0, False)

    def same_nic(self, a: str, b: str) -> bool:
        return a == b


class Kit:
    def __init__(self, **kw: object) -> None:
        self.now = 100.0
        self.ex = ScriptedExecutor()
        self.plan = MobilityPlan.of(site_c(**kw))  # type: ignore[arg-type]
        self.cloud = CloudPresence(InventoryPoller(lambda profile: self.ex, clock=lambda: self.now))
        self.feed = SitePresence(None, self.cloud)
        self.feed.configure(self.plan)

    def read(self, item: object) -> set[str]:
        self.now += 1.0
        self.ex.script.append(item)
        site = cloud_site(self.plan.domains[0])
        assert site is not None
        self.cloud.poller.read(site)
        return self.feed.take(self.now)

    def state(self) -> str:
        fact = self.feed.fact(IP)
        return fact.state if fact is not None else ""


def test_a_vm_nic_is_presence_and_the_router_nic_is_not() -> None:
    kit = Kit()
    assert kit.read({IP: ROUTER_NIC}) == set()
    assert kit.state() == ""
    assert kit.read({IP: VM_NIC}) == {IP}
    fact = kit.feed.fact(IP)
    assert fact is not None and (fact.state, fact.kind, fact.last_at) == (
        "present",
        "inventory",
        102.0,
    )
    assert kit.feed.evidence(IP).interface == VM_NIC
    assert kit.read({IP: VM_NIC}) == set(), "a steady holding moves nothing"
    assert kit.feed.fact(IP).last_at == 102.0, "an arrival is when the holding began"
    assert kit.cloud.held(IP) == (VM_NIC, 102.0)
    assert kit.feed.present() == [IP]


def test_first_read_after_start_is_older_than_anything() -> None:
    kit = Kit()
    kit.read({IP: VM_NIC})
    assert kit.feed.fact(IP).last_at == 0.0
    assert kit.cloud.held(IP) == (VM_NIC, 0.0)


def test_a_cached_copy_is_not_a_second_round_and_a_failed_read_proves_nothing() -> None:
    kit = Kit(absent_after=1)
    kit.read({})
    kit.read({IP: VM_NIC})
    assert kit.read("cached") == set()
    assert kit.state() == "present", "the same copy again is no probe round"
    assert kit.read(ProviderError("throttled")) == set()
    assert kit.state() == "present", "a failed read is no probe round"
    assert "throttled" in kit.cloud.errors[-1]
    assert kit.read({}) == {IP}
    assert kit.state() == "absent"
    assert kit.cloud.held(IP) is None


def test_absent_after_reads_in_a_row() -> None:
    kit = Kit(absent_after=3)
    kit.read({})
    kit.read({IP: VM_NIC})
    assert kit.read({}) == set() and kit.read({}) == set()
    assert kit.state() == "present"
    assert kit.read({}) == {IP}
    assert kit.state() == "absent"


@pytest.mark.parametrize(
    ("kw", "why"), [({"execution": "plan"}, "plans only"), ({"subnet": ""}, "no subnet")]
)
def test_nothing_is_read_without_an_executing_profile_and_subnet(kw: dict, why: str) -> None:
    kit = Kit(**kw)
    assert cloud_site(kit.plan.domains[0]) is None, why
    assert not kit.cloud.covers("lab")


def test_the_poller_reads_on_its_thread_and_wakes_the_engine() -> None:
    ex = ScriptedExecutor(script=[{IP: VM_NIC}])
    woke = threading.Event()
    poller = InventoryPoller(lambda profile: ex, clock=lambda: 0.0)
    cloud = CloudPresence(poller)
    cloud.configure(MobilityPlan.of(site_c()))
    cloud.start(woke.set)
    try:
        assert woke.wait(5.0)
    finally:
        cloud.close()
    assert poller._thread is None
    [read] = poller.drain()
    assert read.others == {IP: VM_NIC} and read.error == ""


def test_inventory_interval_below_a_second_is_refused() -> None:
    doc = (
        (EXAMPLES / "site-c.yaml")
        .read_text()
        .replace(
            "exclude: [10.77.0.2/31]",
            "exclude: [10.77.0.2/31]\n          presence: {inventoryInterval: 200ms}",
        )
    )
    result = load_text(doc)
    assert result.config is None
    [error] = [e.render() for e in result.errors]
    assert "inventoryInterval" in error and "1s or more" in error


def test_may_take_without_mobility_is_the_static_rule() -> None:
    hook = may_take_for(SimpleNamespace(mobility_component=None))
    assert hook("10.0.0.5", "eni-x") is True
    hook = may_take_for(SimpleNamespace(mobility_component=SimpleNamespace(active=False)))
    assert hook("10.0.0.5", "eni-x") is True
