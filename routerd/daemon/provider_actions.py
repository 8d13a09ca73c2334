"""Daemon component: the provider reconciler (``start(daemon) -> stop``).

Starts ``routerd.providers.reconciler.ProviderReconciler`` on its own thread and feeds it
every snapshot the engine publishes (the effective config and the lowered claims; the
engine never waits on it). The reconciler does nothing unless a ``CloudProviderProfile``
says ``execution: execute`` and a ``ProviderActionPolicy`` allows it. When it changed an
assignment at a provider, the provider evidence is read again at once and the engine woken,
so the claim moves to ``captured`` without waiting for the next metadata read. The other
way round, a claim whose provider evidence is lost (someone removed the address at the
provider) wakes the reconciler at once, reading the provider anew, so it puts the address
back without waiting for its resync.

The reconciler is reachable as ``daemon.provider_actions`` (the ActionService wakes it
after an approval or an undo), its executors as ``daemon.provider_executors`` (cloud
presence reads the inventory through them, sharing their cache and rate limit). Whether it
may take an address off another NIC is address mobility's answer when the address is
mobile (``mobility_take``). On a router of a redundant pair it runs only while the router
is active (``daemon.redundancy``): a cloud pair's new active router takes the secondary IPs
over, the standby never touches them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from routerd.core.engine import Engine
from routerd.core.lifecycle import TransitionRecord
from routerd.core.snapshot import Snapshot
from routerd.daemon.mobility_take import may_take_for
from routerd.providers.action_runner import ActionRunner
from routerd.providers.executor_factory import ExecutorFactory
from routerd.providers.reconciler import ProviderReconciler

LOG = logging.getLogger(__name__)
LOST_EVIDENCE = "provider-ip-not-assigned"
"""A claim moving with this reason lost its provider evidence: look at the provider now."""


def build(daemon: Any) -> ProviderReconciler:
    """The reconciler for ``daemon`` (not started), wired to its store and engine."""
    engine: Engine = daemon.engine
    factory = ExecutorFactory()
    daemon.provider_executors = factory  # cloud presence reads through the same executors
    runner = ActionRunner(
        daemon.store, lambda pt: factory(pt.profile), may_take=may_take_for(daemon)
    )

    def changed() -> None:
        refresh = getattr(engine.provider, "refresh", None)
        if callable(refresh):
            refresh()
        engine.wake()

    reconciler = ProviderReconciler(runner, on_change=changed)

    def offer(snapshot: Snapshot, records: list[TransitionRecord]) -> None:
        if snapshot.effective is not None and snapshot.lowered is not None:
            reconciler.offer(snapshot.effective.config, snapshot.lowered.claims)
        if any(r.reason == LOST_EVIDENCE for r in records):
            reconciler.wake(fresh=True)  # the provider no longer shows an address here

    engine.listeners.append(offer)
    return reconciler


def follow_role(reconciler: ProviderReconciler, redundancy: Any) -> Callable[[], None]:
    """Run ``reconciler`` only while this router is its pair's active one.

    Args:
        reconciler: the provider reconciler (started or not).
        redundancy: ``daemon.redundancy`` (``subscribe(listener) -> unsubscribe``).

    Returns:
        A callable that stops following.
    """
    unsubscribe: Callable[[], None] = redundancy.subscribe(
        lambda role: reconciler.set_active(role.active)
    )
    return unsubscribe


def _nothing() -> None:
    return None


def start(daemon: Any) -> Callable[[], None]:
    """Start the reconciler; the returned callable stops it (a call in flight finishes)."""
    reconciler = build(daemon)
    daemon.provider_actions = reconciler
    redundancy = getattr(daemon, "redundancy", None)
    unsubscribe = follow_role(reconciler, redundancy) if redundancy is not None else _nothing
    reconciler.start()

    def stop() -> None:
        unsubscribe()
        reconciler.stop()

    return stop
