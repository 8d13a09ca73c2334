"""Kernel parameters through ``/proc/sys``, remembering what routerd changed so it can undo it.

The first time routerd changes a value it stores the previous one in the state store's
``owned_objects`` (kind ``sysctl``); the key then counts as owned, and when no claim needs it
any more the previous value is written back and the record dropped. A value that already
satisfied the intent is never recorded, so routerd never "restores" what it did not change.
The record survives a daemon restart, which is why it lives in the store and not in memory.

Network sysctls are per network namespace and ``/proc/sys/net`` resolves against the
namespace of the process, so this works unchanged under ``ip netns exec``.
"""

from __future__ import annotations

import logging
from pathlib import Path

from routerd.core.errors import DataplaneError
from routerd.state.store import Store

LOG = logging.getLogger(__name__)

PROC_SYS = Path("/proc/sys")
STORE_KIND = "sysctl"
_PER_DEVICE = ("net.ipv4.conf.", "net.ipv6.conf.", "net.ipv4.neigh.", "net.ipv6.neigh.")


def sysctl_path(name: str, root: Path = PROC_SYS) -> Path:
    """The file of a sysctl; interface names inside per-device keys may contain dots.

    ``net.ipv4.conf.eth0.100.proxy_arp`` is the ``proxy_arp`` of ``eth0.100``, as sysctl(8)
    also accepts it in the ``eth0/100`` form.
    """
    for prefix in _PER_DEVICE:
        if name.startswith(prefix):
            rest = name[len(prefix) :]
            dev, _, param = rest.rpartition(".")
            if dev and param:
                return root.joinpath(*prefix.rstrip(".").split("."), dev.replace("/", "."), param)
    if "/" in name:
        raise ValueError(f"invalid sysctl name {name!r}")
    return root.joinpath(*name.split("."))


def read_sysctl(name: str, root: Path = PROC_SYS) -> str | None:
    """The current value, or None when the key does not exist (e.g. interface missing)."""
    try:
        return sysctl_path(name, root).read_text().strip()
    except (FileNotFoundError, NotADirectoryError):
        return None


def write_sysctl(name: str, value: str, root: Path = PROC_SYS) -> None:
    """Write a value.

    Raises:
        DataplaneError: missing key (errno 2, retryable: the interface may appear) or a
            refused value.
    """
    try:
        sysctl_path(name, root).write_text(value + "\n")
    except OSError as exc:
        missing = isinstance(exc, FileNotFoundError)
        msg = "no such key (is the interface present?)" if missing else str(exc.strerror)
        raise DataplaneError(f"sysctl {name}={value}", msg, errno=exc.errno) from exc


class SysctlKeeper:
    """Sets sysctls and restores the values it found before routerd changed them."""

    def __init__(self, store: Store, root: Path = PROC_SYS) -> None:
        self.store = store
        self.root = root

    def owned(self) -> dict[str, str]:
        """Sysctl name -> value to restore, for every key routerd changed."""
        return self.store.owned(STORE_KIND)

    def read(self, name: str) -> str | None:
        return read_sysctl(name, self.root)

    def set(self, name: str, value: str, accept: frozenset[str] = frozenset()) -> None:
        """Write ``value`` unless the current value is it or one of ``accept``.

        ``accept`` matters for a key that only appeared during this apply (the tunnel's
        ``rp_filter`` right after the device was created): a value that already satisfies
        the intent is left alone, so routerd never changes (or later restores) it.
        """
        current = read_sysctl(name, self.root)
        if current is None:
            write_sysctl(name, value, self.root)  # raises the missing-key error
            return
        if current == value or current in accept:
            return
        if name not in self.owned():
            self.store.set_owned(STORE_KIND, name, current)
        write_sysctl(name, value, self.root)
        LOG.info("sysctl %s=%s (was %s)", name, value, current)

    def restore(self, name: str) -> None:
        """Write back the remembered value; a vanished key (interface gone) is fine."""
        previous = self.owned().get(name)
        if previous is None:
            return
        if read_sysctl(name, self.root) is not None:
            write_sysctl(name, previous, self.root)
            LOG.info("sysctl %s restored to %s", name, previous)
        self.store.drop_owned(STORE_KIND, name)
