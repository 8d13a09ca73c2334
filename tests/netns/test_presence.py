"""On-prem presence on a real kernel: a router namespace listening on its capture bridge.

Each test builds ``r`` (the router: bridge ``br`` with 10.40.8.1/24, a ``LinuxPresence``
living in a worker there) and host namespaces hanging off the bridge, then checks what the
router hears: a host's gratuitous ARP, RARP, probe answers, its going away and blinking, a
VM moving between two bridges, and that nothing the router itself says (proxy-ARP replies,
its own announcements, other interfaces of its own) is ever presence. Trackers run in the
test process on the same monotonic clock as the router's evidence stamps.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from routerd.backends.linux import garp
from routerd.core.errors import DataplaneError
from routerd.core.presence import ABSENT, PRESENT, PresenceEvidence, PresenceTracker
from tests.netns import presence_host as ph
from tests.support.netns import Netns, NetnsWorker, RemoteError, veth
from tests.support.wait import wait_until

pytestmark = [pytest.mark.netns, pytest.mark.timeout(120)]

VM_IP, VM_MAC = "10.40.8.10", "02:00:00:00:0a:01"
CAPTURED = "10.40.8.50"
PARTNER_MAC = "02:00:00:00:0c:01"


@dataclass
class Rig:
    lab: Any
    r: Netns
    router: NetnsWorker
    br: str
    vm: ph.Host
    vmw: NetnsWorker

    def call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return self.router.call(fn, *args, **kwargs)

    def evidence(self, count: int, kind: str | None = None, timeout: float = 5.0) -> list[Any]:
        return [e for e, _ in self.call(ph.wait_for, count, timeout, kind)]


@pytest.fixture
def rig(lab: Any) -> Iterator[Rig]:
    r, vm_ns = lab.netns("r"), lab.netns("vm")
    br = lab.name("br")
    ph.bridge(r, br)
    vm = ph.attach(r, br, vm_ns, lab.name("p0"), lab.name("v0"), VM_MAC, (VM_IP,))
    router, vmw = lab.worker(r), lab.worker(vm_ns)
    router.call(ph.open_presence)
    lab.cleanup.push("presence", lambda: router.call(ph.close_presence))
    yield Rig(lab, r, router, br, vm, vmw)


def test_a_gratuitous_arp_is_evidence_within_milliseconds(rig: Rig) -> None:
    rig.call(ph.watch, rig.br, [VM_IP])
    sent = []
    for _ in range(50):
        sent.append(rig.vmw.call(ph.send_garp, rig.vm.dev, VM_IP))
        time.sleep(0.01)
    got = rig.call(ph.wait_for, 50, 5.0, "garp")
    assert len(got) == 50, got
    for (e, _), t in zip(got, sent, strict=True):
        assert (e.address, e.kind, e.mac, e.interface) == (VM_IP, "garp", VM_MAC, rig.br)
        assert e.at >= t
    to_drain = [(done - t) * 1000 for (_, done), t in zip(got, sent, strict=True)]
    to_stamp = [(e.at - t) * 1000 for (e, _), t in zip(got, sent, strict=True)]
    print(
        f"GARP sent -> drain() returned: median {statistics.median(to_drain):.3f} ms, "
        f"max {max(to_drain):.3f} ms; sent -> stamped {statistics.median(to_stamp):.3f} ms"
    )
    assert rig.call(ph.signalled) >= 1


def test_rarp_names_the_vm_by_its_mac_and_the_tracker_knows_whose_it_is(rig: Rig) -> None:
    rig.call(ph.watch, rig.br, [VM_IP])
    rig.vmw.call(ph.send_rarp, rig.vm.dev)
    [e] = rig.evidence(1, "rarp")
    assert (e.address, e.kind, e.mac, e.interface) == ("", "rarp", VM_MAC, rig.br)
    t = PresenceTracker()
    t.track([VM_IP])
    t.observe([PresenceEvidence(VM_IP, "arp-request", VM_MAC, "elsewhere", e.at - 10)])
    [tr] = t.observe([e])
    assert (tr.address, tr.new, tr.cause, tr.evidence.interface) == (  # type: ignore[union-attr]
        VM_IP,
        PRESENT,
        "rarp",
        rig.br,
    )


def test_a_silent_vm_announced_only_by_rarp_is_found_by_a_sweep(rig: Rig) -> None:
    """The tracker never saw the VM's MAC: the RARP makes it probe what is not present."""
    rig.call(ph.watch, rig.br, [VM_IP, "10.40.8.11"])
    t = PresenceTracker()
    t.track([VM_IP, "10.40.8.11"], probe=[])
    rig.vmw.call(ph.send_rarp, rig.vm.dev)
    assert t.observe(rig.evidence(1, "rarp")) == []
    r = t.due_probes(time.monotonic(), 1.0)
    assert r.addresses == (VM_IP, "10.40.8.11")
    rig.call(ph.probe, rig.br, list(r.addresses))
    [tr] = t.observe(rig.evidence(1, "probe-answer"))
    assert (tr.address, tr.new, tr.cause) == (VM_IP, PRESENT, "probe-answer")


