"""Registry entry point for ``--backend sim`` (``routerd.backends.registry``).

``routerd serve --backend sim -c FILE`` gets one simulated host shaped after the config
(``single_host_world``), so claims capture and deliver without root or a kernel; nothing is
verified because no peer exists. The demo builds a full lab instead (``build_lab``).
"""

from __future__ import annotations

from pathlib import Path

from routerd.core.config import RouterConfig
from routerd.core.port import DataplaneBackend
from routerd.core.store import Store

from .backend import SimBackend
from .metadata import FabricEvidence
from .standalone import DEFAULT_HOST, single_host_world


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
