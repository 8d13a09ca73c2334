"""A master whose adverts cannot leave is not hung (the kernel holds them for ARP).

What each test proves:
* ``adverts_held`` follows the kernel: adverts wait while no peer's next hop (the peer, or
  its gateway) is resolved, and flow once one is (any state but incomplete or failed);
* a master whose partner has left the segment keeps its keepalived and its address, though
  none of its adverts reaches the wire; once the partner is back, a hung keepalived is
  still found (the silence rule was excused, not switched off);
* a routerd that was itself held up past the silence deadline judges by the silence rule
  what it finds waiting, though the partner's adverts are waiting too.
"""

from __future__ import annotations

import os
import signal
import time

import pytest

from routerd.redundancy.silence import adverts_held
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
