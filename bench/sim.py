"""Item 5: claims per second to ``verified`` on the simulated dataplane.

What is measured: two real ``Engine``s (one per router, each with a ``SimBackend`` and a
SQLite store, as ``routerd serve --backend sim`` would run), N claims on each side, from the
first pass until every one of the 2N claims is ``verified``; claims/s = 2N / that time.
Verification is the sim's real evidence (route lookup, overlay ping and a packet traced
from the capture link to the claimed address, delivered beyond the router with its source
preserved), so every claim costs one traced packet through both routers and the tunnel.

The lab of ``routerd.backends.sim.lab`` is one /24, which caps it at ~250 claims per side,
so this builds the same shape on a /16 (``10.40.0.0/16``): cloud VM and router on the
provider fabric, the internet core, the on-prem router and VM on the LAN. The on-prem
router captures N addresses held by the cloud VM (proxy-ARP); the cloud router captures N
addresses held by the on-prem VM (provider secondary IPs, provisioned on the fabric). The
on-prem gateway is left out: it plays no part in SAM and would only add a failing trace.

Baseline: the same two engines and configs over ``FakeHost``, the in-memory port double
whose claims verify in one pass, i.e. the engine's own cost without a dataplane.

Then, at steady state, one claim is added, removed, and moved to another address on each
router (``one_claim.<op>.sim.<side>``): the one pass that carries the change, on the sim
(route lookup, overlay ping and a traced packet for the changed claim included), against
the same pass over ``FakeHost``. Target: < 10 ms at 10,000 claims.
"""

from __future__ import annotations

import copy
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from bench.result import Result, Target
from routerd.backends.sim import SimBackend, World, pair_configs
from routerd.backends.sim import lab as L
from routerd.cli.examples import example_text
from routerd.core.config import RouterConfig
from routerd.core.engine import Engine, EngineSettings
from routerd.core.loader import load_text
from routerd.core.port import DataplaneBackend
from routerd.core.resources import RemoteAddressClaim
from routerd.keys import KeyFiles
from routerd.providers import config_checks
from routerd.state.store import Store

PREFIX = "10.40.0.0/16"
GATEWAY = "10.40.0.1"
MAX_ROUNDS = 60
ONE_CLAIM_TARGET = Target("value", "<", 0.01, "s")
SIDES = {"cloud": "provider", "onprem": "proxy-arp"}


def cloud_address(i: int) -> str:
    """Addresses held by the cloud VM (captured on-prem): 10.40.16.0 upwards."""
    return f"10.40.{16 + i // 256}.{i % 256}"


def onprem_address(i: int) -> str:
    """Addresses held by the on-prem VM (captured in the cloud): 10.40.128.0 upwards."""
    return f"10.40.{128 + i // 256}.{i % 256}"


