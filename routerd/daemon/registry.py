"""Explicit backend registry: name -> module with ``available()`` and ``create()``.

No discovery magic (cloud-init's renderers style): ``NAME_TO_BACKEND`` is the whole list.
Imports are lazy so ``routerd validate`` never loads pyroute2 or libnftables. The registry
is part of the daemon's wiring: it joins a backend with what the daemon pairs it with
(provider evidence, a route exchange, a presence source), which backends never import.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, cast

from routerd.core.assignment import ProviderEvidence
from routerd.core.config import RouterConfig
from routerd.core.exchange import ImportPolicy, RouteExchange, SpeakerSettings
from routerd.core.port import DataplaneBackend
from routerd.core.presence import PresenceSource
from routerd.state.store import Store

NAME_TO_BACKEND = {
    "linux": "routerd.backends.linux.factory",
    "sim": "routerd.backends.sim.factory",
}

NAME_TO_EXCHANGE = {
    "linux": "routerd.bgp.factory",
    "sim": "routerd.backends.sim.factory",
}
"""Where each backend's route exchange is made (a module with ``route_exchange``): gobgpd
beside the Linux backend, the world's BGP fabric inside the simulator."""


class BackendModule(Protocol):
    """What each module named in NAME_TO_BACKEND provides."""

    def available(self) -> tuple[bool, str]: ...

    def create(
        self, *, config: RouterConfig, store: Store | None, state_dir: Path
    ) -> DataplaneBackend: ...

    def provider_evidence(self, backend: DataplaneBackend) -> ProviderEvidence | None: ...


class BackendUnavailable(RuntimeError):
    pass


def module(name: str) -> BackendModule:
    try:
        path = NAME_TO_BACKEND[name]
    except KeyError:
        raise BackendUnavailable(
            f"unknown backend {name!r}; choose one of {', '.join(NAME_TO_BACKEND)}"
        ) from None
    return cast(BackendModule, importlib.import_module(path))


def create(
    name: str, *, config: RouterConfig, store: Store | None, state_dir: Path
) -> DataplaneBackend:
    """Build a backend, or raise BackendUnavailable saying why it cannot run here."""
    mod = module(name)
    ok, why = mod.available()
    if not ok:
        raise BackendUnavailable(f"backend {name} is not available: {why}")
    backend: DataplaneBackend = mod.create(config=config, store=store, state_dir=state_dir)
    return backend


def route_exchange(
    name: str,
    backend: DataplaneBackend,
    settings: SpeakerSettings,
    policy: ImportPolicy,
    *,
    state_dir: Path,
) -> RouteExchange | None:
    """The address-mobility route exchange a backend provides (None: it provides none).

    Linux: gobgpd, supervised from ``<state_dir>/bgp``; sim: the router's speaker in the
    world's BGP fabric.
    """
    path = NAME_TO_EXCHANGE.get(name)
    make = getattr(importlib.import_module(path), "route_exchange", None) if path else None
    if make is None:
        return None
    exchange: RouteExchange = make(backend, settings, policy, state_dir=state_dir)
    return exchange


def presence_source(
    name: str, backend: DataplaneBackend, *, clock: Callable[[], float] = time.time
) -> PresenceSource | None:
    """The presence source a backend provides (None: it provides none).

    Linux: the ARP/RARP listener and prober of the router's namespace, stamping evidence with
    ``clock`` (the engine's); sim: what the router hears on the world's segments (stamped
    with the world's clock).
    """
    make = getattr(module(name), "presence_source", None)
    if make is None:
        return None
    source: PresenceSource = make(backend, clock=clock)
    return source


def provider_evidence(name: str, backend: DataplaneBackend) -> ProviderEvidence | None:
    """Where the engine confirms provider-secondary-ip captures for a backend ``create`` made.

    Linux: the cloud's instance-metadata service; sim: the simulated provider fabric.
    """
    return module(name).provider_evidence(backend)
