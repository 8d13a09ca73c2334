"""The incremental engine and the reference engine, side by side on the sim, agree.

Two identical simulated labs (the Azure pair: cloud and on-prem router, each with its
engine), one driven by incremental engines, the other by reference engines
(``EngineSettings.reference``: a fresh lowering, a full observation and every claim judged
on every pass). Hypothesis runs a rule-based state machine over what can happen to a
router: startup config changes (claims removed, restored, re-specified), dynamic parts
(stored, deleted, expiring), a claim source's claims, faults behind the engines' backs
(routes deleted or shadowed out of the capture interface, sysctls turned off or on, links
down, a guest agent re-adding a captured address, the clamp table flushed, an apply
failing, the provider taking a secondary IP off the cloud router's NIC and giving it back:
the engines ask the fabric as their provider), capture switched off and on (warm standby)
and time passing. After
every pass on every router the two labs must have journaled the same transitions, show
the same claim views, have had the same changes applied and the same gratuitous ARPs
sent. A failure shrinks to the shortest sequence of steps that still tells them apart.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from routerd.backends.sim import ManualClock, SimBackend, build_lab, pair_configs
from routerd.backends.sim import lab as L
from routerd.backends.sim.host import OpError
from routerd.backends.sim.metadata import FabricEvidence
from routerd.cli.examples import example_text
from routerd.core.claim_source import ClaimSource
from routerd.core.config import RouterConfig
from routerd.core.dynamic import make_part
from routerd.core.engine import Engine, EngineSettings
from routerd.core.lifecycle import TransitionRecord
from routerd.core.loader import load_text
from routerd.core.port import Change, ChangeResult
from routerd.core.resources import RemoteAddressClaim
from routerd.keys import KeyFiles
from routerd.providers import config_checks
from routerd.state.store import Store

EXTRA = ["10.40.8.22", "10.40.8.23"]
"""More addresses the cloud VM holds, captured on-prem like the example's 10.40.8.21."""
PART_IP, SOURCE_IP = "10.40.8.24", "10.40.8.25"
ROUTERS = (L.CLOUD_ROUTER, L.ONPREM_ROUTER)


def _claim(template: RemoteAddressClaim, name: str, ip: str) -> RemoteAddressClaim:
    meta = template.metadata.model_copy(update={"name": name})
    spec = template.spec.model_copy(update={"address": f"{ip}/32"})
    return template.model_copy(update={"metadata": meta, "spec": spec})


def _configs(keys: Path) -> dict[str, RouterConfig]:
    texts = pair_configs(example_text("azure", "cloud"), example_text("azure", "onprem"), keys)
    out = {}
    for router, text in zip(ROUTERS, texts, strict=True):
        out[router] = load_text(text, extra_checks=[config_checks]).raise_for_errors()
    onprem = out[L.ONPREM_ROUTER]
    (template,) = onprem.of(RemoteAddressClaim)
    extra = [_claim(template, f"vm-{ip.rsplit('.', 1)[1]}", ip) for ip in EXTRA]
    out[L.ONPREM_ROUTER] = onprem.replace([*onprem, *extra])
    return out


class Applied:
    """Wraps a SimBackend's apply to record every change handed to it."""

    def __init__(self, backend: SimBackend, log: list[tuple[str, tuple[str, ...]]]) -> None:
        self.apply_real = backend.apply
        self.log = log
        backend.apply = self  # type: ignore[method-assign]

    def __call__(self, changes: list[Change]) -> list[ChangeResult]:
        self.log.extend((c.op, c.key) for c in changes)
        return self.apply_real(changes)


class Side:
    """One lab and its two engines (incremental or reference)."""

    def __init__(
        self,
        tmp: Path,
        clock: ManualClock,
        configs: dict[str, RouterConfig],
        *,
        reference: bool,
        keys: Path,
    ) -> None:
        self.lab = build_lab("azure", clock=clock)
        world = self.lab.world
        for ip in [*EXTRA, PART_IP, SOURCE_IP]:
            world.hosts[L.CLOUD_VM].add_address("eth0", f"{ip}/24")
            world.media[L.FABRIC].assign((L.CLOUD_VM, "eth0"), ip)  # type: ignore[union-attr]
        self.journal: list[tuple[str, TransitionRecord]] = []
        self.applied: list[tuple[str, tuple[str, ...]]] = []
        self.engines: dict[str, Engine] = {}
        self.stores: dict[str, Store] = {}
        self.sources: dict[str, ClaimSource] = {}
        for router in ROUTERS:
            backend = SimBackend(world, router)
            Applied(backend, self.applied)
            store = Store.open(tmp / f"{'ref' if reference else 'inc'}-{router}")
            settings = EngineSettings(key_dir=str(keys), reference=reference)
            engine = Engine(
                backend,
                configs[router],
                store=store,
                keys=KeyFiles(),
                settings=settings,
                clock=clock,
                provider=FabricEvidence(world, router),
            )
            engine.listeners.append(
                lambda _s, recs, r=router: self.journal.extend((r, x) for x in recs)
            )
            source = ClaimSource("mobility")
            engine.add_claim_source(source)
            self.engines[router], self.stores[router], self.sources[router] = engine, store, source

    def views(self) -> dict[str, dict[str, Any]]:
        return {r: dict(e.snapshot.claims) for r, e in self.engines.items()}

    def close(self) -> None:
        for router, engine in self.engines.items():
            engine.close()
            self.stores[router].close()


