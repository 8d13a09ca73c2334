"""A BIRD2 route reflector for address mobility: its config, and running it in a namespace.

The routers' speakers peer with a standard reflector; BIRD2 adds no hold time of its own
(no MRAI, no work queue), so a ``/32`` crosses it in about a millisecond. ``render`` writes
the config; the same text, rendered with example values, ships to operators as
``examples/mobility/bird-rr.conf`` (``EXAMPLE``; a unit test keeps the two equal, and
``python -m tools.labkit.birdrr`` rewrites it):

* iBGP in the mobility domain's AS, every router a ``rr client``;
* ``add paths tx``: each client receives every site's path for an address, not only the
  best, so a router sees a conflict (two homes at one sequence) instead of a silent winner;
* per-client import filter: only IPv4 ``/32``s inside the domain prefixes, carrying exactly
  one site identity (``ASN:100:SITE``), that client's own, and exactly one sequence
  (``ASN:101:SEQ``). ``import keep filtered``: refused routes stay visible with
  ``birdc show route filtered``;
* short timers (hold 9 s, keepalive 3 s, connect retry 1 s, error wait 1-10 s): the
  routers' gobgpd waits 5-10 s before it connects itself, so the reflector reconnects first.

``BirdRR`` runs ``bird -f`` in a namespace and stops it by PID (``Cleanup``).
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from routerd.backends.linux.wgsupervisor import process_start_time
from tests.support.netns import Cleanup, Netns
from tests.support.wait import wait_until

from .registry import stop_process


@dataclass(frozen=True)
class RRClient:
    """One router the reflector serves: its session address and its site identity."""

    address: str
    site_id: int
    description: str = ""

    @property
    def protocol(self) -> str:
        return f"site{self.site_id}_" + self.address.replace(".", "_")


@dataclass(frozen=True)
class RRConfig:
    """What the reflector needs to know.

    Attributes:
        asn: the mobility domain's AS number.
        router_id: the reflector's router id (also its cluster id).
        domains: the mobility domain prefixes.
        clients: every router, with its site.
        local_address: the reflector's session address ("" lets BIRD choose).
        log: a log file, or "" for syslog.
    """

    asn: int
    router_id: str
    domains: tuple[str, ...]
    clients: tuple[RRClient, ...]
    local_address: str = ""
    log: str = ""


def render(cfg: RRConfig) -> str:
    """The BIRD2 configuration text of a mobility route reflector."""
    log = f'log "{cfg.log}" all;' if cfg.log else "log syslog all;"
    local = (
        f"local {cfg.local_address} as MOBILITY_ASN;"
        if cfg.local_address
        else ("local as MOBILITY_ASN;")
    )
    domains = ", ".join(f"{d}+" for d in cfg.domains)
    lines = [
        "# BIRD2 route reflector for routerd address mobility (BIRD 2.0).",
        "# Clients: every router of every site (the gobgpd routerd drives), iBGP in",
        "# MOBILITY_ASN over the overlay. One 'protocol bgp' per router, with its site identity",
        "# in mobility_ok(SITE): a router may only announce its own site's homes.",
        "# 'direct' expects the routers on a network the reflector is attached to (the overlay);",
        "# use 'multihop' instead when they are further away.",
        f"router id {cfg.router_id};",
        log,
        "",
        "protocol device {}",
        "",
        f"define MOBILITY_ASN = {cfg.asn};",
        "# The mobility domains; 'P+' matches P and every longer prefix inside it.",
        f"define MOBILITY_DOMAINS = [{domains}];",
        "",
        "# A client may announce only /32s inside the domains that carry exactly one site",
        "# identity (ASN:100:SITE), its own, and exactly one sequence (ASN:101:SEQ).",
        "function mobility_ok(int site)",
        "{",
        "  if net.len != 32 then return false;",
        "  if net !~ MOBILITY_DOMAINS then return false;",
        "  if filter(bgp_large_community, [(MOBILITY_ASN, 100, *)]).len != 1 then return false;",
        "  if (MOBILITY_ASN, 100, site) !~ bgp_large_community then return false;",
        "  if filter(bgp_large_community, [(MOBILITY_ASN, 101, *)]).len != 1 then return false;",
        "  return true;",
        "}",
        "",
        "template bgp mobility_client {",
        f"  {local}",
        "  rr client;",
        f"  rr cluster id {cfg.router_id};",
        "  hold time 9;",
        "  keepalive time 3;",
        "  connect delay time 1;",
        "  connect retry time 1;",
        "  error wait time 1, 10;",
        "  direct;",
        "  ipv4 {",
        "    add paths tx;",
        "    import keep filtered on;",
        "    export where source = RTS_BGP;",
        "  };",
        "}",
    ]
    for c in cfg.clients:
        lines += [
            "",
            f"protocol bgp {c.protocol} from mobility_client {{",
            *([f'  description "{c.description}";'] if c.description else []),
            f"  neighbor {c.address} as MOBILITY_ASN;",
            f"  ipv4 {{ import where mobility_ok({c.site_id}); }};",
            "}",
        ]
    return "\n".join(lines) + "\n"


EXAMPLE = RRConfig(
    asn=65000,
    router_id="10.255.0.1",
    domains=("10.77.0.0/16",),
    clients=(
        RRClient("10.255.0.11", 1, "site 1, router a (VRRP pair)"),
        RRClient("10.255.0.12", 1, "site 1, router b (VRRP pair)"),
        RRClient("10.255.0.21", 2, "site 2"),
        RRClient("10.255.0.31", 3, "site 3 (cloud)"),
    ),
    local_address="10.255.0.1",
)
"""The operators' example, shipped as ``examples/mobility/bird-rr.conf``."""
EXAMPLE_PATH = Path(__file__).resolve().parents[2] / "examples" / "mobility" / "bird-rr.conf"


