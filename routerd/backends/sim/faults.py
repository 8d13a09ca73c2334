"""Fault injection: the world changing behind the engine's back.

Each method here changes a host the way something other than routerd would — an operator
deleting a route, a guest agent re-adding the captured address, a script flushing the
clamp table — records the keys of the objects it touched (what a netlink or nft event
would name; ``drain_drift`` hands them to the backend) and then calls that host's
watchers, as such an event would reach the Linux backend. ``notify`` without keys (a test
or the lab changing a host by hand) records that anything may have changed.
``fail_next_apply`` arms a one-shot failure for the next applied change whose key matches,
so tests can prove one failing claim never blocks the others.

``FaultInjection`` is a mixin of ``World``: the methods live here so the world module stays
about topology and the oracle.
"""

from __future__ import annotations

import errno as errno_mod
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from routerd.core.desired import MAIN_TABLE, MSS_TABLE, Key, MssRule
from routerd.core.mobility.gateway import PREFIX as GATEWAY_PREFIX
from routerd.core.port import Drift

from .fib import RouteEntry
from .host import Host
from .nft import NftTable


@dataclass(frozen=True)
class PendingFailure:
    """A failure armed for the next matching apply."""

    predicate: Callable[[Key], bool]
    error: str
    errno: int | None
    retryable: bool


def errno_of(error: str) -> int | None:
    """``"EPERM: operation not permitted"`` -> errno.EPERM (first word, if it is a name)."""
    word = error.split(maxsplit=1)[0].rstrip(":") if error.strip() else ""
    value = getattr(errno_mod, word, None)
    return value if isinstance(value, int) else None


def _always(action: Callable[[Host], None]) -> Callable[[Host], bool]:
    """An out-of-band action that always counts as a change."""

    def change(host: Host) -> bool:
        action(host)
        return True

    return change


