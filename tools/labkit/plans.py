"""Which steps each ``tools/lab`` command runs, in order, per provider.

``smoke``: on OCI first ``host-firewall`` (doctor must WARN about the image firewall before
the documented rule is applied); then claims verified, ping, SSH, 100 MiB both ways, no
NAT; on OCI the clamp's negative check. ``faults``: the OCI firewall step when needed,
claims verified, then the drift faults and the kill -9 restarts. Both end with
``routerd-logs``: no routerd log may hold a Traceback (an implicit assertion of every run).
With ``--cloud-actions`` the smoke also proves routerd assigned the secondary IP itself
(``cloud-action``), that an address taken away at the provider is lost until routerd puts it
back (``cloud-action-drift``), and times a claim added until verified against the provider
call (``cloud-action-timing``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import clamp, cloud_actions, faults, nat, smoke
from .steps import Step

if TYPE_CHECKING:
    from .lab import Lab


def routerd_logs(lab: Lab) -> str:
    """No Traceback in any routerd log of the run."""
    bad = [str(r.log) for r in lab.routers.values() if "Traceback" in r.log.read_text()]
    if bad:
        raise AssertionError(f"Traceback in {', '.join(bad)}")
    starts = sum(r.starts for r in lab.routers.values())
    return f"no Traceback in the routerd logs ({starts} routerd starts)"


def _firewall(provider: str) -> list[tuple[str, Step]]:
    return [("host-firewall", smoke.host_firewall)] if provider == "oci" else []


def smoke_steps(provider: str, actions: bool = False) -> list[tuple[str, Step]]:
    out = _firewall(provider) + [
        ("claims-verified", smoke.claims_verified),
        *([("cloud-action", cloud_actions.assigned_by_routerd)] if actions else []),
        ("ping", smoke.ping),
        ("ssh", smoke.ssh),
        ("scp-100MiB", smoke.scp_both_ways),
        ("no-nat", nat.no_nat),
    ]
    if provider == "oci":
        out.append(("clamp-negative", clamp.clamp_negative))
    if actions:
        out.append(("cloud-action-drift", cloud_actions.drift_repaired))
        out.append(("cloud-action-timing", cloud_actions.timing))
    return [*out, ("routerd-logs", routerd_logs)]


def fault_steps(provider: str, actions: bool = False) -> list[tuple[str, Step]]:
    return [
        *_firewall(provider),
        ("claims-verified", smoke.claims_verified),
        *([("cloud-action", cloud_actions.assigned_by_routerd)] if actions else []),
        *faults.FAULTS,
        ("routerd-logs", routerd_logs),
    ]