class EnginesAgree(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="routerd-equiv-"))
        self.clock = ManualClock(1_800_000_000.0)
        keys = self.tmp / "keys"
        self.configs = _configs(keys)
        self.startup = dict(self.configs)
        self.sides = [
            Side(self.tmp, self.clock, self.configs, reference=ref, keys=keys)
            for ref in (False, True)
        ]
        self.part_generation = 0
        onprem = self.configs[L.ONPREM_ROUTER]
        (self.template, *_) = onprem.of(RemoteAddressClaim)

    def teardown(self) -> None:
        for side in self.sides:
            side.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _each(self, fn: Any) -> None:
        """Do the same to both labs (a fault the host refuses is refused by both)."""
        refused = []
        for side in self.sides:
            try:
                fn(side)
                refused.append(False)
            except OpError:
                refused.append(True)
        assert refused[0] == refused[1]

    # -- passes and time ---------------------------------------------------------------------

    @rule()
    def run_passes(self) -> None:
        for side in self.sides:
            for router in ROUTERS:
                side.engines[router].run_pass()
        self._agree()

    @rule(seconds=st.sampled_from([0.5, 2.0, 30.0, 61.0, 200.0]))
    def time_passes(self, seconds: float) -> None:
        self.clock.advance(seconds)

    # -- config ------------------------------------------------------------------------------

    @rule(router=st.sampled_from(ROUTERS), index=st.integers(0, 2))
    def remove_claim(self, router: str, index: int) -> None:
        cfg = self.startup[router]
        claims = cfg.of(RemoteAddressClaim)
        if claims:
            gone = claims[index % len(claims)]
            self._set_startup(router, cfg.replace(r for r in cfg if r is not gone))

    @rule(router=st.sampled_from(ROUTERS))
    def restore_config(self, router: str) -> None:
        self._set_startup(router, self.configs[router])

    @rule(router=st.sampled_from(ROUTERS), index=st.integers(0, 2))
    def respec_claim(self, router: str, index: int) -> None:
        cfg = self.startup[router]
        claims = cfg.of(RemoteAddressClaim)
        if claims:
            c = claims[index % len(claims)]
            cap = c.spec.capture.model_copy(
                update={"gratuitous_arp": not c.spec.capture.gratuitous_arp}
            )
            new = c.model_copy(update={"spec": c.spec.model_copy(update={"capture": cap})})
            self._set_startup(router, cfg.replace(new if r is c else r for r in cfg))

    def _set_startup(self, router: str, config: RouterConfig) -> None:
        self.startup[router] = config
        self._each(lambda side: side.engines[router].set_startup(config))

    @rule(ttl=st.sampled_from([30.0, 600.0]))
    def put_part(self, ttl: float) -> None:
        self.part_generation += 1
        claim = _claim(self.template, "from-part", PART_IP)
        part = make_part("Plugin/inv", self.part_generation, self.clock(), ttl, [claim], [])
        for side in self.sides:
            side.stores[L.ONPREM_ROUTER].put_part(part)
            side.engines[L.ONPREM_ROUTER].mark_dirty()

    @precondition(lambda self: self.part_generation > 0)
    @rule()
    def delete_part(self) -> None:
        for side in self.sides:
            side.stores[L.ONPREM_ROUTER].delete_source("Plugin/inv")
            side.engines[L.ONPREM_ROUTER].mark_dirty()

    @rule(put=st.booleans(), flip=st.booleans())
    def source_claim(self, put: bool, flip: bool) -> None:
        claim = _claim(self.template, "derived", SOURCE_IP)
        if flip:
            cap = claim.spec.capture.model_copy(update={"gratuitous_arp": False})
            claim = claim.model_copy(
                update={"spec": claim.spec.model_copy(update={"capture": cap})}
            )
        for side in self.sides:
            source = side.sources[L.ONPREM_ROUTER]
            if put:
                source.put(claim)
            else:
                source.remove("derived")

    # -- faults behind the engines' backs ---------------------------------------------------

    @rule(router=st.sampled_from(ROUTERS), ip=st.sampled_from(["10.40.8.21", "10.40.8.31", *EXTRA]))
    def delete_route(self, router: str, ip: str) -> None:
        self._each(lambda side: side.lab.world.delete_route(router, f"{ip}/32"))

    @rule(ip=st.sampled_from(["10.40.8.21", *EXTRA]), on=st.booleans())
    def shadow_capture_route(self, ip: str, on: bool) -> None:
        def change(side: Side) -> None:
            world, dst = side.lab.world, f"{ip}/32"
            if not on:
                world.delete_foreign_route(L.ONPREM_ROUTER, dst)
            elif not any(
                r.proto == "static" for r in world.hosts[L.ONPREM_ROUTER].fib.routes_for(dst)
            ):
                world.add_route(L.ONPREM_ROUTER, dst, dev=L.ONPREM_LAN_IF, metric=50)

        self._each(change)

    @rule(
        router=st.sampled_from(ROUTERS),
        name=st.sampled_from(
            [
                "net.ipv4.ip_forward",
                "net.ipv4.conf.ens19.proxy_arp",
                "net.ipv4.conf.ens19.forwarding",
            ]
        ),
    )
    def sysctl_off(self, router: str, name: str) -> None:
        self._each(lambda side: side.lab.world.set_sysctl(router, name, "0"))

    @rule(value=st.sampled_from(["0", "1"]))
    def all_proxy_arp(self, value: str) -> None:
        name = "net.ipv4.conf.all.proxy_arp"
        self._each(lambda side: side.lab.world.set_sysctl(L.ONPREM_ROUTER, name, value))

    @rule(active=st.booleans())
    def capture_active(self, active: bool) -> None:
        for side in self.sides:
            side.engines[L.ONPREM_ROUTER].set_capture_active(L.ONPREM_LAN_IF, active)

    @rule(router=st.sampled_from(ROUTERS), up=st.booleans())
    def tunnel_link(self, router: str, up: bool) -> None:
        def flip(side: Side) -> None:
            if "wg-sam" in side.lab.world.hosts[router].interfaces:
                side.lab.world.set_link_up(router, "wg-sam", up)

        self._each(flip)

    @rule()
    def agent_readds_address(self) -> None:
        self._each(lambda side: side.lab.agent_readds_address())

    @rule(router=st.sampled_from(ROUTERS))
    def flush_clamp(self, router: str) -> None:
        self._each(lambda side: side.lab.world.flush_nft_table(router))

    @rule(assigned=st.booleans())
    def provider_assignment(self, assigned: bool) -> None:
        def change(side: Side) -> None:
            fabric = side.lab.world.media[L.FABRIC]
            with side.lab.world.lock:
                if assigned:
                    fabric.assign((L.CLOUD_ROUTER, side.lab.capture_ifname), L.ONPREM_VM_IP)  # type: ignore[union-attr]
                else:
                    fabric.unassign(L.ONPREM_VM_IP)  # type: ignore[union-attr]

        self._each(change)

    @rule(router=st.sampled_from(ROUTERS), ip=st.sampled_from(["10.40.8.21", "10.40.8.31", *EXTRA]))
    def next_apply_fails(self, router: str, ip: str) -> None:
        key = ("route", "254", f"{ip}/32")
        self._each(
            lambda side: side.lab.world.fail_next_apply(router, lambda k: k == key, "EBUSY busy")
        )

    # -- the property ------------------------------------------------------------------------

    def _agree(self) -> None:
        inc, ref = self.sides
        assert inc.journal == ref.journal
        assert inc.views() == ref.views()
        assert inc.applied == ref.applied
        assert inc.lab.world.garps == ref.lab.world.garps

    @invariant()
    def same_desired_state(self) -> None:
        inc, ref = self.sides
        for router in ROUTERS:
            a, b = inc.engines[router].snapshot.lowered, ref.engines[router].snapshot.lowered
            if a is None or b is None:
                assert a is b
                continue
            assert dict(a.desired.objects) == dict(b.desired.objects)
            assert dict(a.claims) == dict(b.claims)


EnginesAgree.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_incremental_and_reference_engines_agree = EnginesAgree.TestCase
