"""Drift detection: netlink event subscriptions in one background thread.

The thread listens to rtnetlink (links, IPv4 addresses, IPv4 routes, neighbours) and to
``NFNLGRP_NFTABLES``, and calls ``on_change`` once per burst (``debounce``) when something
routerd cares about changed, so the engine reacts within a second instead of at the next
periodic resync. What counts (``Interest``): routes carrying routerd's protocol or with a
destination routerd manages, addresses routerd adds or must keep absent, links by name,
proxy-neighbour events, and any nft transaction touching ``routerd_mss``.

Events caused by routerd itself are not drift, and are told apart without guessing:
rtnetlink stamps each notification with the port id of the socket whose request caused it
(our command socket's is known), and every nf_tables transaction ends with ``NEWGEN``
carrying the committing PID. Correctness comes first: a receive-buffer overrun (lost events)
always triggers a pass.

Every rtnetlink notification is also handed to ``feed`` in the order the kernel sent it,
routerd's own echoes included, except those of its route writes: with ``drop_own_routes``
the kernel drops them before they are queued (``echo_filter.py``; 10,000 datagrams
on a cold apply) and the backend patches its cache from the acknowledged writes (inside
``held``). Every nf_tables transaction touching the table goes to ``nft_touched``: that is
what keeps the observation cache (``cache.py``) exact. ``sync``
drains both sockets from the caller's thread, so an observation made right after it has
seen every change the kernel reported before; ``lost`` is called when notifications were
dropped (overrun) or the sockets failed, after which the cache must not be trusted.

The kernel sends no notification for proxy-neighbour changes, so ``tick`` (called every
``tick_interval`` from this thread) lets the backend poll for those and supervise
wireguard-go; it returns True when a pass is needed.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import select
import socket
import threading
import time
from collections.abc import Callable, Container, Iterator, Set
from dataclasses import dataclass, field

from routerd.backends.linux import netlink_codec as nl
from routerd.backends.linux.echo_filter import attach_filter, own_route_echo_filter
from routerd.backends.linux.netlink_socket import (
    NETLINK_ADD_MEMBERSHIP,
    RCVBUF,
    SO_RCVBUFFORCE,
    SOL_NETLINK,
)
from routerd.core.desired import MSS_TABLE

LOG = logging.getLogger(__name__)

RTMGRP_LINK, RTMGRP_NEIGH, RTMGRP_IPV4_IFADDR, RTMGRP_IPV4_ROUTE = 0x1, 0x4, 0x10, 0x40
NETLINK_NETFILTER = 12
NFNLGRP_NFTABLES = 7
NFNL_SUBSYS_NFTABLES = 10
NFT_MSG_NEWGEN = 15
NFTA_GEN_PROC_PID = 2
NFGENMSG_SIZE = 4
HDR = nl.NLMSGHDR.size
RTN_BROADCAST = 3


@dataclass(frozen=True)
class Interest:
    """What the watcher reports on (replaced wholesale by the backend after each observe)."""

    proto: int = 0
    route_dsts: Container[str] = frozenset()
    addresses: Container[str] = frozenset()
    links: Container[str] = field(default_factory=frozenset)


class LazySet:
    """A set built on its first membership test, from a snapshot taken by the caller.

    Interest sets span the whole desired state (10,000 route destinations); building them on
    every observe cost ~10 ms per pass, while only a foreign route, address or link event
    ever asks. Built in whichever thread asks first, under the watcher's read lock.
    """

    def __init__(self, build: Callable[[], Set[str]]) -> None:
        self._build: Callable[[], Set[str]] | None = build
        self._items: Set[str] = frozenset()

    def __contains__(self, item: object) -> bool:
        if self._build is not None:
            self._items, self._build = self._build(), None
        return item in self._items


def route_event_matters(body: bytes, interest: Interest) -> bool:
    family, plen, _, _, _, proto, _, rtype, _ = nl.RTMSG.unpack_from(body, 0)
    if family != nl.AF_INET:
        return False
    if proto == interest.proto:
        return True
    if rtype in (nl.RTN_LOCAL, RTN_BROADCAST):
        return False  # follows an address change, which the address events report
    attrs = nl.parse_attrs(body, nl.RTMSG.size)
    dst = nl.ip4(attrs[nl.RTA_DST]) if nl.RTA_DST in attrs else "0.0.0.0"
    return f"{dst}/{plen}" in interest.route_dsts


def rtnl_event_matters(msg: nl.Message, interest: Interest) -> bool:
    """Whether one rtnetlink notification concerns routerd's objects."""
    if msg.type in (nl.RTM_NEWROUTE, nl.RTM_DELROUTE):
        return route_event_matters(msg.body, interest)
    if msg.type in (nl.RTM_NEWADDR, nl.RTM_DELADDR):
        family = msg.body[0]
        attrs = nl.parse_attrs(msg.body, nl.IFADDRMSG.size)
        raw = attrs.get(nl.IFA_LOCAL) or attrs.get(nl.IFA_ADDRESS)
        return family == nl.AF_INET and raw is not None and nl.ip4(raw) in interest.addresses
    if msg.type in (nl.RTM_NEWNEIGH, nl.RTM_DELNEIGH):
        _, _, _, flags, _ = nl.NDMSG.unpack_from(msg.body, 0)
        return bool(flags & nl.NTF_PROXY)  # ARP cache churn is not drift
    if msg.type in (nl.RTM_NEWLINK, nl.RTM_DELLINK):
        name = nl.parse_attrs(msg.body, nl.IFINFOMSG.size).get(nl.IFLA_IFNAME)
        return name is not None and nl.cstr(name) in interest.links
    return False