class BirdRR:
    """``bird -f`` with a rendered config, in a namespace, stopped by PID."""

    def __init__(self, ns: Netns, cfg: RRConfig, workdir: Path) -> None:
        self.ns = ns
        self.workdir = workdir
        self.conf = workdir / "bird.conf"
        self.ctl = workdir / "bird.ctl"
        self.log = workdir / "bird.log"
        self.cfg = RRConfig(**{**cfg.__dict__, "log": str(self.log)})
        self.pid: int | None = None
        self._proc: subprocess.Popen[str] | None = None

    def start(self, cleanup: Cleanup) -> int:
        """Write the config and start BIRD; returns once its control socket answers."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.conf.write_text(render(self.cfg))
        self._proc = self.ns.popen(
            "bird",
            "-f",
            "-c",
            str(self.conf),
            "-s",
            str(self.ctl),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        self.pid = self._proc.pid
        cleanup.push(f"bird {self.pid}", self.stop)

        def ready() -> str | None:
            if self._proc is not None and self._proc.poll() is not None:
                err = self._proc.stderr.read() if self._proc.stderr else ""
                raise RuntimeError(f"bird exited ({self._proc.returncode}): {err.strip()}")
            return None if self.ctl.exists() and "ready" in self.birdc("show status") else "no"

        wait_until(ready, timeout=10, interval=0.05, what="bird control socket")
        return self.pid

    @property
    def process(self) -> subprocess.Popen[str] | None:
        """The running ``bird`` (None once stopped)."""
        return self._proc

    def birdc(self, command: str) -> str:
        """One ``birdc`` command on the control socket; its output."""
        out = subprocess.run(
            ["birdc", "-s", str(self.ctl), *command.split()],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        return out.stdout

    def established(self) -> list[str]:
        """The client protocols whose session is up."""
        rows = self.birdc("show protocols").splitlines()
        return [r.split()[0] for r in rows if "Established" in r]

    def since(self, protocol: str) -> str:
        """When the protocol last changed state (BIRD's ``Since`` column, ms precision)."""
        for row in self.birdc(f"show protocols {protocol}").splitlines():
            cols = row.split()
            if cols and cols[0] == protocol:
                return cols[4]
        return ""

    def stop(self) -> None:
        """SIGTERM by PID (SIGKILL after a grace period), and reap."""
        if self._proc is None:
            return
        proc, self._proc = self._proc, None
        stop_process(proc.pid, process_start_time(proc.pid))
        proc.wait(10)
        if proc.stderr is not None:
            proc.stderr.close()


if __name__ == "__main__":
    EXAMPLE_PATH.parent.mkdir(parents=True, exist_ok=True)
    EXAMPLE_PATH.write_text(render(EXAMPLE))
    print(EXAMPLE_PATH)
