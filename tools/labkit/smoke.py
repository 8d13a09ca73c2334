"""The smoke of docs/lab.md, one step per fact the predecessor's cloud validation established.

On OCI first ``host_firewall`` (doctor WARNs about the image firewall, which really blocks
the tunnel; then the documented rule is applied); then ``claims_verified`` (routerctl JSON,
doctor hybrid without FAIL), ``ping``, ``ssh`` (``SSH_CONNECTION`` shows the client's own
address) and ``scp_both_ways`` (100 MiB each way, sha256). The no-NAT evidence is in
``nat``, OCI's clamp check in ``clamp``, the order per provider in ``plans``.
"""

from __future__ import annotations

import hashlib
import subprocess
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.support.wait import wait_until

from .topology import CLOUD_VM, CLOUD_VM_IP, ONPREM_VM, ONPREM_VM_IP

if TYPE_CHECKING:
    from .lab import Lab

VERIFY_TIMEOUT = 90.0
TRANSFER_TIMEOUT = 180.0
PAIRS = ((CLOUD_VM, ONPREM_VM), (ONPREM_VM, CLOUD_VM))
ADDRESS = {CLOUD_VM: CLOUD_VM_IP, ONPREM_VM: ONPREM_VM_IP}
FIREWALL_CHECK = "host firewall"
TIMED_OUT = 124
STALL_HINT = (
    " (TCP stalled although the ping step passed: a path-MTU black hole? "
    "check inet routerd_mss on both routers)"
)


def findings(report: dict[str, Any], status: str) -> list[dict[str, Any]]:
    return [f for f in report.get("findings", []) if f.get("status") == status]


def unverified(lab: Lab) -> str | None:
    """None when every claim on both routers is verified, else what is not."""
    bad = []
    for side, router in lab.routers.items():
        claims = router.claims()
        if not claims:
            bad.append(f"{side}: no claims")
        for c in claims:
            if c.get("state") != "verified":
                bad.append(
                    f"{side} {c.get('name')} {c.get('state')} "
                    f"({c.get('reason') or '-'}: {c.get('message') or ''})"
                )
    return "; ".join(bad) or None


def wait_verified(lab: Lab, timeout: float = VERIFY_TIMEOUT) -> None:
    wait_until(lambda: unverified(lab), timeout=timeout, interval=0.5, what="every claim verified")


def host_firewall(lab: Lab) -> str:
    """OCI: doctor WARNs about the image firewall (which blocks the tunnel); then open it."""
    cloud = lab.cloud

    def listed() -> str | None:
        empty = [side for side, r in lab.routers.items() if not r.claims()]
        return f"no claims listed yet by {', '.join(empty)}" if empty else None

    wait_until(listed, timeout=30, interval=0.5, what="both routers list their claims")
    blocked = unverified(lab)
    if blocked is None:
        raise AssertionError("claims verified through the image firewall: it blocks nothing")

    def warned() -> str | None:
        found = [f for f in findings(cloud.doctor(), "warn") if FIREWALL_CHECK in f["name"]]
        return None if found else "doctor hybrid (cloud) shows no host-firewall WARN"

    wait_until(warned, timeout=30, interval=0.5, what="doctor host-firewall WARN")
    opened = lab.open_firewall()
    return f"doctor WARNs while claims are not verified ({blocked}); applied: {'; '.join(opened)}"


def claims_verified(lab: Lab) -> str:
    """Every claim verified (routerctl -o json); doctor hybrid has no FAIL on either router."""
    wait_verified(lab)
    notes = []
    for side, router in lab.routers.items():
        report = router.doctor()
        fails = findings(report, "fail")
        if fails:
            raise AssertionError(
                f"doctor hybrid ({side}) FAIL: "
                + "; ".join(f"{f['name']}: {f.get('detail', '')}" for f in fails)
            )
        warns = [f["name"] for f in findings(report, "warn")]
        if lab.firewall_opened and any(FIREWALL_CHECK in w for w in warns):
            raise AssertionError(f"doctor ({side}) still warns about the host firewall")
        counts = report.get("counts", {})
        notes.append(
            f"{side}: doctor {report.get('overall')} "
            f"(pass {counts.get('pass', 0)}, warn {counts.get('warn', 0)}"
            + (f": {', '.join(warns)}" if warns else "")
            + ")"
        )
    return "all claims verified; " + "; ".join(notes)


def ping(lab: Lab) -> str:
    """3 of 3 echo replies each way (polled: the first ARP may still be resolving)."""
    out = []
    for src, dst in PAIRS:

        def answered(src: str = src, dst: str = dst) -> str | None:
            got, text = lab.vms.ping(src, ADDRESS[dst])
            return None if got == 3 else f"{src} -> {ADDRESS[dst]}: {got}/3 replies: {text}"

        wait_until(answered, timeout=20, interval=0.5, what=f"ping {src} -> {dst}")
        out.append(f"{src}->{dst} 3/3")
    return ", ".join(out)


def ssh(lab: Lab) -> str:
    """SSH both ways; the server sees the client's own address, not a router's."""
    out = []
    for src, dst in PAIRS:
        proc = lab.vms.ssh(src, dst, "echo $SSH_CONNECTION")
        if proc.returncode != 0:
            hint = STALL_HINT if proc.returncode == TIMED_OUT else ""
            raise AssertionError(
                f"ssh {src} -> {ADDRESS[dst]} exited {proc.returncode}: {proc.stderr.strip()}{hint}"
            )
        fields = proc.stdout.split()
        if len(fields) != 4 or fields[0] != ADDRESS[src] or fields[2] != ADDRESS[dst]:
            raise AssertionError(
                f"{dst} saw SSH_CONNECTION={proc.stdout.strip()!r}; expected the client "
                f"{ADDRESS[src]} talking to {ADDRESS[dst]} (source not preserved?)"
            )
        out.append(f"{dst} saw client {fields[0]}")
    return ", ".join(out)


def copy(lab: Lab, src: str, dst: str, *, timeout: float = TRANSFER_TIMEOUT) -> str:
    """scp the payload from VM ``src`` to VM ``dst``; check the digest; returns a summary."""
    payload = lab.payload()
    target = payload.path.with_name(f"{dst}-from-{src}.bin")
    target.unlink(missing_ok=True)
    started = time.monotonic()
    argv = lab.vms.scp_argv(src, dst, payload.path, target)
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise AssertionError(
            f"scp {src} -> {dst} did not finish within {timeout:.0f}s{STALL_HINT}"
        ) from None
    took = time.monotonic() - started
    if proc.returncode != 0:
        raise AssertionError(f"scp {src} -> {dst} exited {proc.returncode}: {proc.stderr.strip()}")
    digest = sha256(target)
    target.unlink(missing_ok=True)
    if digest != payload.sha256:
        raise AssertionError(f"scp {src} -> {dst}: sha256 {digest} != {payload.sha256}")
    mib = payload.path.stat().st_size / (1 << 20)
    return f"{src}->{dst} {mib:.0f} MiB in {took:.1f}s ({mib / took:.0f} MiB/s), sha256 equal"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def scp_both_ways(lab: Lab) -> str:
    """100 MiB each way over the SSH of the previous step, checksums equal."""
    return "; ".join(copy(lab, src, dst) for src, dst in PAIRS)
