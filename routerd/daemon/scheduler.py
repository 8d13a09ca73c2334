"""Run the reconcile passes of every router of a simulated world on one thread, in virtual time.

A ``routerd serve`` runs its engine loop against the wall clock. A simulated world is
meant for tests, which need the same answer every time, so its routers share a virtual
clock that only moves when asked (``advance``), and their passes run one at a time, in the
world's router order, on this scheduler's thread:

* a router runs a pass when it is *poked*: its engine woke (an API request, a reload, a
  change on its host) — ``WorldEngine.wake`` pokes — or another router's pass changed the
  dataplane (peers see each other's changes through the world), or a world change woke
  everyone (a fault, a VM move);
* ``advance(seconds)`` walks virtual time forward from due time to due time: each router's
  next wake (resync, backoff, part expiry, the short look-again of unverified claims, as
  the engine computes it after each pass) and each world timer (a guest agent), running
  what is due at each step, so a timer fires at its time and in order;
* ``settle()`` waits until nothing is poked or running: every router has reacted to
  everything so far.

The real time a pass takes does not move the virtual clock. Passes that raise are logged and
recorded (``errors``); a world whose routers keep changing each other's dataplane is cut off
after ``max_rounds`` rounds with an error rather than spinning.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from routerd.backends.sim import ManualClock
from routerd.core.engine import Engine, PassResult

LOG = logging.getLogger(__name__)

MAX_ROUNDS = 100
"""Rounds of passes one reaction may take before the world is declared unsettled."""
MAX_STEPS = 200_000
"""Due times one ``advance`` may visit."""


@dataclass
class Member:
    """One router's engine as the scheduler drives it."""

    name: str
    engine: Engine
    after_pass: Callable[[PassResult], None]
    poked: bool = True
    wake_at: float = math.inf
    passes: int = 0


@dataclass
class _Advance:
    target: float
    done: threading.Event = field(default_factory=threading.Event)


class PassScheduler:
    """See the module docstring.

    Args:
        clock: the world's virtual clock (shared with the engines and the world).
        timers: when the world's next own timer is due (None: none) ...
        run_timers: ... and runs those due at a given time.
    """

    def __init__(
        self,
        clock: ManualClock,
        *,
        timers: Callable[[], float | None] = lambda: None,
        run_timers: Callable[[float], object] = lambda now: None,
        max_rounds: int = MAX_ROUNDS,
    ) -> None:
        self.clock = clock
        self.timers = timers
        self.run_timers = run_timers
        self.max_rounds = max_rounds
        self.errors: list[str] = []
        self.members: dict[str, Member] = {}
        self._cond = threading.Condition()
        self._advances: list[_Advance] = []
        self._busy = False
        self._running = threading.Lock()
        """Held while passes or timers run (``paused`` waits for it)."""
        self._stopping = False
        self._thread: threading.Thread | None = None

    def add(self, name: str, engine: Engine, after_pass: Callable[[PassResult], None]) -> None:
        """Drive ``engine`` (it runs its first pass once the scheduler starts)."""
        with self._cond:
            self.members[name] = Member(name, engine, after_pass)
            self._cond.notify_all()

    def poke(self, name: str) -> None:
        """Run ``name``'s engine soon (any thread)."""
        with self._cond:
            member = self.members.get(name)
            if member is not None:
                member.poked = True
                self._cond.notify_all()

    def poke_all(self) -> None:
        with self._cond:
            for member in self.members.values():
                member.poked = True
            self._cond.notify_all()

    # -- waiting ---------------------------------------------------------------------------

    def _quiet(self) -> bool:
        return self._stopping or not (
            self._busy or self._advances or any(m.poked for m in self.members.values())
        )

    def settle(self, timeout: float = 30.0) -> bool:
        """Wait until every router has reacted to everything so far; False on timeout."""
        with self._cond:
            return self._cond.wait_for(self._quiet, timeout)

    def advance(self, seconds: float, timeout: float = 120.0) -> bool:
        """Move virtual time forward by ``seconds``, firing what falls due on the way.

        Returns:
            True once done and settled; False when ``timeout`` (real seconds) ran out.
        """
        with self._cond:
            request = _Advance(max(self.clock.now, self._horizon()) + max(0.0, seconds))
            self._advances.append(request)
            self._cond.notify_all()
        if not request.done.wait(timeout):
            return False
        return self.settle(timeout)

    def _horizon(self) -> float:
        """Where queued advances will have taken the clock."""
        return max((a.target for a in self._advances), default=self.clock.now)

    @contextmanager
    def paused(self) -> Iterator[None]:
        """No pass and no timer runs inside the block (one in progress finishes first): a
        router can be stopped and replaced (``add`` the new engine under the same name)."""
        with self._running:
            yield

    # -- the thread ------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="world-passes", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
        for request in self._advances:
            request.done.set()

    def _loop(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(
                    lambda: (
                        self._stopping
                        or bool(self._advances)
                        or any(m.poked for m in self.members.values())
                    )
                )
                if self._stopping:
                    return
                self._busy = True
                request = self._advances[0] if self._advances else None
            try:
                with self._running:
                    self._react()
                    if request is not None:
                        self._step_to(request.target)
            finally:
                with self._cond:
                    if request is not None:
                        self._advances.remove(request)
                        request.done.set()
                    self._busy = False
                    self._cond.notify_all()

    def _react(self) -> None:
        """Run poked routers, in order, until none is poked (bounded)."""
        for _ in range(self.max_rounds):
            with self._cond:
                due = [m for m in self.members.values() if m.poked]
                for m in due:
                    m.poked = False
            if not due:
                return
            for member in due:
                self._run(member)
        with self._cond:
            busy = [m.name for m in self.members.values() if m.poked]
            for m in self.members.values():
                m.poked = False
        error = f"routers {', '.join(busy)} still changing after {self.max_rounds} rounds"
        LOG.error("world did not settle: %s", error)
        self.errors.append(error)

    def _run(self, member: Member) -> None:
        try:
            result = member.engine.run_pass()
        except Exception as e:  # one router's crash must not stop the others
            LOG.exception("%s: reconcile pass failed", member.name)
            self.errors.append(f"{member.name}: pass failed: {type(e).__name__}: {e}")
            member.wake_at = self.clock.now + member.engine.settings.resync_interval
            return
        member.passes += 1
        member.wake_at = member.engine.next_wake()
        member.after_pass(result)
        if result.changes:
            with self._cond:
                for other in self.members.values():
                    other.poked = other.poked or other is not member

    def _step_to(self, target: float) -> None:
        for _ in range(MAX_STEPS):
            timer = self.timers()
            nxt = min([m.wake_at for m in self.members.values()] + [timer or math.inf])
            if nxt > target:
                break
            self.clock.now = max(self.clock.now, nxt)
            self.run_timers(self.clock.now)
            with self._cond:
                for m in self.members.values():
                    m.poked = m.poked or m.wake_at <= self.clock.now
            self._react()
        else:
            self.errors.append(f"advance stopped after {MAX_STEPS} due times")
        self.clock.now = max(self.clock.now, target)