def test_a_probe_is_answered_and_teaches_the_host_nothing(rig: Rig) -> None:
    rig.call(ph.watch, rig.br, [VM_IP, "10.40.8.99"])
    rig.call(ph.probe, rig.br, [VM_IP, "10.40.8.99"])  # .99: nobody
    [e] = rig.evidence(1, "probe-answer")
    assert (e.address, e.mac, e.interface) == (VM_IP, VM_MAC, rig.br)
    time.sleep(0.2)
    assert [x for x, _ in rig.call(ph.taken) if x.kind == "probe-answer"] == []
    # RFC 5227: sender address 0.0.0.0, so the host cached nothing about the router
    router_mac = rig.r.ipj("link", "show", rig.br)[0]["address"]
    cached = rig.vm.ns.ipj("neigh", "show", "dev", rig.vm.dev)
    assert all(n.get("lladdr") != router_mac for n in cached), cached
    assert rig.call(ph.presence_stats)["probes"] == 2


def step(
    rig: Rig, t: PresenceTracker, interval: float, verdicts: list[int] | None = None
) -> list[Any]:
    """One probe round as the engine runs it: observe everything heard so far, close the
    previous round and send what is due, then wait one interval. Returns the transitions.

    ``verdicts`` gets the address's miss count right after the previous round's verdict.
    """
    out = t.observe(e for e, _ in rig.call(ph.taken))
    r = t.due_probes(time.monotonic(), interval)
    if verdicts is not None:
        verdicts.append(t.get(VM_IP).misses)  # type: ignore[union-attr]
    if r.addresses:
        rig.call(ph.probe, rig.br, list(r.addresses))
    time.sleep(interval + 0.01)
    return out + list(r.transitions)


def test_a_blink_stays_present_and_going_away_is_absent_after_n_rounds(rig: Rig) -> None:
    interval, n = 0.4, 3
    rig.call(ph.watch, rig.br, [VM_IP])
    t = PresenceTracker(absent_after=n)
    t.track([VM_IP])
    assert step(rig, t, interval) == []  # the first probe goes out
    [arrived] = step(rig, t, interval)
    assert (arrived.new, arrived.cause) == (PRESENT, "probe-answer")
    assert step(rig, t, interval) == []  # answered

    # a blink: down for two rounds (less than the hysteresis), then back. A round's
    # verdict comes with the next round.
    rig.vm.ns.ip("link", "set", rig.vm.dev, "down")
    misses: list[int] = []
    for _ in range(2):
        assert step(rig, t, interval, misses) == []
    rig.vm.ns.ip("link", "set", rig.vm.dev, "up")
    wait_until(lambda: _carrier(rig), timeout=5, interval=0.02, what="host link up")
    for _ in range(2):
        assert step(rig, t, interval, misses) == []
    assert misses == [0, 1, 2, 0]  # two misses in a row, then answered
    assert t.present(VM_IP)

    # gone: absent after exactly n unanswered rounds, not before
    rig.vm.ns.ip("link", "set", rig.vm.dev, "down")
    states = []
    for _ in range(n + 1):
        step(rig, t, interval)
        states.append(t.get(VM_IP).state)  # type: ignore[union-attr]
    assert states == [PRESENT, PRESENT, PRESENT, ABSENT], states

    # back: the next probe's answer makes it present again
    rig.vm.ns.ip("link", "set", rig.vm.dev, "up")
    wait_until(lambda: _carrier(rig), timeout=5, interval=0.02, what="host link up")
    assert step(rig, t, interval) == []
    assert [(x.old, x.new, x.cause) for x in step(rig, t, interval)] == [
        (ABSENT, PRESENT, "probe-answer")
    ]


