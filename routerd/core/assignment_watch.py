"""Which claims a change of the provider's answers concerns, for a scoped pass to judge.

``assess`` reads the provider's answer for a provider-side claim (``routerd.core.assignment``),
and no dataplane event reports that answer changing: the provider's metadata changes when
a person runs a provider command, and the reader sees it on its next background read. So
the provider's answers are one more input a scoped pass must not miss, handled like drift:
every pass asks the port for the answers of the current claims (the port returns the same
mapping while nothing changed, and calls ``on_change`` when something may have), and when
the mapping is another one, the claims whose address got another answer are judged in that
pass. Everything else stays where it is: its answer did not move.

The queries are kept claim by claim from the claims each pass synced, so a pass that
changed one claim does not walk the others; the query set handed to the port is made again
only when a provider-side claim came, went or changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from routerd.core.assignment import Assignment, AssignmentQuery, ProviderEvidence, query_for
from routerd.core.lowering import ClaimIntent

_NO_ANSWERS: Mapping[str, Assignment] = {}


class AssignmentWatch:
    """The provider's last answers for the current claims (engine thread).

    Args:
        provider: the port (None: no provider is asked; every answer stays absent).
    """

    def __init__(self, provider: ProviderEvidence | None) -> None:
        self.provider = provider
        self.answers: Mapping[str, Assignment] = _NO_ANSWERS
        """The answers the claims were last judged with (bare address -> answer)."""
        self._queries: dict[str, AssignmentQuery] = {}  # claim name -> its query
        # address -> claims asking about it (a tuple: nearly always one, and a set costs
        # ~200 bytes a claim more)
        self._claims: dict[str, tuple[str, ...]] = {}
        self._asked: frozenset[AssignmentQuery] | None = frozenset()

    def update(self, intents: Mapping[str, ClaimIntent], names: Iterable[str]) -> None:
        """Take the claims ``names`` as they are in ``intents`` now (absent: gone).

        Kept whether or not a provider is set, so one set later is asked about every claim.
        """
        queries, by_address = self._queries, self._claims
        moved = False
        for name in names:
            intent = intents.get(name)
            query = query_for(intent) if intent is not None else None
            old = queries.get(name)
            if old is None:  # most claims: a proxy-ARP one, or a first pass's new one
                if query is None:
                    continue
            elif query is not None and old == query:
                continue
            else:
                del queries[name]
                rest = tuple(n for n in by_address[old.address] if n != name)
                if rest:
                    by_address[old.address] = rest
                else:
                    del by_address[old.address]
            if query is not None:
                queries[name] = query
                address = query.address
                got = by_address.get(address)
                by_address[address] = (name,) if got is None else (*got, name)
            moved = True
        if moved:
            self._asked = None

    def read(self) -> set[str]:
        """Ask the provider; returns the claims whose answer differs from the last read."""
        if self.provider is None:
            return set()
        if self._asked is None:
            self._asked = frozenset(self._queries.values())
        answers = self.provider.assignments(self._asked)
        if answers is self.answers:
            return set()
        before, self.answers = self.answers, answers
        changed: set[str] = set()
        for address in before.keys() | answers.keys():
            if before.get(address) != answers.get(address):
                changed.update(self._claims.get(address, ()))
        return changed
