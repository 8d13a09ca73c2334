"""What every mobility scenario records besides its own traffic: checks, figures, watchers.

* ``Report``: the scenario's checks (name, ok, detail) and figures (name, value, unit), in
  the shape ``tools/lab mobility -o json`` prints.
* ``Watch``: for the scenario's duration, ARP sweeps on both LANs (from the monitors) and
  polls of the reflector's table; on exit it adds the checks every scenario must pass:
  never two responders on a segment, the anycast gateway answered with the one MAC on both
  LANs, never two homes at the reflector, and in the cloud one address on one NIC.
* ``trains``: ICMP probers started in several VMs at once, collected together.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any

from . import agents
from .mobmeasure import TOLERANCE, gateway_answers, two_homes, two_responders
from .mobtopo import GATEWAY, GATEWAY_MAC, MONITOR, RR, VM, VM_IF

if TYPE_CHECKING:
    from .moblab import MobilityLab

RR_POLL = 0.2


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str


@dataclass
class Report:
    """Checks and figures of one or more scenarios."""

    checks: list[Check] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)

    def check(self, name: str, ok: bool, detail: str) -> bool:
        self.checks.append(Check(name, bool(ok), detail))
        return bool(ok)

    def figure(self, name: str, value: float, unit: str = "ms") -> None:
        self.figures.append(Figure(name, round(value, 1), unit))

    def extend(self, other: Report) -> None:
        self.checks += other.checks
        self.figures += other.figures

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def as_json(self) -> dict[str, Any]:
        return {
            "checks": [asdict(c) for c in self.checks],
            "figures": [asdict(f) for f in self.figures],
        }


class Watch:
    """The watchers of one scenario (module docstring); a context manager."""

    def __init__(
        self,
        lab: MobilityLab,
        scenario: str,
        addresses: Iterable[str],
        tolerance: float = TOLERANCE,
    ) -> None:
        self.lab = lab
        self.tolerance = tolerance
        self.scenario = scenario
        self.addresses = sorted(set(addresses))
        self.report = Report()
        self.rounds: dict[str, Any] = {}
        self.samples: Any = []

    def __enter__(self) -> Watch:
        targets = [*self.addresses, GATEWAY]
        interval = 0.05 if len(targets) <= 12 else 0.1
        for role in MONITOR.values():
            self.lab.workers[role].call(
                agents.start_sweeper, "sweep", VM_IF, VM[role].addresses[0], targets, interval
            )
        assert self.lab.rr is not None
        self.lab.workers[RR].call(agents.start_rr_poller, "rr", str(self.lab.rr.ctl), RR_POLL)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for site, role in MONITOR.items():
            self.rounds[site] = self.lab.workers[role].call(agents.collect, "sweep")
        self.samples = self.lab.workers[RR].call(agents.collect, "rr")
        if exc_type is None:
            self._verdicts()

    def _verdicts(self) -> None:
        r, s = self.report, self.scenario
        for site, rounds in self.rounds.items():
            failures, sightings = two_responders(rounds, self.addresses, self.tolerance)
            r.check(
                f"{s}: never two responders on {site}",
                not failures,
                "; ".join(failures[:5])
                or f"{len(rounds)} ARP sweeps of {len(self.addresses)} addresses; {sightings} "
                f"brief overlaps of a host and its router answering (each under "
                f"{self.tolerance * 1000:.0f} ms)",
            )
            answered, wrong = gateway_answers(rounds, GATEWAY, GATEWAY_MAC)
            r.check(
                f"{s}: anycast gateway on {site}",
                answered > len(rounds) // 2 and not wrong,
                f"{GATEWAY} answered in {answered}/{len(rounds)} sweeps, always by "
                f"{GATEWAY_MAC}" + (f"; also by {', '.join(wrong[:3])}" if wrong else ""),
            )
        failures, sightings = two_homes(self.samples, self.addresses, self.tolerance)
        r.check(
            f"{s}: never two homes at the reflector",
            not failures and bool(self.samples),
            "; ".join(failures[:5])
            or f"{len(self.samples)} polls every {RR_POLL * 1000:.0f} ms; {sightings} sightings "
            f"of an old home still withdrawing (each under {self.tolerance * 1000:.0f} ms)",
        )
        held = self.lab.fabric.held()
        double = {a: ports for a, ports in held.items() if len(ports) > 1}
        r.check(
            f"{s}: one address, one NIC in the cloud",
            not double,
            str(double) if double else f"{len(held)} addresses, each on one NIC",
        )


def trains(lab: MobilityLab, plan: dict[str, list[str]], interval: float) -> None:
    """Start a prober named ``train`` in each VM of ``plan`` (VM role -> targets)."""
    for role, targets in plan.items():
        lab.workers[role].call(agents.start_prober, "train", targets, interval)


def mark(lab: MobilityLab, roles: Iterable[str], at: float) -> None:
    for role in roles:
        lab.workers[role].call(agents.mark, "train", at)


def collect(lab: MobilityLab, roles: Iterable[str]) -> dict[str, Any]:
    return {role: lab.workers[role].call(agents.collect, "train") for role in roles}


def now() -> float:
    return time.monotonic()