def _carrier(rig: Rig) -> str | None:
    state = rig.r.ipj("link", "show", rig.vm.port)[0].get("operstate")
    return (
        None
        if state in ("UP", "UNKNOWN")
        and rig.vm.ns.ipj("link", "show", rig.vm.dev)[0].get("operstate") in ("UP", "UNKNOWN")
        else f"port {state}"
    )


def test_the_routers_own_proxy_reply_is_never_evidence(rig: Rig) -> None:
    r, br = rig.r, rig.br
    far, near = rig.lab.name("fa"), rig.lab.name("fb")
    veth(r, far, r, near)  # somewhere else to route the captured address to
    r.ip("route", "add", f"{CAPTURED}/32", "dev", far)
    r.exec("sysctl", "-qw", "net.ipv4.ip_forward=1")
    r.exec("sysctl", "-qw", f"net.ipv4.conf.{br}.proxy_arp=1")
    r.exec("sysctl", "-qw", f"net.ipv4.neigh.{br}.proxy_delay=0")
    r.ip("neigh", "add", "proxy", CAPTURED, "dev", br)
    rig.call(ph.watch, br, [CAPTURED, VM_IP])
    out = rig.vm.ns.exec("arping", "-c", "1", "-w", "2", "-I", rig.vm.dev, CAPTURED)
    # the router answered with its own MAC for the captured address ...
    router_mac = r.ipj("link", "show", br)[0]["address"]
    assert f"reply from {CAPTURED} [{router_mac.upper()}]" in out, out
    # ... its own gratuitous ARP for the capture went out too ...
    rig.call(garp.send_garp, CAPTURED, br)
    # ... and the listener heard the host's request, never the router speaking
    got = rig.evidence(1, "arp-request")
    time.sleep(0.3)
    got += [e for e, _ in rig.call(ph.taken)]
    assert [(e.address, e.kind, e.mac) for e in got] == [(VM_IP, "arp-request", VM_MAC)]


def test_other_interfaces_of_the_router_and_ignored_macs_are_never_evidence(rig: Rig) -> None:
    r, br = rig.r, rig.br
    # a router interface on its own capture bridge (incoming frames, not outgoing ones)
    port, own = rig.lab.name("op"), rig.lab.name("ow")
    veth(r, port, r, own)
    r.ip("link", "set", port, "master", br)
    # a redundant partner on the segment, announcing what it captures
    partner_ns = rig.lab.netns("partner")
    partner = ph.attach(r, br, partner_ns, rig.lab.name("pp"), rig.lab.name("pv"), PARTNER_MAC, ())
    pw = rig.lab.worker(partner_ns)
    rig.call(ph.watch, br, [CAPTURED, VM_IP], (PARTNER_MAC.upper(),))

    def speak() -> None:
        rig.call(garp.send_garp, CAPTURED, own)
        pw.call(ph.send_garp, partner.dev, CAPTURED)
        rig.vmw.call(ph.send_garp, rig.vm.dev, VM_IP)  # the one real host

    speak()
    [e] = rig.evidence(1, "garp")
    time.sleep(0.3)
    assert [x for x, _ in rig.call(ph.taken)] == []
    assert (e.address, e.mac) == (VM_IP, VM_MAC)
    stats = rig.call(ph.presence_stats)
    assert (stats["own-mac"], stats["ignored-mac"]) == (2, 1)  # send_garp: request + reply

    # the router's interface changes its MAC: still its own
    r.ip("link", "set", own, "address", "02:00:00:00:0d:02")
    wait_until(
        lambda: (
            None
            if "02:00:00:00:0d:02" in rig.call(ph.presence_call, "own_macs")
            else "MAC change not seen"
        ),
        timeout=5,
        interval=0.02,
    )
    rig.call(garp.send_garp, CAPTURED, own)
    wait_until(
        lambda: (
            None
            if rig.call(ph.presence_stats)["own-mac"] == stats["own-mac"] + 2
            else "not dropped as own"
        ),
        timeout=5,
        interval=0.02,
    )
    # the partner no longer ignored: its announcement is evidence (the filter was the reason)
    rig.call(ph.watch, br, [CAPTURED, VM_IP], ())
    pw.call(ph.send_garp, partner.dev, CAPTURED)
    assert [(x.address, x.mac) for x in rig.evidence(1, "garp")] == [(CAPTURED, PARTNER_MAC)]


