"""``SimExchange``: the route-exchange port on a simulated world's BGP fabric.

It is ``routerd.bgp.gobgp.GobgpExchange`` with the simulated speaker in place of gobgpd,
and keeps its contract (``routerd.core.exchange.RouteExchange``) to the letter:

* ``start`` adopts the router's running speaker (originations and everything learned are
  read back; nothing is withdrawn or re-announced) or starts one;
* ``sync`` is level-triggered and idempotent: it checks each origination exactly as
  ``GobgpExchange`` does (same errors, naming the address; another site's identity is
  refused), leaves an address with a bad origination as it was, and sends only the
  difference. Before ``start`` it keeps the wanted set and applies it on start;
* ``view`` is built the same way: received paths go through the same ``LearnedTable``
  (the import rule ``judge``, current refusals, refusal counts), sessions are keyed by
  neighbor address with gobgpd's state names, ``connected`` is False until started;
* ``close(cleanup=False)`` leaves the speaker running and announcing; ``cleanup=True``
  stops it, and its peers drop its paths at once.

What takes time on a network (an update per session hop, hold timers, reconnects) takes
virtual time here (``routerd.backends.sim.bgp.fabric``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType

from routerd.core.exchange import (
    U32,
    ExchangeView,
    ImportPolicy,
    Origination,
    SpeakerSettings,
    ipv4_int,
)
from routerd.core.learned import LearnedTable

from .fabric import BgpFabric
from .speaker import Speaker


def check_originations(
    originations: Mapping[str, Origination], site_id: int
) -> tuple[dict[str, Origination], list[str]]:
    """The originations that may be announced, and an error for each other one.

    The rule and the messages are ``GobgpExchange``'s: each error names the address and the
    field; a router originates only its own site's homes.
    """
    valid: dict[str, Origination] = {}
    errors: list[str] = []
    for address, o in originations.items():
        fits = (
            address == o.address
            and o.site_id == site_id
            and 0 <= o.sequence <= U32
            and ipv4_int(address) is not None
            and ipv4_int(o.next_hop) is not None
        )
        problems = [] if fits else o.problems()
        if not fits and address != o.address:
            problems.append(f"listed under {address!r} but its address is {o.address!r}")
        if not fits and o.site_id != site_id:
            problems.append(
                f"site_id {o.site_id} is not this router's site ({site_id}): "
                "a router originates only its own site's homes"
            )
        if problems:
            errors += [f"origination {address}: {p}" for p in problems]
        else:
            valid[address] = o
    return valid, errors


class SimExchange:
    """``RouteExchange`` (``routerd.core.exchange``) on a world's ``BgpFabric``.

    Args:
        fabric: the world's BGP fabric (``World.bgp``).
        router: the world router this routerd runs on.
        settings: the speaker's settings.
        policy: the import rule's domains and sites.

    Raises:
        ValueError: the settings have problems (each named), as ``GobgpExchange`` raises.
    """

    def __init__(
        self, fabric: BgpFabric, router: str, settings: SpeakerSettings, policy: ImportPolicy
    ) -> None:
        problems = settings.problems()
        if problems:
            raise ValueError("speaker settings: " + "; ".join(problems))
        self.fabric = fabric
        self.router = router
        self.settings = settings
        self.policy = policy
        self._table = LearnedTable(policy)
        self._speaker: Speaker | None = None
        self._desired: dict[str, Origination] | None = None
        self._error = "not started"
        self._on_change: Callable[[], None] = lambda: None

    # --- lifecycle ---------------------------------------------------------------------

    def start(self, on_change: Callable[[], None]) -> None:
        """Adopt or start the router's speaker (module docstring)."""
        self._on_change = on_change
        speaker = self.fabric.attach(
            self.router, self.settings, self.policy, self._table, self._changed
        )
        with self.fabric.lock:
            self._speaker, self._error = speaker, ""
            desired = self._desired
        if desired is not None:
            self.fabric.originate(self.router, desired)
        self._changed()

    def close(self, *, cleanup: bool) -> None:
        """Let go of the speaker; with ``cleanup`` also withdraw everything and stop it."""
        if cleanup:
            self.fabric.stop(self.router, self._table)
        else:
            self.fabric.detach(self.router, self._table)
        with self.fabric.lock:
            self._speaker, self._error = None, "closed"

    def _changed(self) -> None:
        self._on_change()

    # --- originations ------------------------------------------------------------------

    def sync(self, originations: Mapping[str, Origination]) -> list[str]:
        """Make the speaker's originations equal to ``originations``; returns the errors.

        An origination with problems is reported and leaves what is announced for its
        address unchanged. Before ``start`` the wanted set is kept and applied on start.
        """
        valid, errors = check_originations(originations, self.settings.site_id)
        self.fabric.catch_up()
        with self.fabric.lock:
            speaker = self._speaker
            have = speaker.originated if speaker is not None else {}
            for address in originations.keys() - valid.keys():
                if address in have:
                    valid[address] = have[address]
            self._desired = valid
            ready = speaker is not None and speaker.running
            error = self._error or "the simulated speaker stopped"
        if not ready:
            return [*errors, f"simulated speaker not ready ({error}); applied once it is"]
        self.fabric.originate(self.router, valid)
        return errors

    def inject(self, originations: Iterable[Origination]) -> None:
        """Announce paths bypassing ``sync`` and its checks (what a misconfigured speaker
        does; tests of the import rule use it, as the namespace tests use gobgpd's API)."""
        self.fabric.inject(self.router, originations)

    # --- view --------------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        with self.fabric.lock:
            return self._speaker is not None and self._speaker.running

    @property
    def error(self) -> str:
        with self.fabric.lock:
            return self._error

    def view(self) -> ExchangeView:
        """The current snapshot (what was due by now is delivered first when no scheduler
        drives the world)."""
        self.fabric.catch_up()
        with self.fabric.lock:
            speaker = self._speaker
            if speaker is None:
                return ExchangeView(
                    paths=MappingProxyType({}),
                    sessions=MappingProxyType({}),
                    originated=MappingProxyType({}),
                    refused_counts=MappingProxyType(dict(self._table.refused_counts)),
                    connected=False,
                    error=self._error,
                )
            return ExchangeView(
                paths=self._table.paths(),
                sessions=MappingProxyType(dict(speaker.sessions)),
                originated=speaker.originated_view,
                refused=self._table.refused(),
                refused_counts=MappingProxyType(dict(self._table.refused_counts)),
                connected=speaker.running,
                error="" if speaker.running else "the simulated speaker stopped",
            )
