"""Helpers for the ``doctor mobility`` unit tests: the site-a router and fakes of its ports.

The router is ``examples/mobility/site-a.yaml`` (domain ``lab`` 10.77.0.0/16, this router
serves site-a; site-b on-prem and site-c cloud elsewhere; gateway 10.77.0.1 with MAC
02:00:00:4d:00:01 on ``ens19``; speaker neighbor 10.255.0.1). Its ports are fakes: the
mobility port is ``tests.support.fake_mobility.FakeMobility`` (the API tests' port), the
exchange hands out an ``ExchangeView`` the test builds, the role source a ``RoleState``.
The host answers the kernel dumps from JSON shaped like ``ip -j`` prints it (the fields
the doctor reads, in the real layout: ``addr_info``, ``link``, ``address``), ARP sweeps and
VRRP listens from values the test states, and nothing else (``unexpected`` stays empty).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from routerd.core.config import RouterConfig
from routerd.core.doctor import DoctorContext, Finding, Report, Status
from routerd.core.exchange import ExchangeView, LearnedPath, Origination, SessionState
from routerd.core.lowering import ClaimIntent, Lowered, ShapeFacts, lower
from routerd.core.redundancy import Role, RoleState
from routerd.doctor import run_doctor
from routerd.doctor.arp import Sweep
from routerd.doctor.host import CommandResult
from routerd.doctor.ip_batch import BATCH
from routerd.doctor.vrrp import Heard, Listen
from tests.fixtures.doctor.replay import ReplayHost
from tests.support.configs import example_text, load, with_keys
from tests.support.fake_mobility import T0, FakeDomain, FakeMobility
from tests.unit.doctor.kit import answering

NOW = T0 + 3600
Runner = Callable[..., Any]
LAN = "ens19"
LAN_MAC = "52:54:00:4d:00:02"
GW = "10.77.0.1"
GW_MAC = "02:00:00:4d:00:01"
GW_DEV = "routerd-gw0"
RR = "10.255.0.1"
SITE_IDS = {"site-a": 1, "site-b": 2, "site-c": 3}
NEXT_HOP = {"site-a": "10.255.0.11", "site-b": "10.255.0.21", "site-c": "10.255.0.31"}

PAIR = """
    - apiVersion: hybrid.routerd.net/v1alpha1
      kind: RedundancyGroup
      metadata: {name: site-a-pair}
      spec:
        role: onprem
        interface: lan
        virtualRouterID: 42
        priority: 150
        peers: [10.77.0.3]
        advertInterval: 100ms
"""


def config(*, pair: bool = False, text: str = "") -> RouterConfig:
    base = with_keys(example_text("mobility", "site-a"), Path("/nonexistent/keys"))
    return load(base.rstrip("\n") + "\n" + (PAIR if pair else "") + text)


def domain() -> FakeDomain:
    return FakeDomain(
        name="lab",
        prefix="10.77.0.0/16",
        local_site="site-a",
        sites={"site-a": "this router", "site-b": "10.255.0.21", "site-c": "10.255.0.31"},
    )


def port() -> FakeMobility:
    """The site-a router's mobility port with a fixed clock."""
    return FakeMobility([domain()], clock=lambda: NOW - 60)


class FakeExchange:
    """A route exchange that hands out the view the test set."""

    def __init__(self, view: ExchangeView) -> None:
        self.current = view

    def view(self) -> ExchangeView:
        return self.current


class FakeRoles:
    """A role source that reports the role the test set."""

    def __init__(self, role: Role, why: str = "VRRP master of VRID 42 on ens19") -> None:
        self.state = RoleState(role, NOW - 120, why, "RedundancyGroup/site-a-pair")

    def role(self) -> RoleState:
        return self.state


def path(address: str, site: str, sequence: int, neighbor: str = RR) -> LearnedPath:
    return LearnedPath(address, SITE_IDS[site], sequence, NEXT_HOP[site], neighbor, NEXT_HOP[site])


def exchange(
    *paths: LearnedPath,
    state: str = "established",
    originated: Sequence[tuple[str, int]] = (),
    **changes: Any,
) -> FakeExchange:
    """An exchange whose one session (to the reflector) is in ``state``."""
    learned: dict[str, tuple[LearnedPath, ...]] = {}
    for p in paths:
        learned[p.address] = (*learned.get(p.address, ()), p)
    view = ExchangeView(
        paths=learned,
        sessions={RR: SessionState(RR, state, NOW - 300, "rr-1")},
        originated={a: Origination(a, 1, s, NEXT_HOP["site-a"]) for a, s in originated},
    )
    return FakeExchange(replace(view, **changes))


def derived(address: str, site: str = "site-b", capture: str = "proxy-arp") -> ClaimIntent:
    """The derived claim the engine holds for an address homed at ``site``."""
    name = f"mobility.lab.{address.replace('.', '-')}"
    facts = ShapeFacts(capture, LAN, "wg-mob", site, "", "", "", None, (), (), (), ())
    return ClaimIntent(name, f"{address}/32", address, facts)


def addrs(*, gateway_on: str = GW_DEV) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        {"ifindex": 2, "ifname": LAN, "addr_info": [_a("10.77.0.2", 16)]},
    ]
    if gateway_on:
        rows.append(
            {"ifindex": 7, "link": LAN, "ifname": gateway_on, "addr_info": [_a(GW, 16)]}
            if gateway_on != LAN
            else {"ifindex": 2, "ifname": LAN, "addr_info": [_a("10.77.0.2", 16), _a(GW, 16)]}
        )
    return rows


def _a(ip: str, length: int) -> dict[str, Any]:
    return {"family": "inet", "local": ip, "prefixlen": length, "scope": "global"}


