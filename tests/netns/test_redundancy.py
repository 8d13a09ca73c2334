"""Router pairs for real: two routers' keepalived, supervised by routerd's RoleSource, on one
bridge with a client that sweeps ARP for the virtual address every 10 ms and pings it.

What each test proves:
* a failed master (killed, hung, cut off) is replaced: the backup's RoleSource reports
  active in well under a second, the segment never has two responders for the address,
  the recovered router stays backup, and a planned takeover moves mastership back with no
  second outage (measured medians printed with ``-s``);
* that takeover loses nothing even when the client misses the new master's gratuitous ARP:
  the old master forwards what still reaches it (the routers forward, as routerd's do);
* a routerd that crashed together with its keepalived removes the address the dead daemon
  left behind before keepalived starts again (and the sweep does see two responders while
  nothing runs, so it would see them anywhere else too);
* a restarted routerd adopts a running keepalived without moving mastership;
* ``failbackHoldDown`` fails back by itself, once, without an outage;
* a cloud pair elects with its loopback token and recognises a hung keepalived;
* ``close(cleanup=True)`` leaves no process, address or file behind.
"""

from __future__ import annotations

import os
import signal
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from routerd.backends.linux.wgsupervisor import process_start_time
from tests.netns import pair as pr
from tests.netns import vrrp_host as vh
from tests.support.netns import RemoteError
from tests.support.wait import wait_until

pytestmark = [pytest.mark.netns]

TRIALS = 5


def _cut(pair: pr.Pair) -> None:
    pair.sw.ip("link", "set", pair.ra.port, "down")


def _uncut(pair: pr.Pair) -> None:
    pair.sw.ip("link", "set", pair.ra.port, "up")


FAILURES: dict[str, Callable[[pr.Pair], None]] = {
    "kill": lambda pair: pair.ra.kill_keepalived(),
    "stop": lambda pair: pair.ra.stop_keepalived(),
    "cut": _cut,
}


def _ms(values: list[float], digits: int = 0) -> str:
    def f(v: float) -> str:
        return f"{v * 1000:.{digits}f}"

    med, lo, hi = statistics.median(values), min(values), max(values)
    return f"median {f(med)} ms (min {f(lo)}, max {f(hi)}, n={len(values)})"


def _vip_event_after(r: pr.Router, t0: float, added: bool) -> float:
    """Monotonic time the virtual address was first added to (removed from) ``r`` after t0.

    Waits for it: the watcher thread may record the netlink event after the RoleSource has
    already reported the FIFO line that follows it (both arrive within a millisecond; on a
    busy machine either thread can run first).
    """
    found: list[float] = []
    change = "added to" if added else "removed from"

    def check() -> str | None:
        every = r.call(vh.address_events)
        found[:] = [at for at, new in every if new is added and at >= t0]
        return None if found else f"events {every[-6:]}, history {r.call(vh.history)[-3:]}"

    wait_until(check, timeout=5, interval=0.02, what=f"the virtual address {change} {r.name}")
    return found[0]


def _two_responders(
    pair: pr.Pair, since: float = 0.0
) -> tuple[list[tuple[float, frozenset[str]]], list[float]]:
    """(every sweep sample since ``since``, times of samples answered by two MACs)."""
    assert pair.sweeper is not None
    samples = pair.sweeper.call(vh.sweep, since)
    return samples, [at for at, seen in samples if len(seen) > 1]


