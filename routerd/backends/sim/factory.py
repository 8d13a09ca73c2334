"""Registry entry point for ``--backend sim`` (``routerd.daemon.registry``).

``routerd serve --backend sim -c FILE`` gets one simulated host shaped after the config
(``single_host_world``), so claims capture and deliver without root or a kernel; nothing is
verified because no peer exists. The demo builds a full lab instead (``build_lab``).

Address mobility's two ports come from the backend's world too, for the router the backend
stands for: ``route_exchange`` (its speaker in the world's BGP fabric, peering with the
world's route reflector) and ``presence_source`` (what it hears on its segments).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from routerd.core.config import RouterConfig
from routerd.core.exchange import ImportPolicy, SpeakerSettings
from routerd.core.port import DataplaneBackend
from routerd.state.store import Store

from .backend import SimBackend
from .metadata import FabricEvidence
from .presence import SimPresence
from .standalone import DEFAULT_HOST, single_host_world

if TYPE_CHECKING:
    from .bgp.exchange import SimExchange


def available() -> tuple[bool, str]:
    """The simulation needs nothing from the host."""
    return True, ""


def create(*, config: RouterConfig, store: Store | None, state_dir: Path) -> SimBackend:
    """A backend on a fresh single-host world built from ``config``.

    Args:
        config: the startup config (decides the host's interfaces).
        store: unused; the simulation keeps no state across processes.
        state_dir: unused, for the same reason.
    """
    del store, state_dir
    return SimBackend(single_host_world(config), DEFAULT_HOST)


def provider_evidence(backend: DataplaneBackend) -> FabricEvidence:
    """The simulated provider: the fabric of the backend's world (none on a single host)."""
    assert isinstance(backend, SimBackend)
    return FabricEvidence(backend.world, backend.host_name)


def route_exchange(
    backend: DataplaneBackend,
    settings: SpeakerSettings,
    policy: ImportPolicy,
    *,
    state_dir: Path | None = None,
) -> SimExchange:
    """The backend's router's speaker in its world's BGP fabric (``SimExchange``).

    Args:
        backend: a backend ``create`` (or a world) made.
        settings: the speaker's settings (from the router's BGPSpeaker).
        policy: the import rule (the router's mobility domains and sites).
        state_dir: unused: the simulated speaker lives in the world, not on disk.

    Raises:
        ValueError: the settings have problems (each named).
    """
    from .bgp.exchange import SimExchange

    del state_dir
    assert isinstance(backend, SimBackend)
    return SimExchange(backend.world.bgp, backend.host_name, settings, policy)


def presence_source(
    backend: DataplaneBackend, *, clock: Callable[[], float] | None = None
) -> SimPresence:
    """What the backend's router hears on its world's segments (``SimPresence``); evidence
    carries the world's time whatever ``clock`` says (the world's routers run on it)."""
    del clock
    assert isinstance(backend, SimBackend)
    return SimPresence(backend.world, backend.host_name)
