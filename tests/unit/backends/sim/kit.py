"""Small topologies and a one-pass reconcile for the sim backend tests.

``lan_world`` is the proxy-ARP bench: a client and a router on one LAN, the router with a
second link toward a far host. ``reconcile_once`` is the engine's core loop without the
engine (lower -> observe -> diff -> apply), so tests prove the sim plus lowering alone move
an address.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from routerd.backends.sim import ManualClock, SimBackend, World, pair_configs
from routerd.core import wgkey
from routerd.core.config import RouterConfig
from routerd.core.loader import load_text
from routerd.core.lowering import Lowered, lower, observe_scope
from routerd.core.plan import diff
from routerd.core.port import ChangeResult, PathCheck
from routerd.core.resources import WireGuardInterface
from routerd.keys import read_private_key

ROOT = Path(__file__).resolve().parents[4]
EXAMPLES = ROOT / "examples"


def lan_world(clock: ManualClock | None = None) -> World:
    """client 10.0.0.10 -- lan -- (eth0 10.0.0.1) router (up0 10.9.0.1) -- far 10.9.0.2.

    Name: lan_world / Scope: per test / Depends: nothing.
    """
    w = World(clock=clock or ManualClock())
    w.add_segment("lan")
    w.add_segment("uplink")
    w.add_host("client")
    w.connect("client", "eth0", "lan", address="10.0.0.10/24")
    w.add_host("router")
    w.connect("router", "eth0", "lan", address="10.0.0.1/24")
    w.connect("router", "up0", "uplink", address="10.9.0.1/24")
    w.add_host("far")
    w.connect("far", "eth0", "uplink", address="10.9.0.2/24")
    w.add_route("far", "0.0.0.0/0", gateway="10.9.0.1", dev="eth0")
    return w


def example(provider: str, side: str) -> str:
    return (EXAMPLES / provider / f"{side}.yaml").read_text()


def load(text: str) -> RouterConfig:
    result = load_text(text)
    assert result.config is not None, [e.render() for e in result.errors]
    return result.config


@dataclass
class Pair:
    cloud: RouterConfig
    onprem: RouterConfig
    key_dir: Path


def example_pair(provider: str, key_dir: Path) -> Pair:
    cloud, onprem = pair_configs(example(provider, "cloud"), example(provider, "onprem"), key_dir)
    return Pair(load(cloud), load(onprem), key_dir)


def lowered(config: RouterConfig, key_dir: Path | None = None, *, generation: int = 0) -> Lowered:
    """Lower with public keys read from the key files the config names, as the engine does."""
    keys = {}
    for wg in config.of(WireGuardInterface):
        path = Path(wg.spec.private_key_file)
        if path.exists():
            keys[wg.name] = wgkey.public_key(read_private_key(path))
    return lower(
        config, generation=generation, key_dir=str(key_dir or "/nonexistent"), public_keys=keys
    )


def reconcile_once(backend: SimBackend, low: Lowered) -> list[ChangeResult]:
    """observe -> diff -> apply; returns the results (empty when nothing was to do)."""
    observed = backend.observe(observe_scope(low))
    return backend.apply(diff(low.desired, observed))


def converge(backend: SimBackend, low: Lowered, passes: int = 3) -> None:
    """Reconcile until a pass finds nothing to do (a per-device sysctl needs the device)."""
    for _ in range(passes):
        if not reconcile_once(backend, low):
            return
    raise AssertionError(f"no convergence: {reconcile_once(backend, low)}")


def checks(low: Lowered) -> list[PathCheck]:
    return [
        PathCheck(
            c.name,
            c.ip,
            c.tunnel,
            c.wg_public_key,
            c.local_overlay,
            c.peer_overlay,
            c.capture_interface,
        )
        for c in low.claims.values()
    ]


def without_kinds(text: str, *kinds: str) -> str:
    """The Router document with every resource of ``kinds`` removed."""
    doc = yaml.safe_load(text)
    doc["spec"]["resources"] = [r for r in doc["spec"]["resources"] if r["kind"] not in kinds]
    return str(yaml.safe_dump(doc, sort_keys=False))


def paired_texts(provider: str, key_dir: Path) -> tuple[str, str]:
    return pair_configs(example(provider, "cloud"), example(provider, "onprem"), key_dir)
