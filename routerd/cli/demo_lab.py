"""The simulated two-router lab the demo drives: one engine per router on the examples.

Each router runs a real ``Engine`` (the same code as ``routerd serve``) on the matching
example config, with a ``SimBackend`` bound to its host in one shared ``World``. Only the
key step is done for the operator: fresh WireGuard keys and each side's peer public key
(``pair_configs``), which a real operator copies from ``routerctl describe``.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from routerd.backends.sim import Lab, SimBackend, build_lab, pair_configs
from routerd.backends.sim import lab as labnames
from routerd.backends.sim.metadata import FabricEvidence
from routerd.cli.examples import example_text
from routerd.core.engine import Engine, EngineSettings
from routerd.core.lifecycle import TransitionRecord
from routerd.core.loader import load_text
from routerd.core.snapshot import Snapshot
from routerd.keys import KeyFiles
from routerd.providers import config_checks

ROUTERS = {"cloud": labnames.CLOUD_ROUTER, "onprem": labnames.ONPREM_ROUTER}


@dataclass
class DemoLab:
    """A lab plus its two engines and everything they journaled."""

    lab: Lab
    engines: dict[str, Engine]
    journal: list[tuple[str, TransitionRecord]] = field(default_factory=list)
    tmp: tempfile.TemporaryDirectory[str] | None = None

    def pass_all(self) -> None:
        for engine in self.engines.values():
            engine.run_pass()

    def settle(self, *, rounds: int = 30) -> bool:
        """Run passes on both routers until every claim is verified (or rounds run out)."""
        for _ in range(rounds):
            self.pass_all()
            if all(
                v.state == "verified"
                for e in self.engines.values()
                for v in e.snapshot.claims.values()
            ):
                return True
        return False

    def claims(self) -> list[dict[str, str]]:
        out = []
        for router, engine in self.engines.items():
            for v in sorted(engine.snapshot.claims.values(), key=lambda v: v.name):
                out.append(
                    {
                        "router": router,
                        "name": v.name,
                        "address": v.address,
                        "state": v.state,
                        "reason": v.reason,
                        "message": v.message,
                    }
                )
        return out

    def close(self) -> None:
        for e in self.engines.values():
            e.close()
        if self.tmp is not None:
            self.tmp.cleanup()


def build(
    provider: str,
    *,
    firewall: str | None = None,
    clamp: bool = True,
    provision: bool = True,
    clock: Callable[[], float] | None = None,
    provider_evidence: bool = True,
    transform: Callable[[str], str] | None = None,
) -> DemoLab:
    """Build the lab for ``provider`` and one engine per router on the example configs.

    ``provider_evidence=False`` leaves the engines without the fabric's answers (cloud
    captures are then only declared); ``transform`` rewrites each config text after the
    keys are paired (tests use it for config variants).
    """
    lab = build_lab(
        cast(labnames.Provider, provider),
        firewall=cast(labnames.FirewallProfile | None, firewall),
        clamp_supported=clamp,
        provision=provision,
        clock=clock,
    )
    tmp = tempfile.TemporaryDirectory(prefix="routerd-demo-")
    keys = Path(tmp.name)
    texts = pair_configs(example_text(provider, "cloud"), example_text(provider, "onprem"), keys)
    demo = DemoLab(lab, {}, tmp=tmp)
    for side, text in zip(("cloud", "onprem"), texts, strict=True):
        if transform is not None:
            text = transform(text)
        result = load_text(text, f"examples/{provider}/{side}.yaml", extra_checks=[config_checks])
        config = result.raise_for_errors()
        engine = Engine(
            SimBackend(lab.world, ROUTERS[side]),
            config,
            keys=KeyFiles(),
            settings=EngineSettings(key_dir=str(keys)),
            clock=clock or time.time,
            provider=FabricEvidence(lab.world, ROUTERS[side]) if provider_evidence else None,
        )
        engine.listeners.append(_journal_into(demo, ROUTERS[side]))
        demo.engines[ROUTERS[side]] = engine
    return demo


def _journal_into(demo: DemoLab, router: str) -> Callable[[Snapshot, list[TransitionRecord]], None]:
    """A listener that copies ``router``'s transitions into the demo's journal."""

    def listen(_snap: Snapshot, records: list[TransitionRecord]) -> None:
        demo.journal.extend((router, r) for r in records)

    return listen
