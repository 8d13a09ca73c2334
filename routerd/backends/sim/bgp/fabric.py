"""The simulated BGP fabric of one world: speakers, the reflector, sessions, partitions.

Each router's speaker (``Speaker``) keeps a session with every neighbor it lists that
answers: the world's reflector (``Reflector``), or another router's speaker that lists it
back (a direct session). Sessions behave as BGP sessions do, in the world's virtual time:

* a session comes up one hop after both ends can talk (``reconnect`` after it was lost),
  and each end then sends everything it announces;
* an update takes one hop (``delay``) per session, so a path crosses the reflector in two;
* a partition (``cut``) stops every message on a session at once; the session itself stays
  up until its hold timer expires (``hold_time`` of the neighbor, 9 s by default), and only
  then do both ends drop what they learned over it, as a real speaker does when its peer
  goes silent. A partition healed before that delivers what was held back (TCP keeps it);
  one healed after lets the session come back ``reconnect`` later, with a full exchange;
* a speaker that stops closes its sessions: its peers drop its paths at once.

All timing goes through the world's ``TimerQueue``; nothing here reads a wall clock, so a
world run twice gives the same views at the same virtual times. One lock guards the fabric;
the engines' wake-ups (``on_change``) are called after it is released.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial

from routerd.core.exchange import ImportPolicy, Origination, ReceivedPath, SpeakerSettings
from routerd.core.learned import LearnedTable

from ..timers import TimerQueue
from . import sessions
from .paths import Changes, RouteKey, on_session
from .reflector import REFLECTOR, Client, Reflector, ReflectorSettings
from .sessions import Pair
from .speaker import ESTABLISHED, IDLE, Speaker, global_key

DOWN, CONNECTING, UP = "down", "connecting", "up"


@dataclass(eq=False)
class Link:
    """One BGP session: ``a`` is a speaker, ``b`` a speaker or the reflector.

    Attributes:
        a_key / b_key: the neighbor address each end configured for the other (its key in
            that end's sessions; for the reflector, the address the client dialled).
        hold: seconds without a message before the session drops.
        sent: per sending node, what it has announced on this session (Adj-RIB-Out).
        held: updates sent while the session was cut, delivered if it survives.
    """

    a: str
    b: str
    a_key: str
    b_key: str
    hold: float
    state: str = DOWN
    epoch: int = 0
    since: float = 0.0
    was_up: bool = False
    cut: bool = False
    cut_gen: int = 0
    sent: dict[str, dict[RouteKey, ReceivedPath]] = field(default_factory=dict)
    held: list[tuple[str, Changes]] = field(default_factory=list)

    @property
    def pair(self) -> Pair:
        return frozenset((self.a, self.b))

    def other(self, node: str) -> str:
        return self.b if node == self.a else self.a

    def key_at(self, node: str) -> str:
        return self.a_key if node == self.a else self.b_key

    def shape(self) -> tuple[str, str, str, str, float]:
        return self.a, self.b, self.a_key, self.b_key, self.hold


class BgpFabric:
    """Every speaker of a world and the sessions between them (module docstring).

    Args:
        clock: the world's virtual clock.
        timers: the world's timer queue (deliveries, hold timers, reconnects).
    """

    def __init__(self, clock: Callable[[], float], timers: TimerQueue) -> None:
        self.clock = clock
        self.timers = timers
        self.lock = threading.RLock()
        self.reflector = Reflector(ReflectorSettings())
        self.speakers: dict[str, Speaker] = {}
        self.links: dict[Pair, Link] = {}
        self.cuts: Counter[Pair] = Counter()
        self._depth = 0
        self._pending: list[Callable[[], None]] = []

    # -- locking and wake-ups --------------------------------------------------------------

    @contextmanager
    def _op(self) -> Iterator[None]:
        """Hold the lock; wake the engines whose views changed once it is released."""
        with self.lock:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                wake: list[Callable[[], None]] = []
                if self._depth == 0:
                    wake, self._pending = list(dict.fromkeys(self._pending)), []
        for callback in wake:
            callback()

    def _woke(self, speaker: Speaker, changed: bool) -> None:
        if changed and speaker.on_change is not None:
            self._pending.append(speaker.on_change)

    def _later(self, delay: float, action: Callable[[], None]) -> None:
        def run() -> None:
            with self._op():
                action()

        self.timers.at(self.clock() + delay, run)

    def catch_up(self) -> None:
        """Deliver what is due when no scheduler drives the world's timers."""
        self.timers.catch_up(self.clock())

    # -- the reflector ---------------------------------------------------------------------

    def configure_reflector(self, settings: ReflectorSettings) -> None:
        """Replace the reflector (its sessions come back with the new settings)."""
        with self._op():
            for link in [lk for lk in self.links.values() if lk.b == REFLECTOR]:
                self._down(link, "the route reflector was reconfigured")
                del self.links[link.pair]
            self.reflector = Reflector(settings)
            self._relink()

    @property
    def delay(self) -> float:
        return self.reflector.settings.delay

    # -- speakers --------------------------------------------------------------------------

    def attach(
        self,
        router: str,
        settings: SpeakerSettings,
        policy: ImportPolicy,
        table: LearnedTable,
        on_change: Callable[[], None],
    ) -> Speaker:
        """Start ``router``'s speaker, or adopt the one running (a routerd restart), and
        bring it to ``settings`` as ``routerd.bgp.configure.apply`` does: other global
        settings restart BGP (sessions and originations gone), other neighbors reset only
        their sessions."""
        now = self.clock()
        with self._op():
            speaker = self.speakers.get(router)
            if speaker is None:
                speaker = self.speakers[router] = Speaker(router, settings, policy, now)
            elif not speaker.running or global_key(speaker.settings) != global_key(settings):
                why = "the peer's BGP restarted with new settings"
                self._stop_links(router, why if speaker.running else "")
                speaker.forget_all()
                speaker.running = True
                speaker.sessions.clear()
            speaker.configure(settings, now)
            speaker.policy = policy
            speaker.attach(table, on_change)
            self._relink()
            return speaker

    def detach(self, router: str, table: LearnedTable) -> None:
        """The routerd holding ``table`` let go of the speaker; it keeps running and
        announcing (a routerd that adopted it since keeps it)."""
        with self._op():
            speaker = self.speakers.get(router)
            if speaker is not None and speaker.table is table:
                speaker.detach()

    def stop(self, router: str, table: LearnedTable) -> None:
        """Stop the speaker the routerd holding ``table`` runs: its sessions close (peers
        drop its paths at once)."""
        with self._op():
            speaker = self.speakers.get(router)
            if speaker is None or not speaker.running or speaker.table is not table:
                return
            speaker.running = False
            self._stop_links(router, f"the speaker of {router} stopped")
            speaker.forget_all()
            speaker.detach()

    def _stop_links(self, router: str, why: str) -> None:
        for link in self.links.values():
            if router in (link.a, link.b):
                self._down(link, why)

    def originate(self, router: str, wanted: dict[str, Origination]) -> None:
        """Make ``router``'s originations equal to ``wanted`` (checked by the caller)."""
        with self._op():
            speaker = self.speakers[router]
            self._announce(speaker, speaker.originate(wanted))

    def inject(self, router: str, originations: Iterable[Origination]) -> None:
        """Announce paths from ``router`` bypassing every check (a misbehaving speaker)."""
        with self._op():
            speaker = self.speakers[router]
            self._announce(speaker, speaker.inject(originations))

    def _announce(self, speaker: Speaker, addresses: set[str]) -> None:
        if not addresses:
            return
        changes = speaker.exported(sorted(addresses))
        for link in self.links.values():
            if link.state == UP and speaker.router in (link.a, link.b):
                self._update(link, speaker.router, changes)

    # -- which sessions exist --------------------------------------------------------------

    def _relink(self) -> None:
        wanted = sessions.wanted(self.speakers, self.reflector)
        for pair, link in list(self.links.items()):
            if wanted.get(pair) != link.shape():
                self._down(link, "the session was reconfigured")
                del self.links[pair]
        for pair, shape in wanted.items():
            if pair not in self.links:
                self.links[pair] = Link(*shape, cut=self.cuts[pair] > 0)
            self._reconsider(self.links[pair])
        for router, speaker in self.speakers.items():
            for n in speaker.settings.neighbors:
                if not any(lk.key_at(router) == n.address for lk in self._links_of(router)):
                    why = sessions.unanswered(self.speakers, self.reflector, speaker, n.address)
                    self._woke(speaker, speaker.session(n.address, IDLE, self.clock(), why))

    def _links_of(self, node: str) -> Iterator[Link]:
        return (lk for lk in self.links.values() if node in (lk.a, lk.b))

    def _client(self, router: str) -> Client:
        s = self.speakers[router]
        return Client(router, s.settings.site_id, s.settings.asn, s.policy.domains)

    def _clients(self) -> list[Client]:
        return [self._client(lk.a) for lk in self._links_of(REFLECTOR)]

    def _possible(self, link: Link) -> bool:
        if link.cut or not self.speakers[link.a].running:
            return False
        if link.b == REFLECTOR:
            return not self.reflector.refuses(self._client(link.a))
        return self.speakers[link.b].running

    # -- session life ----------------------------------------------------------------------

    def _reconsider(self, link: Link) -> None:
        possible = self._possible(link)
        refused = link.b == REFLECTOR and self.reflector.refuses(self._client(link.a))
        if refused and link.state != UP:
            speaker = self.speakers[link.a]
            self._woke(speaker, speaker.session(link.a_key, IDLE, self.clock(), refused))
        if link.state == CONNECTING and not possible:
            link.state, link.epoch = DOWN, link.epoch + 1
        elif link.state == DOWN and possible:
            link.state, link.epoch = CONNECTING, link.epoch + 1
            epoch = link.epoch
            wait = self.reflector.settings.reconnect if link.was_up else self.delay
            self._later(wait, partial(self._establish, link, epoch))

    def _establish(self, link: Link, epoch: int) -> None:
        if link.epoch != epoch or link.state != CONNECTING or self.links.get(link.pair) is not link:
            return
        now = self.clock()
        link.state, link.since, link.was_up = UP, now, True
        for node in (link.a, link.b):
            if node != REFLECTOR:
                speaker = self.speakers[node]
                self._woke(speaker, speaker.session(link.key_at(node), ESTABLISHED, now))
        self._update(link, link.a, self.speakers[link.a].exported())
        if link.b == REFLECTOR:
            self._update(link, REFLECTOR, self.reflector.export_to(link.a))
        else:
            self._update(link, link.b, self.speakers[link.b].exported())

    def _down(self, link: Link, why: str) -> None:
        """End the session now: both ends forget what they learned over it."""
        if link.state == UP:
            now = self.clock()
            error = f"session lost after {now - link.since:.0f}s established: {why}" if why else ""
            for node in (link.a, link.b):
                if node == REFLECTOR:
                    self._fan_out(link.a, self.reflector.drop(link.a))
                else:
                    speaker = self.speakers[node]
                    self._woke(speaker, speaker.session(link.key_at(node), IDLE, now, error))
        link.state, link.epoch = DOWN, link.epoch + 1
        link.sent.clear()
        link.held.clear()

    def _expire(self, link: Link, epoch: int, gen: int) -> None:
        if link.epoch == epoch and link.cut and link.cut_gen == gen and link.state == UP:
            self._down(link, f"hold timer expired ({link.hold:g}s without a message; cut off)")
            self._reconsider(link)

    # -- updates ---------------------------------------------------------------------------

    def _update(self, link: Link, sender: str, changes: Changes) -> None:
        """Send what differs from what ``sender`` announced on ``link`` so far."""
        sent = link.sent.setdefault(sender, {})
        out: Changes = {}
        for key, path in changes.items():
            if path is None:
                if sent.pop(key, None) is not None:
                    out[key] = None
            elif sent.get(key) != path:
                sent[key] = path
                out[key] = path
        if not out:
            return
        if link.cut:
            link.held.append((sender, out))
            return
        self._later(self.delay, partial(self._deliver, link, link.epoch, sender, out))

    def _deliver(self, link: Link, epoch: int, sender: str, changes: Changes) -> None:
        if link.epoch != epoch or link.state != UP:
            return
        receiver = link.other(sender)
        if receiver == REFLECTOR:
            client = self.speakers[sender].settings.router_id
            seen = {k: on_session(p, client, client) if p else None for k, p in changes.items()}
            out = self.reflector.receive(self._client(sender), seen, self._clients())
            self._fan_out(sender, out)
            return
        if sender == REFLECTOR:
            sender_id = self.reflector.router_id(link.b_key)
        else:
            sender_id = self.speakers[sender].settings.router_id
        neighbor = link.key_at(receiver)
        seen = {k: on_session(p, neighbor, sender_id) if p else None for k, p in changes.items()}
        speaker = self.speakers[receiver]
        self._woke(speaker, speaker.receive(neighbor, seen))

    def _fan_out(self, origin: str, changes: Changes) -> None:
        """The reflector passes a client's changes on to every other client."""
        if not changes:
            return
        for link in list(self._links_of(REFLECTOR)):
            if link.state == UP and link.a != origin:
                self._update(link, REFLECTOR, changes)

    # -- partitions ------------------------------------------------------------------------

    def cut(self, pairs: Iterable[Pair]) -> None:
        """Stop every message between each pair of nodes (until ``heal``)."""
        with self._op():
            for pair in pairs:
                self.cuts[pair] += 1
                link = self.links.get(pair)
                if link is None or self.cuts[pair] > 1:
                    continue
                link.cut, link.cut_gen = True, link.cut_gen + 1
                if link.state == UP:
                    self._later(link.hold, partial(self._expire, link, link.epoch, link.cut_gen))
                else:
                    self._reconsider(link)

    def heal(self, pairs: Iterable[Pair]) -> None:
        """Undo one ``cut`` of each pair; a session that survived gets what was held back."""
        with self._op():
            for pair in pairs:
                if self.cuts[pair] <= 0:
                    continue
                self.cuts[pair] -= 1
                if self.cuts[pair]:
                    continue
                del self.cuts[pair]
                link = self.links.get(pair)
                if link is None:
                    continue
                link.cut = False
                if link.state == UP:
                    held, link.held = link.held, []
                    for sender, changes in held:
                        deliver = partial(self._deliver, link, link.epoch, sender, changes)
                        self._later(self.delay, deliver)
                else:
                    self._reconsider(link)
