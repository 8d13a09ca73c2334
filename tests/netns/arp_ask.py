"""One ARP request, and who answers it: run inside a NetnsWorker (``run_in_netns``).

``sweep`` (``routerd.doctor.arp``) tells who answers for many addresses at once; this asks
for one address with one broadcast request and reports the first answer and how long it
took, which is what "capture switched on answers at once" needs (no retry hides a miss).
"""

from __future__ import annotations

import select
import socket
import time

from routerd.doctor.arp import ETH_P_ARP, parse_reply, request_frame


def first_reply(ifname: str, target: str, source: str, timeout: float = 1.0) -> tuple[str, float]:
    """Send one broadcast "who has ``target``?" on ``ifname``; wait for the answer.

    Args:
        ifname: the interface to ask on (this namespace's).
        target: the address asked for.
        source: the sender address the request carries.
        timeout: how long to wait for an answer.

    Returns:
        (MAC that answered, "" when nobody did within ``timeout``; seconds until it did).
    """
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP)) as sock:
        sock.bind((ifname, ETH_P_ARP))
        mac = sock.getsockname()[4]
        start = time.monotonic()
        sock.send(request_frame(mac, source, target))
        while (left := start + timeout - time.monotonic()) > 0:
            if not select.select([sock], [], [], left)[0]:
                break
            frame = sock.recv(2048)
            got = parse_reply(frame)
            if got is not None and got[0] == target:
                return got[1], time.monotonic() - start
    return "", timeout