def _claim_doc(name: str, address: str, template: dict[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(template)
    doc["metadata"] = {"name": name}
    doc["spec"]["address"] = f"{address}/32"
    return doc


def _side_config(text: str, n: int, address: Callable[[int], str]) -> RouterConfig:
    doc = yaml.safe_load(text)
    resources = doc["spec"]["resources"]
    template = next(r for r in resources if r["kind"] == "RemoteAddressClaim")
    resources = [r for r in resources if r["kind"] != "RemoteAddressClaim"]
    for r in resources:
        if r["kind"] == "AddressMobilityDomain":
            r["spec"]["prefix"] = PREFIX
    resources += [_claim_doc(f"c{i}", address(i), template) for i in range(n)]
    doc["spec"]["resources"] = resources
    result = load_text(yaml.safe_dump(doc, sort_keys=False), extra_checks=[config_checks])
    return result.raise_for_errors()


def configs(n: int, key_dir: Path) -> tuple[RouterConfig, RouterConfig]:
    """(cloud, onprem) configs: the Azure examples, paired, with N claims each on the /16."""
    cloud, onprem = pair_configs(
        example_text("azure", "cloud"), example_text("azure", "onprem"), key_dir
    )
    return _side_config(cloud, n, onprem_address), _side_config(onprem, n, cloud_address)


def wide_lab(n: int) -> World:
    """The lab's shape on a /16, with the 2N claimed addresses held and provisioned."""
    world = World()
    world.add_fabric(L.FABRIC, PREFIX, GATEWAY)
    for seg in (L.ONPREM_LAN, L.CLOUD_UPLINK, L.ONPREM_UPLINK):
        world.add_segment(seg)
    world.add_host(L.CLOUD_VM)
    world.connect(L.CLOUD_VM, "eth0", L.FABRIC, address=f"{cloud_address(0)}/16")
    world.add_host(L.CLOUD_ROUTER)
    world.connect(L.CLOUD_ROUTER, "eth0", L.FABRIC, address="10.40.0.5/16", forwarding=True)
    world.connect(L.CLOUD_ROUTER, L.PUBLIC_IF, L.CLOUD_UPLINK, address=f"{L.CLOUD_PUBLIC_IP}/24")
    world.add_route(L.CLOUD_ROUTER, "0.0.0.0/0", gateway="203.0.113.1", dev=L.PUBLIC_IF)
    world.add_host(L.INTERNET).set_sysctl("net.ipv4.ip_forward", "1")
    world.connect(L.INTERNET, "to-cloud", L.CLOUD_UPLINK, address="203.0.113.1/24")
    world.connect(L.INTERNET, "to-onprem", L.ONPREM_UPLINK, address="198.51.100.1/24")
    world.add_host(L.ONPREM_ROUTER)
    world.connect(L.ONPREM_ROUTER, L.ONPREM_LAN_IF, L.ONPREM_LAN, address=f"{GATEWAY}/16")
    world.connect(L.ONPREM_ROUTER, L.PUBLIC_IF, L.ONPREM_UPLINK, address=f"{L.ONPREM_PUBLIC_IP}/24")
    world.add_route(L.ONPREM_ROUTER, "0.0.0.0/0", gateway="198.51.100.1", dev=L.PUBLIC_IF)
    world.add_host(L.ONPREM_VM)
    world.connect(L.ONPREM_VM, "eth0", L.ONPREM_LAN, address=f"{onprem_address(0)}/16")
    fabric = world.media[L.FABRIC]
    for i in range(1, n):
        world.hosts[L.CLOUD_VM].add_address("eth0", f"{cloud_address(i)}/16")
        fabric.assign((L.CLOUD_VM, "eth0"), cloud_address(i))  # type: ignore[union-attr]
        world.hosts[L.ONPREM_VM].add_address("eth0", f"{onprem_address(i)}/16")
    for i in range(n):
        fabric.assign((L.CLOUD_ROUTER, "eth0"), onprem_address(i))  # type: ignore[union-attr]
    return world


def _settle(engines: list[Engine]) -> tuple[float, int]:
    """Passes on every engine in turn until all claims are verified; (seconds, rounds)."""
    t0 = time.perf_counter()
    for rounds in range(1, MAX_ROUNDS + 1):
        for e in engines:
            e.run_pass()
        if all(v.state == "verified" for e in engines for v in e.snapshot.claims.values()):
            return time.perf_counter() - t0, rounds
    states = [e.snapshot.counts() for e in engines]
    raise RuntimeError(f"claims not verified after {MAX_ROUNDS} rounds: {states}")


def _engines(
    backends: list[DataplaneBackend], cfgs: tuple[RouterConfig, RouterConfig], tmp: Path
) -> list[Engine]:
    out = []
    for side, backend, cfg in zip(("cloud", "onprem"), backends, cfgs, strict=True):
        store = Store.open(tmp / side)
        settings = EngineSettings(key_dir=str(tmp / "keys"))
        out.append(Engine(backend, cfg, store=store, keys=KeyFiles(), settings=settings))
    return out


def _close(engines: list[Engine]) -> None:
    for e in engines:
        e.close()
        if isinstance(e.store, Store):  # the engine sees it through its port, without close
            e.store.close()


def _respecified(claim: RemoteAddressClaim, name: str, address: str) -> RemoteAddressClaim:
    meta = claim.metadata.model_copy(update={"name": name})
    spec = claim.spec.model_copy(update={"address": f"{address}/32"})
    return claim.model_copy(update={"metadata": meta, "spec": spec})


def _one_claim(engines: list[Engine], n: int) -> dict[tuple[str, str], float]:
    """One claim added, removed, and moved on each router: the seconds of that one pass."""
    out = {}
    addresses = (onprem_address, cloud_address)  # what each router captures
    for side, engine, address in zip(("cloud", "onprem"), engines, addresses, strict=True):
        base = engine.startup
        last = base.of(RemoteAddressClaim)[-1]
        first = base.of(RemoteAddressClaim)[0]
        added = base.replace([*base, _respecified(last, f"c{n}", address(n))])
        moved = _respecified(first, first.name, address(n + 1))
        steps = {
            "add": added,
            "remove": base,
            "modify": base.replace(moved if r is first else r for r in base),
        }
        for op, config in steps.items():
            engine.set_startup(config)  # compared on the caller's thread, as a reload is
            t0 = time.perf_counter()  # the whole pass, its published snapshot included
            result = engine.run_pass()
            seconds = time.perf_counter() - t0
            if result.full:
                raise RuntimeError(f"{side} {op}: the one-claim pass was a full pass")
            out[(op, side)] = seconds
        engine.set_startup(base)
        engine.run_pass()
    return out


def run(n: int) -> list[Result]:
    from tests.unit.core.fakehost import FakeHost

    with tempfile.TemporaryDirectory(prefix="rdbench-sim-") as tmp:
        base = Path(tmp)
        cfgs = configs(n, base / "keys")
        world = wide_lab(n + 2)
        sim = _engines(
            [SimBackend(world, L.CLOUD_ROUTER), SimBackend(world, L.ONPREM_ROUTER)],
            cfgs,
            base / "sim",
        )
        try:
            seconds, rounds = _settle(sim)
            one = _one_claim(sim, n)
        finally:
            _close(sim)
        fake = _engines(
            [FakeHost(["eth0", "wg-sam"]), FakeHost(["ens19", "wg-sam"])], cfgs, base / "fake"
        )
        try:
            floor, _ = _settle(fake)
            one_floor = _one_claim(fake, n)
        finally:
            _close(fake)
    from bench import sim_world

    return [
        *(
            Result(
                f"one_claim.{op}.sim.{SIDES[side]}",
                value,
                "s",
                one_floor[(op, side)],
                ONE_CLAIM_TARGET,
                f"one engine pass carrying a one-claim {op} on the {side} router at {n:,} claims "
                "(SimBackend: observe, apply, the claim's route lookup, ping and traced packet); "
                "baseline: the same pass over FakeHost",
            )
            for (op, side), value in one.items()
        ),
        sim_world.run(),
        Result(
            f"sim.claims_per_s.{n}",
            2 * n / seconds,
            "claims/s",
            2 * n / floor,
            note=f"two engines (cloud and on-prem router) on the simulated lab shape with {n:,} "
            f"claims each, from the first pass until all {2 * n:,} are verified ({rounds} "
            f"rounds of passes, {seconds:.2f}s); baseline: the same engines over FakeHost "
            "(no dataplane); no target in the issue",
        ),
    ]
