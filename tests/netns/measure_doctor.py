"""Measure ``run_doctor("hybrid")`` on a router holding N proxy-ARP claims (root only).

Not a test (nothing is asserted): ``sudo .venv/bin/python -m tests.netns.measure_doctor 1000
10000 --reps 3`` prints one JSON line per run and a median table. Each size gets fresh
namespaces (``rdm-<prefix>-r`` the router, ``-lan`` the capture segment's other end where
nobody answers ARP, ``-c`` the underlay peer), torn down LIFO afterwards, pass or fail:

    lan ns --veth-- r: cap 10.16.255.1/16, proxy_arp=1 and forwarding=1 (capture by route)
                       wg (wireguard-go) 10.255.41.1/31, N x "/32 dev wg metric 120",
                       the claims in the peer's allowed IPs, inet routerd_mss both ways
                    r: u1 192.0.2.1/30 --veth-- c: u2 192.0.2.2/30 (endpoint, no WireGuard)

The routes go in with one ``ip -batch``. The doctor runs in a forked child
inside the router namespace with the real host door; the claim intents are lowered before
the clock starts, as the daemon hands them over. Reported per run: wall time of
``run_doctor``, processes spawned (every ``subprocess.Popen`` in the child), findings and
their statuses (``--profile``: cProfile's top functions too; ``--churn``: another namespace
adds and deletes proxy entries throughout, see ``churn``). ``--skip-over N`` runs sizes
above N once (the pre-change doctor needs minutes per thousand claims).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import ipaddress
import json
import os
import pstats
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from tests.fixtures.doctor.topology import WG_ENV, _stop, mss_ruleset
from tests.support.netns import Cleanup, Netns, NetnsWorker, sh, uid, veth
from tests.support.wait import wait_until

FIRST = ipaddress.IPv4Address("10.16.0.1")
PEER_OVERLAY = "10.255.41.0"


def claim_address(i: int) -> str:
    return str(FIRST + i)


CONFIG_HEAD = """apiVersion: routerd.net/v1alpha1
kind: Router
metadata:
  name: measure-doctor
spec:
  resources:
    - apiVersion: net.routerd.net/v1alpha1
      kind: Interface
      metadata: {{name: lan}}
      spec: {{ifname: {cap}, mtu: 1500}}
    - apiVersion: net.routerd.net/v1alpha1
      kind: WireGuardInterface
      metadata: {{name: {wg}}}
      spec: {{privateKeyFile: {key}, listenPort: 51821, mtu: 1420}}
    - apiVersion: net.routerd.net/v1alpha1
      kind: WireGuardPeer
      metadata: {{name: cloud}}
      spec: {{interface: {wg}, publicKey: {peer}, endpoint: "192.0.2.2:51820"}}
    - apiVersion: hybrid.routerd.net/v1alpha1
      kind: OverlayPeer
      metadata: {{name: cloud}}
      spec:
        role: cloud
        nodeID: cloud-rt
        underlay: {{type: wireguard, interface: {wg}, address: 10.255.41.1}}
        remote: {{nodeID: cloud-rt, address: {peer_overlay}}}
    - apiVersion: hybrid.routerd.net/v1alpha1
      kind: AddressMobilityDomain
      metadata: {{name: edge-lan}}
      spec: {{prefix: 10.16.0.0/16, peerRef: cloud}}
"""
CLAIM = """    - apiVersion: hybrid.routerd.net/v1alpha1
      kind: RemoteAddressClaim
      metadata: {{name: vm-{i}}}
      spec:
        domainRef: edge-lan
        address: {addr}/32
        ownerSide: cloud
        capture: {{type: proxy-arp, interface: lan}}
        delivery: {{peerRef: cloud}}
