"""What one doctor run looks at, resolved once from the DoctorContext (D7, docs/decisions.md).

A doctor that reads the startup file and takes ``delivery.tunnelInterface`` literally leaves
dynamic claims unchecked and checks a claim relying on its peer's tunnel against a
placeholder. Here every area reads the *effective* config and the lowered
``ClaimIntent``s, which already carry the tunnel resolved from the peer, the OS name of the
capture interface and the MSS routerd.core.mtu derives. When the caller has no effective
config (``routerctl doctor --local`` without a daemon) it is rebuilt from the store's parts.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from routerd.core.config import RouterConfig
from routerd.core.desired import DesiredState
from routerd.core.doctor import DoctorContext, Finding, Status
from routerd.core.effective import EffectiveResult, build_effective
from routerd.core.lowering import ClaimIntent, lower
from routerd.core.resources import RemoteAddressClaim
from routerd.doctor.host import Host

NO_HOST = "host commands disabled by --no-host"
SIM_BACKEND = "backend sim: host probes do not apply (the dataplane is simulated)"


@dataclass
class Inputs:
    """The resolved view every check reads.

    Attributes:
        ctx: the caller's context.
        host: how to reach the host.
        config: the effective config (startup when nothing dynamic is known).
        effective: the merge result, when one exists.
        intents: claim name -> intent, from the effective config.
        desired: the lowered desired dataplane.
        now: epoch seconds for this run.
    """

    ctx: DoctorContext
    host: Host
    config: RouterConfig
    effective: EffectiveResult | None
    intents: dict[str, ClaimIntent]
    desired: DesiredState
    now: float
    build_error: str = ""
    origins: dict[str, str] = field(default_factory=dict)

    @property
    def host_gate(self) -> str:
        """Why host probes must not run ("" when they may)."""
        if not self.ctx.host:
            return NO_HOST
        if self.ctx.backend == "sim":
            return SIM_BACKEND
        return ""

    def origin(self, claim: str) -> str:
        """``startup`` or the ``Source@generation`` that contributed the claim."""
        return self.origins.get(claim, "startup")


def resolve(ctx: DoctorContext, host: Host) -> Inputs:
    """Build the run's inputs; never raises for a bad part (the dynamic area reports it)."""
    now = host.clock()
    effective = ctx.effective
    build_error = ""
    if effective is None and ctx.store is not None:
        try:
            effective = build_effective(ctx.startup, ctx.store.list_parts(), now)
        except Exception as e:  # the dynamic area reports this; other areas use startup
            build_error = f"{type(e).__name__}: {e}"
    config = effective.config if effective is not None else ctx.startup
    lowered = ctx.lowered if ctx.lowered is not None else lower(config)
    origins: dict[str, str] = {}
    if effective is not None:
        for ident, label in effective.dynamic_origin.items():
            if ident[1] == RemoteAddressClaim.KIND:
                origins[ident[2]] = label
    return Inputs(
        ctx=ctx,
        host=host,
        config=config,
        effective=effective,
        intents=dict(sorted(lowered.claims.items())),  # reports follow claim names
        desired=lowered.desired,
        now=now,
        build_error=build_error,
        origins=origins,
    )


def claim_name(claim: str, check: str) -> str:
    """Reference-style finding name: ``RemoteAddressClaim/<n> <check>``."""
    return f"RemoteAddressClaim/{claim} {check}"


def gated(area: str, names: list[str], reason: str) -> list[Finding]:
    """One SKIP per claim when host probes may not run."""
    return [
        Finding(area, claim_name(n, "live checks"), Status.SKIP, reason, claim=n) for n in names
    ]