class NftTransactionFilter:
    """Groups nf_tables notifications by transaction and keeps foreign ones touching ours.

    ``on_touched`` is called for every transaction that touched the table, ours included.
    """

    def __init__(
        self,
        table: str = MSS_TABLE,
        pid: int | None = None,
        on_touched: Callable[[], None] | None = None,
    ) -> None:
        self.table = table.encode()
        self.pid = os.getpid() if pid is None else pid
        self.on_touched = on_touched
        self._touched = False
        self.own = 0
        """Transactions committed by this process (dropped as echoes)."""

    def feed(self, msg: nl.Message) -> bool:
        """Returns True when a transaction by another process touched the table."""
        if msg.type >> 8 != NFNL_SUBSYS_NFTABLES:
            return False
        kind = msg.type & 0xFF
        attrs = nl.parse_attrs(msg.body, NFGENMSG_SIZE)
        if kind == NFT_MSG_NEWGEN:
            raw = attrs.get(NFTA_GEN_PROC_PID)
            by_us = raw is not None and int.from_bytes(raw[:4], "big") == self.pid
            touched, self._touched = self._touched, False
            self.own += by_us
            if touched and self.on_touched is not None:
                self.on_touched()
            return touched and not by_us
        # The table name is attribute 1 for tables, chains, rules, sets and elements.
        if attrs.get(1, b"").rstrip(b"\0") == self.table:
            self._touched = True
        return False


