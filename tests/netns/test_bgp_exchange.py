"""GobgpExchange against real gobgpd speakers and a BIRD2 route reflector, in namespaces.

Each router's exchange runs in its own namespace (``bgp_lab``) and peers with the reflector;
what one router originates must arrive at the other with its site identity, sequence and
next hop, be replaced by a higher sequence, and disappear on withdrawal. A router that speaks
for another site, or outside the domains, is refused by the reflector's filter and, on a
direct session, by the receiving router's import rule. A routerd restart adopts the running
gobgpd without withdrawing or re-announcing anything; a killed gobgpd is restarted and
re-originates; cleanup stops gobgpd and leaves no process behind.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from routerd.backends.linux.wgsupervisor import process_start_time
from routerd.core.exchange import LearnedPath, Neighbor, Origination, Refusal
from tests.netns import bgp_host as h
from tests.netns.bgp_lab import RR_ADDRESS, BgpLab, Router
from tests.support.netns import Cleanup, scan_processes
from tests.support.wait import wait_until
from tools.labkit.birdrr import RRClient

pytestmark = [
    pytest.mark.netns,
    pytest.mark.skipif(
        any(shutil.which(t) is None for t in ("gobgpd", "bird", "birdc")),
        reason="needs gobgpd and bird2 (run tools/bootstrap)",
    ),
]

SINCE_GAP = 0.2
"""Seconds between reading a session's ``Since`` and restarting routerd: a reset after that
moves ``Since`` by at least this much, while two reads of an unchanged ``Since`` can differ
by a millisecond (BIRD keeps the change on its monotonic clock and converts it to the
wall clock for each display)."""


def _seconds_apart(a: str, b: str) -> float:
    """Seconds between two of BIRD's ``Since`` times of day (``HH:MM:SS.mmm``)."""

    def seconds(text: str) -> float:
        h, m, s = text.split(":")
        return int(h) * 3600 + int(m) * 60 + float(s)

    apart = abs(seconds(a) - seconds(b))
    return min(apart, 86400 - apart)  # across midnight


@pytest.fixture
def bgp(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BgpLab]:
    """Name: bgp / Scope: function / Depends: tmp_path. An empty BgpLab, torn down after."""
    cleanup = Cleanup()
    lab = BgpLab(cleanup)
    try:
        yield lab
    finally:
        for f in [*lab.tmp.glob("*.log"), *lab.tmp.glob("*/*.log")]:
            shutil.copy(f, tmp_path / f"{f.parent.name}-{f.name}")
        if lab.rr is not None:
            (tmp_path / "rr-routes.txt").write_text(lab.rr.birdc("show route all"))
        errors = cleanup.close()
        assert not errors, errors
        left = scan_processes([str(lab.tmp)])
        assert not left, f"processes left behind: {left}"
        names = {ns.name for ns in lab.namespaces}
        assert not names & set(os.listdir("/var/run/netns")), "namespaces left behind"
    for log in tmp_path.glob("routerd-*.log"):
        assert "Traceback" not in log.read_text(), f"Traceback in {log}"


def paths_at(r: Router, address: str) -> list[LearnedPath]:
    paths: list[LearnedPath] = r.call(h.snapshot)["paths"].get(address, [])
    return paths


def wait_paths(r: Router, address: str, want: list[tuple[int, int]], what: str) -> None:
    """Until ``r`` holds exactly the (site, sequence) paths ``want`` for ``address``."""

    def check() -> str | None:
        got = sorted((p.site_id, p.sequence) for p in paths_at(r, address))
        return None if got == sorted(want) else f"{address} at {r.name}: {got}"

    wait_until(check, timeout=15, interval=0.05, what=what)


def test_announce_replace_and_withdraw_cross_the_reflector(bgp: BgpLab) -> None:
    bgp.build({"a": 1, "b": 2})
    bgp.open("a")
    bgp.open("b")
    bgp.wait_established("a", "b")
    a, b = bgp.routers["a"], bgp.routers["b"]

    assert a.call(h.sync, {"10.77.0.5": a.originate("10.77.0.5", 7)}) == []
    wait_paths(b, "10.77.0.5", [(1, 7)], "announcement at b")
    (path,) = paths_at(b, "10.77.0.5")
    assert path == LearnedPath("10.77.0.5", 1, 7, a.address, RR_ADDRESS, a.address)
    assert bgp.rr is not None
    at_rr = bgp.rr.birdc("show route 10.77.0.5/32 all")
    assert "BGP.local_pref: 7" in at_rr and "(65000, 100, 1) (65000, 101, 7)" in at_rr
    assert a.call(h.snapshot)["originated"] == {"10.77.0.5": a.originate("10.77.0.5", 7)}

    assert a.call(h.sync, {"10.77.0.5": a.originate("10.77.0.5", 8)}) == []
    wait_paths(b, "10.77.0.5", [(1, 8)], "higher sequence replaces at b")

    assert a.call(h.sync, {}) == []
    wait_paths(b, "10.77.0.5", [], "withdrawal at b")
    assert a.call(h.snapshot)["originated"] == {}


