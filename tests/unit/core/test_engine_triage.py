"""The engine judges only claims whose inputs moved, with the same outcome as judging all.

After the apply, a settled (verified, unchanged) claim is not judged again. The oracle is
an engine that judges every claim after every apply: both run the same random sequence of
faults, repairs, clock jumps and config changes on their own FakeHost, and must journal
the same transitions, show the same claims, apply the same changes and ask for the same
path checks.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from pathlib import Path

import pytest

from routerd.core import engine as engine_module
from routerd.core.config import RouterConfig
from routerd.core.desired import Key, LinkState, Observed, ObserveScope
from routerd.core.dynamic import make_part
from routerd.core.effective import EffectiveResult
from routerd.core.engine import ClaimView, Engine, EngineSettings
from routerd.core.lifecycle import TransitionRecord
from routerd.core.loader import decode_resource
from routerd.core.port import Change, ChangeResult, PathCheck, PathEvidence
from routerd.core.resources import HYBRID_API, RemoteAddressClaim
from routerd.core.store import Store
from tests.support import configs
from tests.unit.core.fakehost import FakeHost

SIDES = {"onprem": ("ens19", "10.40.8.21"), "cloud": ("eth0", "10.40.8.31")}


class Host(FakeHost):
    """FakeHost with link state, wrong route lookups and a record of path checks."""

    def __init__(self, links: Sequence[str]) -> None:
        super().__init__(links)
        self.down: set[str] = set()
        self.lookup: dict[str, str] = {}  # address -> device the route lookup gives
        self.checks: list[list[str]] = []
        self.race: Key | None = None  # removed while the next apply runs (another actor)

    def apply(self, changes: Sequence[Change]) -> list[ChangeResult]:
        out = super().apply(changes)
        if self.race is not None:
            self.objects.pop(self.race, None)
            self.race = None
        return out

    def observe(self, scope: ObserveScope) -> Observed:
        o = super().observe(scope)
        for name in self.down & set(o.links):
            o.links[name] = LinkState(name, exists=True, up=False)
        return o

    def verify(self, checks: Sequence[PathCheck]) -> dict[str, PathEvidence]:
        self.checks.append([c.claim for c in checks])
        out = super().verify(checks)
        for c in checks:
            if c.address in self.lookup:
                out[c.claim] = PathEvidence(self.lookup[c.address])
        return out


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def config_for(side: str, tmp_path: Path, n: int) -> RouterConfig:
    """The Azure example of ``side`` with ``n`` claims (copies of its one claim)."""
    text = configs.with_keys(configs.example_text("azure", side), tmp_path / "keys")
    head, sep, claim = text.partition(
        "    - apiVersion: hybrid.routerd.net/v1alpha1\n      kind: RemoteAddressClaim"
    )
    name, address = re.search(r"name: (\S+)", claim), SIDES[side][1]
    assert sep and name
    copies = [
        claim.replace(name.group(1), f"claim-{i}").replace(f"{address}/32", f"10.40.8.{100 + i}/32")
        for i in range(n)
    ]
    return configs.load(head + "".join(sep + c for c in copies))


class Rig:
    def __init__(
        self, cfg: RouterConfig, side: str, tmp_path: Path, clock: Clock, *, oracle: bool
    ) -> None:
        links = (SIDES[side][0], "wg-sam")
        self.host = Host(links)
        settings = EngineSettings(key_dir=str(tmp_path / "keys"))
        self.engine = Engine(self.host, cfg, settings=settings, clock=clock)
        self.records: list[TransitionRecord] = []
        self.engine.listeners.append(lambda _snap, recs: self.records.extend(recs))
        if oracle:  # judge every claim after every apply
            self.engine._triage.to_judge = lambda lowered, *_, **__: list(lowered.claims)  # type: ignore[method-assign]

    def views_from_scratch(self) -> dict[str, ClaimView]:
        """The snapshot's claim views as building each one anew gives them."""
        eng, snap = self.engine, self.engine.snapshot
        assert snap.lowered is not None and snap.effective is not None
        out = {}
        for name, intent in snap.lowered.claims.items():
            m = eng.lifecycle.claims[name]
            origin = resource_origin_of(snap.effective, name)
            out[name] = ClaimView(
                name, m.address, m.state, m.reason, m.message, m.since, origin, intent
            )
        return out

    def seen(self) -> tuple[object, ...]:
        views = {
            n: (v.state, v.reason, v.message, v.since, v.intent)
            for n, v in self.engine.snapshot.claims.items()
        }
        applied = [(c.op, c.key) for c in self.host.applied]
        return (self.records, views, applied, self.host.checks, self.host.garps)