"""


def _wg_key(tmp: Path, name: str) -> tuple[Path, str]:
    priv = sh(["wg", "genkey"])
    path = tmp / f"{name}.key"
    path.write_text(priv)
    path.chmod(0o600)
    return path, sh(["wg", "pubkey"], input=priv).strip()


def _wireguard(ns: Netns, wg: str, n: int, tmp: Path, cleanup: Cleanup) -> tuple[Path, str]:
    key, _ = _wg_key(tmp, "r")
    _, peer = _wg_key(tmp, "c")
    proc = ns.popen(
        "wireguard-go", "-f", wg, env=WG_ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    sock = Path(f"/var/run/wireguard/{wg}.sock")
    cleanup.push(f"wireguard socket {sock}", lambda: sock.unlink(missing_ok=True))
    cleanup.push(f"wireguard-go {proc.pid}", lambda: _stop(proc))

    def ready() -> str | None:
        return None if any(x["ifname"] == wg for x in ns.ipj("link", "show")) else "no link"

    wait_until(ready, timeout=15.0, what=f"wireguard-go {wg}")
    allowed = ",".join([f"{PEER_OVERLAY}/32", *(f"{claim_address(i)}/32" for i in range(n))])
    conf = tmp / "wg.conf"
    conf.write_text(
        f"[Interface]\nPrivateKey = {key.read_text().strip()}\nListenPort = 51821\n\n"
        f"[Peer]\nPublicKey = {peer}\nEndpoint = 192.0.2.2:51820\nAllowedIPs = {allowed}\n"
    )
    ns.exec("wg", "setconf", wg, str(conf))
    conf.unlink()
    ns.ip("addr", "add", "10.255.41.1/31", "dev", wg)
    ns.ip("link", "set", wg, "mtu", "1420", "up")
    return key, peer


def churn(ns: Netns, dev: str, cleanup: Cleanup) -> None:
    """Add and delete 2,000 proxy entries in ``ns`` in a loop until cleanup (another router).

    The kernel keeps every namespace's proxy entries in one hash and resumes a dump by
    position, so this makes the router's own ``ip neigh show proxy`` skip entries.
    """
    add = "".join(f"neigh add proxy 10.99.{i // 256}.{i % 256} dev {dev}\n" for i in range(2000))
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            for text in (add, add.replace("neigh add", "neigh del")):
                subprocess.run(["ip", "-n", ns.name, "-batch", "-"], input=text, text=True)

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()

    def end() -> None:
        stop.set()
        thread.join()

    cleanup.push("proxy churn", end)


def build(n: int, tmp: Path, cleanup: Cleanup, churning: bool = False) -> tuple[Netns, str, str]:
    """The router namespace with N claims programmed: it, the doctor config, the capture if."""
    p = uid()
    r, lan, c = (Netns.create(f"rdm-{p}-{role}", cleanup) for role in ("r", "lan", "c"))
    cap, wg = f"{p}cap", f"{p}wg"
    veth(r, cap, lan, f"{p}lan")
    veth(r, f"{p}u1", c, f"{p}u2")
    r.ip("addr", "add", "10.16.255.1/16", "dev", cap)
    lan.ip("addr", "add", "10.16.255.2/16", "dev", f"{p}lan")
    r.ip("addr", "add", "192.0.2.1/30", "dev", f"{p}u1")
    c.ip("addr", "add", "192.0.2.2/30", "dev", f"{p}u2")
    key, peer = _wireguard(r, wg, n, tmp, cleanup)
    for name in (
        "net.ipv4.ip_forward=1",
        f"net.ipv4.conf.{cap}.proxy_arp=1",
        f"net.ipv4.conf.{cap}.forwarding=1",
    ):
        r.exec("sysctl", "-qw", name)
    batch = tmp / "claims.batch"
    lines = []
    for i in range(n):
        a = claim_address(i)
        lines.append(f"route add {a}/32 dev {wg} metric 120")
    batch.write_text("\n".join(lines) + "\n")
    sh(["ip", "-n", r.name, "-batch", str(batch)], timeout=300)
    r.exec("nft", "-f", "-", input=mss_ruleset([(f'"{cap}"', f'"{wg}"'), (f'"{wg}"', f'"{cap}"')]))
    if churning:
        churn(lan, f"{p}lan", cleanup)
    text = CONFIG_HEAD.format(cap=cap, wg=wg, key=key, peer=peer, peer_overlay=PEER_OVERLAY)
    text += "".join(CLAIM.format(i=i, addr=claim_address(i)) for i in range(n))
    return r, text, cap


def timed_doctor(config_text: str, profile: bool = False) -> dict[str, Any]:
    """Runs in the namespace child: one hybrid run, timed, with every process start counted."""
    from routerd.core.doctor import DoctorContext
    from routerd.core.loader import load_text
    from routerd.core.lowering import lower
    from routerd.doctor import run_doctor

    loaded = load_text(config_text)
    assert loaded.config is not None, [e.render() for e in loaded.errors[:3]]
    t = time.perf_counter()
    lowered = lower(loaded.config)
    lower_s = time.perf_counter() - t
    spawned = 0
    real_init = subprocess.Popen.__init__

    def counting(self: subprocess.Popen[Any], *args: Any, **kwargs: Any) -> None:
        nonlocal spawned
        spawned += 1
        real_init(self, *args, **kwargs)

    subprocess.Popen.__init__ = counting  # type: ignore[method-assign]
    prof = cProfile.Profile() if profile else None
    try:
        t = time.perf_counter()
        if prof:
            prof.enable()
        report = run_doctor("hybrid", DoctorContext(startup=loaded.config, lowered=lowered))
        wall = time.perf_counter() - t
    finally:
        if prof:
            prof.disable()
        subprocess.Popen.__init__ = real_init  # type: ignore[method-assign]
    top = ""
    if prof:
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(25)
        top = out.getvalue()
    rank = {"fail": 0, "warn": 1, "skip": 2}
    worst = sorted((f for f in report.findings if f.status != "pass"), key=lambda f: rank[f.status])
    bad = [f"{f.status.value} {f.name}: {f.detail}" for f in worst]
    return {
        "wall_s": round(wall, 3),
        "lower_s": round(lower_s, 3),
        "processes": spawned,
        "findings": len(report.findings),
        "counts": report.counts,
        "not_pass_sample": bad[:6],
        **({"profile": top} if top else {}),
    }


def measure(n: int, profile: bool = False, churning: bool = False) -> dict[str, Any]:
    cleanup = Cleanup()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            r, text, _ = build(n, Path(tmp), cleanup, churning)
            worker = NetnsWorker(r.name)
            cleanup.push(f"worker {worker.pid}", worker.kill)
            result: dict[str, Any] = worker.call(timed_doctor, text, profile, timeout=7200)
            worker.close()
            return result
    finally:
        errors = cleanup.close()
        if errors:
            print("teardown errors:", errors)


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("sizes", nargs="+", type=int)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--skip-over", type=int, default=0, help="sizes above this run once")
    ap.add_argument("--profile", action="store_true", help="print cProfile's top functions")
    ap.add_argument("--churn", action="store_true", help="churn proxy entries in the lan ns")
    args = ap.parse_args()
    assert os.geteuid() == 0, "run as root (namespaces)"
    rows = []
    for n in args.sizes:
        runs = []
        reps = 1 if args.skip_over and n > args.skip_over else args.reps
        for rep in range(reps):
            runs.append(measure(n, args.profile, args.churn))
            top = runs[-1].pop("profile", "")
            print(json.dumps({"claims": n, "rep": rep, **runs[-1]}), flush=True)
            print(top, end="")
        rows.append((n, len(runs), statistics.median(r["wall_s"] for r in runs), runs[-1]))
    print("\n| claims | runs | run_doctor(hybrid) s (median) | processes | findings |")
    print("|---:|---:|---:|---:|---:|")
    for n, reps, wall, last in rows:
        print(f"| {n:,} | {reps} | {wall:.2f} | {last['processes']:,} | {last['findings']:,} |")


if __name__ == "__main__":
    main()