def test_a_vm_moving_between_two_bridges_shows_up_at_the_new_one(rig: Rig) -> None:
    r, bra = rig.r, rig.br
    brb = rig.lab.name("bb")
    ph.bridge(r, brb, "")
    rig.call(ph.watch, bra, [VM_IP])
    rig.call(ph.watch, brb, [VM_IP])
    t = PresenceTracker()
    t.track([VM_IP])
    rig.vmw.call(ph.send_garp, rig.vm.dev, VM_IP)
    [at_a] = t.observe(rig.evidence(1, "garp"))
    assert at_a.evidence.interface == bra  # type: ignore[union-attr]

    # live migration: the VM keeps its namespace, address and MAC; its link moves to B and
    # the hypervisor announces it with a RARP (MAC only)
    r.ip("link", "set", rig.vm.port, "nomaster")
    r.ip("link", "set", rig.vm.port, "master", brb)
    wait_until(lambda: _carrier(rig), timeout=5, interval=0.02, what="port up on B")
    rig.vmw.call(ph.send_rarp, rig.vm.dev)
    [at_b] = t.observe(rig.evidence(1, "rarp"))
    assert (at_b.old, at_b.new, at_b.cause) == (PRESENT, PRESENT, "rarp")
    assert (at_b.evidence.interface, at_b.evidence.address) == (brb, VM_IP)  # type: ignore[union-attr]

    # and back to A, announced by the guest's own gratuitous ARP
    r.ip("link", "set", rig.vm.port, "nomaster")
    r.ip("link", "set", rig.vm.port, "master", bra)
    wait_until(lambda: _carrier(rig), timeout=5, interval=0.02, what="port up on A")
    rig.vmw.call(ph.send_garp, rig.vm.dev, VM_IP)
    [back] = t.observe(rig.evidence(1, "garp"))
    assert back.evidence.interface == bra  # type: ignore[union-attr]


def test_overflow_is_counted_and_asks_for_a_sweep(lab: Any) -> None:
    r, vm_ns = lab.netns("r"), lab.netns("vm")
    br = lab.name("br")
    ph.bridge(r, br)
    vm = ph.attach(r, br, vm_ns, lab.name("p0"), lab.name("v0"), VM_MAC, (VM_IP,))
    router, vmw = lab.worker(r), lab.worker(vm_ns)
    router.call(ph.open_presence, collect=False, queue_limit=5)
    lab.cleanup.push("presence", lambda: router.call(ph.close_presence))
    router.call(ph.watch, br, [VM_IP, "10.40.8.11"])
    for _ in range(20):
        vmw.call(ph.send_garp, vm.dev, VM_IP)
    wait_until(
        lambda: (
            None
            if router.call(ph.presence_stats)["frames"] >= 20
            else str(router.call(ph.presence_stats))
        ),
        timeout=5,
        interval=0.02,
    )
    assert router.call(ph.signalled) == 1  # one wake until the engine drains
    assert len(router.call(ph.drain_now)) == 5
    assert router.call(ph.presence_stats)["queue-drops"] == 15
    assert router.call(ph.presence_call, "lost") is True
    assert router.call(ph.presence_call, "lost") is False
    # what the engine does with it: probe everything not known to be here
    t = PresenceTracker()
    t.track([VM_IP, "10.40.8.11"], probe=[])
    t.sweep()
    assert t.due_probes(time.monotonic(), 1.0).addresses == (VM_IP, "10.40.8.11")


