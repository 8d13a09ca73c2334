"""What a failed run leaves behind: every namespace's state and every log, minus secrets.

Written before teardown to ``.lab-evidence/<run>-<provider>/`` (gitignored) and printed, so
a red CI run can be read without rerunning it (faucet's ``dump_switch_flows``). Per
namespace: ``ip -j addr/route (all tables)/neigh/neigh proxy``, ``nft -j list ruleset``,
``iptables-save`` of both backends and ``conntrack -L``; per router ``wg show <tunnel>
dump`` and what routerd itself says (claims, doctor hybrid); the routerd, wireguard-go and
sshd logs; the routers' configs and the run manifest.

``wg show`` is asked for the router's own tunnel, not ``all``: wireguard-go's UAPI sockets
share one directory across namespaces, so ``all`` would list other routers' (and other
runs') devices too. The private key column (and the preshared key of peer lines) is
removed from the dump before it is written; key files are never copied.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from tests.support.netns import sh

if TYPE_CHECKING:
    from .lab import Lab
    from .steps import StepResult

ROOT = Path(__file__).resolve().parents[2]
EVIDENCE_ROOT = ROOT / ".lab-evidence"
COMMANDS = {
    "addr.json": ["ip", "-j", "addr"],
    "route.json": ["ip", "-j", "route", "show", "table", "all"],
    "neigh.json": ["ip", "-j", "neigh"],
    "neigh-proxy.json": ["ip", "-j", "neigh", "show", "proxy"],
    "nft.json": ["nft", "-j", "list", "ruleset"],
    "iptables-nft.txt": ["iptables-nft-save"],
    "iptables-legacy.txt": ["iptables-legacy-save"],
    "conntrack.txt": ["conntrack", "-L"],
}
STRIPPED = "# wg show dump; private-key and preshared-key fields removed\n"


def strip_wg_dump(text: str) -> str:
    """``wg show IF dump`` without the private key field (and peers' preshared keys).

    The first line describes the interface (private-key public-key listen-port fwmark),
    every further line a peer (public-key preshared-key endpoint allowed-ips ...).
    """
    out = []
    for i, line in enumerate(text.splitlines()):
        cols = line.split("\t")
        if i == 0 and len(cols) == 4:
            cols = cols[1:]
        elif len(cols) == 8:
            cols = cols[:1] + cols[2:]
        else:
            cols = ["(unrecognised line removed)"]
        out.append("\t".join(cols))
    return STRIPPED + "\n".join(out) + "\n"


def _run(argv: list[str]) -> str:
    if shutil.which(argv[0]) is None and argv[0] != "ip":
        return f"({argv[0]} not installed)\n"
    try:
        return sh(argv, check=False, timeout=30)
    except Exception as exc:  # evidence is best effort: record why a piece is missing
        return f"({' '.join(argv)} failed: {exc})\n"


def collect(lab: Lab, results: list[StepResult] | None = None, *, dest: Path | None = None) -> Path:
    """Write the evidence folder for ``lab`` (default ``.lab-evidence/<run>-<provider>``)."""
    dest = dest or EVIDENCE_ROOT / f"{lab.run_id}-{lab.provider}"
    dest.mkdir(parents=True, exist_ok=True)
    for ns in lab.namespaces():
        for fname, argv in COMMANDS.items():
            (dest / f"{ns.name}-{fname}").write_text(_run(["ip", "netns", "exec", ns.name, *argv]))
    for side, router in lab.routers.items():
        dump = _run(["ip", "netns", "exec", router.ns.name, "wg", "show", router.tunnel, "dump"])
        (dest / f"{side}-wg.txt").write_text(strip_wg_dump(dump))
        for name, args in (("claims", ("get", "claims")), ("doctor", ("doctor", "hybrid"))):
            proc = router.ctl(*args, "-o", "json", check=False, timeout=10)
            (dest / f"{side}-{name}.json").write_text(proc.stdout or proc.stderr)
        shutil.copy(router.config, dest / f"{side}-router.yaml")
    for log in lab.logs():
        if log.is_file():
            shutil.copy(log, dest / str(log.relative_to(lab.dir)).replace("/", "-"))
    shutil.copy(lab.registry.path, dest / "manifest.json")
    if results:
        (dest / "steps.txt").write_text("\n".join(r.line() for r in results) + "\n")
    return dest
