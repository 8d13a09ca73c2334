"""OCI's negative check: without routerd's MSS clamp the copy stalls; with it, it passes.

The clamp follows the forwarded path (D16, docs/decisions.md). On OCI's narrower underlay a
full-size inner TCP segment (tunnel MTU 1420) becomes a 1480 byte WireGuard packet, longer than
the 1452 hop, and the ICMP that would say so never arrives. ping (84 bytes) still works; TCP
stalls as soon as a segment is full-size — for SSH already at the key exchange. routerd's ``inet
routerd_mss`` clamp (MSS 1300 both ways) keeps every segment under the hop.

The check, on a lab whose smoke already passed:

1. SIGTERM both routerd: they exit, the dataplane (routes, tunnel, wireguard-go) stays;
2. delete ``inet routerd_mss`` on both routers behind routerd's back, and forget the VMs'
   cached path MTUs so nothing learnt earlier helps;
3. start the same scp: within ``STALL_WINDOW`` seconds it neither finishes nor writes more
   than ``PROGRESS_BYTES`` (a bounded negative proof), while ping still answers both ways;
4. start both routerd again: they restore the clamp (reconcile, no config change), every
   claim returns to verified, and the same copy completes with an equal checksum.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from typing import TYPE_CHECKING

from tests.support.wait import WaitTimeout, wait_until

from .smoke import PAIRS, copy, ping, wait_verified
from .topology import CLOUD_VM, ONPREM_VM

if TYPE_CHECKING:
    from .lab import Lab

MSS_TABLE = ("inet", "routerd_mss")
STALL_WINDOW = 10.0
PROGRESS_BYTES = 1 << 20


def clamp_present(lab: Lab) -> str | None:
    missing = [
        side
        for side, r in lab.routers.items()
        if not r.ns.exec("nft", "list", "table", *MSS_TABLE, check=False).strip()
    ]
    return f"no inet routerd_mss on {', '.join(missing)}" if missing else None


def remove_clamp(lab: Lab) -> None:
    """Stop both routerd (dataplane stays) and delete their clamp tables."""
    for router in lab.routers.values():
        router.stop()
    for side, router in lab.routers.items():
        if not router.wireguard_go_pids():
            raise AssertionError(f"wireguard-go ({side}) ended with routerd: dataplane not kept")
        router.ns.exec("nft", "delete", "table", *MSS_TABLE)
    for vm in (CLOUD_VM, ONPREM_VM):
        lab.topo.ns[vm].ip("route", "flush", "cache")


def stalled_copy(lab: Lab, src: str, dst: str) -> str:
    """Start scp and show it makes no progress within the window; returns a summary."""
    payload = lab.payload()
    target = payload.path.with_name(f"{dst}-from-{src}.stalled")
    target.unlink(missing_ok=True)
    proc = subprocess.Popen(
        lab.vms.scp_argv(src, dst, payload.path, target),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )

    def progressed() -> str | None:
        size = target.stat().st_size if target.exists() else 0
        done = proc.poll() is not None or size > PROGRESS_BYTES
        return None if done else f"{size} bytes written"

    try:
        try:
            wait_until(progressed, timeout=STALL_WINDOW, interval=0.25, what="copy progress")
        except WaitTimeout:
            pass  # the expected outcome: no progress within the window
        else:
            size = target.stat().st_size if target.exists() else 0
            err = proc.stderr.read().strip() if proc.returncode is not None and proc.stderr else ""
            raise AssertionError(
                f"without the clamp the copy {src}->{dst} was not stalled (exit "
                f"{proc.returncode} {err!r}, {size} bytes written): no PMTU black hole"
            )
        size = target.stat().st_size if target.exists() else 0
        pinged = ping(lab)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
        target.unlink(missing_ok=True)
    return f"{src}->{dst} {size} bytes in {STALL_WINDOW:.0f}s while ping worked ({pinged})"


def clamp_negative(lab: Lab) -> str:
    """Steps 1-4 of the module docstring."""
    remove_clamp(lab)
    stalled = stalled_copy(lab, *PAIRS[0])
    for router in lab.routers.values():
        router.start(lab.registry)
    wait_until(lambda: clamp_present(lab), timeout=30, what="routerd restores routerd_mss")
    wait_verified(lab)
    done = copy(lab, *PAIRS[0])
    return f"no clamp: {stalled}; routerd restarted, clamp restored: {done}"