class EventWatcher:
    """The background thread; ``start``/``stop`` it, feed it ``Interest``."""

    def __init__(
        self,
        on_change: Callable[[], None],
        *,
        own_portid: int,
        tick: Callable[[], bool] | None = None,
        debounce: float = 0.1,
        tick_interval: float = 0.5,
        feed: Callable[[nl.Message], None] | None = None,
        nft_touched: Callable[[], None] | None = None,
        lost: Callable[[], None] | None = None,
        drop_own_routes: bool = False,
    ) -> None:
        """``drop_own_routes``: the kernel drops the echoes of ``own_portid``'s route writes
        (``own_route_echo_filter``); the owner then accounts for them itself, inside
        ``held``."""
        self.on_change = on_change
        self.own_portid = own_portid
        self.tick = tick
        self.debounce = debounce
        self.tick_interval = tick_interval
        self.feed = feed
        self.lost = lost
        self.interest = Interest()
        self._nft = NftTransactionFilter(on_touched=nft_touched)
        self._buf = bytearray(1 << 20)
        self.stats = {"own": 0, "relevant": 0, "notified": 0, "overruns": 0}
        """Counters: own echoes (not drift), relevant events, on_change calls, overruns."""
        self.failed = False
        """The sockets failed: no event will arrive any more (the cache must not be used)."""
        self._read_lock = threading.RLock()
        self._pending = False
        self._wake_r, self._wake_w = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
        self._stop = threading.Event()
        groups = RTMGRP_LINK | RTMGRP_NEIGH | RTMGRP_IPV4_IFADDR | RTMGRP_IPV4_ROUTE
        self._rt = _subscribe(socket.NETLINK_ROUTE, groups, ())
        self._nf = _subscribe(NETLINK_NETFILTER, 0, (NFNLGRP_NFTABLES,))
        self.drops_own_routes = False
        if drop_own_routes:
            try:
                attach_filter(self._rt, own_route_echo_filter(own_portid))
                self.drops_own_routes = True
            except OSError as exc:  # no socket filters: the echoes are read and fed
                LOG.warning("netlink socket filter refused (%s); reading own route echoes", exc)
        self._thread = threading.Thread(
            target=self._run, name="routerd-netlink-events", daemon=True
        )

    @property
    def nft_own(self) -> int:
        return self._nft.own

    @property
    def healthy(self) -> bool:
        """Whether every notification so far was seen and more will be (thread running)."""
        return self._thread.is_alive() and not self.failed and not self._stop.is_set()

    def sync(self) -> None:
        """Process every notification already queued, from the calling thread.

        The kernel queues a notification before it answers the request that caused it, so
        after ``sync`` the fed cache reflects every change made before the call. Drift found
        here still reaches ``on_change`` through the thread's debounce.

        Raises:
            OSError: a socket failed (``lost`` has been called).
        """
        if self._drain([self._rt.fileno(), self._nf.fileno()]):
            self._pending = True
            os.write(self._wake_w, b"x")

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Feed what is queued, then keep the thread from feeding until the block ends.

        With own route echoes dropped, the owner patches its cache from its acknowledged
        writes inside this block: a foreign notification queued while it writes is fed
        after the patch, in the order the kernel made them (one queued before the block
        was fed before it). A failing socket is reported through ``lost``, as in ``sync``.
        """
        with self._read_lock:
            with contextlib.suppress(OSError):
                self.sync()
            yield

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        os.write(self._wake_w, b"x")
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(5)
        for s in (self._rt, self._nf):
            s.close()
        os.close(self._wake_r)
        os.close(self._wake_w)

    def _run(self) -> None:
        try:
            self._loop()
        except OSError:
            LOG.exception("netlink event sockets failed; observing without the cache")
            self._notify()

    def _loop(self) -> None:
        due: float | None = None
        next_tick = time.monotonic() + self.tick_interval
        while not self._stop.is_set():
            now = time.monotonic()
            timeout = next_tick - now if due is None else min(due, next_tick) - now
            fds = [self._rt.fileno(), self._nf.fileno(), self._wake_r]
            ready, _, _ = select.select(fds, [], [], max(0.0, timeout))
            if self._wake_r in ready:
                with contextlib.suppress(BlockingIOError):
                    os.read(self._wake_r, 4096)
            changed = self._drain(ready)
            if self._pending:
                self._pending, changed = False, True
            now = time.monotonic()
            if now >= next_tick:
                next_tick = now + self.tick_interval
                changed = self._run_tick() or changed
            if changed and due is None:
                due = now + self.debounce
            if due is not None and now >= due:
                due = None
                self._notify()

    def _drain(self, ready: list[int]) -> bool:
        changed = False
        with self._read_lock:
            try:
                if self._rt.fileno() in ready:
                    changed = self._read(self._rt, self._rtnl_matters)
                if self._nf.fileno() in ready:
                    changed = self._read(self._nf, self._nft.feed) or changed
            except OSError:
                self.failed = True
                self._lost()
                raise
        return changed

    def _lost(self) -> None:
        if self.lost is not None:
            self.lost()

    def _rtnl_matters(self, msg: nl.Message) -> bool:
        relevant = rtnl_event_matters(msg, self.interest)
        self.stats["relevant"] += relevant
        return relevant

    def _read(self, sock: socket.socket, matters: Callable[[nl.Message], bool]) -> bool:
        """Drain a socket: every message to ``feed``, the foreign ones to ``matters``.

        A cold apply of 10,000 claims echoes 10,000 route notifications, so this loop
        reads into one reusable buffer instead of allocating per datagram.
        """
        changed = False
        buf, view = self._buf, memoryview(self._buf)
        while True:
            try:
                n = sock.recv_into(buf, 0, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return changed
            except OSError as exc:
                if exc.errno != errno.ENOBUFS:
                    raise
                LOG.debug("netlink event overrun; asking for a full pass and a full read")
                self.stats["overruns"] += 1
                self._lost()
                changed = True
                continue
            off = 0
            feed = self.feed if sock is self._rt else None
            while off + HDR <= n:
                size, kind, flags, seq, pid = nl.NLMSGHDR.unpack_from(buf, off)
                if size < HDR or off + size > n:
                    break
                msg = nl.Message(kind, flags, seq, pid, bytes(view[off + HDR : off + size]))
                if feed is not None:
                    feed(msg)
                if pid and pid == self.own_portid and sock is self._rt:
                    self.stats["own"] += 1
                else:
                    changed = matters(msg) or changed
                off += (size + 3) & ~3

    def _run_tick(self) -> bool:
        if self.tick is None:
            return False
        try:
            return self.tick()
        except Exception:
            LOG.exception("backend tick failed")
            return False

    def _notify(self) -> None:
        self.stats["notified"] += 1
        try:
            self.on_change()
        except Exception:
            LOG.exception("on_change callback failed")


def _subscribe(protocol: int, groups: int, memberships: tuple[int, ...]) -> socket.socket:
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW | socket.SOCK_CLOEXEC, protocol)
    try:
        s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, RCVBUF)
    except OSError:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
    s.bind((0, groups))
    for group in memberships:
        s.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, group)
    return s
