"""The engine's own verdict on each claim, as a doctor finding.

The daemon walks every claim through the lifecycle (docs/concepts.md, "The claim lifecycle")
and records the first
failing step as a stable reason code (``routerd.core.assess.REASONS``). The doctor's host
probes explain *why*; this finding says *what the engine concluded*, so the two can be read
side by side: ``degraded`` FAILs with its reason code, an intermediate state WARNs (not yet
verified, and why), ``verified`` passes. Without a running engine there is nothing to report,
which is a SKIP, never a guess.
"""

from __future__ import annotations

from routerd.core.assess import REASONS
from routerd.core.doctor import Finding, Status
from routerd.core.lifecycle import ClaimState
from routerd.doctor.inputs import Inputs, claim_name

AREA = "hybrid"
CHECK = "state"


def check(inputs: Inputs, claim: str) -> Finding:
    """``RemoteAddressClaim/<n> state`` from ``ctx.claim_states``."""
    name = claim_name(claim, CHECK)
    states = inputs.ctx.claim_states
    if claim not in states:
        why = "not reconciled yet" if states else "no engine state (no running daemon)"
        return Finding(AREA, name, Status.SKIP, why, claim=claim)
    state, reason = states[claim]
    origin = inputs.origin(claim)
    text = f"{state}" + (
        f": {reason} ({REASONS.get(reason, 'see the claim history')})" if reason else ""
    )
    if origin != "startup":
        text += f"; from {origin}"
    remedy = f"see docs/troubleshooting.md#{reason}" if reason else ""
    if state == ClaimState.VERIFIED:
        return Finding(AREA, name, Status.PASS, text, claim=claim)
    if state == ClaimState.DEGRADED:
        return Finding(AREA, name, Status.FAIL, text, remedy or "routerctl history", claim=claim)
    return Finding(AREA, name, Status.WARN, f"not verified yet: {text}", remedy, claim=claim)
