"""One profile's provider plan: desired vs observed, as steps (pure, no I/O).

Inputs: what should be on which NIC (``ProfileTargets``), who holds each address now (the
executor's fresh reads or its subnet inventory), and what routerd itself put on a NIC
(its holdings, from the journal). Output: the steps that converge them, and what is blocked
with the reason. The rules:

* a wanted address on its NIC: settled, nothing to do;
* a wanted address nobody holds: ``assign``;
* a wanted address another NIC holds: ``reassign`` from it, only when the policy allows
  ``reassign`` and ``may_take(address, holder)`` says the holder is not a VM this site
  homes; never when it is that NIC's primary IP (a VM's own address);
* an address routerd put on a NIC that no claim wants any more: ``unassign`` (when the
  policy allows it); if it is no longer on that NIC, the holding is simply forgotten.

An address routerd did not put anywhere is never released: an operator's own assignment
stays. Steps are ordered releases first, so an address leaving one of our NICs is free
before another assignment needs it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from routerd.core.action_journal import HeldAddress
from routerd.core.resources.provider_policy import (
    ACTION_ASSIGN,
    ACTION_REASSIGN,
    ACTION_UNASSIGN,
)
from routerd.providers.execution import Holding
from routerd.providers.targets import ProfileTargets

MayTake = Callable[[str, str], bool | str]
"""``may_take(address, holder_nic)``: may routerd move ``address`` off that NIC? ``True``
yes; ``False`` or a sentence saying why not (shown as the blocked reason) no."""
SameNic = Callable[[str, str], bool]
ORDER = {ACTION_UNASSIGN: 0, ACTION_REASSIGN: 1, ACTION_ASSIGN: 2}


def static_may_take(address: str, holder: str) -> bool | str:
    """The hook for static claims: yes (the claim says the address's VM lives elsewhere).

    A static ``RemoteAddressClaim`` on this router is the operator's statement that the
    address's VM lives on the other side, so a NIC here holding it is not that VM's; the
    policy's ``reassign`` is the consent to move it, and a primary IP never moves. Address
    mobility replaces this hook with its controller's answer ("is it homed here?").
    """
    return True


@dataclass(frozen=True, slots=True)
class Step:
    """One provider action to take.

    Attributes:
        operation: ``assign`` | ``unassign`` | ``reassign``.
        address: the bare IPv4 address.
        nic: the NIC acted on (the target for assign/reassign, ours for unassign).
        from_nic: for a reassign, the NIC that holds it now.
        claim: the claim that wants it ("" for a release).
    """

    operation: str
    address: str
    nic: str
    from_nic: str = ""
    claim: str = ""


@dataclass
class ProfilePlan:
    """What one run should do for one profile.

    Attributes:
        steps: the actions, releases first.
        settled: addresses already where they are wanted.
        blocked: address -> why routerd does not act on it.
        forget: holdings no longer on routerd's NIC (someone else moved or removed them).
        wants: address -> canonical NIC wanted ("" to release), for the intent counters.
    """

    steps: list[Step] = field(default_factory=list)
    settled: list[str] = field(default_factory=list)
    blocked: dict[str, str] = field(default_factory=dict)
    forget: list[str] = field(default_factory=list)
    wants: dict[str, str] = field(default_factory=dict)


def plan_profile(
    pt: ProfileTargets,
    holders: Mapping[str, Holding | None],
    holdings: Mapping[str, HeldAddress],
    *,
    may_take: MayTake = static_may_take,
    same_nic: SameNic = lambda a, b: a == b,
    canonical: Callable[[str], str] = lambda nic: nic,
) -> ProfilePlan:
    """The steps that bring ``holders`` to ``pt`` (see the module docstring).

    Args:
        pt: the profile's targets and policy.
        holders: address -> who holds it now (None: nobody); addresses missing were not
            observed and are left alone this run.
        holdings: the addresses routerd put on a NIC for this profile.
        may_take: the homing hook (``static_may_take`` for static claims).
        same_nic: whether two nicRefs name the same NIC.
        canonical: a NIC's canonical form (for the intent counters).
    """
    out = ProfilePlan(blocked=dict(pt.blocked))
    allowed = set(pt.policy.spec.actions) if pt.policy is not None else set()
    for ip, target in pt.targets.items():
        out.wants[ip] = canonical(target.nic)
        if ip not in holders:
            continue
        held = holders[ip]
        if held is not None and same_nic(held.nic, target.nic):
            out.settled.append(ip)
        elif held is None:
            _step(out, allowed, Step(ACTION_ASSIGN, ip, target.nic, claim=target.claim))
        elif held.primary:
            out.blocked[ip] = (
                f"it is the primary IP of {held.nic}: a VM in this cloud owns it; it never "
                "moves (fix the claim if the VM lives here)"
            )
        elif (verdict := may_take(ip, held.nic)) is not True:
            out.blocked[ip] = (
                verdict
                if isinstance(verdict, str) and verdict
                else f"held by {held.nic}, a VM this site homes: never taken from it"
            )
        else:
            step = Step(ACTION_REASSIGN, ip, target.nic, held.nic, target.claim)
            _step(out, allowed, step)
    for ip, mine in holdings.items():
        if ip in pt.targets or ip in pt.blocked:
            continue
        out.wants[ip] = ""
        if ip not in holders:
            continue
        held = holders[ip]
        if held is None or not same_nic(held.nic, mine.nic):
            out.forget.append(ip)
            continue
        _step(out, allowed, Step(ACTION_UNASSIGN, ip, mine.nic))
    out.steps.sort(key=lambda s: (ORDER[s.operation], s.address))
    return out


def _step(out: ProfilePlan, allowed: set[str], step: Step) -> None:
    if step.operation in allowed:
        out.steps.append(step)
        return
    why = {
        ACTION_ASSIGN: "nobody holds it, but the policy does not allow assign",
        ACTION_REASSIGN: f"held by {step.from_nic}; the policy does not allow reassign",
        ACTION_UNASSIGN: (
            "no claim wants it any more, but the policy does not allow unassign: unassign "
            "it by hand or allow unassign"
        ),
    }[step.operation]
    out.blocked[step.address] = why


def action_key(step: Step, canonical_nic: str, intent: int) -> str:
    """The idempotency key: address, operation, NIC and the address's intent counter.

    The NIC enters as a short digest of its canonical form (an Azure NIC ID alone is longer
    than the 128 characters a key may have).
    """
    nic = hashlib.sha256(canonical_nic.encode()).hexdigest()[:12]
    return f"rd:{step.address}:{step.operation}:{nic}:{intent}"
