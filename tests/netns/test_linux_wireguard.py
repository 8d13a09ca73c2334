"""WireGuard through the Linux backend with wireguard-go (this kernel has no module).

Topology: namespace ``l`` (routerd's side, backend inside) and ``p`` (a plain WireGuard
peer the test configures with ``wg set``), joined by an underlay veth 192.0.2.1 <-> .2.
Overlay 10.255.40.1 (l) <-> 10.255.40.0 (p).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

import pytest

from routerd.backends.linux import wgtool
from routerd.backends.linux.wgsupervisor import process_start_time
from routerd.backends.linux.wireguard import b64_to_hex, parse_wg_dump, render_wg_config
from routerd.core.desired import (
    Address,
    DesiredBuilder,
    Route,
    WgPeer,
    WireGuardDevice,
)
from routerd.core.port import PathCheck
from routerd.core.wgkey import public_key
from routerd.keys import generate_private_key
from tests.netns.conftest import Lab
from tests.support.netns import Netns, scan_processes, veth
from tests.support.wait import wait_until

pytestmark = pytest.mark.netns


@dataclass
class Pair:
    local: Netns
    p: Netns
    wgl: str
    wgp: str
    key_file: Path
    private: str  # routerd side's private key (known to the test for the exposure scan)
    peer_public: str


def write_key(path: Path, key: str) -> None:
    path.parent.mkdir(mode=0o700, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")


def start_peer(lab: Lab, ns: Netns, ifname: str) -> None:
    env = {**os.environ, "WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD": "1"}
    proc = subprocess.Popen(
        ["ip", "netns", "exec", ns.name, "wireguard-go", "-f", ifname],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def stop() -> None:
        proc.kill()
        proc.wait()

    lab.cleanup.push(f"peer wireguard-go {proc.pid}", stop)
    sock = Path(f"/var/run/wireguard/{ifname}.sock")
    wait_until(lambda: None if sock.exists() else f"{sock} missing", what="peer wireguard-go")


def pair(lab: Lab) -> Pair:
    local, p = lab.netns("l"), lab.netns("p")
    ul, up, wgl, wgp = lab.name("ul"), lab.name("up"), lab.name("wgl"), lab.name("wgp")
    veth(local, ul, p, up)
    local.ip("addr", "add", "192.0.2.1/24", "dev", ul)
    p.ip("addr", "add", "192.0.2.2/24", "dev", up)
    private, peer_private = generate_private_key(), generate_private_key()
    key_file = lab.tmp / "keys" / "wgl.key"
    write_key(key_file, private)
    peer_key_file = lab.tmp / "peer-keys" / "wgp.key"
    write_key(peer_key_file, peer_private)
    start_peer(lab, p, wgp)
    p.exec(
        "wg", "set", wgp, "private-key", str(peer_key_file), "listen-port", "51820",
        "peer", public_key(private), "allowed-ips", "10.255.40.1/32,10.50.0.0/24",
        "endpoint", "192.0.2.1:51820",
    )  # fmt: skip
    p.ip("addr", "add", "10.255.40.0/31", "dev", wgp)
    p.ip("link", "set", wgp, "mtu", "1420", "up")
    return Pair(local, p, wgl, wgp, key_file, private, public_key(peer_private))


def tunnel_state(pr: Pair, *, extra_allowed: frozenset[str] = frozenset()) -> DesiredBuilder:
    want = DesiredBuilder(generation=1)
    dev = WireGuardDevice(
        pr.wgl,
        private_key_file=str(pr.key_file),
        public_key=public_key(pr.private),
        listen_port=51820,
        mtu=1420,
        peers=(
            WgPeer(
                pr.peer_public,
                frozenset({"10.255.40.0/32"}) | extra_allowed,
                "192.0.2.2:51820",
                5,
            ),
        ),
    )
    want.add(dev, "WireGuardInterface/wgl")
    want.add(Address(pr.wgl, "10.255.40.1/31"), "IPv4StaticAddress/overlay")
    want.add(Route("10.50.0.5/32", pr.wgl, 120), "RemoteAddressClaim/c5")
    return want


def ok(results: list[tuple[str, bool, str]]) -> None:
    assert not [x for x in results if not x[1]], results


def test_tunnel_configured_handshake_and_verify(lab):
    pr = pair(lab)
    b = lab.backend(pr.local)
    want = tunnel_state(pr)
    ok(b.reconcile(want))
    obs = b.observe(want)
    dev = obs.objects[("wg", pr.wgl)]
    assert dev.public_key == public_key(pr.private)
    assert (dev.listen_port, dev.mtu) == (51820, 1420)
    assert dev.peers == (
        WgPeer(pr.peer_public, frozenset({"10.255.40.0/32"}), "192.0.2.2:51820", 5),
    )
    assert obs.links.get(pr.wgl) is None or obs.links[pr.wgl].up
    assert b.plan(want) == []

    checks = [
        PathCheck("c5", "10.50.0.5", pr.wgl, pr.peer_public, "10.255.40.1", "10.255.40.0"),
        PathCheck("no-overlay", "10.50.0.5", pr.wgl, pr.peer_public),
        PathCheck("unrouted", "10.99.99.99", pr.wgl),
    ]

    def probed() -> str | None:
        ev = b.verify(checks)
        return None if ev["c5"].probe_ok else f"evidence: {ev}"

    wait_until(probed, what="overlay probe through the tunnel")
    ev = b.verify(checks)
    assert ev["c5"].route_dev == pr.wgl
    assert ev["no-overlay"].probe_ok is None
    assert ev["unrouted"].route_dev is None
    handshakes = b.observe(want).handshakes
    assert 0 <= handshakes[(pr.wgl, pr.peer_public)] < 180


def test_first_probe_still_running_is_pending_never_success(lab):
    pr = pair(lab)
    b = lab.backend(pr.local)
    ok(b.reconcile(tunnel_state(pr)))
    b.set_probe_wait(0.0)  # a pass that does not wait sees the probe still running
    checks = [PathCheck("c5", "10.50.0.5", pr.wgl, pr.peer_public, "10.255.40.1", "10.255.40.0")]
    first = b.verify(checks)["c5"]
    assert (first.probe_ok, first.probe_pending) == (None, True)
    assert "first probe of 10.255.40.0 from 10.255.40.1 is running" in first.detail

    def answered() -> str | None:
        ev = b.verify(checks)["c5"]
        return None if ev.probe_ok is not None and not ev.probe_pending else f"evidence: {ev}"

    wait_until(answered, what="the first probe's answer")
    assert b.verify(checks)["c5"].probe_ok is True


def test_allowed_ips_grow_and_shrink_per_peer(lab):
    pr = pair(lab)
    other = public_key(generate_private_key())
    b = lab.backend(pr.local)
    base = tunnel_state(pr)

    def with_peers(extra: frozenset[str]) -> DesiredBuilder:
        want = tunnel_state(pr, extra_allowed=extra)
        dev = want.objects[("wg", pr.wgl)]
        peers = (*dev.peers, WgPeer(other, frozenset({"10.77.0.1/32"})))
        want.objects[dev.key] = WireGuardDevice(
            dev.ifname, dev.private_key_file, dev.public_key, dev.listen_port, dev.mtu,
            peers=tuple(sorted(peers, key=lambda p: p.public_key)),
        )  # fmt: skip
        return want

    ok(b.reconcile(base))
    for extra in (
        frozenset({"10.50.0.5/32"}),
        frozenset({"10.50.0.5/32", "10.50.0.6/32"}),
        frozenset(),
    ):
        want = with_peers(extra)
        ok(b.reconcile(want))
        assert b.plan(want) == []
        dump = pr.local.exec("wg", "show", pr.wgl, "allowed-ips")
        allowed = dict(line.split("\t") for line in dump.splitlines())
        assert set(allowed[pr.peer_public].split()) == {"10.255.40.0/32"} | extra
        assert allowed[other].split() == ["10.77.0.1/32"]
    ok(b.reconcile(base))
    assert other not in pr.local.exec("wg", "show", pr.wgl, "peers")


def test_private_key_never_exposed(lab):
    pr = pair(lab)
    needles = [pr.private, b64_to_hex(pr.private)]
    hits: list[str] = []
    done = threading.Event()

    def scan() -> None:
        while not done.is_set():
            hits.extend(scan_processes(needles))

    scanner = threading.Thread(target=scan)
    scanner.start()
    try:
        b = lab.backend(pr.local)
        ok(b.reconcile(tunnel_state(pr)))
        pid = _wg_pid(b, pr.wgl)
        os.kill(pid, signal.SIGKILL)  # the restart re-sends the key too
        wait_until(lambda: None if _restarted(b, pr.wgl, pid) else "not restarted")
        b.close_backend(cleanup=False)
    finally:
        done.set()
        scanner.join()
    assert hits == []
    for path in [*lab.logs, *lab.tmp.rglob("*")]:
        if path.is_file() and path != pr.key_file and "peer-keys" not in path.parts:
            text = path.read_bytes()
            assert not any(n.encode() in text for n in needles), path
    assert oct(pr.key_file.stat().st_mode & 0o777) == "0o600"


def test_missing_key_is_generated_and_kept(lab):
    pr = pair(lab)
    b = lab.backend(pr.local)
    want = tunnel_state(pr)
    dev = want.objects[("wg", pr.wgl)]
    new_file = lab.tmp / "gen" / "keys" / "wgl.key"
    want.objects[dev.key] = WireGuardDevice(
        dev.ifname, str(new_file), "", dev.listen_port, dev.mtu, dev.fwmark, dev.peers
    )
    ok(b.reconcile(want))
    assert oct(new_file.stat().st_mode & 0o777) == "0o600"
    assert oct(new_file.parent.stat().st_mode & 0o777) == "0o700"
    key = new_file.read_text()
    obs = b.observe(want)
    assert obs.objects[dev.key].public_key == public_key(key.strip())
    ok(b.reconcile(want))
    assert new_file.read_text() == key


def _wg_pid(b, ifname: str) -> int:
    return int(json.loads(b.wg_records()[ifname])["pid"])


def _restarted(b, ifname: str, old: int) -> bool:
    records = b.wg_records()
    if ifname not in records:
        return False
    pid = _wg_pid(b, ifname)
    return pid != old and process_start_time(pid) is not None


def test_wireguard_go_is_restarted_and_reconfigured(lab):
    pr = pair(lab)
    b = lab.backend(pr.local)
    want = tunnel_state(pr)
    ok(b.reconcile(want))
    b.observe(want)
    b.start_loop(want)
    old = _wg_pid(b, pr.wgl)
    os.kill(old, signal.SIGKILL)

    def healed() -> str | None:
        if not _restarted(b, pr.wgl, old):
            return "wireguard-go not restarted"
        plan = b.plan(want)
        return None if plan == [] else f"still to do: {plan}"

    wait_until(healed, what="wireguard-go restarted and the tunnel rebuilt")
    peers = pr.local.exec("wg", "show", pr.wgl, "peers").split()
    assert peers == [pr.peer_public]


def _kernel_path_roundtrip(ifname: str, key_file: str, peer: str) -> tuple[str, list[str]]:
    dev = WireGuardDevice(
        ifname,
        listen_port=51999,
        peers=(WgPeer(peer, frozenset({"10.9.0.0/24"}), "192.0.2.2:51820", 7),),
    )
    key = Path(key_file).read_text().strip()
    wgtool.syncconf(ifname, render_wg_config(dev, key, {}))
    state = parse_wg_dump(ifname, wgtool.show_dump(ifname))
    p = state.device.peers[0]
    return state.device.public_key, [str(state.device.listen_port), *p.allowed_ips, p.endpoint]


def test_kernel_path_helpers_against_a_real_device(lab):
    """``wg syncconf`` from stdin and ``wg show dump`` parsing (wg speaks UAPI here)."""
    pr = pair(lab)
    w = lab.worker(pr.p)
    someone = public_key(generate_private_key())
    pub, facts = w.call(
        _kernel_path_roundtrip, pr.wgp, str(lab.tmp / "peer-keys" / "wgp.key"), someone
    )
    assert pub == pr.peer_public  # the device's own key, derived from the dump
    assert facts == ["51999", "10.9.0.0/24", "192.0.2.2:51820"]
