"""Configs and runners for provider-action tests, per cloud double.

``router_text(world, claims)`` writes a whole Router config for one of the ``exec_worlds``
doubles: the cloud's CloudProviderProfile with ``execution: execute`` (its subnet, and the
Azure subscription or GCP project), a ProviderActionPolicy, and one provider-captured
RemoteAddressClaim per ``address -> NIC``. ``Kit`` loads it the way the daemon does
(validation with the provider rules, lowering), and builds an ``ActionRunner`` whose
executors come from the real ``ExecutorFactory`` pointed at the double through
``ROUTERD_PROVIDER_ENDPOINT``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from routerd.core.config import RouterConfig
from routerd.core.loader import load_text
from routerd.core.lowering import ClaimIntent, lower
from routerd.providers import config_checks
from routerd.providers.action_runner import ActionRunner, Hook
from routerd.providers.executor_factory import (
    AUTH_ENDPOINT_ENV,
    ENDPOINT_ENV,
    ExecutorFactory,
)
from routerd.providers.reconcile_plan import MayTake, static_may_take
from routerd.providers.targets import ProfileTargets, desired_targets
from routerd.state.store import Store
from tests.unit.providers.exec_worlds import FAST_RETRY, World

MODES = {"aws": "eni-secondary-ip", "azure": "nic-secondary-ip", "oci": "vnic-secondary-ip"}
HYBRID = "hybrid.routerd.net/v1alpha1"


def _profile(world: World, execution: str) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "provider": world.cloud,
        "capabilities": ["secondary-ip", "forwarding"],
        "execution": execution,
        "subnet": world.subnet,
        "region": world.config.region,
    }
    if world.cloud == "azure":
        spec["subscriptionID"] = world.scope["subscription"]
    if world.cloud == "gcp":
        spec["project"] = world.scope["project"]
    return {
        "apiVersion": HYBRID,
        "kind": "CloudProviderProfile",
        "metadata": {"name": "cloud"},
        "spec": spec,
    }


def _claim(name: str, address: str, nic: str, cloud: str) -> dict[str, Any]:
    return {
        "apiVersion": HYBRID,
        "kind": "RemoteAddressClaim",
        "metadata": {"name": name},
        "spec": {
            "domainRef": "lan",
            "address": f"{address}/32",
            "ownerSide": "onprem",
            "capture": {
                "type": "provider-secondary-ip",
                "providerRef": "cloud",
                "providerMode": MODES.get(cloud, "alias-ip-range"),
                "nicRef": nic,
                "interface": "eth0",
            },
            "delivery": {"peerRef": "onprem", "tunnelInterface": "wg0"},
        },
    }


def router_text(
    world: World,
    claims: Mapping[str, str],
    *,
    policy: Mapping[str, Any] | None = None,
    execution: str = "execute",
) -> str:
    """A Router config capturing ``claims`` (address -> NIC) through the world's cloud."""
    prefix = str(ipaddress.IPv4Network(f"{world.vm_primary}/24", strict=False))
    spec = {
        "providerRef": "cloud",
        "allowedPrefixes": [prefix],
        "actions": ["assign", "unassign", "reassign"],
        "approval": "none",
        **(policy or {}),
    }
    resources: list[dict[str, Any]] = [
        {
            "apiVersion": "net.routerd.net/v1alpha1",
            "kind": "WireGuardInterface",
            "metadata": {"name": "wg0"},
            "spec": {"listenPort": 51820},
        },
        {
            "apiVersion": HYBRID,
            "kind": "OverlayPeer",
            "metadata": {"name": "onprem"},
            "spec": {
                "role": "onprem",
                "nodeID": "onprem-rt",
                "underlay": {"type": "wireguard", "interface": "wg0", "address": "10.255.40.0"},
                "remote": {"address": "10.255.40.1"},
            },
        },
        {
            "apiVersion": HYBRID,
            "kind": "AddressMobilityDomain",
            "metadata": {"name": "lan"},
            "spec": {"prefix": prefix, "peerRef": "onprem"},
        },
        _profile(world, execution),
    ]
    if policy is not None or execution == "execute":
        resources.append(
            {
                "apiVersion": HYBRID,
                "kind": "ProviderActionPolicy",
                "metadata": {"name": "actions"},
                "spec": spec,
            }
        )
    for i, (address, nic) in enumerate(sorted(claims.items())):
        resources.append(_claim(f"vm-{i}-{address.replace('.', '-')}", address, nic, world.cloud))
    doc = {
        "apiVersion": "routerd.net/v1alpha1",
        "kind": "Router",
        "metadata": {"name": "rt"},
        "spec": {"resources": resources},
    }
    return yaml.safe_dump(doc, sort_keys=False)


def load_config(text: str) -> RouterConfig:
    result = load_text(text, extra_checks=[config_checks])
    assert result.config is not None, [e.render() for e in result.errors]
    return result.config


def factory_for(world: World) -> ExecutorFactory:
    env = {ENDPOINT_ENV: world.server.url}
    if world.cloud == "oci":
        env[AUTH_ENDPOINT_ENV] = world.server.url + "/v1/x509"
    overrides: dict[str, Any] = {"retry": FAST_RETRY, "timeout": 5.0, "settle_timeout": 2.0}
    if world.cloud == "azure":
        overrides["poll_interval"] = 0.001
    return ExecutorFactory(env, overrides=overrides)


@dataclass
class Kit:
    """One router's provider-action machinery against a world's double."""

    world: World
    store: Store
    factory: ExecutorFactory = field(init=False)
    runner: ActionRunner = field(init=False)
    may_take: MayTake = static_may_take
    hook: Hook | None = None

    def __post_init__(self) -> None:
        self.factory = factory_for(self.world)
        self.runner = ActionRunner(
            self.store,
            lambda pt: self.factory(pt.profile),
            may_take=self.may_take,
            hook=self.hook,
        )

    def wanted(self, claims: Mapping[str, str], **kw: Any) -> dict[str, ProfileTargets]:
        config, intents = self.lowered(claims, **kw)
        return desired_targets(config, intents)

    def lowered(
        self, claims: Mapping[str, str], **kw: Any
    ) -> tuple[RouterConfig, Mapping[str, ClaimIntent]]:
        config = load_config(router_text(self.world, claims, **kw))
        return config, lower(config, key_dir="/nonexistent").claims

    def run(self, claims: Mapping[str, str], **kw: Any) -> Any:
        return self.runner.run(self.wanted(claims, **kw))
