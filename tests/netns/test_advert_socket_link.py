"""The VRRP advert watcher's socket survives its interface going down and up.

routerd keeps the packet socket it reads adverts from when a read fails with ENETDOWN
(the interface went down: a cut link, an operator's ``ip link set down``). That is only
right if the kernel keeps such a socket bound and delivers again once the interface is
up; if it did not, a router whose link came back would be blind to its partner's adverts
and, after a pause, could not see the partner was master meanwhile. This proves the
kernel's side with the real ``AdvertSocket``: adverts before, ENETDOWN once, adverts after.
"""

from __future__ import annotations

import errno
import socket
import struct
import time
from typing import Any

from tests.support.netns import veth
from tests.support.wait import wait_until


def open_watch(ifname: str) -> None:
    from routerd.redundancy.adverts import AdvertSocket
    from tests.support.netns import STATE

    STATE["adverts"] = AdvertSocket(ifname)


def read_watch() -> tuple[list[int], int]:
    """(VRIDs of the adverts waiting, errno of a failed read or 0)."""
    from tests.support.netns import STATE

    try:
        return [a.vrid for a in STATE["adverts"].read()], 0
    except OSError as exc:
        return [], exc.errno or -1


def send_advert(dst: str, vrid: int) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, 112)
    body = struct.pack("!BBBBH", 0x31, vrid, 100, 0, 10) + b"\0\0"
    sock.sendto(body, (dst, 0))
    sock.close()


def _collect(w: Any, want: int) -> str | None:
    vrids, err = w.call(read_watch)
    return None if want in vrids else f"vrids {vrids}, errno {err}"


def test_advert_socket_delivers_again_after_down_and_up(lab: Any) -> None:
    a, b = lab.netns("a"), lab.netns("b")
    veth(a, "eth0", b, "eth0")
    a.ip("addr", "add", "10.40.9.1/24", "dev", "eth0")
    b.ip("addr", "add", "10.40.9.2/24", "dev", "eth0")
    wa, wb = lab.worker(a), lab.worker(b)
    wa.call(open_watch, "eth0")
    wb.call(send_advert, "10.40.9.1", 7)
    wait_until(lambda: _collect(wa, 7), timeout=5, what="an advert before")
    a.ip("link", "set", "eth0", "down")
    time.sleep(0.1)
    errors = {wa.call(read_watch)[1] for _ in range(3)}
    assert errno.ENETDOWN in errors, errors
    a.ip("link", "set", "eth0", "up")
    a.ip("addr", "replace", "10.40.9.1/24", "dev", "eth0")

    def again() -> str | None:
        wb.call(send_advert, "10.40.9.1", 9)
        return _collect(wa, 9)

    wait_until(again, timeout=10, interval=0.2, what="an advert on the same socket after up")
