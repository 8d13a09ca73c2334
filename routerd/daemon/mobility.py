"""Daemon component: address mobility (``start(daemon) -> stop``).

When the effective config has a mobile domain (``AddressMobilityDomain.spec.mobility``),
this component runs a ``MobilityRuntime`` (``mobility_runtime``) in the engine: the
controller steps at the start of every pass through a claim source, its derived claims are
reconciled like any other claim, the router's BGP speaker announces what this site homes,
and presence listens on the capture segments (on a cloud site it reads the provider's
inventory instead: ``mobility_cloud``). It is reachable as

* ``daemon.mobility``: the ``MobilityPort`` the API serves (``mobility_port``);
* ``daemon.exchange``: the route exchange, for the doctor.

Both are None while the router has no mobile domain. The effective config is followed after
every pass: a reload that adds mobility starts it, one that changes it reconfigures the
controller (and restarts the speaker or presence only where their settings changed), one
that removes it lets the controller drop every derived claim and origination, then stops the
speaker. Which speaker and presence source run comes from the backend
(``routerd.daemon.registry``: gobgpd and the packet listener on Linux, the world's fabric
and segments in the simulator). At shutdown the speaker keeps running and announcing
(like wireguard-go, it outlives a routerd restart, which then adopts it) unless routerd
stops with ``--cleanup-on-exit``.

A redundant pair's standby originates nothing: the redundancy side gives the component a
callable saying whether this router is active (``set_active_source``, default always) and
wakes it (``wake``) when the answer changes; the pass that sees standby withdraws every
origination (``mobility_runtime``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from routerd.core.config import RouterConfig
from routerd.core.engine import Engine
from routerd.core.exchange import ImportPolicy, RouteExchange, SpeakerSettings
from routerd.core.lifecycle import TransitionRecord
from routerd.core.mobility import MobilityPlan
from routerd.core.resources import AddressMobilityDomain, BGPSpeaker, Interface
from routerd.core.snapshot import Snapshot
from routerd.daemon import registry
from routerd.daemon.mobility_cloud import CloudPresence, InventoryPoller, SitePresence
from routerd.daemon.mobility_port import ControllerPort
from routerd.daemon.mobility_runtime import FIRST_VIEW_WAIT, MobilityRuntime
from routerd.providers.executor_factory import ExecutorFactory

LOG = logging.getLogger(__name__)


def _mobility_key(config: RouterConfig) -> tuple[object, ...]:
    """What of a config the mobility plan reads (a reload that changes none of it is no
    reconfiguration): domains, the speaker, interface names and static pins."""
    plan = MobilityPlan.of(config)
    return (
        tuple(config.of(AddressMobilityDomain)),
        tuple(config.of(BGPSpeaker)),
        tuple(config.of(Interface)),
        tuple(sorted(plan.static_pins.items())),
    )


class Mobility:
    """Follows the effective config and runs mobility while it has a mobile domain.

    Args:
        daemon: the ``Daemon`` (store, backend, engine, options).
    """

    def __init__(self, daemon: Any) -> None:
        self.daemon = daemon
        self.engine: Engine = daemon.engine
        self.runtime: MobilityRuntime | None = None
        """The runtime, kept after mobility stopped (its claim source stays registered)."""
        self.active = False
        self._config: RouterConfig | None = None
        self._key: tuple[object, ...] | None = None
        self._retire_after: int | None = None
        """Retire once the runtime stepped past this many steps (mobility left the config)."""
        self._active: Callable[[], bool] = _always
        self._started = False  # start() ran: later activations come from a reload

    def set_active_source(self, active: Callable[[], bool] | None) -> None:
        """Originate only while ``active()`` is True (None: always); takes effect on the next
        pass, which this asks for.

        Args:
            active: asked on the engine thread at the start of every pass; must be cheap and
                must not block (read a flag the redundancy side keeps).
        """
        self._active = active or _always
        if self.runtime is not None:
            self.runtime.active = self._active
        self.wake()

    def wake(self) -> None:
        """Ask for a pass (any thread): call after what ``active()`` answers changed."""
        self.engine.wake()

    # -- building ----------------------------------------------------------------------------

    def _exchange(self, settings: SpeakerSettings, policy: ImportPolicy) -> RouteExchange:
        opts = self.daemon.opts
        exchange = registry.route_exchange(
            opts.backend, self.daemon.backend, settings, policy, state_dir=Path(opts.state_dir)
        )
        if exchange is None:
            raise RuntimeError(f"backend {opts.backend} provides no route exchange")
        return exchange

    def _activate(self, config: RouterConfig) -> None:
        opts = self.daemon.opts
        backend, clock = self.daemon.backend, self.engine.clock
        source = registry.presence_source(opts.backend, backend, clock=clock)
        executors = getattr(self.daemon, "provider_executors", None) or ExecutorFactory()
        cloud = CloudPresence(InventoryPoller(executors, clock=clock))
        rt = MobilityRuntime(
            config,
            self.daemon.store,
            self.daemon.backend,
            self._exchange,
            SitePresence(source, cloud),
            clock=self.engine.clock,
            wake=self.engine.wake,
            active=self._active,
        )
        if self.runtime is not None:  # mobility comes back after a reload removed it
            rt.source = self.runtime.source
            rt.source.on_pass, rt.source.hold = rt.on_pass, rt.hold
        else:
            self.engine.add_claim_source(rt.source)
        self.runtime, self.active = rt, True
        # At daemon start the first pass waits for the speaker's tables; on a reload the
        # engine thread does not (a speaker started now has learned nothing yet).
        rt.start(first_view_wait=0.0 if self._started else FIRST_VIEW_WAIT)
        self.daemon.mobility = ControllerPort(rt)
        self.daemon.exchange = rt.exchange
        domains = ", ".join(f"{d.name} ({d.local.name})" for d in rt.plan.domains)
        LOG.info("mobility started: domains %s", domains)

    # -- the engine thread -------------------------------------------------------------------

    def start(self) -> None:
        """Before the first pass: start at once when the startup config is mobile."""
        config = self.engine.inputs.effective.config
        self._config, self._key = config, _mobility_key(config)
        if MobilityPlan.of(config):
            self._activate(config)
        self._started = True
        self.engine.listeners.append(self.after_pass)

    def after_pass(self, snapshot: Snapshot, records: list[TransitionRecord]) -> None:
        """Follow the effective config the pass used (engine thread)."""
        del records
        rt = self.runtime
        if rt is not None:
            rt.log_moves()
        retire = self._retire_after
        if rt is not None and retire is not None and rt.steps > retire and not rt.last_error:
            self._retire(rt)
        effective = snapshot.effective
        if effective is None or effective.config is self._config:
            return
        config = effective.config
        self._config = config
        key = _mobility_key(config)
        if key == self._key:
            return
        self._key = key
        mobile = bool(MobilityPlan.of(config))
        if not self.active or rt is None:
            if mobile:
                self._activate(config)
            return
        rt.reconfigure(config)  # an empty plan: its next step drops everything it held
        self.daemon.exchange = rt.exchange
        self._retire_after = None if mobile else rt.steps

    def _retire(self, rt: MobilityRuntime) -> None:
        """Mobility left the config and the controller has dropped what it held."""
        self._retire_after = None
        self.active = False
        rt.close(cleanup=True)  # no mobile domain: no speaker is needed any more
        rt.source.on_pass = rt.source.hold = None
        self.daemon.mobility = None
        self.daemon.exchange = None
        LOG.info("mobility stopped: the config has no mobile domain any more")

    def stop(self) -> None:
        """At shutdown: presence stops; the speaker stays unless ``--cleanup-on-exit``."""
        if self.active and self.runtime is not None:
            self.runtime.close(cleanup=bool(self.daemon.opts.cleanup_on_exit))


def _always() -> bool:
    return True


def start(daemon: Any) -> Callable[[], None]:
    """Start following the config; the returned callable stops mobility at shutdown."""
    daemon.mobility = None
    daemon.exchange = None
    mobility = Mobility(daemon)
    daemon.mobility_component = mobility
    mobility.start()
    return mobility.stop
