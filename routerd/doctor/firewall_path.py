"""The base chains a probe packet crosses, in the kernel's order, and what each does to it.

A forwarded IPv4 packet meets, in order: ``ingress`` chains (``netdev`` and ``inet``) of
the device it arrives on; when that device is a bridge, the ``bridge`` family's
``prerouting`` and ``input`` chains; then ``prerouting``, ``forward`` and ``postrouting``
of the ``ip`` and ``inet`` families and of legacy x_tables; the bridge family's ``output``
and ``postrouting`` when it leaves through a bridge; the ``egress`` chains of its output
device. A packet for this host (WireGuard's UDP port) takes ``input`` instead of
``forward``. On each hook every base chain runs, by priority: a drop in any of them is
final, an accept only ends that chain. So the path is open only when every chain that
applies is *proven* to accept; one proven drop closes it; anything else is "not proven".
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import cast

from routerd.doctor.nft_rules import BaseChain
from routerd.doctor.packet_filter import ACCEPT, DROP, Outcome, evaluate
from routerd.doctor.packet_match import IPV4, Match, Packet, mentions_addresses

OPEN, BLOCKED, UNPROVEN = "accept", "drop", "unproven"


@dataclass(frozen=True)
class Probe:
    """One packet to push through every filter: forwarded or for this host."""

    kind: str  # "forward" | "input"
    packet: Packet
    label: str


@dataclass(frozen=True)
class Step:
    """One hook on the path, with the packet as chains at that hook see it."""

    hook: str
    packet: Packet
    bridge: Match = Match.NO  # a bridge-family hook (YES, or MAYBE: bridge-ness unknown)
    device: str | None = None  # the device of an ingress/egress hook


@dataclass(frozen=True)
class Judged:
    """One base chain's treatment of one probe.

    Attributes:
        applies: YES, or MAYBE when the chain is bound to a device the probe may not use.
        status: "accept" (proven), "drop" (proven, and the chain surely applies), or
            "unproven".
    """

    probe: Probe
    chain: BaseChain
    step: Step
    outcome: Outcome
    applies: Match

    @property
    def status(self) -> str:
        if self.outcome.proven and self.outcome.verdict == ACCEPT:
            return OPEN
        if self.outcome.proven and self.outcome.verdict == DROP and self.applies is Match.YES:
            return BLOCKED
        return UNPROVEN

    def why(self) -> str:
        """Why the chain does not prove the packet accepted (for an unproven one)."""
        doubts = self.outcome.doubts
        said = [f"{d.text} might {d.verdict}" for d in doubts[:3]]
        if len(doubts) > 3:
            said.append(f"+{len(doubts) - 3} more")
        verb = "accepts" if self.outcome.verdict == ACCEPT else "drops"
        head = f"{verb} it ({self.outcome.by})"
        if self.applies is Match.MAYBE:
            head += " if it sees it"
        return f"{head} unless: {', '.join(said)}" if said else head

    def where(self) -> str:
        if self.chain.hook in ("ingress", "egress"):
            devs = ", ".join(self.chain.devices) if self.chain.devices else "devices not listed"
            return f"{self.chain.hook} on {devs}"
        return f"{self.chain.hook} priority {self.chain.prio}"


Bridges = Callable[[str | None], Match]
"""Whether an interface is a bridge (MAYBE: unknown or unnamed)."""
Ports = Callable[[str], set[str]]
"""The ports of a bridge (empty for anything else)."""
Crossed = list[tuple[BaseChain, Step, Match]]


def steps(probe: Probe, is_bridge: Bridges) -> list[Step]:
    """The hooks ``probe`` crosses, in order."""
    p = probe.packet
    arriving = replace(p, oif="")
    out = [Step("ingress", arriving, device=p.iif)]
    into_bridge = is_bridge(p.iif)
    if into_bridge is not Match.NO:
        frame = replace(arriving, iif=None)  # bridge chains see the port, which we cannot name
        out += [Step("prerouting", frame, into_bridge), Step("input", frame, into_bridge)]
    out.append(Step("prerouting", arriving))
    if probe.kind == "input":
        return [*out, Step("input", arriving)]
    out += [Step("forward", p), Step("postrouting", p)]
    out_of_bridge = is_bridge(p.oif)
    if out_of_bridge is not Match.NO:
        frame = replace(p, iif="", oif=None)
        out += [Step("output", frame, out_of_bridge), Step("postrouting", frame, out_of_bridge)]
    return [*out, Step("egress", replace(p, iif=None), device=p.oif)]


def applies(chain: BaseChain, step: Step, family: str, ports: Ports) -> Match:
    """Whether ``chain`` sees the packet at ``step``."""
    if chain.hook != step.hook:
        return Match.NO
    if chain.family == "bridge" or step.bridge is not Match.NO:
        return step.bridge if chain.family == "bridge" else Match.NO
    if step.hook in ("ingress", "egress"):
        return _device(chain, step.device, ports)
    return Match.YES if chain.family in ("inet", "ip" if family == IPV4 else "ip6") else Match.NO


def _device(chain: BaseChain, device: str | None, ports: Ports) -> Match:
    if chain.family not in ("netdev", "inet"):
        return Match.NO
    if chain.devices is None or device is None:
        return Match.MAYBE
    if device in chain.devices:
        return Match.YES
    # a frame crosses the ingress/egress hook of the bridge port it uses, too
    return Match.MAYBE if ports(device) & set(chain.devices) else Match.NO


Judge = Callable[[BaseChain, Packet, Packet], Outcome]
"""Evaluate a base chain for the packet as its hook sees it and the probe it came from."""


def plain_judge(bc: BaseChain, at_hook: Packet, probe: Packet) -> Outcome:
    """``evaluate`` the chain for the hook's packet carrying the probe's addresses."""
    return evaluate(bc.chains, bc.name, _addressed(at_hook, probe))


def walk(
    probe: Probe,
    chains: list[BaseChain],
    is_bridge: Bridges,
    ports: Ports,
    judge: Judge = plain_judge,
    once: Callable[[object, Callable[[], object]], object] | None = None,
) -> list[Judged]:
    """Every base chain ``probe`` meets, in path and priority order, with its outcome.

    Args:
        probe: the packet.
        chains: every base chain read (any hook, any family).
        is_bridge: whether an interface is a bridge.
        ports: a bridge's ports.
        judge: how to evaluate a base chain (``cached_judge`` shares outcomes).
        once: a per-run memo; the chains a path crosses do not depend on the claimed
            address, so claims on the same interfaces share one list.

    Returns:
        One ``Judged`` per base chain met.
    """

    def route() -> Crossed:
        out: Crossed = []
        for step in steps(probe, is_bridge):
            hits = [(bc, applies(bc, step, probe.packet.family, ports)) for bc in chains]
            met = sorted((h for h in hits if h[1] is not Match.NO), key=lambda h: h[0].prio)
            out += [(bc, step, m) for bc, m in met]
        return out

    key = ("fw-route", probe.kind, id(chains), _unaddressed(probe.packet))
    crossed = cast(Crossed, once(key, route)) if once else route()
    p = probe.packet
    return [Judged(probe, bc, step, judge(bc, step.packet, p), m) for bc, step, m in crossed]


def _unaddressed(p: Packet) -> tuple[object, ...]:
    """Everything about a packet but its addresses (a memo key shared by claims)."""
    return (p.family, p.iif, p.oif, p.proto, p.dport, p.sport, p.state, p.local)


def _addressed(at_hook: Packet, probe: Packet) -> Packet:
    """The hook's view of a (possibly shared) packet, with this probe's addresses."""
    if at_hook.src == probe.src and at_hook.dst == probe.dst:
        return at_hook
    return replace(at_hook, src=probe.src, dst=probe.dst)


def _looks_at_addresses(bc: BaseChain) -> bool:
    """Whether any rule the base chain can reach (through jumps and gotos) matches addresses."""
    seen, todo = {bc.name}, [bc.name]
    while todo:
        chain = bc.chains.get(todo.pop())
        for rule in chain.rules if chain else []:
            if mentions_addresses(rule.conditions):
                return True
            if rule.target in bc.chains and rule.target not in seen:
                seen.add(rule.target)
                todo.append(rule.target)
    return False


def cached_judge(once: Callable[[object, Callable[[], object]], object]) -> Judge:
    """``evaluate`` shared by every claim when no rule of the table looks at addresses.

    Probes of two claims on the same interfaces differ only in the claimed address, and only
    an address match can tell them apart, so without one the first claim's outcome is every
    claim's (10,000 walks of the same chains become one).
    """

    def judge(bc: BaseChain, at_hook: Packet, probe: Packet) -> Outcome:
        if once(("fw-addr", id(bc.chains), bc.name), lambda: _looks_at_addresses(bc)):
            return plain_judge(bc, at_hook, probe)
        key = ("fw-outcome", id(bc.chains), bc.name, _unaddressed(at_hook))
        return cast(Outcome, once(key, lambda: plain_judge(bc, at_hook, probe)))

    return judge
