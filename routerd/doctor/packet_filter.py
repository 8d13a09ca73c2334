"""Walk one firewall chain, in order, for one probe packet: the verdict and how sure it is.

A check that greps a ruleset for any ``REJECT`` and any matching ``ACCEPT`` passes an accept
placed *after* a reject-all and an accept hidden behind ``RELATED,ESTABLISHED``. Here every
reader translates its rules into ``Rule``s over ``packet_match`` conditions, and ``evaluate``
walks a base chain the way the kernel does: first matching terminal rule wins, jumps and
gotos into user chains, ``return``, then the chain's policy.

Rules whose match is MAYBE do not decide, but what they would have done is kept in
``Outcome.uncertain``: an outcome is *proven* only when no such rule could have changed it.
The doctor passes a path only on proven accepts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from routerd.doctor.packet_match import Condition, Match, Packet, conjunction

MAX_DEPTH = 16

ACCEPT, DROP, JUMP, GOTO, RETURN, CONTINUE, UNKNOWN = (
    "accept",
    "drop",
    "jump",
    "goto",
    "return",
    "continue",
    "unknown",
)


@dataclass(frozen=True)
class Rule:
    """One rule: all conditions must hold; ``verdict`` is one of the constants above.

    Attributes:
        conditions: the matches, all of which must hold.
        verdict: accept | drop | jump | goto | return | continue | unknown.
        text: how the doctor names the rule (owner, table, chain, handle, rule text).
        target: the user chain of a jump or goto; for ``unknown``, what the rule does.
    """

    conditions: tuple[Condition, ...]
    verdict: str
    text: str
    target: str = ""

    def test(self, p: Packet) -> Match:
        return conjunction(c.test(p) for c in self.conditions)


@dataclass
class Chain:
    name: str
    rules: list[Rule] = field(default_factory=list)
    policy: str = ""  # "accept" | "drop" for base chains, "" for user chains


@dataclass(frozen=True)
class Uncertain:
    """A rule that might apply to the probe (MAYBE), or whose action we cannot model."""

    verdict: str  # accept | drop | unknown
    text: str


@dataclass
class Outcome:
    """How a base chain treats the probe packet.

    Attributes:
        verdict: "accept" or "drop".
        by: the rule text that decided, or "policy <x>".
        uncertain: rules met before the decision that might have decided otherwise.
    """

    verdict: str
    by: str
    uncertain: list[Uncertain] = field(default_factory=list)

    @property
    def doubts(self) -> list[Uncertain]:
        """The uncertain rules that could have led to another verdict than ``verdict``."""
        return [u for u in self.uncertain if u.verdict != self.verdict]

    @property
    def proven(self) -> bool:
        """No rule we could not fully evaluate could have changed the verdict."""
        return not self.doubts


def evaluate(chains: dict[str, Chain], base: str, packet: Packet) -> Outcome:
    """Walk ``base`` in order for ``packet``; the policy decides when nothing does.

    Args:
        chains: every chain of the table (jump targets included), by name.
        base: the base chain the packet enters.
        packet: the probe.

    Returns:
        The verdict, the rule (or policy) that reached it and the rules that might not agree.
    """
    uncertain: list[Uncertain] = []
    decided = _walk(chains, chains[base], packet, uncertain, 0)
    if decided is not None:
        return Outcome(decided[0], decided[1], uncertain)
    policy = chains[base].policy or ACCEPT
    return Outcome(policy, f"policy {policy}", uncertain)


def _walk(
    chains: dict[str, Chain], chain: Chain, p: Packet, uncertain: list[Uncertain], depth: int
) -> tuple[str, str] | None:
    """The verdict ``chain`` reaches, or None when it falls through (or returns)."""
    if depth > MAX_DEPTH:
        uncertain.append(Uncertain(UNKNOWN, f"chains nested deeper than {MAX_DEPTH}"))
        return None
    for rule in chain.rules:
        m = rule.test(p)
        if m is Match.NO or rule.verdict == CONTINUE:
            continue
        if rule.verdict in (JUMP, GOTO):
            decided, stop = _jump(chains, rule, m, p, uncertain, depth)
            if decided is not None or stop:
                return decided
        elif m is Match.YES and rule.verdict in (ACCEPT, DROP):
            return rule.verdict, rule.text
        elif m is Match.YES and rule.verdict == RETURN:
            return None
        elif rule.verdict in (ACCEPT, DROP):
            uncertain.append(Uncertain(rule.verdict, rule.text))
        else:  # a maybe-return, or an action we do not model (queue, nat, unknown target)
            what = f"{rule.text} ({rule.target or rule.verdict})"
            uncertain.append(Uncertain(UNKNOWN, what))
    return None


def _jump(
    chains: dict[str, Chain],
    rule: Rule,
    m: Match,
    p: Packet,
    uncertain: list[Uncertain],
    depth: int,
) -> tuple[tuple[str, str] | None, bool]:
    """``(verdict reached in the target, stop walking the caller)`` for a jump or goto."""
    sub = chains.get(rule.target)
    if sub is None:
        uncertain.append(Uncertain(UNKNOWN, f"{rule.text} (target chain not found)"))
        return None, False
    if m is Match.MAYBE:
        # Whatever the target might do counts as a doubt, including its own doubts.
        decided = _walk(chains, sub, p, uncertain, depth + 1)
        if decided is not None:
            uncertain.append(Uncertain(decided[0], f"{rule.text} -> {decided[1]}"))
        elif rule.verdict == GOTO:
            uncertain.append(Uncertain(UNKNOWN, f"{rule.text} (goto, then the caller's end)"))
        return None, False
    decided = _walk(chains, sub, p, uncertain, depth + 1)
    return decided, rule.verdict == GOTO


def split_csv(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(v for item in values for v in item.split(",") if v)
