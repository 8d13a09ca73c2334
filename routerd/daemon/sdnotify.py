"""systemd's service notification protocol (``sd_notify(3)``), spoken directly.

Why it exists: under ``Type=notify`` systemd considers routerd started only when it says
``READY=1``. routerd says so after its first reconcile pass has completed, so ``systemctl
start routerd`` returns once the dataplane reflects the config, and units ordered
``After=routerd.service`` start against a host that is already set up. ``STATUS=`` keeps a
one-line summary (claim counts by state, config generation) visible in ``systemctl
status``; ``STOPPING=1`` marks a clean shutdown.

Why no libsystemd binding: the protocol is one datagram of ``KEY=VALUE`` lines sent to the
AF_UNIX socket named by ``$NOTIFY_SOCKET`` (a leading ``@`` means Linux's abstract
namespace), and routerd must behave the same with or without systemd. Without
``$NOTIFY_SOCKET`` this component does nothing at all. A failed send is logged and never
stops the daemon: notifications are advisory, the dataplane is not.

The watchdog (``WATCHDOG=1``) lives in ``routerd.daemon.watchdog``; it uses ``Notifier``.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from routerd.core.engine import PassResult
from routerd.core.snapshot import Snapshot

if TYPE_CHECKING:
    from routerd.daemon.service import Daemon

LOG = logging.getLogger(__name__)

NOTIFY_ENV = "NOTIFY_SOCKET"


def socket_address(value: str) -> str | None:
    """The ``sendto`` address for a ``$NOTIFY_SOCKET`` value, or None when unusable.

    Args:
        value: ``/path/to/socket`` or ``@abstract-name``. (systemd also knows
            ``vsock:CID:PORT`` for VMs; routerd does not run as a VM payload, so that is
            reported as unusable rather than half supported.)

    Returns:
        A filesystem path, or the abstract name with its leading NUL byte.
    """
    if value.startswith("@") and len(value) > 1:
        return "\0" + value[1:]
    if value.startswith("/"):
        return value
    return None


class Notifier:
    """Sends notification datagrams to one socket; never raises.

    Args:
        address: what ``socket_address`` returned.
    """

    def __init__(self, address: str) -> None:
        self.address = address
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Notifier | None:
        """A notifier for ``$NOTIFY_SOCKET``, or None when routerd was not asked to notify."""
        value = environ.get(NOTIFY_ENV, "")
        if not value:
            return None
        address = socket_address(value)
        if address is None:
            LOG.warning("ignoring unsupported notify socket %s=%s", NOTIFY_ENV, value)
            return None
        return cls(address)

    def send(self, *assignments: str) -> bool:
        """Send ``KEY=VALUE`` lines in one datagram.

        Returns:
            True when the datagram was handed to the socket.
        """
        payload = "\n".join(assignments).encode()
        try:
            with self._lock:
                self._sock.sendto(payload, self.address)
        except OSError as e:
            LOG.warning("notify socket send failed socket=%r error=%s", self.address, e)
            return False
        return True

    def close(self) -> None:
        self._sock.close()


def status_line(snapshot: Snapshot) -> str:
    """``claims: 3 verified, 1 degraded; generation 7`` (plus failing objects, if any).

    Args:
        snapshot: the engine's latest snapshot.

    Returns:
        The text for ``STATUS=`` (one line, states in lifecycle order, zero counts left out).
    """
    counts = [f"{n} {state}" for state, n in snapshot.counts().items() if n]
    line = f"claims: {', '.join(counts) or 'none'}; generation {snapshot.generation}"
    if snapshot.apply_errors:
        line += f"; {len(snapshot.apply_errors)} objects failing to apply"
    return line


class Readiness:
    """Turns completed passes into ``READY=1`` (once) and ``STATUS=`` (when it changes).

    Args:
        notifier: where notifications go.
        snapshot: reads the engine's current snapshot (called on the engine thread).
    """

    def __init__(self, notifier: Notifier, snapshot: Callable[[], Snapshot]) -> None:
        self.notifier = notifier
        self._snapshot = snapshot
        self.ready = False
        self._status = ""

    def on_pass(self, _result: PassResult) -> None:
        status = status_line(self._snapshot())
        lines = [f"STATUS={status}"] if status != self._status else []
        if not self.ready:
            lines.append("READY=1")
        if not lines:
            return
        if self.notifier.send(*lines):
            self._status = status
            if not self.ready:
                LOG.info("notified systemd: ready status=%r", status)
            self.ready = True

    def stop(self) -> None:
        self.notifier.send("STOPPING=1", "STATUS=stopping")
        self.notifier.close()


def start(daemon: Daemon) -> Callable[[], None] | None:
    """Daemon component: notify systemd of readiness and status, when asked to.

    Args:
        daemon: the daemon being started.

    Returns:
        The shutdown callback, or None when ``$NOTIFY_SOCKET`` is not set.
    """
    notifier = Notifier.from_env()
    if notifier is None:
        return None
    readiness = Readiness(notifier, lambda: daemon.engine.snapshot)
    daemon.pass_hooks.append(readiness.on_pass)
    return readiness.stop
