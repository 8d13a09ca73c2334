"""Registry entry point for ``--backend linux`` (``routerd.daemon.registry``).

``available`` says whether this process can drive the kernel (Linux, root or
CAP_NET_ADMIN, the Python bindings importable) and why not; ``create`` builds the backend on
the daemon's state store and, when ``/etc/iproute2/rt_protos.d`` exists and is writable,
names routerd's route protocol so ``ip route`` prints ``proto routerd`` (``routerd install``
writes the same file where /etc is read-only to the daemon). Under ``ip netns exec`` (the
namespace lab) the name is not written: that /etc is the host's.

Address mobility's two ports: ``route_exchange`` (gobgpd, supervised from
``<state_dir>/bgp``, which also holds its API socket and log) and ``presence_source`` (the
ARP/RARP listener and prober of this namespace).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from routerd.core.config import RouterConfig
from routerd.state.store import Store

if TYPE_CHECKING:  # the backend pulls in pyroute2; keep ``available`` cheap
    from collections.abc import Callable

    from routerd.backends.linux.backend import LinuxBackend
    from routerd.backends.linux.presence import LinuxPresence
    from routerd.core.port import DataplaneBackend
    from routerd.providers.evidence import MetadataEvidence

LOG = logging.getLogger(__name__)

RT_PROTOS_DIR = Path("/etc/iproute2/rt_protos.d")
CAP_NET_ADMIN = 12


def _has_net_admin() -> bool:
    if os.geteuid() == 0:
        return True
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("CapEff:"):
                return bool(int(line.split()[1], 16) >> CAP_NET_ADMIN & 1)
    except OSError:
        pass
    return False


def available() -> tuple[bool, str]:
    """Whether the Linux backend can run here, and the reason when it cannot."""
    if not sys.platform.startswith("linux"):
        return False, f"needs Linux (this is {sys.platform})"
    if not _has_net_admin():
        return False, "needs root or CAP_NET_ADMIN (netlink, nftables, sysctls)"
    for module in ("pyroute2", "nftables"):
        if importlib.util.find_spec(module) is None:
            return False, f"Python module {module} is missing (pip install routerd)"
    return True, ""


def in_own_netns_of_init() -> bool:
    """Whether this process shares PID 1's network namespace (a host or a container).

    A daemon started with ``ip netns exec`` (the namespace lab, tests) does not: its /etc is
    the host's, which it must not edit.
    """
    try:
        return os.stat("/proc/self/ns/net").st_ino == os.stat("/proc/1/ns/net").st_ino
    except OSError:
        return False


def register_protocol_name(directory: Path = RT_PROTOS_DIR) -> bool:
    """Write ``<directory>/routerd.conf`` naming the route protocol, when possible.

    Nothing is written when the directory is missing or the file is current; ``create``
    calls this only when running in PID 1's network namespace (see ``in_own_netns_of_init``).

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
        LOG.warning("could not name the route protocol in %s: %s", path, exc)
        return False
    return True


def create(
    *,
    config: RouterConfig | None = None,
    store: Store | None,
    state_dir: Path,
    wireguard_go: str | None = "auto",
    register_names: bool = True,
) -> LinuxBackend:
    """Build the backend for ``routerd serve --backend linux``.

    Args:
        config: the startup config (unused: the backend learns everything from the
            desired state it is given).
        store: the daemon's state store; opened under ``state_dir`` when None.
        state_dir: the daemon's ``--state-dir`` (wireguard-go logs go below it).
        wireguard_go: wireguard-go path, "auto" (PATH lookup) or None (kernel module only).
        register_names: also name the route protocol for iproute2 (skipped inside a
            namespace other than PID 1's, where /etc belongs to the host).
    """
    from routerd.backends.linux.backend import LinuxBackend

    del config
    if register_names and in_own_netns_of_init():
        register_protocol_name()
    return LinuxBackend(
        store if store is not None else Store.open(state_dir),
        state_dir=Path(state_dir),
        wireguard_go=wireguard_go,
    )


def provider_evidence(backend: DataplaneBackend) -> MetadataEvidence:
    """The cloud's instance-metadata service (``ROUTERD_IMDS_URL`` overrides its address)."""
    from routerd.providers.evidence import MetadataEvidence

    del backend
    return MetadataEvidence()


def presence_source(
    backend: DataplaneBackend, *, clock: Callable[[], float] | None = None
) -> LinuxPresence:
    """The ARP/RARP listener and prober of this namespace, stamping with ``clock``."""
    import time

    from routerd.backends.linux.presence import LinuxPresence

    del backend
    return LinuxPresence(clock=clock or time.time)