def _no_two_responders(pair: pr.Pair, since: float = 0.0) -> list[tuple[float, frozenset[str]]]:
    samples, doubles = _two_responders(pair, since)
    assert not doubles, f"two responders for {pr.VIP} at {doubles[:5]}"
    return samples


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(FAILURES))
def test_failover_then_planned_failback(lab, tmp_path, kind):
    pair = pr.up(lab, tmp_path)
    pair.start_sweep()
    pair.rb.call(vh.watch_address, pr.VIP)
    macs = {pair.mac(pair.ra), pair.mac(pair.rb)}
    failover, vip_added, fifo_lead, traffic, takeover = [], [], [], [], []
    handovers: list[tuple[float, float]] = []  # (takeover asked, both routers settled)
    for trial in range(TRIALS):
        ping = pr.ping_train(lab, pair.client, 30)
        time.sleep(0.3)
        wall0, t0 = time.time(), time.monotonic()
        FAILURES[kind](pair)
        pair.rb.wait_role("active")
        failover.append(pair.rb.active_since(t0))
        vip_added.append(_vip_event_after(pair.rb, t0, added=True) - t0)
        fifo_lead.append(vip_added[-1] - failover[-1])
        if kind == "cut":
            pair.ra.wait_role("fault")
            assert not pair.ra.has_vip()
            if trial == 0:
                with pytest.raises(RemoteError, match="cannot take over while fault"):
                    pair.ra.call(vh.take_over)
            _uncut(pair)
        pair.ra.wait_role("standby", timeout=20)
        assert not pair.ra.has_vip() and pair.rb.has_vip()
        time.sleep(1.0)  # about three detection times: no failback unless asked
        assert (pair.ra.role(), pair.rb.role()) == ("standby", "active")
        wall1, t1 = time.time(), time.monotonic()
        assert "taking over" in pair.ra.call(vh.take_over)
        pair.ra.wait_role("active")
        pair.rb.wait_role("standby")
        takeover.append(pair.ra.active_since(t1))
        time.sleep(0.3)
        handovers.append((t1, time.monotonic()))
        ping.send_signal(signal.SIGINT)
        gaps = pr.outages(ping.communicate(timeout=10)[0])
        # Split by when each outage ended, not by when it began: the reply before the
        # failure's outage can come tens of ms before wall0 on a busy machine (ping is late
        # to send), while the failure's outage always ends before the takeover is asked
        # (the backup served for a second by then). Anything ending later is a failback's.
        down = [(at, g) for at, _, g in gaps if at + g < wall1]
        # A hung keepalived is no dataplane failure: its kernel answers until the handover.
        # Nor need a killed one be: its kernel answers until routerd removes the address the
        # dead keepalived left, then forwards the pings, which wait for the new holder (late,
        # an outage, only if that removal came more than LATE before the takeover).
        assert len(down) == 1 or (kind != "cut" and not down), (gaps, wall0, wall1)
        assert all(at + g > wall0 for at, g in down), f"an outage before the failure: {gaps}"
        traffic.append(down[0][1] if down else 0.0)
        assert [g for at, _, g in gaps if at + g >= wall1] == [], f"failback outage: {gaps}"
    samples, doubles = _two_responders(pair)
    assert {m for _, seen in samples for m in seen} == macs  # the sweep saw both routers
    # The new master adds the address, then adverts and announces it; the old one drops it
    # on hearing the advert. Only then may one request see both answer.
    outside = [at for at in doubles if not any(a <= at <= b for a, b in handovers)]
    assert not outside, f"two responders outside a planned takeover at {outside}"
    print(
        f"\n[{kind}] backup's RoleSource active after failure: {_ms(failover)}"
        f"\n[{kind}] virtual address added on the backup (netlink): {_ms(vip_added)}"
        f"\n[{kind}] netlink minus FIFO report, per failover: {_ms(fifo_lead, 2)}"
        f"\n[{kind}] ping gap (10 ms train): {_ms(traffic)}"
        f"\n[{kind}] planned takeover, call to active: {_ms(takeover)}; no failback gap"
        f"\n[{kind}] ARP sweep: {len(samples)} samples; answered twice, per takeover: "
        f"{[sum(a <= at <= b for at in doubles) for a, b in handovers]}"
    )
    assert statistics.median(failover) < 1.0


def test_failback_loses_nothing_when_the_client_misses_the_announcement(lab, tmp_path):
    """keepalived sends the new master's advert before its gratuitous ARP, so the old master
    can drop the address before the client switches (a 10 ms ping lost now and then, before
    the routers forwarded). Here the client misses the gratuitous ARPs: its pings go on to
    the old master, which forwards them, until the new master's first ARP request (for the
    client, to answer) tells it otherwise. None is lost."""
    pair = pr.up(lab, tmp_path)
    ping = pr.ping_train(lab, pair.client, 10)
    time.sleep(0.3)
    with pair.garp_lost_to_client(pair.rb):
        before = pr.forwarded(pair.ra)
        assert "taking over" in pair.rb.call(vh.take_over)
        pair.rb.wait_role("active")
        pair.ra.wait_role("standby")
        time.sleep(0.3)
        assert not pair.ra.has_vip() and pair.rb.has_vip()
        relayed = pr.forwarded(pair.ra) - before
    # the client looks the address up afresh: pings lost while it sent them to the old
    # master now show as a gap between replies, not as a tail no reply follows
    pair.client.ip("neigh", "flush", "to", pr.VIP)
    time.sleep(0.2)
    ping.send_signal(signal.SIGINT)
    output = ping.communicate(timeout=10)[0]
    assert pr.outages(output) == [], output[-800:]
    assert relayed >= 1, f"the old master forwarded {relayed} datagrams"
    print(f"\nthe old master forwarded {relayed} pings after it gave the address up")
    assert "via" not in pair.client.exec("ip", "route", "get", pr.VIP)  # no redirect taken