def resource_origin_of(eff: EffectiveResult, name: str) -> str:
    return eff.dynamic_origin.get((HYBRID_API, "RemoteAddressClaim", name), "startup")


def respec(cfg: RouterConfig, c: RemoteAddressClaim) -> RouterConfig:
    """``cfg`` with claim ``c``'s gratuitousARP flipped: a new intent, the same objects."""
    cap = c.spec.capture.model_copy(update={"gratuitous_arp": not c.spec.capture.gratuitous_arp})
    new = c.model_copy(update={"spec": c.spec.model_copy(update={"capture": cap})})
    return cfg.replace(new if r is c else r for r in cfg)


def fault(rng: random.Random, rigs: list[Rig], cfg: RouterConfig, clock: Clock, side: str) -> None:
    """One random event, applied to every rig's host (or engine) alike."""
    c = rng.choice(cfg.of(RemoteAddressClaim))
    cap = SIDES[side][0]
    route = ("route", "254", c.spec.address)
    sysctl = rng.choice(["net.ipv4.ip_forward", f"net.ipv4.conf.{cap}.proxy_arp"])
    link = rng.choice([cap, "wg-sam"])
    age = rng.choice([3.0, 400.0, None])
    jump = rng.choice([1.0, 30.0, 61.0])
    without_c = cfg.replace(r for r in cfg if r is not c)
    events = {
        "route": lambda rig: rig.host.delete(route),
        "peer": lambda rig: (
            rig.host.strip_peer("wg-sam", c.spec.address)
            if ("wg", "wg-sam") in rig.host.objects
            else None
        ),
        "sysctl": lambda rig: rig.host.sysctls.__setitem__(sysctl, "0"),
        "link": lambda rig: rig.host.links.symmetric_difference_update({link}),
        "down": lambda rig: rig.host.down.symmetric_difference_update({"wg-sam"}),
        "handshake": lambda rig: setattr(rig.host, "handshake_age", age),
        "agent": lambda rig: rig.host.agent_adds(c.ip, cap, f"{c.ip}/24"),
        "lookup": lambda rig: (
            rig.host.lookup.pop(c.ip, None) or rig.host.lookup.update({c.ip: "eth9"})
        ),
        "fail": lambda rig: (
            rig.host.fail.pop(route, None) or rig.host.fail.update({route: "EBUSY"})
        ),
        "release": lambda rig: rig.engine.set_startup(without_c),
        "restore": lambda rig: rig.engine.set_startup(cfg),
        "respec": lambda rig: rig.engine.set_startup(respec(rig.engine.startup, c)),
        "race": lambda rig: setattr(rig.host, "race", route),
        "clock": lambda rig: None,
        "nothing": lambda rig: None,
    }
    kind = rng.choice([*events, "clock", "nothing"])
    if kind == "clock":
        clock.now += jump
    for rig in rigs:
        events[kind](rig)


@pytest.mark.parametrize("side", sorted(SIDES))
@pytest.mark.parametrize("seed", range(6))
def test_judging_only_unsettled_claims_matches_judging_all(side, seed, tmp_path, monkeypatch):
    monkeypatch.setattr(engine_module.random, "uniform", lambda a, b: 1.0)  # no jitter
    clock = Clock()
    cfg = config_for(side, tmp_path, 6)
    rigs = [Rig(cfg, side, tmp_path, clock, oracle=o) for o in (False, True)]
    rng = random.Random(seed)
    for step in range(120):
        if rng.random() < 0.5:
            fault(rng, rigs, cfg, clock, side)
        for rig in rigs:
            rig.engine.run_pass()
            views = rig.engine.snapshot.claims
            assert views == rig.views_from_scratch() and list(views) == list(
                rig.views_from_scratch()
            )
        assert rigs[0].seen() == rigs[1].seen(), (side, seed, step)
    states = {v.state for v in rigs[0].engine.snapshot.claims.values()}
    assert len(rigs[0].records) > 20 and states  # the faults did move claims


