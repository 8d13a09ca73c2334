"""Doctor framework: findings as declared data, checks run in parallel, one report.

A check is a small function returning findings; it never raises for a problem it found (a
problem is a ``fail``/``warn`` finding with a remedy). An exception inside a check becomes a
``fail`` finding naming the check, so one broken probe never hides the other results.
Areas: ``hybrid``, ``dynamic``, ``plugin``, ``firewall``, ``mobility`` and ``provider``
(executing provider actions: policy, access, inventory, journal); docs/troubleshooting.md
describes each check; every area reads the effective config, D7 in docs/decisions.md.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from routerd.core.config import RouterConfig
from routerd.core.effective import EffectiveResult
from routerd.core.exchange import RouteExchange
from routerd.core.lowering import Lowered
from routerd.core.redundancy import RoleSource
from routerd.core.state_port import DoctorStore


class Status(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True, slots=True)
class Finding:
    """One result line.

    Attributes:
        area: hybrid | dynamic | plugin | firewall | mobility | provider.
        name: the check, e.g. ``RemoteAddressClaim/cloud-vm-21 capture route``.
        status: pass | warn | fail | skip.
        detail: what was observed.
        remedy: what to do (empty on pass).
        claim: the claim this finding is keyed by, when it is about one.
    """

    area: str
    name: str
    status: Status
    detail: str = ""
    remedy: str = ""
    claim: str = ""


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        out = {s.value: 0 for s in Status}
        for f in self.findings:
            out[f.status.value] += 1
        return out

    @property
    def overall(self) -> Status:
        """fail if any fails, else warn if any warns, else skip if only skips, else pass."""
        c = self.counts
        if c["fail"]:
            return Status.FAIL
        if c["warn"]:
            return Status.WARN
        if c["skip"] and not c["pass"]:
            return Status.SKIP
        return Status.PASS


Check = Callable[[], Iterable[Finding]]


def _collect(check: Check) -> list[Finding]:
    return list(check())


def run_checks(area: str, checks: Sequence[tuple[str, Check]], *, workers: int = 8) -> Report:
    """Run named checks in parallel and collect every finding in a stable order."""
    results: dict[int, list[Finding]] = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {pool.submit(_collect, c): i for i, (_, c) in enumerate(checks)}
        for fut, i in futures.items():
            try:
                results[i] = fut.result()
            except Exception as e:  # a broken probe is a finding, not a crash
                results[i] = [
                    Finding(
                        area,
                        checks[i][0],
                        Status.FAIL,
                        f"check raised {type(e).__name__}: {e}",
                        "report this as a routerd bug",
                    )
                ]
    report = Report()
    for i in range(len(checks)):
        report.findings.extend(results[i])
    return report


AREAS = ("hybrid", "dynamic", "plugin", "firewall", "mobility", "provider")


@dataclass
class DoctorContext:
    """Everything a doctor run may look at.

    Built by the daemon (from its live engine snapshot) or by ``routerctl doctor --local -c
    FILE`` (from the file and the state directory, without a daemon). Host probes are the
    doctor package's business; ``host=False`` (``--no-host``) skips them.

    Attributes:
        startup: the startup config.
        effective: the effective config (dynamic parts merged); doctor checks it (D7).
        lowered: the lowered desired state and claim intents (tunnels resolved from peers).
        claim_states: claim name -> (state, reason) from the engine, when a daemon runs.
        store: the state store (dynamic parts, plugin runs), when available.
        host: run host probes (commands, /proc, netlink).
        probe: also measure the path MTU through the tunnel with DF pings (``--probe``).
        backend: "linux" or "sim" (host probes only make sense on linux).
        mobility: the daemon's mobility port (``routerd.api.mobility_port.MobilityPort``:
            homes, conflicts), None without a daemon or without a mobile domain. Typed
            loosely because that port's records are API types core does not import.
        exchange: the daemon's route exchange (sessions, learned and refused paths).
        role_source: where the daemon learns this router's role in its pair.
    """

    startup: RouterConfig
    effective: EffectiveResult | None = None
    lowered: Lowered | None = None
    claim_states: dict[str, tuple[str, str]] = field(default_factory=dict)
    store: DoctorStore | None = None
    host: bool = True
    probe: bool = False
    backend: str = "linux"
    mobility: object | None = None
    exchange: RouteExchange | None = None
    role_source: RoleSource | None = None