def _pidfile(r: pr.Router, name: str) -> int:
    return int((r.run_dir / name).read_text())


def _wrapper(tmp: Path) -> tuple[Path, Path]:
    """A keepalived that first records the interface's addresses at the moment it starts."""
    record = tmp / "addresses-at-start.txt"
    script = tmp / "keepalived-recording"
    script.write_text(
        "#!/bin/sh\n"
        'case " $* " in *" --config-test "*) ;; '
        f'*) ip -4 -o addr show dev eth0 > "{record}" ;; esac\n'
        'exec keepalived "$@"\n'
    )
    script.chmod(0o755)
    return script, record


@pytest.mark.parametrize("change", ["same-config", "address-changed"])
def test_restart_after_sigkill_removes_the_stale_address_first(lab, tmp_path, change):
    pair = pr.up(lab, tmp_path)
    pair.start_sweep()
    ra = pair.ra
    assert ra.worker is not None
    ra.worker.kill()  # routerd crashes: nothing supervises keepalived any more
    parent, child = _pidfile(ra, "keepalived.pid"), _pidfile(ra, "vrrp.pid")
    os.kill(parent, signal.SIGSTOP)
    os.kill(child, signal.SIGKILL)
    os.kill(parent, signal.SIGKILL)
    pair.rb.wait_role("active")
    time.sleep(0.2)
    assert ra.has_vip()  # the known caveat: a SIGKILLed keepalived leaves its address
    assert any(len(seen) == 2 for _, seen in pair.sweeper.call(vh.sweep))  # type: ignore[union-attr]

    script, record = _wrapper(tmp_path)
    plan = pr.plan_for("ra", vip="10.40.8.253") if change == "address-changed" else None
    pair.start(ra, plan, binary=str(script))
    restarted = time.monotonic()
    ra.wait_role("standby")
    at_start = record.read_text()
    assert "10.40.8.2/24" in at_start and pr.VIP not in at_start, at_start
    assert not ra.has_vip() and pair.rb.has_vip()
    time.sleep(0.5)
    samples = _no_two_responders(pair, since=restarted)
    assert {m for _, seen in samples for m in seen} == {pair.mac(pair.rb)}


def test_routerd_restart_adopts_keepalived_without_moving_mastership(lab, tmp_path):
    pair = pr.up(lab, tmp_path)
    ra = pair.ra
    before = ra.keepalived_pids()
    assert ra.worker is not None
    ra.worker.kill()
    time.sleep(0.5)
    pair.start(ra)
    first = ra.call(vh.history)[0]
    assert first[1] == "active", first  # asked keepalived itself: no guess, no transition
    assert ra.keepalived_pids() == before
    time.sleep(0.5)
    assert [h[1] for h in pair.rb.call(vh.history)][-1] == "standby"
    assert "active" not in [h[1] for h in pair.rb.call(vh.history)]
    assert ra.has_vip() and not pair.rb.has_vip()


def test_hold_down_fails_back_by_itself_without_a_second_outage(lab, tmp_path):
    pair = pr.build(lab, tmp_path)
    pair.start(pair.ra, pr.plan_for("ra", hold_down=2.0))
    pair.ra.wait_role("active")
    pair.start(pair.rb)
    pair.rb.wait_role("standby")
    ping = pr.ping_train(lab, pair.client, 30)
    time.sleep(0.3)
    wall0 = time.time()
    pair.ra.kill_keepalived()
    pair.rb.wait_role("active")
    pair.ra.wait_role("standby")
    back = time.monotonic()
    assert "after 2s as a healthy backup (failbackHoldDown)" in pair.ra.call(vh.role)[1]
    pair.ra.wait_role("active", timeout=10)
    waited = time.monotonic() - back
    pair.rb.wait_role("standby")
    time.sleep(0.3)
    ping.send_signal(signal.SIGINT)
    gaps = pr.outages(ping.communicate(timeout=10)[0])
    assert 2.0 <= waited < 4.0, waited
    # the failover's outage if it had one (see the killed keepalived above), nothing after
    assert len(gaps) <= 1 and all(at < wall0 + 1.0 for at, _, _ in gaps), gaps


