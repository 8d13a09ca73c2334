"""``KeepalivedRoleSource``: the ``RoleSource`` of a router in a VRRP pair.

One thread waits (``poll``; its only timers are the deadlines below) on four kinds of
event and turns them into a ``VrrpObservation``, from which core derives the role:

* the notify FIFO: keepalived's MASTER / BACKUP / FAULT / STOP, as they happen;
* a pidfd per keepalived process: a death is seen at once, its virtual addresses are
  removed at once (a SIGKILLed keepalived leaves them behind while the partner takes
  over), and keepalived is restarted once the partner has had time to become master, so
  the restarted router comes back as backup;
* VRRP adverts on the wire (``watchdog``): while master, ours must keep advertising; when
  it stops, our keepalived hangs: the addresses go at once (before the partner adds
  them), then it is killed and restarted (a hung process never reports anything itself),
  unless the silence has another explanation (``silence``: the kernel holds adverts to a
  partner that answers no ARP, or keepalived waits for a CPU);
* deadlines: a due restart, a planned takeover that did not complete, the advert watchdog.

A planned takeover (``take_over``, behind ``routerctl failback``) reloads keepalived at
priority 254 with preemption; the partner hears a higher priority and yields as soon as
we advertise; on MASTER the normal configuration is reloaded, keeping mastership. This is
VRRP preemption, make-before-break for the address: the two routers hold it together for
the moment the partner takes to hear us (a 10 ms ARP sweep saw both answer once in about 4
takeovers of 10: a few ms). Not quite for the clients: keepalived sends its advert before
its gratuitous ARP, so the partner can drop the address a fraction of a millisecond before
a client hears that we have it. What that client sends meanwhile still reaches the
partner, which forwards it to us (a routerd router forwards), so a 10 ms ping train loses
nothing; without forwarding, it lost one in about forty takeovers on a busy machine.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import select
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from routerd.core.errors import DataplaneError
from routerd.core.redundancy import (
    Daemon,
    PairPlan,
    RoleState,
    TakeoverRefused,
    VrrpObservation,
    derive_role,
)
from routerd.redundancy.adverts import Advert, AdvertSocket
from routerd.redundancy.keepalived import Keepalived, flush_addresses
from routerd.redundancy.notify import NotifyFifo
from routerd.redundancy.render import render
from routerd.redundancy.silence import drop_held_adverts
from routerd.redundancy.silence import explain as explain_silence
from routerd.redundancy.watchdog import HangWatch

LOG = logging.getLogger(__name__)

RESTART_BACKOFF = (0.0, 1.0, 2.0, 5.0, 10.0, 30.0)
"""Extra delay before restarting keepalived, by failures in a row: starts that failed or
daemons that died before reporting any VRRP state (a daemon that ran is not looping)."""


class KeepalivedRoleSource:
    """Supervise this router's keepalived and report the role it implies.

    Args:
        plan: the router's pair.
        run_dir: keepalived's files (config, FIFO, pidfiles); kept across routerd restarts.
        binary: the keepalived executable.
        log: keepalived's log file (default ``run_dir/keepalived.log``).
        clock: wall clock for ``since`` (seconds since the epoch).
    """

    def __init__(
        self,
        plan: PairPlan,
        run_dir: Path,
        *,
        binary: str = "keepalived",
        log: Path | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.plan = plan
        self.ka = Keepalived(run_dir, binary=binary, log=log)
        self.clock = clock
        self._lock = threading.RLock()
        self._obs = VrrpObservation(Daemon.STARTING, at=clock())
        self._role = derive_role(plan, self._obs)
        self._on_change: Callable[[], None] | None = None
        self._notify_pending = False
        self._fifo: NotifyFifo | None = None
        self._adverts: AdvertSocket | None = None
        self._pidfds: dict[int, int] = {}
        self._wake_r, self._wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._hang = HangWatch(plan.vrid, plan.advert_interval)
        self._excused: str | None = None  # why the current silence is no hang, if it is not
        self._failures = 0
        self._restart_at: float | None = None
        self._takeover_deadline: float | None = None
        self._restore_due = False

    # -- the port ------------------------------------------------------------------------

    def start(self, on_change: Callable[[], None]) -> None:
        """Adopt the running keepalived or start one, then watch it on a thread."""
        self._on_change = on_change
        self.ka.prepare()
        self._fifo = NotifyFifo(self.ka.fifo)
        with self._lock:
            if self.ka.running():
                try:
                    self._adopt()
                except DataplaneError as exc:
                    LOG.error("cannot adopt the running keepalived (%s); restarting it", exc)
                    self.ka.kill()
                    self._cold_start()
            else:
                self._cold_start()
        self._thread = threading.Thread(target=self._loop, name="keepalived-watch", daemon=True)
        self._thread.start()
        self._fire()

    def role(self) -> RoleState:
        return self._role  # replaced whole under the lock; reading needs none

    def take_over(self) -> str:
        """Become master without an outage (planned failback); see the module docstring."""
        with self._lock:
            obs = self._obs
            if obs.daemon is not Daemon.RUNNING or obs.vrrp not in ("MASTER", "BACKUP"):
                raise TakeoverRefused(
                    f"{self.plan.ref} cannot take over while {self._role.role}: "
                    f"{self._role.why}; fix that first"
                )
            if obs.vrrp == "MASTER":
                return f"{self.plan.ref}: this router is already active"
            if obs.takeover == "pending":
                return f"{self.plan.ref}: a takeover is already under way"
            try:
                self.ka.reload(render(self.plan, fifo=self.ka.fifo, takeover=True))
            except DataplaneError as exc:
                raise TakeoverRefused(f"{self.plan.ref}: {exc}") from exc
            self._takeover_deadline = time.monotonic() + self._takeover_time()
            self._observe(takeover="pending")
        self._wake()
        self._fire()
        return (
            f"{self.plan.ref}: taking over; this router becomes master in about "
            f"{self.plan.detection_time:.1f}s and the partner stays backup"
        )

    def close(self, *, cleanup: bool = False) -> None:
        """Stop watching; with ``cleanup`` stop keepalived and remove its addresses too."""
        with self._lock:
            self._stopping = True
        self._wake()
        if self._thread is not None:
            self._thread.join(10)
        self._close_watches()
        if self._fifo is not None:
            self._fifo.close()
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)
        if cleanup:
            self.ka.stop()
            flush_addresses({*self.ka.recorded_addresses(), *self.plan.addresses})
            self.ka.remove_files()

    def update(self, plan: PairPlan) -> None:
        """Apply a changed group: re-render and reload (keepalived keeps its state).

        Raises:
            DataplaneError: keepalived refuses the new configuration (the old one stays).
        """
        with self._lock:
            old = self.plan
            if self._obs.daemon is Daemon.RUNNING:
                self.ka.reload(render(plan, fifo=self.ka.fifo))  # removes dropped addresses
                self.ka.record_addresses(plan.addresses)
            else:  # the next start removes what the old configuration may have left
                self.ka.record_addresses({*plan.addresses, *old.addresses})
            self.plan = plan
            if (plan.vrid, plan.advert_interval) != (old.vrid, old.advert_interval):
                self._hang = HangWatch(plan.vrid, plan.advert_interval)
                self._hang.became_master(time.monotonic())
            if plan.interface != old.interface:
                self._open_adverts()
            self._observe()
        self._wake()
        self._fire()

    # -- starting ------------------------------------------------------------------------

    def _adopt(self) -> None:
        assert self._fifo is not None
        self._fifo.drain()  # written while no routerd read them: stale
        text = render(self.plan, fifo=self.ka.fifo)
        current = self.ka.conf.read_text() if self.ka.conf.exists() else ""
        if current != text:
            self.ka.reload(text)
            LOG.info("adopted keepalived with another configuration; reloaded it")
        self.ka.record_addresses(self.plan.addresses)
        answer = self.ka.query_state(self.plan.name)
        self._hang.became_master(time.monotonic())
        self._watch_pids()
        self._open_adverts()
        self._observe(Daemon.RUNNING, vrrp=answer[0] if answer else None, detail="")
        if answer is None:
            LOG.warning("keepalived did not report its state; waiting for its adverts or FIFO")
        LOG.info("adopted running keepalived %s (%s)", self.ka.pids(), answer)

    def _cold_start(self) -> None:
        assert self._fifo is not None
        stale = {*self.ka.recorded_addresses(), *self.plan.addresses}
        removed = flush_addresses(stale)
        if removed:
            LOG.warning("removed addresses a stopped keepalived left behind: %s", removed)
        self._fifo.drain()
        self.ka.record_addresses(self.plan.addresses)
        try:
            self.ka.start(render(self.plan, fifo=self.ka.fifo))
        except DataplaneError as exc:
            LOG.error("%s", exc)
            self._observe(Daemon.DOWN, vrrp=None, detail=f"it could not start: {exc}")
            self._schedule_restart()
            return
        self._hang = HangWatch(self.plan.vrid, self.plan.advert_interval)
        self._watch_pids()
        self._open_adverts()
        self._observe(Daemon.RUNNING, vrrp=None, detail="", master="")

    def _watch_pids(self) -> None:
        self._close_pidfds()
        for pid in self.ka.pids():
            if pid is None:
                continue
            try:
                self._pidfds[os.pidfd_open(pid)] = pid
            except ProcessLookupError:
                self._wake()  # died already; the loop finds a pid missing

    def _open_adverts(self) -> None:
        if self._adverts is not None:
            self._adverts.close()
            self._adverts = None
        try:
            self._adverts = AdvertSocket(self.plan.interface)
        except OSError as exc:
            LOG.warning("cannot watch VRRP adverts on %s: %s", self.plan.interface, exc)

    # -- the loop ------------------------------------------------------------------------

    def _loop(self) -> None:
        while True:
            with self._lock:
                if self._stopping:
                    return
                fds = [self._wake_r, *self._pidfds]
                if self._fifo is not None:
                    fds.append(self._fifo.fileno())
                if self._adverts is not None:
                    fds.append(self._adverts.fileno())
                timeout = self._timeout()
            poller = select.poll()
            for fd in fds:
                poller.register(fd, select.POLLIN)
            ready = poller.poll(timeout)
            with self._lock:
                if self._stopping:
                    return
                self._dispatch({fd for fd, _ in ready})
                self._deadlines()
            self._fire()  # before the follow-ups: the engine learns the role first
            with self._lock:
                if self._restore_due and not self._stopping:
                    self._restore_due = False
                    self._restore_config("takeover complete")

    def _master(self) -> bool:
        return self._obs.daemon is Daemon.RUNNING and self._obs.vrrp == "MASTER"

    def _watchdog(self) -> float | None:
        return self._hang.deadline(master=self._master() and self._adverts is not None)

    def _timeout(self) -> int | None:
        due = [
            t
            for t in (self._restart_at, self._takeover_deadline, self._watchdog())
            if t is not None
        ]
        if not due:
            return None
        return max(0, int((min(due) - time.monotonic()) * 1000) + 1)

    def _dispatch(self, ready: set[int]) -> None:
        if self._wake_r in ready:
            with contextlib.suppress(BlockingIOError):
                os.read(self._wake_r, 4096)
        if self._fifo is not None and self._fifo.fileno() in ready:
            for notice in self._fifo.read():
                if notice.kind == "INSTANCE" and notice.name == self.plan.name:
                    self._on_state(notice.state)
        if self._adverts is not None and self._adverts.fileno() in ready:
            try:
                adverts = self._adverts.read()
            except OSError as exc:
                if exc.errno != errno.ENETDOWN:
                    LOG.warning("VRRP advert socket failed (%s); reopened at the next start", exc)
                    self._adverts.close()
                    self._adverts = None
                # ENETDOWN: the interface went down. The kernel reports it once and keeps the
                # socket bound, delivering again once the interface is up; closing it would
                # leave a router that comes back blind to its partner's adverts (and so
                # unable to see, after a pause, that the partner was master meanwhile).
                adverts = []
            # In wire order, each at its wire time: a routerd that reads late (busy, or
            # resumed after the whole router was paused) judges what happened on the wire.
            # Ours first among equal stamps: then a silence that was already due when a
            # partner's advert arrived is judged by the silence rule, as it would have been.
            for advert in sorted(adverts, key=lambda a: (a.at, not a.outgoing)):
                self._on_advert(advert)
        dead = [pid for fd, pid in self._pidfds.items() if fd in ready]
        if dead or (self._obs.daemon is Daemon.RUNNING and not self._pidfds):
            self._on_exit(dead[0] if dead else None)

    def _on_state(self, state: str) -> None:
        self._failures = 0
        if state == "MASTER":
            self._hang.became_master(time.monotonic())
            self._excused = None
        if state == "FAULT":
            self._drop_held_adverts()
        self._observe(vrrp=state, master="" if state == "MASTER" else self._obs.master)
        if state == "MASTER" and self._obs.takeover == "pending":
            self._takeover_deadline = None
            self._restore_due = True
            self._observe(takeover="")

    def _drop_held_adverts(self) -> None:
        """Keep the adverts sent as the link failed from reaching the partner much later.

        keepalived reports FAULT after its last advert, so whatever the kernel holds for the
        partner then is stale: delivered after the link is back, a master's old priority
        would make the partner (master meanwhile) yield the address for a moment.
        """
        try:
            dropped = drop_held_adverts(self.plan.peers)
        except (OSError, DataplaneError) as exc:
            LOG.warning("cannot drop the adverts the kernel holds for the partner: %s", exc)
            return
        if dropped:
            LOG.info("dropped the VRRP adverts the kernel held for %s", ", ".join(dropped))

    def _on_advert(self, advert: Advert) -> None:
        if advert.vrid != self.plan.vrid:
            return
        now = _monotonic_at(advert.at)
        if advert.outgoing and self._excused is not None:
            LOG.info("our VRRP adverts are on the wire again")
            self._excused = None
        if advert.outgoing and self._obs.vrrp is None and self._obs.daemon is Daemon.RUNNING:
            # adopted, and keepalived did not answer the state query: only a master
            # advertises, so this is one
            self._hang.became_master(now - self.plan.advert_interval)
            self._observe(vrrp="MASTER")
        if not advert.outgoing:
            self._silence_due(now)
        hang = self._hang.advert(advert, now, master=self._master())
        if hang is not None:
            self._on_hang(hang)
        elif not advert.outgoing and advert.priority and self._obs.vrrp != "MASTER":
            heard = f"{advert.source} (priority {advert.priority})"
            if heard != self._obs.master:
                self._observe(master=heard)

    def _on_hang(self, detail: str) -> None:
        removed = flush_addresses(self.plan.addresses)
        LOG.error("keepalived hangs: %s; removed %s, killing it", detail, removed)
        self._observe(Daemon.HUNG, detail=detail, master="")
        self.ka.kill()

    def _on_silence(self, now: float) -> None:
        why = explain_silence(self.ka.pids()[1], self.plan.peers)
        if why is None:
            self._on_hang(self._hang.silence(now))
            return
        self._hang.excuse(now)
        if why != self._excused:
            LOG.warning("%s, yet keepalived is not hung: %s", self._hang.silence(now), why)
        self._excused = why

    def _on_exit(self, pid: int | None) -> None:
        removed = flush_addresses(self.plan.addresses)
        what = f"process {pid} exited" if pid is not None else "it is gone"
        LOG.error("keepalived %s; removed %s; restarting it", what, removed)
        if self._obs.daemon is not Daemon.HUNG:
            self._observe(Daemon.DOWN, detail=what)
        self._close_pidfds()
        self._schedule_restart()

    def _schedule_restart(self) -> None:
        now = time.monotonic()
        self._failures += 1
        extra = RESTART_BACKOFF[min(self._failures, len(RESTART_BACKOFF)) - 1]
        # Give the partner time to become master first: we come back as its backup.
        self._restart_at = now + 2 * self.plan.detection_time + extra
        if self._takeover_deadline is not None:
            self._takeover_deadline = None
            self._observe(takeover="failed: keepalived stopped during the takeover")

    def _silence_due(self, now: float) -> None:
        watchdog = self._watchdog()
        if watchdog is not None and now >= watchdog:
            self._on_silence(now)

    def _deadlines(self) -> None:
        now = time.monotonic()
        self._silence_due(now)
        if self._restart_at is not None and now >= self._restart_at:
            self._restart_at = None
            self.ka.kill()  # leftovers of the dead daemon, by PID
            self._cold_start()
        if self._takeover_deadline is not None and now >= self._takeover_deadline:
            self._takeover_deadline = None
            self._restore_config("takeover timed out")
            self._observe(
                takeover=f"failed: still backup after {self._takeover_time():.1f}s (is a "
                "partner at priority 255, or do our adverts not reach it?)"
            )

    def _takeover_time(self) -> float:
        return max(2.0, 10 * self.plan.detection_time)

    def _restore_config(self, why: str) -> None:
        try:
            self.ka.reload(render(self.plan, fifo=self.ka.fifo))
            LOG.info("%s: normal keepalived configuration restored", why)
        except DataplaneError as exc:
            LOG.error("%s, but restoring the configuration failed: %s", why, exc)

    # -- bookkeeping -----------------------------------------------------------------------

    def _observe(self, daemon: Daemon | None = None, **changes: object) -> None:
        if daemon is not None:
            changes["daemon"] = daemon
        self._obs = replace(self._obs, at=self.clock(), **changes)  # type: ignore[arg-type]
        role = derive_role(self.plan, self._obs, self._role)
        if role != self._role:
            if role.role is not self._role.role:
                LOG.info("%s is %s: %s", self.plan.ref, role.role, role.why)
            self._role = role
            self._notify_pending = True

    def _fire(self) -> None:
        with self._lock:
            pending, self._notify_pending = self._notify_pending, False
        if pending and self._on_change is not None:
            self._on_change()

    def _wake(self) -> None:
        with contextlib.suppress(BlockingIOError, OSError):
            os.write(self._wake_w, b"x")

    def _close_pidfds(self) -> None:
        for fd in self._pidfds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self._pidfds.clear()

    def _close_watches(self) -> None:
        self._close_pidfds()
        if self._adverts is not None:
            self._adverts.close()
            self._adverts = None


def _monotonic_at(epoch: float) -> float:
    """The monotonic time of a wall-clock kernel timestamp (now when it is unknown; never
    later than now, should the wall clock have stepped)."""
    now = time.monotonic()
    if not epoch:
        return now
    return min(now, now - (time.time() - epoch))
