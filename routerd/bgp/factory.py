"""The Linux route exchange as the daemon's registry makes it: gobgpd under ``<state>/bgp``.

The registry (``routerd.daemon.registry``) pairs each backend with its route exchange; for the
Linux backend that is this package's ``GobgpExchange``. It lives here, not in the backend's
factory, because backends sit below ``routerd.bgp`` in the layers (gobgpd's supervisor uses
the Linux backend's process helpers).
"""

from __future__ import annotations

from pathlib import Path

from routerd.bgp.gobgp import GobgpExchange
from routerd.bgp.supervisor import GobgpdSupervisor
from routerd.core.exchange import ImportPolicy, SpeakerSettings
from routerd.core.port import DataplaneBackend

BGP_DIR = "bgp"
"""gobgpd's run directory below the state directory (socket, PID record, log)."""


def route_exchange(
    backend: DataplaneBackend,
    settings: SpeakerSettings,
    policy: ImportPolicy,
    *,
    state_dir: Path,
) -> GobgpExchange:
    """gobgpd driven over its API, adopted across routerd restarts.

    Args:
        backend: the Linux backend (unused: gobgpd runs beside it, in the same namespace).
        settings: the speaker's settings (from the router's BGPSpeaker).
        policy: the import rule (the router's mobility domains and sites).
        state_dir: the daemon's state directory; gobgpd runs in its ``bgp`` subdirectory.

    Returns:
        The exchange (not started).

    Raises:
        ValueError: the settings have problems (each named).
        SpeakerError: the run directory's socket path is too long for a Unix socket.
    """
    del backend
    return GobgpExchange(settings, policy, GobgpdSupervisor(Path(state_dir) / BGP_DIR))
