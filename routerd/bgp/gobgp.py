"""``GobgpExchange``: the route-exchange port on a gobgpd that routerd supervises.

* ``start`` adopts the running gobgpd (or starts one), brings its settings and neighbors to
  what is wanted (``configure``), and reads back what it already originates from its local
  RIB, so a restarted routerd neither withdraws nor duplicates anything.
* ``sync`` diffs the wanted originations against what was originated and sends only the
  difference, announcements and withdrawals together, through ``AddPathStream`` in messages
  of ``chunk`` paths. If gobgpd refuses part of a batch, the local RIB is re-read, so the
  next ``sync`` repairs exactly what is missing.
* A watcher thread holds ``WatchEvent`` (peer states and every neighbor's Adj-RIB-In
  updates, withdrawals included) and feeds ``LearnedTable``. Each time the stream is
  (re)opened, after gobgpd confirms the registration (its ``END_OF_INIT`` peer event),
  sessions and Adj-RIB-Ins are re-read in full and the events queued meanwhile are applied
  on top (re-applying an announcement or withdrawal is idempotent). When the stream is
  lost, the view becomes disconnected (no paths, sessions ``unknown``) until the watcher
  has re-adopted or restarted gobgpd, re-applied the settings and re-originated.

Two locks: ``_origin_lock`` serialises changes to the originations (a long ``sync`` does not
hold up learning), ``_lock`` guards the learned table and session states.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

import grpc
from google.protobuf import empty_pb2

from routerd.bgp import codec, configure
from routerd.bgp.gobgpapi import gobgp_pb2 as api
from routerd.bgp.gobgpapi import gobgp_pb2_grpc as rpc
from routerd.bgp.supervisor import GobgpdSupervisor, SpeakerError
from routerd.core.exchange import (
    U32,
    ExchangeView,
    ImportPolicy,
    Origination,
    SessionState,
    SpeakerSettings,
)
from routerd.core.learned import Decoded, LearnedTable

LOG = logging.getLogger(__name__)

ESTABLISHED = api.PeerState.SessionState.ESTABLISHED
_WATCH = api.WatchEventRequest(
    peer=api.WatchEventRequest.Peer(),
    table=api.WatchEventRequest.Table(
        filters=[api.WatchEventRequest.Table.Filter(type=api.WatchEventRequest.Table.Filter.ADJIN)]
    ),
)


def _detail(exc: BaseException) -> str:
    """The server's message of a gRPC error (its ``details``), else the exception text."""
    details = getattr(exc, "details", None)
    return str(details()) if callable(details) else str(exc)


def _state_name(value: int) -> str:
    return str(api.PeerState.SessionState.Name(value)).lower()


