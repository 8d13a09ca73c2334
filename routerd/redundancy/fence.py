"""The kernel-side fence of a router pair: ARP answers only while this router is alive.

A router whose processes stop (SIGSTOP of routerd and keepalived, a wedged host, both
killed) keeps its kernel state: ``proxy_arp`` on, the virtual address on the interface. Its
kernel would go on answering ARP for every captured address and the virtual address after
the partner took over, and the segment would see two answers for each. Nothing in user space
on that router can act, so the fence lives in the kernel: an nftables ``netdev`` table on
the VRRP interface's egress drops ARP replies once a *lease* expired, except for the
router's own addresses (which the partner needs to reach it).

The lease (a set element with a timeout of 2.5 advert intervals, like the silence rule's)
is renewed by two signs of life, either suffices:

* every VRRP advert this router sends (keepalived is master and running);
* a heartbeat frame routerd sends every half interval (routerd is running). It carries a
  local experimental EtherType, renews the lease on egress and is dropped there: it never
  reaches the wire.

So killing routerd alone changes nothing (keepalived's adverts renew it), a hung keepalived
is left to the advert watchdog while routerd lives, and a router where both stopped stops
answering after 0.25 s at 0.1 s adverts, before the partner (after 3 intervals and its skew)
takes over and announces. A standby answers only for its own addresses anyway.

The table is replaced atomically, carries routerd's ownership marker, stays in place
across a routerd restart (keepalived keeps renewing it) and is removed with ``cleanup``.
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import socket
import struct
import threading
from collections.abc import Iterable
from typing import Any

from routerd.backends.linux.addresses import dump
from routerd.backends.linux.netlink_socket import NetlinkSocket
from routerd.core.errors import DataplaneError
from routerd.core.redundancy import PairPlan

LOG = logging.getLogger(__name__)

TABLE = "routerd_fence"
OWNER_MARK = "routerd.owner=routerd"
HEARTBEAT_ETHERTYPE = 0x88B5  # IEEE 802 local experimental EtherType 1
LEASE_ADVERTS = 2.5


def lease_seconds(plan: PairPlan) -> float:
    """How long the kernel answers after the last sign of life."""
    return LEASE_ADVERTS * plan.advert_interval


def render(plan: PairPlan, own: Iterable[str]) -> str:
    """The fence table for ``plan`` (replacing any earlier one in the same transaction).

    Args:
        plan: the pair (its VRRP interface and advert interval).
        own: this router's own IPv4 addresses on that interface (always answered).

    Returns:
        nft input text.
    """
    lease_ms = max(10, round(lease_seconds(plan) * 1000))
    mine = sorted(set(own), key=ipaddress.IPv4Address)
    elements = f" elements = {{ {', '.join(mine)} }};" if mine else ""
    return "\n".join(
        [
            f"table netdev {TABLE}",
            f"delete table netdev {TABLE}",
            f"table netdev {TABLE} {{",
            f'  comment "{OWNER_MARK} fence of {plan.ref}: ARP replies only while alive"',
            f"  set alive {{ typeof meta oif; flags dynamic,timeout; timeout {lease_ms}ms; }}",
            f"  set own {{ type ipv4_addr;{elements} }}",
            "  chain egress {",
            f'    type filter hook egress device "{plan.interface}" priority filter; '
            "policy accept;",
            f"    ether type {HEARTBEAT_ETHERTYPE:#06x} update @alive {{ meta oif }} drop",
            "    ip protocol vrrp update @alive { meta oif }",
            "    arp operation reply arp saddr ip @own accept",
            "    arp operation reply meta oif != @alive counter drop",
            "  }",
            "}",
            "",
        ]
    )


def own_addresses(ifname: str, exclude: Iterable[str]) -> list[str]:
    """IPv4 addresses on ``ifname`` that are not virtual (this router's own).

    Returns:
        Bare addresses; empty when the interface is missing.
    """
    try:
        index = socket.if_nametoindex(ifname)
    except OSError:
        return []
    sock = NetlinkSocket()
    try:
        entries = dump(sock)
    finally:
        sock.close()
    skip = set(exclude)
    return [e.address for e in entries if e.ifindex == index and e.address not in skip]


class Fence:
    """Install the fence table for ``plan`` and send the heartbeat while running."""

    def __init__(self, plan: PairPlan) -> None:
        self.plan = plan
        self._nft: Any = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._sock: socket.socket | None = None

    def _cmd(self, text: str) -> tuple[int, str]:
        if self._nft is None:
            import nftables  # the ctypes binding loads libnftables on first use

            self._nft = nftables.Nftables()
        rc, _out, err = self._nft.cmd(text)
        return int(rc), str(err)

    def install(self) -> None:
        """Write the table (atomically replacing an earlier one).

        Raises:
            DataplaneError: nft refused it (an old kernel without the egress hook, say).
        """
        virtual = [a.ip for a in self.plan.addresses]
        text = render(self.plan, own_addresses(self.plan.interface, virtual))
        rc, err = self._cmd(text)
        if rc != 0:
            raise DataplaneError(f"nft table netdev {TABLE}", err.strip(), retryable=True)
        LOG.info(
            "pair fence on %s: ARP replies stop %.0f ms after this router's last sign of life",
            self.plan.interface,
            lease_seconds(self.plan) * 1000,
        )

    def start(self) -> None:
        """Install the table and beat every half advert interval on a thread."""
        self.install()
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        try:
            sock.bind((self.plan.interface, 0))
        except OSError:
            sock.close()
            raise
        self._sock = sock
        mac = sock.getsockname()[4]
        frame = mac + mac + struct.pack("!H", HEARTBEAT_ETHERTYPE) + b"routerd-alive".ljust(46)
        self._thread = threading.Thread(
            target=self._beat, args=(frame,), name="pair-fence", daemon=True
        )
        self._thread.start()

    def _beat(self, frame: bytes) -> None:
        period = self.plan.advert_interval / 2
        failed = False
        while not self._stop.wait(period):
            try:
                assert self._sock is not None
                self._sock.send(frame)
                failed = False
            except OSError as exc:  # the interface went away: keepalived is in FAULT then
                if exc.errno == errno.ENOBUFS:  # our egress rule renewed the lease and
                    failed = False  # dropped the frame, as it should: the send says so
                    continue
                if not failed:
                    LOG.warning("pair fence heartbeat on %s failed: %s", self.plan.interface, exc)
                failed = True

    def close(self, *, cleanup: bool = False) -> None:
        """Stop the heartbeat; with ``cleanup`` also remove the table."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
        if self._sock is not None:
            self._sock.close()
        if cleanup:
            rc, err = self._cmd(f"delete table netdev {TABLE}")
            if rc != 0 and "No such file" not in err:
                LOG.error("removing the pair fence failed: %s", err.strip())
        self._nft = None