def test_bad_originations_are_reported_and_change_nothing(bgp: BgpLab) -> None:
    bgp.build({"a": 1, "b": 2})
    bgp.open("a")
    bgp.open("b")
    bgp.wait_established("a", "b")
    a, b = bgp.routers["a"], bgp.routers["b"]
    good = a.originate("10.77.0.9", 3)
    assert a.call(h.sync, {"10.77.0.9": good}) == []
    wait_paths(b, "10.77.0.9", [(1, 3)], "announcement at b")

    bad = {
        "10.77.0.9": Origination("10.77.0.9", 1, 4, "not-an-address"),
        "10.77.0.10": Origination("10.77.0.10", 2, 1, a.address),
    }
    errors = a.call(h.sync, bad)
    assert len(errors) == 2, errors
    assert any("origination 10.77.0.9: next_hop 'not-an-address'" in e for e in errors)
    assert any("origination 10.77.0.10: site_id 2 is not this router's site" in e for e in errors)
    # The address with a bad update keeps its announcement; nothing else was sent.
    assert a.call(h.snapshot)["originated"] == {"10.77.0.9": good}
    barrier = a.originate("10.77.0.11", 1)
    assert a.call(h.sync, {**bad, "10.77.0.11": barrier}) == errors
    wait_paths(b, "10.77.0.11", [(1, 1)], "a later good origination at b")
    assert paths_at(b, "10.77.0.10") == []
    assert sorted((p.site_id, p.sequence) for p in paths_at(b, "10.77.0.9")) == [(1, 3)]


def test_foreign_identity_and_outside_domain_are_refused(bgp: BgpLab) -> None:
    bgp.build({"a": 1, "b": 2, "c": 3})
    a, b, c = bgp.routers["a"], bgp.routers["b"], bgp.routers["c"]
    # c also peers with b directly: there only b's import rule stands in the way.
    b.extra_neighbors = (Neighbor(c.address, description="c direct"),)
    c.extra_neighbors = (Neighbor(b.address, description="b direct"),)
    for name in ("a", "b", "c"):
        bgp.open(name)
    bgp.wait_established("a", "b", "c")

    def direct_up() -> str | None:
        s = b.call(h.snapshot)["sessions"].get(c.address)
        return None if s is not None and s.state == "established" else f"b-c session: {s}"

    wait_until(direct_up, timeout=30, interval=0.2, what="direct session b-c")
    c.call(
        h.inject,
        [
            Origination("10.77.1.1", 1, 50, c.address),  # speaks for site 1
            Origination("10.88.0.1", 3, 1, c.address),  # outside the domain
            Origination("10.77.3.3", 3, 1, c.address),  # its own: accepted
        ],
    )
    wait_paths(b, "10.77.3.3", [(3, 1), (3, 1)], "c's own address at b, via reflector and direct")
    wait_paths(a, "10.77.3.3", [(3, 1)], "c's own address at a")

    snap = b.call(h.snapshot)
    assert sorted(snap["refused"], key=lambda r: r.prefix) == [
        Refusal("10.77.1.1/32", c.address, c.address, "foreign-site-identity"),
        Refusal("10.88.0.1/32", c.address, c.address, "outside-domains"),
    ], "only the direct session brings the bad paths: the reflector refused them"
    assert snap["refused_counts"] == {"foreign-site-identity": 1, "outside-domains": 1}
    assert "10.77.1.1" not in snap["paths"]
    assert a.call(h.snapshot)["refused"] == []
    assert bgp.rr is not None
    filtered = bgp.rr.birdc("show route filtered")
    assert "10.77.1.1/32" in filtered and "10.88.0.1/32" in filtered
    assert "10.77.3.3/32" not in filtered


