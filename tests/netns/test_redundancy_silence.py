"""A master whose adverts cannot leave is not hung (the kernel holds them for ARP).

What each test proves:
* ``adverts_held`` follows the kernel: adverts wait while no peer's next hop (the peer, or
  its gateway) is resolved, and flow once one is (any state but incomplete or failed);
* a master whose partner has left the segment keeps its keepalived and its address, though
  none of its adverts reaches the wire; once the partner is back, a hung keepalived is
  still found (the silence rule was excused, not switched off);
* a routerd that was itself held up past the silence deadline judges by the silence rule
  what it finds waiting, though the partner's adverts are waiting too;
* ``drop_held_adverts`` drops what the kernel queued for a peer while the link was down,
  which would otherwise reach it once the link is back (the control case shows it does),
  and leaves resolved and static neighbour entries alone.
"""

from __future__ import annotations

import os
import signal
import socket
import time

import pytest

from routerd.redundancy.silence import adverts_held, drop_held_adverts
from tests.netns import pair as pr
from tests.netns import vrrp_host as vh
from tests.support.netns import veth
from tests.support.wait import wait_until

pytestmark = [pytest.mark.netns]

MAC = "02:00:00:00:00:02"


def test_adverts_held_follows_the_neighbour_state(lab):
    a, b = lab.netns("a"), lab.netns("b")
    veth(a, "x0", b, "x1")
    a.ip("addr", "add", "10.41.0.1/24", "dev", "x0")
    a.ip("route", "add", "10.42.0.0/24", "via", "10.41.0.254")
    w = lab.worker(a)

    def held(*peers: str) -> bool:
        result: bool = w.call(adverts_held, list(peers))
        return result

    def neigh(ip: str, state: str) -> None:
        a.ip("neigh", "replace", ip, "lladdr", MAC, "dev", "x0", "nud", state)

    assert held("10.41.0.2")  # never resolved: no entry
    for state, waits in [
        ("reachable", False),
        ("stale", False),  # sent, and re-confirmed on the way
        ("probe", False),
        ("incomplete", True),
        ("failed", True),
    ]:
        neigh("10.41.0.2", state)
        assert held("10.41.0.2") is waits, state
    assert held("10.42.0.9")  # behind a gateway that is not resolved
    neigh("10.41.0.254", "reachable")
    assert not held("10.42.0.9")
    assert held("10.99.0.1")  # no route at all
    assert not held("10.99.0.1", "10.42.0.9")  # one peer that can receive is enough
    assert not held()  # no peers: nothing to explain


PORT = 40112
_inbox: list[socket.socket] = []


def _listen(address: str) -> None:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((address, PORT))
    _inbox.append(s)


def _received_until(last: bytes, timeout: float) -> list[bytes]:
    """Datagrams received, in order, up to and including ``last``."""
    s = _inbox[0]
    s.settimeout(timeout)
    got = []
    while not got or got[-1] != last:
        got.append(s.recv(64))
    return got


def _send(address: str, payload: bytes) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(payload, (address, PORT))


@pytest.mark.parametrize("drop", [True, False])
def test_drop_held_adverts_drops_what_waited_for_the_link(lab, drop):
    a, b = lab.netns("a"), lab.netns("b")
    veth(a, "x0", b, "x1")
    a.ip("addr", "add", "10.41.0.1/24", "dev", "x0")
    b.ip("addr", "add", "10.41.0.2/24", "dev", "x1")
    wa, wb = lab.worker(a), lab.worker(b)
    wb.call(_listen, "10.41.0.2")
    b.ip("link", "set", "x1", "down")  # a's carrier goes: the peer's entry is evicted
    wa.call(_send, "10.41.0.2", b"old")  # queued in a new, incomplete entry
    assert wa.call(adverts_held, ["10.41.0.2"])
    if drop:
        assert wa.call(drop_held_adverts, ["10.41.0.2", "10.41.0.3"]) == ["10.41.0.2"]
        assert wa.call(drop_held_adverts, ["10.41.0.2"]) == []  # nothing held any more
    b.ip("link", "set", "x1", "up")
    wa.call(_send, "10.41.0.2", b"new")
    got = wb.call(_received_until, b"new", 5.0)
    assert got == ([b"new"] if drop else [b"old", b"new"])


def test_drop_held_adverts_leaves_resolved_and_static_entries(lab):
    a, b = lab.netns("a"), lab.netns("b")
    veth(a, "x0", b, "x1")
    a.ip("addr", "add", "10.41.0.1/24", "dev", "x0")
    w = lab.worker(a)
    for ip, state in [
        ("10.41.0.2", "reachable"),
        ("10.41.0.3", "permanent"),
        ("10.41.0.4", "stale"),
    ]:
        a.ip("neigh", "replace", ip, "lladdr", MAC, "dev", "x0", "nud", state)
    assert w.call(drop_held_adverts, ["10.41.0.2", "10.41.0.3", "10.41.0.4", "10.99.0.1"]) == []
    shown = a.ip("-4", "neigh", "show", "dev", "x0")
    assert all(ip in shown for ip in ("10.41.0.2", "10.41.0.3", "10.41.0.4")), shown
    assert w.call(drop_held_adverts, []) == []


def _log(r: pr.Router) -> str:
    return "".join(p.read_text() for p in sorted(r.log.parent.glob(f"{r.log.stem}-*.log")))


@pytest.mark.slow
def test_a_partner_off_the_segment_leaves_the_master_alone(lab, tmp_path):
    pair = pr.up(lab, tmp_path)
    ra, rb = pair.ra, pair.rb
    pids = ra.keepalived_pids()
    pair.sw.ip("link", "set", rb.port, "down")  # the partner leaves the segment
    ra.ns.ip("neigh", "flush", "dev", "eth0")  # and ra forgot its MAC: adverts wait for ARP
    time.sleep(1.5)  # six silence deadlines
    assert ra.keepalived_pids() == pids
    assert ra.role() == "active" and ra.has_vip()
    assert "the kernel holds them: no peer answers ARP (10.40.8.3)" in _log(ra)

    pair.sw.ip("link", "set", rb.port, "up")
    rb.wait_role("standby")

    def adverts_back() -> str | None:
        return None if "adverts are on the wire again" in _log(ra) else "still held"

    wait_until(adverts_back, timeout=10, interval=0.05, what="ra's adverts on the wire")
    assert ra.keepalived_pids() == pids
    ra.stop_keepalived()  # hung now: found as before, and before the partner takes over
    ra.wait_role("fault")
    assert "keepalived stopped answering (master, but ours sent no advert" in ra.call(vh.role)[1]
    rb.wait_role("active")


def test_a_late_routerd_still_judges_a_due_silence_first(lab, tmp_path):
    pair = pr.up(lab, tmp_path)
    ra, rb = pair.ra, pair.rb
    assert ra.worker is not None
    ra.stop_keepalived()  # hung
    os.kill(ra.worker.pid, signal.SIGSTOP)  # and ra's routerd held up (a busy machine)
    try:
        rb.wait_role("active")  # the partner took over: its adverts wait in ra's socket
        time.sleep(0.2)
    finally:
        os.kill(ra.worker.pid, signal.SIGCONT)
    ra.wait_role("fault")
    why = ra.call(vh.role)[1]
    assert "keepalived stopped answering (master, but ours sent no advert for" in why, why
    assert not ra.has_vip() and rb.has_vip()
