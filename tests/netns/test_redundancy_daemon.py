"""A redundant on-prem pair of real routerd daemons: only the active router captures.

Two ``routerd serve`` processes with the same proxy-ARP claim and one RedundancyGroup
(``pair_routers``); a client sweeps ARP for the claimed address every 10 ms. What these
catch:

* capture follows the role: the standby keeps its route (warm) with ``proxy_arp`` off;
* a crashed active router (every process of it killed at once) is replaced: the standby
  captures and announces the address (a gratuitous ARP), and no sweep ever sees two
  answers;
* the crashed router restarted comes back as standby without its stale virtual address,
  and fails back only on ``routerctl failback``;
* routerd killed alone changes nothing: keepalived and the dataplane keep serving, and the
  restarted routerd adopts them still active.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.netns import pair_routers as pr
from tests.netns import vrrp_host as vh
from tests.support.wait import wait_until

pytestmark = pytest.mark.netns


def _up(lab: Any, tmp_path: Path, **group: Any) -> tuple[Any, dict[str, pr.Daemon], Any]:
    client, routers = pr.build(lab, tmp_path, **group)
    ra, rb = routers["ra"], routers["rb"]
    ra.start()
    ra.wait_role("active")
    rb.start()
    rb.wait_role("standby")
    sweeper = lab.worker(client)
    sweeper.call(pr.start_garp_watch, "eth0", pr.CLAIMED)
    sweeper.call(vh.start_sweep, "eth0", pr.ADDR["cl"], pr.CLAIMED)
    pr.wait_answered_by(lambda s: sweeper.call(vh.sweep, s), ra.mac(), 0.0)
    return client, routers, sweeper


def _never_two(sweeper: Any, since: float = 0.0, until: float = 1e12) -> list[frozenset[str]]:
    seen = pr.answers([s for s in sweeper.call(vh.sweep, since) if s[0] < until])
    assert all(len(macs) <= 1 for macs in seen), f"two routers answered: {seen}"
    return seen


def test_standby_keeps_its_route_with_capture_off(lab: Any, tmp_path: Path) -> None:
    _, routers, sweeper = _up(lab, tmp_path)
    ra, rb = routers["ra"], routers["rb"]
    assert (ra.proxy_arp(), rb.proxy_arp()) == ("1", "0")
    route = rb.ns.ipj("route", "show", f"{pr.CLAIMED}/32")
    assert route and route[0]["dev"] == rb.wg  # warm: takeover is the sysctl alone
    status = rb.status()["pair"]
    assert status["group"] == "RedundancyGroup/site-a" and status["partners"] == [pr.ADDR["ra"]]
    assert "is master" in status["why"] and status.get("active", False) is False
    assert rb.claim_state()[1] == "capture-standby"
    for r in (ra, rb):  # the doctor's pair checks, against the daemon's real RoleSource
        doctor = r.ctl("doctor", "mobility", "-o", "json", check=False)
        assert doctor.returncode in (0, 3), doctor.stderr
        found = {f["name"]: f for f in json.loads(doctor.stdout)["findings"]}
        assert found["RedundancyGroup/site-a role"]["status"] == "pass", found
        assert found["RedundancyGroup/site-a active routers"]["status"] == "pass", found
    _never_two(sweeper)
    assert {m for m, _ in sweeper.call(pr.garps)} <= {ra.mac()}


def test_crashed_active_router_is_replaced_and_comes_back_standby(lab: Any, tmp_path: Path) -> None:
    _, routers, sweeper = _up(lab, tmp_path)
    ra, rb = routers["ra"], routers["rb"]
    sweep = lambda s: sweeper.call(vh.sweep, s)  # noqa: E731

    t0 = pr.now()
    ra.crash()
    taken = pr.wait_answered_by(sweep, rb.mac(), t0)
    rb.wait_role("active")
    assert rb.proxy_arp() == "1"
    announced = [(rb.mac(), 1), (rb.mac(), 2)]  # one request and one reply: once
    wait_until(
        lambda: None if sweeper.call(pr.garps, t0) else "no gratuitous ARP yet",
        timeout=5,
        what="the takeover announced",
    )
    time.sleep(0.3)
    assert sweeper.call(pr.garps, t0) == announced
    print(f"\nfailover after a crash: answered by the standby {1000 * (taken - t0):.0f} ms later")

    t1 = pr.now()
    assert ra.has_vip()  # what a SIGKILLed keepalived leaves behind
    ra.start()
    ra.wait_role("standby")
    assert not ra.has_vip() and ra.proxy_arp() == "0"
    wait_until(lambda: None if pr.now() - t1 > 1.0 else "settling", timeout=5)
    assert pr.answerers(sweep(t1)) == {rb.mac()}  # never took it back
    assert rb.role() == "active"

    t2 = pr.now()
    out = ra.ctl("failback").stdout
    assert "taking over" in out, out
    ra.wait_role("active")
    rb.wait_role("standby")
    pr.wait_answered_by(sweep, ra.mac(), t2)
    assert (ra.proxy_arp(), rb.proxy_arp()) == ("1", "0")
    # never two from the crash to the failback; a failback is make-before-break (both may
    # answer for a moment while the partner hears the higher priority), not checked here
    _never_two(sweeper, t0, t2)


def test_routerd_killed_alone_changes_nothing(lab: Any, tmp_path: Path) -> None:
    _, routers, sweeper = _up(lab, tmp_path)
    ra, rb = routers["ra"], routers["rb"]
    t0 = pr.now()
    ra.kill_routerd()
    wait_until(lambda: None if pr.now() - t0 > 1.5 else "waiting", timeout=5)
    assert pr.answerers(sweeper.call(vh.sweep, t0)) == {ra.mac()}
    assert rb.role() == "standby" and ra.has_vip() and ra.proxy_arp() == "1"
    ra.start()
    assert ra.role() == "active"
    wait_until(lambda: None if pr.now() - t0 > 4 else "waiting", timeout=5)
    assert pr.answerers(sweeper.call(vh.sweep, t0)) == {ra.mac()}
    _never_two(sweeper)
    assert sweeper.call(pr.garps, t0) == []  # no takeover happened


def test_cut_link_fails_over_and_the_router_returns_standby(lab: Any, tmp_path: Path) -> None:
    _, routers, sweeper = _up(lab, tmp_path)
    ra, rb = routers["ra"], routers["rb"]
    sweep = lambda s: sweeper.call(vh.sweep, s)  # noqa: E731
    t0 = pr.now()
    ra.cut()
    taken = pr.wait_answered_by(sweep, rb.mac(), t0)
    print(f"\nfailover after a link cut: {1000 * (taken - t0):.0f} ms")
    ra.wait_role("fault")
    assert ra.proxy_arp() == "0"
    t1 = pr.now()
    ra.cut(up=True)
    ra.wait_role("standby")
    wait_until(lambda: None if pr.now() - t1 > 1.0 else "settling", timeout=5)
    assert pr.answerers(sweep(t1)) == {rb.mac()} and rb.role() == "active"
    _never_two(sweeper, t0)


def test_paused_router_comes_back_standby(lab: Any, tmp_path: Path) -> None:
    """Every process of the active router stopped (SIGSTOP), then resumed: its kernel stops
    answering ARP once the fence's lease runs out, before the partner takes over; on
    resuming, routerd reads the partner's adverts in wire order, sees two masters while its
    own was silent, and gives the role up, although VRRP alone would hand mastership back
    to the higher priority."""
    _, routers, sweeper = _up(lab, tmp_path)
    ra, rb = routers["ra"], routers["rb"]
    sweep = lambda s: sweeper.call(vh.sweep, s)  # noqa: E731
    t0 = pr.now()
    ra.pause()
    try:
        rb.wait_role("active")
        wait_until(lambda: None if pr.now() - t0 > 1.5 else "paused", timeout=5)
    finally:
        resumed = pr.now()
        ra.pause(resume=True)
    ra.wait_role("standby", timeout=20)  # after its keepalived restarted as backup
    rb.wait_role("active")
    t1 = pr.now()
    wait_until(lambda: None if pr.now() - t1 > 1.0 else "settling", timeout=5)
    assert pr.answerers(sweep(t1)) == {rb.mac()}
    assert not ra.has_vip() and rb.has_vip() and ra.proxy_arp() == "0"
    assert "keepalived hangs" in ra.log.read_text()
    _never_two(sweeper, t0, resumed)  # the fence: the paused kernel stopped answering
    overlap = [t for t, macs in sweep(resumed) if len(macs) > 1]
    print(f"\nafter resuming, both answered for {len(overlap)} sweeps of 10 ms")


def test_failback_after_the_hold_down_by_itself(lab: Any, tmp_path: Path) -> None:
    """With ``failbackHoldDown`` the recovered higher-priority router takes over again by
    itself once it was a healthy standby that long, without an outage."""
    _, routers, sweeper = _up(lab, tmp_path, failbackHoldDown="5s")
    ra, rb = routers["ra"], routers["rb"]
    sweep = lambda s: sweeper.call(vh.sweep, s)  # noqa: E731
    ra.crash()
    rb.wait_role("active")
    t1 = pr.now()
    ra.start()
    ra.wait_role("active", timeout=20)  # nobody asked
    rb.wait_role("standby")
    roles = [ln.split(" is ", 1)[1] for ln in ra.log.read_text().splitlines()[-200:] if
             "redundancy.source RedundancyGroup/site-a is " in ln]  # fmt: skip
    assert "after 5s as a healthy backup" in roles[-2] and roles[-1].startswith("active")
    pr.wait_answered_by(sweep, ra.mac(), t1)
    settled = pr.now()
    wait_until(lambda: None if pr.now() - settled > 0.5 else "settling", timeout=5)
    assert pr.answerers(sweep(settled)) == {ra.mac()}
