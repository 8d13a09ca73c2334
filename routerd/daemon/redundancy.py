"""Daemon component: this router's role in its pair, driving the engine (``start(daemon)``).

A router whose config has a ``RedundancyGroup`` runs keepalived, supervised by a
``KeepalivedRoleSource`` (run directory ``<state-dir>/keepalived``, kept across routerd
restarts so a restart adopts the running keepalived and mastership does not move); any
other router is its site's only router (``SoloRoleSource``: always active).

Only the *active* router captures and originates. On every role change (a wake from the
RoleSource's thread, then a scoped engine pass) this component:

* switches proxy-ARP capture on every capture interface (``EVERY_INTERFACE``) and holds
  every anycast gateway of the config in standby (link down) while not active. The
  standby keeps routes, the tunnel, keys and allowed IPs warm, so a takeover is one pass:
  ``proxy_arp`` on, gateway links up, a gratuitous ARP for every captured address and
  gateway (the engine does that in the same pass);
* tells its subscribers (the provider reconciler: a cloud pair's active router takes the
  secondary IPs over, a standby leaves them alone; the mobility controller: a standby
  withdraws everything it originates).

On Linux the pair also gets a kernel-side fence (``routerd.redundancy.fence``): ARP replies
for anything but the router's own addresses stop shortly after both routerd and keepalived
stopped, so a paused or half-dead router never answers next to its partner.

Anything short of ``active`` (standby, fault, a keepalived that has not reported yet) is
not active: a router that cannot tell must not capture. The role before the engine's first
pass is therefore "not active" on a paired router, so a restarted router never answers for
an address until keepalived makes it master.

Reachable as ``daemon.role_source`` (the port: role, why, takeover) and
``daemon.redundancy`` (``is_active()``, ``subscribe()``, ``failback()``); ``join_mobility``
gates the mobility component's originations on the role.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from routerd.core.capture import EVERY_INTERFACE
from routerd.core.config import RouterConfig
from routerd.core.engine import Engine
from routerd.core.errors import RouterdError
from routerd.core.lifecycle import TransitionRecord
from routerd.core.redundancy import (
    PairPlan,
    RoleSource,
    RoleState,
    SoloRoleSource,
    plan_group,
)
from routerd.core.resources import AddressMobilityDomain
from routerd.core.resources.redundancy import RedundancyGroup
from routerd.core.snapshot import Snapshot

LOG = logging.getLogger(__name__)

Listener = Callable[[RoleState], None]


def pair_plan(config: RouterConfig) -> PairPlan | None:
    """The plan of ``config``'s RedundancyGroup.

    Args:
        config: the startup config (validated: at most one group).

    Returns:
        The plan, or None when this router has no partner.
    """
    groups = config.of(RedundancyGroup)
    return plan_group(groups[0], config) if groups else None


def make_source(plan: PairPlan | None, state_dir: Path) -> RoleSource:
    """The RoleSource for ``plan``.

    Args:
        plan: the pair, or None for a site's only router.
        state_dir: the daemon's state directory (keepalived lives in ``keepalived/``).

    Returns:
        A ``KeepalivedRoleSource`` (not started), or a ``SoloRoleSource``.
    """
    if plan is None:
        return SoloRoleSource()
    from routerd.redundancy.source import KeepalivedRoleSource

    return KeepalivedRoleSource(plan, state_dir / "keepalived")


class Fenced(Protocol):
    """What the component needs of a fence (``routerd.redundancy.fence.Fence``)."""

    plan: PairPlan

    def start(self) -> None: ...

    def close(self, *, cleanup: bool = False) -> None: ...


def make_fence(plan: PairPlan | None) -> Fenced | None:
    """The kernel-side fence for ``plan``.

    Args:
        plan: the pair, or None for a site's only router.

    Returns:
        A ``routerd.redundancy.fence.Fence`` (not started), or None without a pair.
    """
    if plan is None:
        return None
    from routerd.redundancy.fence import Fence

    return Fence(plan)


class Redundancy:
    """Feeds the role of ``source`` into ``engine`` and into whoever subscribes.

    Args:
        engine: the engine whose capture and gateways follow the role.
        source: where the role comes from (started here).
        config: the startup config (its mobile domains' gateways follow the role).
        fence: the kernel-side fence (started here), None without one.
        make_fence: makes the fence of a changed group (on reload).
    """

    def __init__(
        self,
        engine: Engine,
        source: RoleSource,
        config: RouterConfig,
        fence: Fenced | None = None,
        *,
        make_fence: Callable[[PairPlan | None], Fenced | None] = make_fence,
    ) -> None:
        self.engine = engine
        self.source = source
        self.fence = fence
        self._make_fence = make_fence
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []
        self._active: bool | None = None  # what the engine was last told
        self._domains = _domains(config)
        self._config = config

    # -- for other components (any thread) ----------------------------------------------

    def is_active(self) -> bool:
        """Whether this router captures and originates now (cheap, thread-safe)."""
        return self.source.role().active

    def role(self) -> RoleState:
        return self.source.role()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(role)`` on every role change (on the RoleSource's thread; keep it
        short: wake your own thread). It is called once at once with the current role.

        Returns:
            A callable that unsubscribes.
        """
        with self._lock:
            self._listeners.append(listener)
        listener(self.source.role())

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def failback(self) -> str:
        """Make this router active again without an outage (``routerctl failback``).

        Raises:
            TakeoverRefused: it cannot take over now (the message says why).
        """
        return self.source.take_over()

    # -- wiring ---------------------------------------------------------------------------

    def start(self) -> None:
        """Put the engine in the role's state before its first pass, then follow changes."""
        self._apply(self.source.role())
        self._start_fence()
        self.source.start(self._changed)
        self._changed()
        self.engine.listeners.append(self._on_snapshot)

    def stop(self, *, cleanup: bool = False) -> None:
        self.source.close(cleanup=cleanup)
        if self.fence is not None:
            self.fence.close(cleanup=cleanup)

    def _start_fence(self) -> None:
        if self.fence is None:
            return
        try:
            self.fence.start()
        except (RouterdError, OSError) as exc:
            LOG.error(
                "no pair fence on %s (%s): a router whose routerd and keepalived both stop "
                "keeps answering ARP next to its partner",
                self.fence.plan.interface,
                exc,
            )

    def _changed(self) -> None:
        role = self.source.role()
        self._apply(role)
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(role)
            except Exception:  # one subscriber's bug must not stop the others
                LOG.exception("role listener failed")

    def _apply(self, role: RoleState) -> None:
        with self._lock:
            if role.active == self._active:
                return
            self._active = role.active
            standby = () if role.active else self._domains
        LOG.info("role %s: capture %s (%s)", role.role, "on" if role.active else "off", role.why)
        self.engine.set_capture_active(EVERY_INTERFACE, role.active)
        self.engine.set_gateway_standby(standby)

    def _on_snapshot(self, snapshot: Snapshot, _records: list[TransitionRecord]) -> None:
        """A reload may add or remove mobile domains (their gateways) or change the group."""
        config = snapshot.startup
        if config is self._config:
            return
        self._config = config
        domains = _domains(snapshot.effective.config if snapshot.effective else config)
        with self._lock:
            moved = domains != self._domains
            self._domains = domains
            active = self._active
        if moved and active is False:
            self.engine.set_gateway_standby(domains)
        self._update_plan(config)

    def _update_plan(self, config: RouterConfig) -> None:
        plan = pair_plan(config)
        current = getattr(self.source, "plan", None)
        if plan == current:
            return
        update = getattr(self.source, "update", None)
        if plan is not None and current is not None and callable(update):
            threading.Thread(target=self._update, args=(update, plan), daemon=True).start()
            if self.fence is not None:
                self.fence.close()
                self.fence = self._make_fence(plan)
                self._start_fence()
            return
        LOG.error(
            "the RedundancyGroup was %s by a reload; restart routerd to %s the pair",
            "added" if plan is not None else "removed",
            "join" if plan is not None else "leave",
        )

    @staticmethod
    def _update(update: Callable[[PairPlan], None], plan: PairPlan) -> None:
        try:
            update(plan)
        except Exception as exc:  # keepalived keeps the old configuration
            LOG.error("%s could not be applied, keeping the running one: %s", plan.ref, exc)


def join_mobility(redundancy: Redundancy, mobility: Any) -> Callable[[], None]:
    """Let the mobility component originate only while this router is active.

    Args:
        redundancy: ``daemon.redundancy``.
        mobility: the mobility component (``set_active_source(callable)``, ``wake()``):
            it asks ``is_active`` at the start of every pass and is woken on every role
            change, so a standby withdraws everything it originates in its next pass.

    Returns:
        A callable that undoes the join (the component originates again regardless).
    """
    mobility.set_active_source(redundancy.is_active)
    unsubscribe = redundancy.subscribe(lambda _role: mobility.wake())

    def undo() -> None:
        unsubscribe()
        mobility.set_active_source(None)

    return undo


def join(daemon: Any) -> Callable[[], None]:
    """Component started after mobility: its originations follow this router's role."""
    return join_mobility(daemon.redundancy, daemon.mobility_component)


def _domains(config: RouterConfig) -> frozenset[str]:
    return frozenset(d.name for d in config.of(AddressMobilityDomain))


def start(daemon: Any) -> Callable[[], None]:
    """Start the RoleSource and wire it; the returned callable stops watching (keepalived
    keeps running across a routerd restart unless the daemon cleans up on exit)."""
    config = daemon.engine.startup
    plan = pair_plan(config)
    if plan is not None and daemon.opts.backend != "linux":
        LOG.warning(
            "%s: the %s backend runs no keepalived; this router acts as its site's only one",
            plan.ref,
            daemon.opts.backend,
        )
        plan = None
    source = make_source(plan, Path(daemon.opts.state_dir))
    fence = make_fence(plan)
    redundancy = Redundancy(daemon.engine, source, config, fence)
    daemon.role_source = source
    daemon.redundancy = redundancy
    redundancy.start()
    return lambda: redundancy.stop(cleanup=daemon.opts.cleanup_on_exit)