def test_an_unmanaged_sysctl_turning_off_reaches_settled_claims(tmp_path):
    # a user Sysctl with runtime: false owns ip_forward: routerd never writes it, so its
    # change is in no diff; only the observation shows it.
    cfg = config_for("onprem", tmp_path, 2)
    user, problems = decode_resource(
        {
            "apiVersion": "system.routerd.net/v1alpha1",
            "kind": "Sysctl",
            "metadata": {"name": "fwd"},
            "spec": {"key": "net.ipv4.ip_forward", "value": "1", "runtime": False},
        }
    )
    assert user is not None, problems
    rig = Rig(cfg.replace([*cfg, user]), "onprem", tmp_path, Clock(), oracle=False)
    rig.host.sysctls["net.ipv4.ip_forward"] = "1"
    rig.engine.run_pass()
    assert {v.state for v in rig.engine.snapshot.claims.values()} == {"verified"}
    rig.host.sysctls["net.ipv4.ip_forward"] = "0"
    assert rig.engine.run_pass().changes == 0
    views = rig.engine.snapshot.claims.values()
    assert {(v.state, v.reason) for v in views} == {("degraded", "ip-forward-disabled")}


def test_a_tunnel_going_down_reaches_settled_claims(tmp_path):
    clock = Clock()
    rig = Rig(config_for("onprem", tmp_path, 3), "onprem", tmp_path, clock, oracle=False)
    rig.engine.run_pass()
    assert {v.state for v in rig.engine.snapshot.claims.values()} == {"verified"}
    rig.host.down.add("wg-sam")  # no desired object changes: only the link state does
    result = rig.engine.run_pass()
    assert result.changes == 0
    views = rig.engine.snapshot.claims.values()
    assert {(v.state, v.reason) for v in views} == {("degraded", "tunnel-down")}


def test_a_settled_claims_path_is_checked_again_when_due(tmp_path):
    clock = Clock()
    rig = Rig(config_for("onprem", tmp_path, 2), "onprem", tmp_path, clock, oracle=False)
    rig.engine.run_pass()
    rig.host.lookup["10.40.8.100"] = "eth9"  # the kernel's answer changes, silently
    clock.now += 30
    rig.engine.run_pass()
    assert rig.engine.snapshot.claims["claim-0"].state == "verified"  # not due yet
    clock.now += 31
    rig.engine.run_pass()
    view = rig.engine.snapshot.claims["claim-0"]
    assert (view.state, view.reason) == ("degraded", "route-lookup-mismatch")
    assert rig.engine.snapshot.claims["claim-1"].state == "verified"


def test_views_follow_a_claims_origin_from_part_to_part(tmp_path):
    # the same claim from generation 1, then 2 of a source: the same intent, another origin
    store = Store.open(tmp_path / "state")
    clock = Clock()
    cfg = config_for("onprem", tmp_path, 2)
    rig = Rig(cfg, "onprem", tmp_path, clock, oracle=False)
    rig.engine.store = store
    rig.engine.run_pass()
    template = cfg.of(RemoteAddressClaim)[0]
    dynamic = template.model_copy(
        update={
            "metadata": template.metadata.model_copy(update={"name": "from-a-part"}),
            "spec": template.spec.model_copy(update={"address": "10.40.8.200/32"}),
        }
    )
    origins = []
    for generation in (1, 2):
        store.put_part(make_part("Plugin/inv", generation, clock.now, 600, [dynamic], []))
        rig.engine.run_pass()
        rig.engine.run_pass()
        assert rig.engine.snapshot.claims == rig.views_from_scratch()
        origins.append(rig.engine.snapshot.claims["from-a-part"].origin)
    assert origins == ["Plugin/inv@1", "Plugin/inv@2"]
    clock.now += 601  # expired: the claim leaves, the others keep their views
    rig.engine.run_pass()
    assert "from-a-part" not in rig.engine.snapshot.claims
    assert rig.engine.snapshot.claims == rig.views_from_scratch()
