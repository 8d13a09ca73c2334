"""Shared helpers for the mobility tests: the example domain, paths, presence facts."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from routerd.configfile import load_file
from routerd.core.config import RouterConfig
from routerd.core.exchange import LearnedPath, SessionState
from routerd.core.loader import load_text
from routerd.core.mobility.plan import MobileDomain, MobilityPlan
from routerd.core.mobility.records import ABSENT, PRESENT, PresenceFact

ROOT = Path(__file__).resolve().parents[4]
EXAMPLES = ROOT / "examples" / "mobility"
RR = "10.255.0.1"
ROUTERS = {1: "10.255.0.11", 2: "10.255.0.21", 3: "10.255.0.31"}
A = "10.77.3.9"


@cache
def config(site: str = "a", extra: str = "") -> RouterConfig:
    """The example router of one site (``a``, ``b`` or ``c``), plus extra resources."""
    path = EXAMPLES / f"site-{site}.yaml"
    if not extra:
        return load_file(path).raise_for_errors()
    return load_text(path.read_text() + extra, str(path)).raise_for_errors()


def domain(site: str = "a") -> MobileDomain:
    return MobilityPlan.of(config(site)).domains[0]


def path(site_id: int, sequence: int, *, address: str = A, neighbor: str = RR) -> LearnedPath:
    router = ROUTERS.get(site_id, f"10.255.9.{site_id}")
    return LearnedPath(address, site_id, sequence, router, neighbor, router)


def up(*neighbors: str) -> dict[str, SessionState]:
    return {n: SessionState(n, "established", 0.0) for n in (neighbors or (RR,))}


def down(*neighbors: str) -> dict[str, SessionState]:
    return {n: SessionState(n, "active", 0.0) for n in (neighbors or (RR,))}


def present(at: float, kind: str = "garp", mac: str = "52:54:00:00:00:09") -> PresenceFact:
    return PresenceFact(PRESENT, at, at, kind, mac)


def absent(at: float, last: float = 0.0) -> PresenceFact:
    return PresenceFact(ABSENT, at, last, "probe-answer", "")
