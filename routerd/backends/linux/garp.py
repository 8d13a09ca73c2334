"""Gratuitous ARP for proxy-ARP captures, sent on a raw ``AF_PACKET`` socket.

When proxy-ARP capture of an address starts, neighbours on the LAN may still cache the
address's old owner; when the capture interface's MAC changes (a bridge without a fixed
address, ``announce.py``), they cache our old MAC. One ARP request and one ARP reply, both
announcing ``address is-at <our MAC>`` to the broadcast address, update them (requests are
what ``arping -U`` sends; some stacks only learn from replies). Address mobility also tells
one host (a VM that just arrived) about addresses it may hold stale entries for, with one
request unicast to it. Sending from Python avoids a process per announcement; nothing secret
is involved either way.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Sequence

from routerd.core.errors import DataplaneError

ETH_P_ARP = 0x0806
BROADCAST = b"\xff" * 6
_ARP = struct.Struct("!HHBBH6s4s6s4s")
_ARP_HEAD = struct.Struct("!HHBBH")
"""``_ARP`` up to the sender's hardware address."""
NO_MAC = b"\0" * 6


def garp_frames(mac: bytes, address: str) -> list[bytes]:
    """The request and reply frames announcing ``address`` at ``mac``."""
    ip = socket.inet_aton(address)
    eth = BROADCAST + mac + struct.pack("!H", ETH_P_ARP)
    request = _ARP.pack(1, 0x0800, 6, 4, 1, mac, ip, b"\0" * 6, ip)
    reply = _ARP.pack(1, 0x0800, 6, 4, 2, mac, ip, BROADCAST, ip)
    return [eth + request, eth + reply]


def garp_templates(mac: bytes) -> tuple[bytes, bytes]:
    """The request and reply frames of ``garp_frames`` up to the announced address: the
    rest is ``ip + zeros + ip`` (request) and ``ip + BROADCAST + ip`` (reply), so a
    device's announcements of many addresses build the headers once."""
    eth = BROADCAST + mac + struct.pack("!H", ETH_P_ARP)
    request = eth + _ARP_HEAD.pack(1, 0x0800, 6, 4, 1) + mac
    reply = eth + _ARP_HEAD.pack(1, 0x0800, 6, 4, 2) + mac
    return request, reply


def send_garp(address: str, dev: str) -> None:
    """Announce ``address`` on ``dev``.

    Raises:
        DataplaneError: the device is missing or has no Ethernet address.
    """
    send_many([address], dev)


def _mac(text: str) -> bytes:
    raw = bytes.fromhex(text.replace(":", "").replace("-", ""))
    if len(raw) != 6:
        raise ValueError(f"{text!r} is not a MAC address")
    return raw


def send_many(addresses: Sequence[str], dev: str, *, to: str = "") -> int:
    """Announce every address on ``dev`` with the device's current MAC, on one socket.

    Args:
        addresses: bare IPv4 addresses.
        dev: the device whose MAC the announcements carry.
        to: a host's MAC: one gratuitous ARP request per address, unicast to that host
            only (its neighbour entries are updated; nobody else hears it). "" broadcasts
            a request and a reply per address.

    Returns:
        The number of addresses announced.

    Raises:
        DataplaneError: the device is missing or has no Ethernet address, or ``to`` is not
            a MAC.
    """
    more = " ..." if len(addresses) > 3 else ""
    op = f"gratuitous ARP {', '.join(addresses[:3])}{more} dev {dev}" + (f" to {to}" if to else "")
    try:
        dst = _mac(to) if to else b""
    except ValueError as exc:
        raise DataplaneError(op, str(exc), retryable=False) from exc
    try:
        with socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP)) as s:
            s.bind((dev, ETH_P_ARP))
            mac = s.getsockname()[4]
            if len(mac) != 6:
                raise DataplaneError(op, "device has no Ethernet address", retryable=False)
            request, reply = garp_templates(mac)
            unicast = dst + request[6:]
            aton, send = socket.inet_aton, s.send
            for address in addresses:
                ip = aton(address)
                if dst:
                    send(unicast + ip + NO_MAC + ip)
                    continue
                send(request + ip + NO_MAC + ip)
                send(reply + ip + BROADCAST + ip)
    except OSError as exc:
        raise DataplaneError(op, exc.strerror or str(exc), errno=exc.errno) from exc
    return len(addresses)
