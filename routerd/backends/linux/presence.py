"""On-prem presence on Linux: who holds an address on the capture segment, heard live.

``LinuxPresence`` implements ``routerd.core.presence.PresenceSource``:

* one ``AF_PACKET`` socket per watched interface, with a kernel filter passing only ARP and
  RARP frames this host did not send (``presence_frames``); frames are decoded into
  evidence for the watched addresses only;
* the kernel's neighbour table as a second source: ``NUD_REACHABLE`` notifications for the
  watched interfaces (``presence_netlink``);
* RFC 5227 ARP probes (sender address ``0.0.0.0``) sent on the same socket; answers come back
  through the listener as ``probe-answer``.

One thread reads every socket (``select``) and wakes the engine through ``on_event`` as soon
as a batch of frames yielded evidence: the engine hears an arriving VM within a millisecond
of its gratuitous ARP. Evidence waits in a bounded queue until ``drain``; a full queue, or
frames the kernel dropped for a full socket buffer, make ``lost`` true once so the caller
re-probes what may have been missed.

Nothing this router sends is evidence: the filter drops outgoing frames (proxy-ARP replies,
gratuitous ARPs for captures, probes), and frames whose Ethernet source or ARP sender MAC is
one of this namespace's link MACs (followed through link notifications) or a caller's
ignored MAC (the anycast gateway, a redundant partner) are counted and dropped.
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
from collections import deque
from collections.abc import Callable, Collection

from routerd.backends.linux import netlink_codec as nl
from routerd.backends.linux import presence_frames as pf
from routerd.backends.linux import presence_netlink as pn
from routerd.backends.linux.netlink_socket import SO_RCVBUFFORCE
from routerd.core.errors import DataplaneError
from routerd.core.presence import PresenceEvidence, normalize_mac

LOG = logging.getLogger(__name__)

PACKET_RCVBUF = 8 << 20
"""Receive buffer per packet socket: room for the answers to a 10,000-address probe round."""
QUEUE_LIMIT = 65536
ARPHRD_ETHER = 1
BATCH = 256
"""Frames read from one socket before their evidence is queued and the engine woken."""


def _ip_bytes(address: str) -> bytes:
    try:
        return socket.inet_pton(socket.AF_INET, address)
    except OSError:
        raise ValueError(f"presence address {address!r} is not an IPv4 address") from None


def _mac_bytes(mac: str) -> bytes:
    text = normalize_mac(mac)
    try:
        raw = bytes.fromhex(text.replace(":", ""))
    except ValueError:
        raw = b""
    if len(raw) != 6:
        raise ValueError(f"ignored MAC {mac!r} is not a MAC address (like 02:00:00:28:08:fe)")
    return raw


class _Watch:
    """One watched interface: its socket and what to listen for."""

    def __init__(self, name: str, sock: socket.socket, ifindex: int) -> None:
        self.name = name
        self.sock = sock
        self.ifindex = ifindex
        self.addresses: dict[bytes, str] = {}
        self.ignore: frozenset[bytes] = frozenset()
        self.broken = False


def _open_packet_socket(interface: str) -> tuple[socket.socket, int]:
    op = f"presence listener dev {interface}"
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW | socket.SOCK_CLOEXEC, 0)
    try:
        pf.attach_filter(sock)  # before bind: no unfiltered frame is ever queued
        try:
            sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, PACKET_RCVBUF)
        except OSError:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, PACKET_RCVBUF)
        sock.bind((interface, pf.ETH_P_ALL))
        hatype = sock.getsockname()[3]
        index = socket.if_nametoindex(interface)
    except OSError as exc:
        sock.close()
        raise DataplaneError(op, exc.strerror or str(exc), errno=exc.errno) from exc
    if hatype != ARPHRD_ETHER:
        sock.close()
        raise DataplaneError(
            op,
            "not an Ethernet interface: presence is heard in the segment's ARP; "
            "watch the capture segment's interface",
            retryable=False,
        )
    return sock, index


class LinuxPresence:
    """The presence listener and prober for one network namespace.

    Args:
        clock: the time evidence is stamped with (the tracker's clock).
        queue_limit: evidence kept until ``drain``; more is dropped and counted.
    """

    def __init__(
        self, *, clock: Callable[[], float] = time.monotonic, queue_limit: int = QUEUE_LIMIT
    ) -> None:
        self.clock = clock
        self.queue_limit = queue_limit
        self._lock = threading.Lock()
        self._watches: dict[str, _Watch] = {}
        self._retired: list[socket.socket] = []
        self._own_by_index: dict[int, bytes] = {}
        self._own: frozenset[bytes] = frozenset()
        self._queue: deque[PresenceEvidence] = deque()
        self._lost = False
        self._signalled = False
        self._on_event: Callable[[], None] = lambda: None
        self._nl: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._wake_r, self._wake_w = os.pipe2(os.O_CLOEXEC | os.O_NONBLOCK)
        self._buf = bytearray(2048)
        self._nlbuf = bytearray(1 << 20)
        self.stats = dict.fromkeys(
            (
                "frames",
                "evidence",
                "own-mac",
                "ignored-mac",
                "unwatched",
                "not-presence",
                "queue-drops",
                "kernel-drops",
                "netlink-overruns",
                "socket-errors",
                "probes",
            ),
            0,
        )
        """Counters: frames read, evidence queued, and every reason something was dropped."""

    # -- PresenceSource ----------------------------------------------------------------------

    def start(self, on_event: Callable[[], None]) -> None:
        """Subscribe to link and neighbour notifications, learn this router's MACs, and start
        the reader thread. ``on_event`` is called from that thread when evidence waits."""
        if self._thread is not None:
            raise RuntimeError("presence listener already started")
        self._on_event = on_event
        self._nl = pn.subscribe()
        with self._lock:
            for link in pn.dump_links():
                self._note_link(link)
        self._thread = threading.Thread(target=self._run, name="routerd-presence", daemon=True)
        self._thread.start()

    def watch(
        self, interface: str, addresses: Collection[str], *, ignore_macs: Collection[str] = ()
    ) -> None:
        """Listen on ``interface`` for exactly ``addresses``; never for ``ignore_macs``.

        Idempotent; an empty ``addresses`` stops listening there. A listener whose interface
        went away is reopened.

        Raises:
            ValueError: an address or MAC is malformed (nothing changed).
            DataplaneError: the interface does not exist or cannot be listened on.
        """
        wanted = {_ip_bytes(a): a for a in addresses}
        ignore = frozenset(_mac_bytes(m) for m in ignore_macs)
        with self._lock:
            current = self._watches.get(interface)
        if not wanted:
            if current is not None:
                self._retire(interface)
            return
        if current is None or current.broken:
            sock, ifindex = _open_packet_socket(interface)
            if current is not None:
                self._retire(interface)
            current = _Watch(interface, sock, ifindex)
            with self._lock:
                self._watches[interface] = current
        with self._lock:
            current.addresses, current.ignore = wanted, ignore
        self._poke()

    def drain(self) -> list[PresenceEvidence]:
        """Evidence heard since the last call, oldest first."""
        with self._lock:
            out = list(self._queue)
            self._queue.clear()
            self._signalled = False
        return out

    def lost(self) -> bool:
        """Whether evidence was dropped since the last call (then reset)."""
        with self._lock:
            lost, self._lost = self._lost, False
        return lost

    def probe(self, interface: str, addresses: Collection[str]) -> None:
        """Send one RFC 5227 probe per address on a watched interface, from its current MAC.

        Raises:
            DataplaneError: the interface is not watched, or sending failed.
        """
        with self._lock:
            w = self._watches.get(interface)
        op = f"presence probe dev {interface}"
        if w is None or w.broken:
            raise DataplaneError(op, "not listening on this interface (watch it first)")
        packed = [_ip_bytes(a) for a in addresses]
        sent = 0
        try:
            prefix = pf.probe_prefix(w.sock.getsockname()[4])
            send, pad = w.sock.send, pf.PAD
            for ip in packed:
                send(prefix + ip + pad)
                sent += 1
        except OSError as exc:
            raise DataplaneError(op, exc.strerror or str(exc), errno=exc.errno) from exc
        finally:
            self.stats["probes"] += sent

    def close(self) -> None:
        """Stop the reader thread and close every socket."""
        self._stop.set()
        self._poke()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(5)
        with self._lock:
            socks = [w.sock for w in self._watches.values()] + self._retired
            self._watches.clear()
            self._retired = []
        for s in socks:
            s.close()
        if self._nl is not None:
            self._nl.close()
            self._nl = None
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    # -- the reader thread -------------------------------------------------------------------

    def own_macs(self) -> frozenset[str]:
        """This namespace's link MACs as the listener knows them now."""
        with self._lock:
            return frozenset(m.hex(":") for m in self._own)

    def _poke(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")

    def _retire(self, interface: str) -> None:
        with self._lock:
            w = self._watches.pop(interface, None)
            if w is None:
                return
            if self._thread is not None and self._thread.is_alive():
                self._retired.append(w.sock)  # the reader closes it: it may be selecting on it
                w = None
        if w is None:
            self._poke()
        else:
            w.sock.close()

    def _note_link(self, link: pn.LinkMac) -> None:
        """Under the lock: follow one link's MAC; a deleted watched link breaks its watch."""
        if link.mac:
            self._own_by_index[link.index] = link.mac
        else:
            self._own_by_index.pop(link.index, None)
        self._own = frozenset(self._own_by_index.values())
        if link.deleted:
            for w in self._watches.values():
                if w.ifindex == link.index:
                    w.broken = True
                    self._lost = True

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                with self._lock:
                    retired, self._retired = self._retired, []
                    by_fd = {w.sock.fileno(): w for w in self._watches.values() if not w.broken}
                for s in retired:
                    s.close()
                assert self._nl is not None
                fds = [self._wake_r, self._nl.fileno(), *by_fd]
                ready, _, _ = select.select(fds, [], [])
                if self._wake_r in ready:
                    with contextlib.suppress(BlockingIOError):
                        os.read(self._wake_r, 4096)
                if self._nl.fileno() in ready:
                    self._read_netlink()
                for fd in ready:
                    w = by_fd.get(fd)
                    if w is not None:
                        self._read_frames(w)
                self._signal()
        except Exception:
            LOG.exception("presence listener failed; no presence evidence until restarted")
            with self._lock:
                self._lost = True
            self._signal(force=True)

    def _signal(self, *, force: bool = False) -> None:
        with self._lock:
            wake = (bool(self._queue) or self._lost or force) and not self._signalled
            self._signalled = self._signalled or wake
        if wake:
            try:
                self._on_event()
            except Exception:
                LOG.exception("presence on_event callback failed")

    def _push(self, evidence: PresenceEvidence) -> None:
        """Under the lock."""
        if len(self._queue) >= self.queue_limit:
            self.stats["queue-drops"] += 1
            self._lost = True
            return
        self._queue.append(evidence)
        self.stats["evidence"] += 1

    def _read_frames(self, w: _Watch) -> None:
        """Read up to ``BATCH`` frames, then queue their evidence under one lock.

        The cap keeps the first evidence of a burst (10,000 probe answers) from waiting for
        the whole burst: the engine is woken after each batch, and select comes straight
        back for the rest. What is watched is read without the lock: ``watch`` replaces
        those sets whole.
        """
        buf, view, clock, stats = self._buf, memoryview(self._buf), self.clock, self.stats
        out: list[PresenceEvidence] = []
        for _ in range(BATCH):
            try:
                n = w.sock.recv_into(buf, 0, socket.MSG_DONTWAIT)
            except BlockingIOError:
                break
            except OSError as exc:
                stats["socket-errors"] += 1
                if exc.errno in (errno.ENETDOWN, errno.ENXIO, errno.ENODEV):
                    break  # the link went down: the error is reported once, reading goes on
                raise
            stats["frames"] += 1
            sighting = pf.classify(view[:n])
            if sighting is None:
                stats["not-presence"] += 1
                continue
            evidence = self._evidence(w, sighting, clock())
            if evidence is not None:
                out.append(evidence)
        drops = pf.kernel_drops(w.sock)
        with self._lock:
            for evidence in out:
                self._push(evidence)
            if drops:
                stats["kernel-drops"] += drops
                self._lost = True

    def _evidence(self, w: _Watch, s: pf.Sighting, at: float) -> PresenceEvidence | None:
        """What one decoded frame from ``w`` is worth (None: nothing, counted)."""
        own = self._own
        if s.mac in own or s.source in own:
            self.stats["own-mac"] += 1
            return None
        if s.mac in w.ignore or s.source in w.ignore:
            self.stats["ignored-mac"] += 1
            return None
        address = w.addresses.get(s.ip)
        if address is None:
            if s.kind != "rarp" or s.ip != pf.ZERO_IP:
                self.stats["unwatched"] += 1
                return None
            address = ""  # a RARP names only the MAC: the tracker knows whose it is
        return PresenceEvidence(address, s.kind, s.mac.hex(":"), w.name, at)

    def _read_netlink(self) -> None:
        assert self._nl is not None
        buf = self._nlbuf
        while True:
            try:
                n = self._nl.recv_into(buf, 0, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return
            except OSError as exc:
                if exc.errno != errno.ENOBUFS:
                    raise
                self.stats["netlink-overruns"] += 1
                with self._lock:
                    self._lost = True  # reachable notifications and MAC changes were missed
                self._resync_links()
                continue
            at = self.clock()
            with self._lock:
                for msg in nl.iter_messages(memoryview(buf), n):
                    self._take_netlink(msg, at)

    def _take_netlink(self, msg: nl.Message, at: float) -> None:
        """Under the lock."""
        link = pn.link_mac(msg)
        if link is not None:
            self._note_link(link)
            return
        r = pn.reachable(msg)
        if r is None or r.mac in self._own:
            return
        for w in self._watches.values():
            if w.ifindex == r.ifindex and not w.broken:
                address = w.addresses.get(r.ip)
                if address is None:
                    return
                if r.mac in w.ignore:
                    self.stats["ignored-mac"] += 1
                    return
                self._push(PresenceEvidence(address, "neighbour", r.mac.hex(":"), w.name, at))
                return

    def _resync_links(self) -> None:
        links = pn.dump_links()
        with self._lock:
            self._own_by_index.clear()
            for link in links:
                self._note_link(link)
            alive = {link.index for link in links}
            for w in self._watches.values():
                w.broken = w.broken or w.ifindex not in alive