def test_cloud_pair_elects_with_a_token_and_recognises_a_hung_keepalived(lab, tmp_path):
    pair = pr.build(lab, tmp_path)
    pair.start(pair.ra, pr.plan_for("ra", vip=None))
    pair.ra.wait_role("active")
    pair.start(pair.rb, pr.plan_for("rb", vip=None))
    pair.rb.wait_role("standby")

    def token(r: pr.Router) -> bool:
        return "127.77.0.42/32" in r.ns.ip("-4", "-o", "addr", "show", "dev", "lo")

    assert token(pair.ra) and not token(pair.rb)

    def armed() -> str | None:
        return None if pair.ra.call(vh.hang_watch_armed) else "no advert of ra's seen yet"

    # Stopped before routerd saw one of its adverts as master, only the partner's takeover
    # could reveal the hang; this test is about the silence rule, which acts before that.
    wait_until(armed, timeout=5, interval=0.02, what="ra's silence rule armed")
    pair.ra.stop_keepalived()
    pair.ra.wait_role("fault")
    # the advert watchdog (2.5 silent intervals) fires before the partner takes over
    assert (
        "keepalived stopped answering (master, but ours sent no advert" in pair.ra.call(vh.role)[1]
    )
    pair.rb.wait_role("active")
    assert not token(pair.ra) and token(pair.rb)
    pair.ra.wait_role("standby", timeout=10)  # killed and restarted, as backup


def test_close_with_cleanup_leaves_nothing_behind(lab, tmp_path):
    pair = pr.up(lab, tmp_path)
    pids = pair.ra.keepalived_pids()
    t0 = time.monotonic()
    pair.ra.call(vh.close, True)
    pair.rb.wait_role("active")
    graceful = pair.rb.active_since(t0)
    assert all(process_start_time(p) is None for p in pids)
    assert not pair.ra.has_vip()
    assert sorted(p.name for p in pair.ra.run_dir.iterdir()) == ["keepalived.log"]
    print(f"\n[graceful stop] backup active after {graceful * 1000:.0f} ms (priority 0 advert)")

    def gone() -> str | None:
        left = pair.ra.ns.pids()
        return None if set(left) <= {pair.ra.worker.pid} else f"left: {left}"  # type: ignore[union-attr]

    wait_until(gone, timeout=5, what="no keepalived left in ra")


def test_update_reloads_without_moving_mastership(lab, tmp_path):
    pair = pr.up(lab, tmp_path)
    pids = pair.ra.keepalived_pids()
    for r in pair.routers():
        r.call(vh.update, pr.plan_for(r.name, vip="10.40.8.253"))
    time.sleep(0.5)
    addrs = pair.ra.ns.ip("-4", "-o", "addr", "show", "dev", "eth0")
    assert "10.40.8.253/24" in addrs and pr.VIP not in addrs
    assert "10.40.8.253" not in pair.rb.ns.ip("-4", "-o", "addr", "show", "dev", "eth0")
    assert pair.ra.keepalived_pids() == pids
    assert "active" not in [h[1] for h in pair.rb.call(vh.history)]
    assert (pair.ra.role(), pair.rb.role()) == ("active", "standby")


def test_a_takeover_that_cannot_win_restores_the_configuration(lab, tmp_path):
    pair = pr.build(lab, tmp_path)
    pair.start(pair.rb, pr.plan_for("rb", priority=255, preempt=True))  # never preempted
    pair.rb.wait_role("active")
    pair.start(pair.ra)
    pair.ra.wait_role("standby")
    assert "taking over" in pair.ra.call(vh.take_over)

    def failed() -> str | None:
        why = pair.ra.call(vh.role)[1]
        return None if "planned takeover failed: still backup after" in why else why

    wait_until(failed, timeout=15, what="the takeover reported as failed")
    conf = (pair.ra.run_dir / "keepalived.conf").read_text()
    assert "priority 150" in conf and "nopreempt" in conf
    assert (pair.ra.role(), pair.rb.role()) == ("standby", "active")