class FaultInjection:
    """Watchers, out-of-band changes and armed failures (mixed into ``World``)."""

    hosts: dict[str, Host]
    lock: threading.RLock

    def __init__(self) -> None:
        self._watchers: dict[str, list[Callable[[], None]]] = {}
        self._failures: dict[str, list[PendingFailure]] = {}
        self._drift: dict[str, set[Key] | None] = {}  # None: anything may have changed

    # -- watchers ----------------------------------------------------------------------

    def watch(self, host: str, callback: Callable[[], None]) -> None:
        """Call ``callback`` whenever ``host`` changes behind its backend's back."""
        self._watchers.setdefault(host, []).append(callback)

    def unwatch(self, host: str, callback: Callable[[], None]) -> None:
        callbacks = self._watchers.get(host, [])
        if callback in callbacks:
            callbacks.remove(callback)

    def notify(self, host: str, keys: Iterable[Key] | None = None) -> None:
        """``host`` changed behind its backend's back: the objects of ``keys`` (None: any)."""
        with self.lock:
            if keys is None:
                self._drift[host] = None
            else:
                known = self._drift.setdefault(host, set())
                if known is not None:
                    known.update(keys)
        for callback in list(self._watchers.get(host, ())):
            callback()

    def drain_drift(self, host: str) -> Drift:
        """What ``notify`` recorded for ``host`` since the last call."""
        with self.lock:
            keys = self._drift.pop(host, set())
        return Drift(everything=True) if keys is None else Drift(frozenset(keys))

    def notify_all(self) -> None:
        """Call every host's watchers: the world changed in a way any router may see."""
        for host in list(self._watchers):
            self.notify(host)

    def wake_all(self) -> None:
        """Call every host's watchers, naming nothing more as drifted.

        For a change whose dataplane keys the change itself recorded (the out-of-band
        methods below), or that touches only what every pass reads anyway: links,
        WireGuard handshakes, the provider's assignments, and packet paths (checked again
        when a claim's check is due).
        """
        for host in list(self._watchers):
            self.notify(host, ())

    def _out_of_band(
        self, host: str, change: Callable[[Host], bool], keys: Iterable[Key] = ()
    ) -> bool:
        with self.lock:
            changed = change(self.hosts[host])
        if changed:
            self.notify(host, keys)
        return changed

    # -- out-of-band changes -----------------------------------------------------------

    def delete_route(self, host: str, dst: str, *, table: int = MAIN_TABLE) -> bool:
        """Delete every route for exactly ``dst`` (whoever owns it)."""

        def change(h: Host) -> bool:
            routes = h.fib.routes_for(dst, table)
            for r in routes:
                h.fib.remove(r)
            return bool(routes)

        return self._out_of_band(host, change, [("route", str(table), dst)])

    def add_route(
        self,
        host: str,
        dst: str,
        *,
        dev: str = "",
        gateway: str = "",
        metric: int = 0,
        proto: str = "static",
    ) -> None:
        """Install a route someone else owns (``proto`` is its mark)."""
        route = RouteEntry(dst, dev, gateway, metric, proto=proto)
        key = ("route", str(route.table), dst)
        self._out_of_band(host, _always(lambda h: h.fib.add(route)), [key])

    def delete_foreign_route(self, host: str, dst: str, *, proto: str = "static") -> bool:
        """Delete the routes for exactly ``dst`` (main table) that carry ``proto``."""

        def change(h: Host) -> bool:
            routes = [r for r in h.fib.routes_for(dst) if r.proto == proto]
            for r in routes:
                h.fib.remove(r)
            return bool(routes)

        return self._out_of_band(host, change, [("route", str(MAIN_TABLE), dst)])

    def flush_nft_table(self, host: str, family: str = "inet", name: str = MSS_TABLE) -> bool:
        """``nft flush table``: the rules go, the table and its comment stay."""

        def change(h: Host) -> bool:
            table = h.nft.get((family, name))
            if table is None:
                return False
            h.set_nft(NftTable(family, name, table.comment), family, name)
            return True

        return self._out_of_band(host, change, [("nft", family, name)])

    def add_nft_table(
        self,
        host: str,
        name: str,
        rules: Iterable[MssRule] = (),
        *,
        family: str = "inet",
        comment: str = "",
    ) -> None:
        """A table someone else created (no owner comment unless given)."""
        table = NftTable(family, name, comment, frozenset(rules))
        key = ("nft", family, name)
        self._out_of_band(host, _always(lambda h: h.set_nft(table, family, name)), [key])

    def agent_add_address(self, host: str, dev: str, cidr: str) -> None:
        """A guest agent (cloud-init, netplan, WALinuxAgent) assigns ``cidr`` to ``dev``."""
        keys = [("addr", dev, cidr), ("absent", cidr.split("/")[0])]
        self._out_of_band(host, _always(lambda h: h.add_address(dev, cidr)), keys)

    def set_sysctl(self, host: str, name: str, value: str) -> None:
        key = ("sysctl", name)
        self._out_of_band(host, _always(lambda h: h.set_sysctl(name, value)), [key])

    def set_link_up(self, host: str, ifname: str, up: bool) -> None:
        def change(h: Host) -> bool:
            h.iface(ifname).up = up
            return True

        # Links are read on every pass; an anycast-gateway device's state is its object's.
        keys = [("gateway", ifname)] if ifname.startswith(GATEWAY_PREFIX) else []
        self._out_of_band(host, change, keys)

    # -- armed failures ----------------------------------------------------------------

    def fail_next_apply(
        self, host: str, key_predicate: Callable[[Key], bool], error: str, *, retryable: bool = True
    ) -> None:
        """Make the next applied change on ``host`` whose key matches fail with ``error``.

        Args:
            host: the host whose backend should fail.
            key_predicate: selects the change by its key (``("route", "254", "10.0.0.9/32")``).
            error: the error text; a leading errno name (``"EPERM ..."``) sets the errno.
            retryable: what the ChangeResult reports.
        """
        failure = PendingFailure(key_predicate, error, errno_of(error), retryable)
        with self.lock:
            self._failures.setdefault(host, []).append(failure)

    def take_failure(self, host: str, key: Key) -> PendingFailure | None:
        """Consume the first armed failure matching ``key`` (backends call this)."""
        pending = self._failures.get(host)
        if not pending:
            return None
        for i, failure in enumerate(pending):
            if failure.predicate(key):
                del pending[i]
                return failure
        return None
