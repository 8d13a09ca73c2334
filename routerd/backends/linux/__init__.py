"""The Linux dataplane backend (real routers; also runs inside a network namespace).

Entry points: ``LinuxBackend`` (the ``DataplaneBackend`` port), ``create_backend`` (what
``routerd serve --backend linux`` calls) and ``available`` (registry probe). Module map:
``netlink_codec``/``netlink_socket`` (raw, pipelined rtnetlink), ``routes``, ``neighbours``,
``addresses``, ``links`` (pyroute2), ``sysctl``, ``nftables``, ``wireguard``/``wguapi``/
``wgtool``/``wgsupervisor``/``wgdevice``, ``events``, ``garp``, ``probe``, ``observer``,
``applier``, ``host``, ``backend``.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # importing the backend pulls in pyroute2; keep ``available`` cheap
    from routerd.backends.linux.backend import LinuxBackend
    from routerd.core.store import Store

LOG = logging.getLogger(__name__)

RT_PROTOS_DIR = Path("/etc/iproute2/rt_protos.d")


def available() -> bool:
    """Whether this host can run the Linux backend (Linux, root or CAP_NET_ADMIN)."""
    return sys.platform.startswith("linux") and os.geteuid() == 0


def register_protocol_name(directory: Path = RT_PROTOS_DIR) -> bool:
    """Name routerd's route protocol for ``ip route`` (``proto routerd``), when possible.

    Writes ``<directory>/routerd.conf`` only when the directory exists and the file differs.
    Only the real daemon calls this (it edits the host's /etc, shared by every namespace).

    Returns:
        True when the file is in place.
    """
    from routerd.backends.linux.routes import PROTO_NAME_LINE

    if not directory.is_dir():
        return False
    path = directory / "routerd.conf"
    try:
        if path.exists() and path.read_text() == PROTO_NAME_LINE:
            return True
        path.write_text(PROTO_NAME_LINE)
    except OSError as exc:
        LOG.warning("could not write %s: %s", path, exc)
        return False
    return True


def create_backend(
    store: Store,
    *,
    state_dir: str | os.PathLike[str],
    wireguard_go: str | None = "auto",
    register_names: bool = True,
) -> LinuxBackend:
    """Build the backend for ``routerd serve --backend linux``.

    Args:
        store: the open ``routerd.core.store.Store``.
        state_dir: the daemon's ``--state-dir``.
        wireguard_go: wireguard-go path, "auto" (PATH lookup) or None (kernel module only).
        register_names: also write /etc/iproute2/rt_protos.d/routerd.conf.
    """
    from routerd.backends.linux.backend import LinuxBackend

    if register_names:
        register_protocol_name()
    return LinuxBackend(store, state_dir=Path(state_dir), wireguard_go=wireguard_go)


def __getattr__(name: str) -> object:
    """``from routerd.backends.linux import LinuxBackend`` without importing pyroute2 early."""
    if name == "LinuxBackend":
        from routerd.backends.linux.backend import LinuxBackend

        return LinuxBackend
    raise AttributeError(name)