def test_restart_adopts_gobgpd_without_withdrawing_and_cleanup_stops_it(bgp: BgpLab) -> None:
    bgp.build({"a": 1, "b": 2})
    bgp.open("a")
    bgp.open("b")
    bgp.wait_established("a", "b")
    a, b = bgp.routers["a"], bgp.routers["b"]
    homes = {f"10.77.2.{i}": a.originate(f"10.77.2.{i}", 5) for i in range(1, 101)}
    assert a.call(h.sync, homes) == []
    wait_until(
        lambda: None if len(b.call(h.snapshot)["paths"]) == 100 else "not yet",
        timeout=15,
        interval=0.05,
        what="100 addresses at b",
    )
    pid = a.call(h.gobgpd_pid)
    assert bgp.rr is not None
    protocol = RRClient(a.address, a.site_id).protocol
    since = bgp.rr.since(protocol)
    changes_at_b = b.call(h.snapshot)["changes"]
    time.sleep(SINCE_GAP)  # a reset from here on moves the session's Since by more than this

    bgp.close("a", cleanup=False)  # routerd stops; gobgpd stays
    assert process_start_time(pid) is not None
    opened = bgp.open("a")
    assert opened["pid"] == pid and opened["connected"], opened
    snap = a.call(h.snapshot)
    assert snap["originated"] == homes, "the originations are read back from gobgpd's RIB"
    bgp.wait_established("a")
    after = bgp.rr.since(protocol)
    assert _seconds_apart(after, since) < SINCE_GAP / 4, f"session reset: Since {since} -> {after}"
    assert a.call(h.sync, homes) == []
    bump = {**homes, "10.77.2.1": a.originate("10.77.2.1", 6)}
    assert a.call(h.sync, bump) == []
    wait_paths(b, "10.77.2.1", [(1, 6)], "a change after the restart")
    # One change reached b for the one address bumped, none for the other 99.
    assert b.call(h.snapshot)["changes"] == changes_at_b + 1

    bgp.close("a", cleanup=True)
    wait_until(
        lambda: None if process_start_time(pid) is None else "gobgpd alive",
        timeout=10,
        what="gobgpd stopped",
    )
    assert not (a.run_dir / "gobgpd.sock").exists()
    wait_until(
        lambda: None if not b.call(h.snapshot)["paths"] else "paths left",
        timeout=15,
        what="withdrawn at b once a's speaker is gone",
    )


def test_a_killed_gobgpd_is_restarted_and_re_originates(bgp: BgpLab) -> None:
    bgp.build({"a": 1, "b": 2})
    bgp.open("a")
    bgp.open("b")
    bgp.wait_established("a", "b")
    a, b = bgp.routers["a"], bgp.routers["b"]
    assert a.call(h.sync, {"10.77.0.7": a.originate("10.77.0.7", 2)}) == []
    wait_paths(b, "10.77.0.7", [(1, 2)], "announcement at b")
    pid = a.call(h.gobgpd_pid)

    os.kill(pid, signal.SIGKILL)
    wait_paths(b, "10.77.0.7", [], "withdrawn at b when a's speaker dies")

    def restarted() -> str | None:
        now = a.call(h.gobgpd_pid)
        snap = a.call(h.snapshot)
        if now in (None, pid) or not snap["connected"]:
            return f"gobgpd {now}, connected {snap['connected']} ({snap['error']})"
        return None

    wait_until(restarted, timeout=15, interval=0.1, what="gobgpd restarted")
    wait_paths(b, "10.77.0.7", [(1, 2)], "re-originated after the restart")


def test_a_session_going_down_drops_its_paths_and_says_so(bgp: BgpLab) -> None:
    bgp.build({"a": 1, "b": 2})
    bgp.open("a")
    bgp.open("b")
    bgp.wait_established("a", "b")
    a, b = bgp.routers["a"], bgp.routers["b"]
    assert a.call(h.sync, {"10.77.0.8": a.originate("10.77.0.8", 1)}) == []
    wait_paths(b, "10.77.0.8", [(1, 1)], "announcement at b")

    assert bgp.rr is not None
    bgp.rr.stop()
    wait_paths(b, "10.77.0.8", [], "paths learned from the reflector dropped with the session")
    session = b.call(h.snapshot)["sessions"][RR_ADDRESS]
    assert session.state != "established"
    assert session.last_error.startswith("session lost after"), session
    assert "gobgpd.log" in session.last_error
    assert a.call(h.snapshot)["originated"] == {"10.77.0.8": a.originate("10.77.0.8", 1)}