def links(*, gateway_mac: str = GW_MAC) -> list[dict[str, Any]]:
    return [
        {"ifindex": 2, "ifname": LAN, "link_type": "ether", "address": LAN_MAC},
        {"ifindex": 7, "link": LAN, "ifname": GW_DEV, "link_type": "ether", "address": gateway_mac},
    ]


def ip_doc(argv: Sequence[str], rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {"argv": ["ip", "-j", *argv], "rc": 0, "stdout": json.dumps(rows), "stderr": ""}


@dataclass
class Segment:
    """What the host answers: kernel dumps, the sweep of ``ens19``, VRRP adverts."""

    addrs: list[dict[str, Any]] = field(default_factory=addrs)
    links: list[dict[str, Any]] = field(default_factory=links)
    proxies: list[str] = field(default_factory=list)
    captured: list[str] = field(default_factory=list)
    replies: dict[str, list[str]] = field(default_factory=dict)
    sweep_error: str = ""
    adverts: Sequence[Heard] = ()
    listen_error: str = ""
    arp_ignore: str | None = "1"

    def host(self, sys_root: Path) -> ReplayHost:
        proxies = [{"dst": ip, "dev": LAN, "proxy": None} for ip in self.proxies]
        host = answering(
            sys_root,
            ip_doc(["-4", "addr", "show"], self.addrs),
            ip_doc(["link", "show"], self.links),
            ip_doc(["neigh", "show", "proxy"], proxies),
            now=NOW,
        )
        if self.arp_ignore is not None:
            host.set_sysctl(f"net/ipv4/conf/{LAN}/arp_ignore", self.arp_ignore)
            host.set_sysctl("net/ipv4/conf/all/arp_ignore", "0")
        for name in ("forwarding", "proxy_arp"):
            host.set_sysctl(f"net/ipv4/conf/{LAN}/{name}", "1" if self.captured else "0")
        host.run = self._routes(host.run)
        host.arp = self._sweep(host)
        host.vrrp = self._listen(host)
        return host

    def _routes(self, recorded: Runner) -> Runner:
        """Input-route lookups (``route get A from S iif ens19``) answered as the kernel
        would with a ``/32`` to the tunnel for each ``captured`` address and none else."""

        def run(argv: Sequence[str], *, timeout: float = 5.0, input: str | None = None) -> Any:
            if tuple(argv) != BATCH or "iif" not in (input or ""):
                return recorded(argv, timeout=timeout, input=input)
            out, err = [], []
            for n, line in enumerate((input or "").splitlines(), start=1):
                _, _, dst, _, src, _, dev = line.split()
                if dst in self.captured:
                    row = {"dst": dst, "from": src, "dev": "wg-b", "iif": dev}
                    out.append(json.dumps([row]))
                else:
                    err.append(f"RTNETLINK answers: No route to host\nCommand failed -:{n}")
            stderr = "".join(f"{e}\n" for e in err)
            rc, failure = (1, "error") if err else (0, "")
            return CommandResult(tuple(argv), rc, "\n".join(out) + "\n", stderr, failure)

        return run

    def _sweep(self, host: ReplayHost) -> Callable[[str, Sequence[str], str], Sweep]:
        def sweep(ifname: str, targets: Sequence[str], source: str) -> Sweep:
            host.calls.append(("arp-sweep", ifname, *targets))
            if ifname != LAN:
                host.unexpected.append(("arp-sweep", ifname))
            replies = {ip: list(self.replies[ip]) for ip in targets if ip in self.replies}
            return Sweep(ifname, LAN_MAC, replies, self.sweep_error, len(targets))

        return sweep

    def _listen(self, host: ReplayHost) -> Callable[[str, float], Listen]:
        def listen(ifname: str, window: float) -> Listen:
            host.calls.append(("vrrp", ifname, str(window)))
            return Listen(ifname, window, tuple(self.adverts), self.listen_error)

        return listen


def adverts(
    source: str,
    *,
    every: float = 0.1,
    start: float = 0.0,
    end: float = 0.5,
    outgoing: bool = False,
    priority: int = 150,
    vrid: int = 42,
) -> list[Heard]:
    """Adverts from ``source`` every ``every`` seconds in [start, end)."""
    out, t = [], start
    while t < end - 1e-9:
        out.append(Heard(source, vrid, priority, round(t, 3), outgoing))
        t += every
    return out


def doctor(
    sys_root: Path,
    *,
    mobility: Any = None,
    ex: Any = None,
    roles: Any = None,
    segment: Segment | None = None,
    claims: Sequence[ClaimIntent] = (),
    cfg: RouterConfig | None = None,
    **ctx: Any,
) -> tuple[Report, ReplayHost]:
    """Run ``doctor mobility`` on the site-a router with these ports and this host (by
    default the kernel answers ARP for every proxy-ARP claim: forwarding and proxy ARP on,
    its route to the tunnel, as the engine leaves it)."""
    cfg = cfg or config()
    base = lower(cfg)
    lowered = Lowered(base.desired, {**base.claims, **{c.name: c for c in claims}})
    installed = [c.ip for c in claims if c.capture_type == "proxy-arp"]
    host = (segment or Segment(captured=installed)).host(sys_root)
    context = DoctorContext(
        startup=cfg, lowered=lowered, mobility=mobility, exchange=ex, role_source=roles, **ctx
    )
    report = run_doctor("mobility", context, host=host)
    assert not host.unexpected, host.unexpected
    return report, host


def named(report: Report, name: str) -> Finding:
    """The one finding called exactly ``name``."""
    hits = [f for f in report.findings if f.name == name]
    assert len(hits) == 1, (name, [f.name for f in report.findings])
    return hits[0]


def by_status(report: Report, status: Status) -> list[str]:
    return [f.name for f in report.findings if f.status is status]