def test_a_reachable_neighbour_is_evidence_and_a_stale_one_is_not(rig: Rig) -> None:
    r, br = rig.r, rig.br
    rig.call(ph.watch, br, [VM_IP])
    r.exec("ping", "-c", "1", "-W", "2", VM_IP)
    got = rig.evidence(1, "neighbour")
    neighbour = [e for e in got if e.kind == "neighbour"]
    assert [(e.address, e.mac, e.interface) for e in neighbour] == [(VM_IP, VM_MAC, br)]
    # what the entry decays into (and what a VM that just left still has): not presence
    r.ip("neigh", "replace", VM_IP, "lladdr", VM_MAC, "nud", "stale", "dev", br)
    [entry] = r.ipj("neigh", "show", VM_IP, "dev", br)
    assert "STALE" in entry["state"]
    rig.vmw.call(ph.send_garp, rig.vm.dev, "10.40.8.99")  # a frame after it, not watched
    wait_until(
        lambda: None if rig.call(ph.presence_stats)["unwatched"] >= 1 else "not yet",
        timeout=5,
        interval=0.02,
    )
    time.sleep(0.2)
    assert [e for e, _ in rig.call(ph.taken)] == []


def test_watch_is_idempotent_validates_and_stops(rig: Rig) -> None:
    br = rig.br
    with pytest.raises(RemoteError, match=r"presence listener dev nosuchdev0: No such device"):
        rig.call(ph.watch, "nosuchdev0", [VM_IP])
    with pytest.raises(RemoteError, match=r"presence listener dev lo: not an Ethernet interface"):
        rig.call(ph.watch, "lo", [VM_IP])
    with pytest.raises(RemoteError, match=r"presence address '10.40.8' is not an IPv4"):
        rig.call(ph.watch, br, ["10.40.8"])
    with pytest.raises(RemoteError, match=r"ignored MAC 'zz' is not a MAC address"):
        rig.call(ph.watch, br, [VM_IP], ("zz",))
    with pytest.raises(RemoteError, match="not listening on this interface"):
        rig.call(ph.probe, br, [VM_IP])
    rig.call(ph.watch, br, [VM_IP])
    rig.call(ph.watch, br, [VM_IP])  # the same again: one listener, one piece of evidence
    rig.vmw.call(ph.send_garp, rig.vm.dev, VM_IP)
    rig.evidence(1, "garp")
    time.sleep(0.2)
    assert rig.call(ph.taken) == []
    # another address set replaces the first
    rig.call(ph.watch, br, ["10.40.8.11"])
    rig.vmw.call(ph.send_garp, rig.vm.dev, VM_IP)
    wait_until(
        lambda: None if rig.call(ph.presence_stats)["unwatched"] == 1 else "not yet",
        timeout=5,
        interval=0.02,
    )
    rig.call(ph.watch, br, [])  # stop
    frames = rig.call(ph.presence_stats)["frames"]
    rig.vmw.call(ph.send_garp, rig.vm.dev, VM_IP)
    time.sleep(0.2)
    assert rig.call(ph.presence_stats)["frames"] == frames
    with pytest.raises(RemoteError, match=DataplaneError.__name__):
        rig.call(ph.probe, br, [VM_IP])


def test_a_watched_bridge_recreated_is_listened_to_again(rig: Rig) -> None:
    r, br = rig.r, rig.br
    rig.call(ph.watch, br, [VM_IP])
    r.ip("link", "del", br)
    wait_until(
        lambda: None if rig.call(ph.presence_call, "lost") else "deletion not noticed",
        timeout=5,
        interval=0.02,
    )
    ph.bridge(r, br)
    r.ip("link", "set", rig.vm.port, "master", br)
    rig.call(ph.watch, br, [VM_IP])  # the engine's next pass: same arguments
    wait_until(lambda: _carrier(rig), timeout=5, interval=0.02, what="port up")
    rig.vmw.call(ph.send_garp, rig.vm.dev, VM_IP)
    [e] = rig.evidence(1, "garp")
    assert (e.address, e.interface) == (VM_IP, br)