class GobgpExchange:
    """``RouteExchange`` (``routerd.core.exchange``) implemented on gobgpd."""

    def __init__(
        self,
        settings: SpeakerSettings,
        policy: ImportPolicy,
        supervisor: GobgpdSupervisor,
        *,
        chunk: int = 1000,
        rpc_timeout: float = 30.0,
        retry: tuple[float, float] = (0.2, 5.0),
    ) -> None:
        problems = settings.problems()
        if problems:
            raise ValueError("speaker settings: " + "; ".join(problems))
        self.settings = settings
        self._neighbors = {n.address: n for n in settings.neighbors}
        self.supervisor = supervisor
        self.chunk = chunk
        self.rpc_timeout = rpc_timeout
        self.retry = retry
        self._lock = threading.Lock()
        self._origin_lock = threading.Lock()
        self._table = LearnedTable(policy)
        self._connected = False
        self._complete = False
        self._error = "not started"
        self._desired: dict[str, Origination] | None = None
        self._originated: dict[str, Origination] = {}
        self._originated_view: Mapping[str, Origination] = MappingProxyType({})
        self._channel: grpc.Channel | None = None
        self._stub: rpc.GobgpApiStub | None = None
        self._add_paths: Any = None
        self._call: Any = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._on_change: Callable[[], None] = lambda: None

    # --- lifecycle ---------------------------------------------------------------------

    def start(self, on_change: Callable[[], None]) -> None:
        """Adopt or start gobgpd and begin watching (module docstring).

        A speaker that cannot be started now is retried in the background; ``view().error``
        says why meanwhile.
        """
        self._on_change = on_change
        try:
            self._connect()
        except (SpeakerError, grpc.RpcError) as exc:
            self._lost(exc)
        self._thread = threading.Thread(target=self._watch_loop, name="gobgp-watch", daemon=True)
        self._thread.start()

    def close(self, *, cleanup: bool) -> None:
        """Stop watching; with ``cleanup`` also stop gobgpd (its peers then withdraw every
        origination at once); without, gobgpd keeps its sessions and announcements."""
        self._stop.set()
        with self._lock:
            call = self._call
        if call is not None:
            call.cancel()
        if self._thread is not None:
            self._thread.join(10)
        if self._channel is not None:
            self._channel.close()
        if cleanup:
            self.supervisor.stop()

    # --- originations ------------------------------------------------------------------

    def sync(self, originations: Mapping[str, Origination]) -> list[str]:
        """Make gobgpd's originations equal to ``originations``; returns the errors.

        An origination with problems is reported and leaves what is announced for its
        address unchanged. While gobgpd is unreachable, the wanted set is kept and applied
        as soon as the watcher has it back.
        """
        valid, errors = self._validate(originations)
        with self._origin_lock:
            for address in originations.keys() - valid.keys():
                if address in self._originated:
                    valid[address] = self._originated[address]
            self._desired = valid
            if self._add_paths is None or not self.connected:
                return [*errors, f"gobgpd not ready ({self.error}); applied once it is"]
            errors += self._push(valid)
        return errors

    def _validate(
        self, originations: Mapping[str, Origination]
    ) -> tuple[dict[str, Origination], list[str]]:
        site = self.settings.site_id
        valid: dict[str, Origination] = {}
        errors: list[str] = []
        for address, o in originations.items():
            if (
                address == o.address
                and o.site_id == site
                and 0 <= o.sequence <= U32
                and codec.packed(address) is not None
                and codec.packed(o.next_hop) is not None
            ):
                valid[address] = o  # the common case, without building messages
                continue
            problems = o.problems()
            if address != o.address:
                problems.append(f"listed under {address!r} but its address is {o.address!r}")
            if o.site_id != site:
                problems.append(
                    f"site_id {o.site_id} is not this router's site ({site}): "
                    "a router originates only its own site's homes"
                )
            errors += [f"origination {address}: {p}" for p in problems]
        return valid, errors

    def _push(self, desired: Mapping[str, Origination]) -> list[str]:
        """Send the difference (caller holds ``_origin_lock``)."""
        withdraw = [a for a in self._originated if a not in desired]
        announce = [o for a, o in desired.items() if self._originated.get(a) != o]
        if not withdraw and not announce:
            return []
        asn = self.settings.asn
        paths = [codec.withdrawal_bytes(a) for a in withdraw]
        paths += [codec.announcement_bytes(o, asn) for o in announce]
        assert self._add_paths is not None and self._stub is not None
        try:
            self._add_paths(
                iter(codec.stream_requests(paths, self.chunk)), timeout=self.rpc_timeout
            )
        except grpc.RpcError as exc:
            try:
                self._set_originated(self._read_originated(self._stub))
            except grpc.RpcError:
                LOG.warning("gobgpd local RIB unreadable after a failed update")
            return [f"gobgpd refused the update of {len(paths)} paths: {_detail(exc)}"]
        for a in withdraw:
            del self._originated[a]
        for o in announce:
            self._originated[o.address] = o
        self._originated_view = MappingProxyType(dict(self._originated))
        return []

    def _read_originated(self, stub: rpc.GobgpApiStub) -> dict[str, Origination]:
        request = api.ListPathRequest(table_type=api.TableType.GLOBAL, family=codec.FAMILY)
        out = {}
        for r in stub.ListPath(request, timeout=self.rpc_timeout):
            for path in r.destination.paths:
                o = codec.decode_local(path, self.settings.asn)
                if o is not None:
                    out[o.address] = o
        return out

    def _set_originated(self, originated: dict[str, Origination]) -> None:
        self._originated = originated
        self._originated_view = MappingProxyType(dict(originated))

    # --- connection --------------------------------------------------------------------

    def _connect(self) -> None:
        daemon = self.supervisor.ensure()
        channel = grpc.insecure_channel(self.supervisor.target)
        stub = rpc.GobgpApiStub(channel)
        try:
            applied = configure.apply(stub, self.settings, timeout=self.rpc_timeout)
        except grpc.RpcError:
            channel.close()
            raise
        with self._origin_lock:
            self._set_originated({} if applied.fresh else self._read_originated(stub))
            old, self._channel, self._stub = self._channel, channel, stub
            # AddPathStream with requests serialized by codec.stream_requests.
            self._add_paths = channel.stream_unary(
                "/apipb.GobgpApi/AddPathStream",
                request_serializer=None,
                response_deserializer=empty_pb2.Empty.FromString,
            )
            with self._lock:
                self._connected, self._error = True, ""
            how = "adopted" if daemon.adopted else "started"
            LOG.info(
                "gobgpd %s (pid %d): %d originations in its RIB%s",
                how,
                daemon.pid,
                len(self._originated),
                ", BGP (re)started" if applied.fresh else "",
            )
            if self._desired is not None:
                for error in self._push(self._desired):
                    LOG.error("re-originating after reconnect: %s", error)
        if old is not None:
            old.close()

    def _lost(self, exc: BaseException) -> None:
        error = f"gobgpd unreachable: {_detail(exc)}"
        with self._lock:
            was = self._connected
            self._connected, self._complete, self._error = False, False, error
            self._table.clear()
            for n in self.settings.neighbors:
                self._table.sessions[n.address] = SessionState(
                    n.address, "unknown", time.time(), n.description, error
                )
        if was:
            LOG.warning("%s", error)
        self._on_change()

    @property
    def connected(self) -> bool:
        """gobgpd's API answers and is configured (``view().connected`` additionally
        waits until its tables have been read)."""
        with self._lock:
            return self._connected

    @property
    def error(self) -> str:
        with self._lock:
            return self._error

    # --- watching ----------------------------------------------------------------------

    def _watch_loop(self) -> None:
        delay = self.retry[0]
        while not self._stop.is_set():
            try:
                if not self.connected:
                    self._connect()
                self._watch_once()
                delay = self.retry[0]
            except (SpeakerError, grpc.RpcError) as exc:
                if self._stop.is_set():
                    return
                self._lost(exc)
                self._stop.wait(delay)
                delay = min(delay * 2, self.retry[1])

    def _watch_once(self) -> None:
        stub = self._stub
        assert stub is not None
        call = stub.WatchEvent(_WATCH)
        with self._lock:
            self._call = call
        if self._stop.is_set():
            call.cancel()
        for event in call:
            if event.HasField("peer"):
                self._on_peer(stub, event.peer)
            else:
                self._on_table(event.table.paths)
        if not self._stop.is_set():
            raise SpeakerError("gobgpd ended the event stream")

    def _on_table(self, paths: Any) -> None:
        decoded = [d for d in map(codec.decode_received, paths) if d is not None]
        if not decoded:
            return
        with self._lock:
            changed = [self._table.apply(d) for d in decoded]
        if any(changed):
            self._on_change()

    def _on_peer(self, stub: rpc.GobgpApiStub, event: Any) -> None:
        kind = event.type
        if kind == api.WatchEventResponse.PeerEvent.END_OF_INIT:
            self._full_read(stub)
        elif kind == api.WatchEventResponse.PeerEvent.STATE:
            self._on_state(event.peer.state)

    def _on_state(self, state: Any) -> None:
        neighbor = state.neighbor_address
        configured = self._neighbors.get(neighbor)
        if configured is None:
            return
        name = _state_name(state.session_state)
        now = time.time()
        with self._lock:
            old = self._table.sessions.get(neighbor)
            if old is not None and old.state == name:
                return
            error = old.last_error if old is not None else ""
            if old is not None and old.state == "established":
                error = (
                    f"session lost after {now - old.since:.0f}s established; "
                    f"gobgpd logs the reason in {self.supervisor.log}"
                )
            self._table.sessions[neighbor] = SessionState(
                neighbor, name, now, configured.description, error
            )
            if state.session_state != ESTABLISHED:
                self._table.drop_neighbor(neighbor)
        self._on_change()

    def _full_read(self, stub: rpc.GobgpApiStub) -> None:
        """Sessions and every established neighbor's Adj-RIB-In, read after registration."""
        sessions = {}
        decoded: list[Decoded] = []
        for r in stub.ListPeer(api.ListPeerRequest(), timeout=self.rpc_timeout):
            s, timers = r.peer.state, r.peer.timers.state
            stamp = timers.uptime if s.session_state == ESTABLISHED else timers.downtime
            neighbor = r.peer.conf.neighbor_address
            sessions[neighbor] = SessionState(
                neighbor,
                _state_name(s.session_state),
                float(stamp.seconds) or time.time(),
                r.peer.conf.description,
            )
            if s.session_state != ESTABLISHED:
                continue
            request = api.ListPathRequest(
                table_type=api.TableType.ADJ_IN, name=neighbor, family=codec.FAMILY
            )
            for lp in stub.ListPath(request, timeout=self.rpc_timeout):
                decoded += filter(None, map(codec.decode_received, lp.destination.paths))
        with self._lock:
            self._table.clear()
            self._table.sessions = {k: v for k, v in sessions.items() if k in self._neighbors}
            for d in decoded:
                self._table.apply(d)
            self._complete = True
        self._on_change()

    # --- view --------------------------------------------------------------------------

    def view(self) -> ExchangeView:
        """The current snapshot (cheap while nothing changed)."""
        with self._lock:
            return ExchangeView(
                paths=self._table.paths(),
                sessions=MappingProxyType(dict(self._table.sessions)),
                originated=self._originated_view,
                refused=self._table.refused(),
                refused_counts=MappingProxyType(dict(self._table.refused_counts)),
                connected=self._connected and self._complete,
                error=self._error or ("" if self._complete else "reading gobgpd's tables"),
            )
