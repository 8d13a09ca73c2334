"""systemd watchdog pings that prove the reconcile loop is alive, not just the process.

Why it is shaped this way: with ``WatchdogSec=`` systemd restarts a service that stops
sending ``WATCHDOG=1``. A timer thread that pings unconditionally would keep a wedged
routerd alive forever (the engine stuck inside a pass on a hung netlink call or a lock),
so the pinger asks ``LoopHealth`` first: the loop is healthy while reconcile passes keep
completing. The engine runs a pass at least every ``resync_interval`` seconds, so a loop
that has not completed one for ``resync_interval + WatchdogSec`` is stuck; pings stop, and
systemd restarts routerd after another ``WatchdogSec``. Because SIGTERM leaves the
dataplane in place (and ``KillMode=process`` leaves wireguard-go running), traffic keeps
flowing across that restart and the new process adopts what is there.

The pinger runs on its own thread, because the engine thread is exactly what it must not
depend on. ``WATCHDOG_USEC`` gives the timeout; ``WATCHDOG_PID``, when set, must be our
PID (the variables may be inherited by a process they are not meant for). Pings go every
half timeout, as ``sd_watchdog_enabled(3)`` recommends.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from routerd.core.engine import PassResult
from routerd.daemon.sdnotify import Notifier

if TYPE_CHECKING:
    from routerd.daemon.service import Daemon

LOG = logging.getLogger(__name__)


def watchdog_timeout(environ: Mapping[str, str], pid: int) -> float | None:
    """The watchdog timeout systemd expects of this process, in seconds.

    Args:
        environ: the process environment.
        pid: this process's PID.

    Returns:
        Seconds, or None when no watchdog is wanted from this process.
    """
    usec = environ.get("WATCHDOG_USEC", "")
    if not usec:
        return None
    target = environ.get("WATCHDOG_PID", "")
    if target and target != str(pid):
        return None
    try:
        value = int(usec)
    except ValueError:
        LOG.warning("ignoring malformed WATCHDOG_USEC=%s", usec)
        return None
    return value / 1e6 if value > 0 else None


class LoopHealth:
    """Is the reconcile loop still completing passes?

    Args:
        stall_after: seconds without a completed pass after which the loop is stuck.
        clock: monotonic seconds (injected by tests).
    """

    def __init__(self, stall_after: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.stall_after = stall_after
        self._clock = clock
        self._last = clock()

    def pass_completed(self, _result: PassResult | None = None) -> None:
        self._last = self._clock()

    def since_last_pass(self) -> float:
        return self._clock() - self._last

    def healthy(self) -> bool:
        return self.since_last_pass() < self.stall_after


class Watchdog:
    """Pings while the loop is healthy; withholds pings while it is stuck.

    Args:
        notifier: where ``WATCHDOG=1`` goes.
        health: the loop's liveness.
        timeout: systemd's watchdog timeout in seconds (pings every half of it).

    Attributes:
        sent / withheld: pings sent and ticks that decided not to ping (for tests and
            diagnosis; a tick is one decision).
    """

    def __init__(self, notifier: Notifier, health: LoopHealth, timeout: float) -> None:
        self.notifier = notifier
        self.health = health
        self.period = timeout / 2
        self.sent = 0
        self.withheld = 0
        self._stalled = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="watchdog", daemon=True)

    def tick(self) -> bool:
        """One decision: ping if healthy. Returns True when a ping was sent."""
        if not self.health.healthy():
            if not self._stalled:
                LOG.error(
                    "reconcile loop stalled: no pass completed for %.0fs; withholding "
                    "watchdog pings so systemd restarts routerd",
                    self.health.since_last_pass(),
                )
            self._stalled = True
            self.withheld += 1
            return False
        if self._stalled:
            LOG.warning("reconcile loop completing passes again; watchdog pings resumed")
            self._stalled = False
        ok = self.notifier.send("WATCHDOG=1")
        self.sent += ok
        return ok

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                self.tick()
            except Exception:  # keep the thread; a missed ping is what systemd should see
                LOG.exception("watchdog tick failed")
            if self._stop.wait(self.period):
                return

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self.period + 1)
        self.notifier.close()


def start(daemon: Daemon) -> Callable[[], None] | None:
    """Daemon component: ping systemd's watchdog while the engine loop is healthy.

    Args:
        daemon: the daemon being started.

    Returns:
        The shutdown callback, or None when no watchdog is wanted.
    """
    timeout = watchdog_timeout(os.environ, os.getpid())
    notifier = Notifier.from_env() if timeout is not None else None
    if timeout is None or notifier is None:
        return None
    health = LoopHealth(daemon.opts.resync_interval + timeout)
    daemon.pass_hooks.append(health.pass_completed)
    dog = Watchdog(notifier, health, timeout)
    dog.start()
    LOG.info(
        "systemd watchdog enabled timeout=%.1fs ping_every=%.1fs stall_after=%.1fs",
        timeout,
        dog.period,
        health.stall_after,
    )
    return dog.stop
