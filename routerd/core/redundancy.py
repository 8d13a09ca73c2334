"""Router pairs: which router of a site is active, decided by VRRP and observed, never polled.

A site may run two routers. Only the *active* one captures addresses (proxy-ARP entries
on-prem, provider secondary IPs in a cloud) and originates them in BGP; the *standby*
withdraws what it originates but keeps routes, tunnels and keys warm, so that taking over
is one step. VRRPv3 (keepalived, supervised by routerd) elects the active router and is the
pair's liveness detector on both kinds of site: with 0.1 s adverts a killed, hung or
cut-off partner is noticed in about 0.3 s, where a BGP hold timer (GoBGP has no BFD, and
3 s is the smallest hold time) would take seconds.

This module is pure: the plan derived from a ``RedundancyGroup`` (what keepalived is told),
the rules that relate its fields and other resources (``check_redundancy``), the
``RoleState`` derived from what keepalived reports (``derive_role``) and the ``RoleSource``
port an implementation outside core provides.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from routerd.core.config import RouterConfig
from routerd.core.duration import format_duration
from routerd.core.errors import ConfigIssue, RouterdError
from routerd.core.overlay import interface_names, os_ifname
from routerd.core.resources import IPv4StaticAddress, Resource
from routerd.core.resources.redundancy import (
    RedundancyGroup,
    advert_seconds,
    hold_down_seconds,
)

TAKEOVER_PRIORITY = 254
TOKEN_NET = ipaddress.IPv4Network("127.77.0.0/16")
"""Where the token address of a group without virtual addresses lives (on ``lo``): keepalived
2.2 requires at least one address per instance; a host-scope loopback address changes
nothing for traffic (127/8 is local already) and marks mastership just as a VIP does."""


class Role(StrEnum):
    ACTIVE = "active"
    STANDBY = "standby"
    FAULT = "fault"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class VirtualAddress:
    """An address the VRRP master holds: ``cidr`` on device ``dev``."""

    cidr: str
    dev: str
    token: bool = False

    @property
    def ip(self) -> str:
        return self.cidr.split("/", 1)[0]


@dataclass(frozen=True)
class PairPlan:
    """What this router's VRRP instance is, with names resolved and durations parsed."""

    ref: str
    name: str
    role: str
    interface: str
    vrid: int
    priority: int
    peers: tuple[str, ...]
    source_address: str
    advert_interval: float
    addresses: tuple[VirtualAddress, ...]
    preempt: bool
    hold_down: float | None
    track_interfaces: tuple[str, ...]

    @property
    def detection_time(self) -> float:
        """RFC 5798's Master_Down_Interval at our priority: how long a silent master lasts."""
        return 3 * self.advert_interval + (256 - self.priority) * self.advert_interval / 256

    @property
    def serving_addresses(self) -> tuple[VirtualAddress, ...]:
        return tuple(a for a in self.addresses if not a.token)


def token_address(vrid: int) -> VirtualAddress:
    """The loopback token a group without virtual addresses uses (one per VRID)."""
    return VirtualAddress(f"{TOKEN_NET.network_address + vrid}/32", "lo", token=True)


def plan_group(group: RedundancyGroup, config: RouterConfig | None = None) -> PairPlan:
    """Derive the plan from a validated group (Interface aliases resolved via ``config``).

    Args:
        group: the router's RedundancyGroup (already decoded, hence field-valid).
        config: the Router config, to resolve Interface names to OS names.

    Returns:
        The plan a VRRP implementation renders.
    """
    s = group.spec

    def ifname(name: str) -> str:
        return os_ifname(config, name) if config is not None else name

    dev = ifname(s.interface)
    addresses = tuple(VirtualAddress(a, dev) for a in s.virtual_addresses) or (
        token_address(s.virtual_router_id),
    )
    return PairPlan(
        ref=group.ref,
        name=group.name,
        role=s.role,
        interface=dev,
        vrid=s.virtual_router_id,
        priority=s.priority,
        peers=tuple(s.peers),
        source_address=s.source_address,
        advert_interval=advert_seconds(s.advert_interval),
        addresses=addresses,
        preempt=s.preempt,
        hold_down=hold_down_seconds(s.failback_hold_down) if s.failback_hold_down else None,
        track_interfaces=tuple(ifname(t) for t in s.track_interfaces),
    )


# ---------------------------------------------------------------------------------------
# Validation that relates fields and resources


class _Issues:
    def __init__(self, config: RouterConfig) -> None:
        self.config = config
        self.errors: list[ConfigIssue] = []
        self.warnings: list[ConfigIssue] = []
        self._pos = {id(r): i for i, r in enumerate(config.resources)}

    def _issue(self, res: Resource, path: str, msg: str) -> ConfigIssue:
        idx = self._pos.get(id(res))
        line = self.config.line_of(idx, path) if idx is not None else None
        return ConfigIssue(res.ref, path, msg, line, self.config.file)

    def error(self, res: Resource, path: str, msg: str) -> None:
        self.errors.append(self._issue(res, path, msg))

    def warn(self, res: Resource, path: str, msg: str) -> None:
        self.warnings.append(self._issue(res, path, msg))


def check_redundancy(config: RouterConfig) -> tuple[list[ConfigIssue], list[ConfigIssue]]:
    """Every cross-field and cross-resource rule of RedundancyGroups, all findings at once.

    Args:
        config: a decoded Router config.

    Returns:
        ``(errors, warnings)``.
    """
    out = _Issues(config)
    groups = config.of(RedundancyGroup)
    for extra in groups[1:]:
        out.error(
            extra,
            "metadata.name",
            f"a router belongs to one pair, and {groups[0].ref} already declares it; "
            "remove this RedundancyGroup (track more interfaces with trackInterfaces)",
        )
    for group in groups:
        _modes(out, group)
        _addresses(out, group)
        _interfaces(out, group)
    return out.errors, out.warnings


def _modes(out: _Issues, group: RedundancyGroup) -> None:
    s = group.spec
    if s.preempt and s.failback_hold_down:
        out.error(
            group,
            "spec.failbackHoldDown",
            "preempt: true takes over at once, failbackHoldDown delays it: set preempt: false "
            "to keep the hold-down, or remove failbackHoldDown",
        )
    if s.role == "cloud" and s.virtual_addresses:
        out.error(
            group,
            "spec.virtualAddresses",
            "a cloud fabric delivers only the addresses its provider assigned to a NIC, so a "
            "floating address would not work: remove virtualAddresses (the active router "
            "takes the secondary IPs over through the provider)",
        )


def _addresses(out: _Issues, group: RedundancyGroup) -> None:
    s = group.spec
    seen: dict[str, str] = {}
    if s.source_address:
        seen[s.source_address] = "spec.sourceAddress"
    for i, peer in enumerate(s.peers):
        path = f"spec.peers.{i}"
        if peer in seen:
            out.error(group, path, f"{peer} is already {seen[peer]}; list each partner once")
        else:
            seen[peer] = path
    statics = {
        str(ipaddress.IPv4Interface(a.spec.address).ip): a for a in out.config.of(IPv4StaticAddress)
    }
    for i, cidr in enumerate(s.virtual_addresses):
        path = f"spec.virtualAddresses.{i}"
        ip = cidr.split("/", 1)[0]
        if ip in seen:
            out.error(
                group,
                path,
                f"{ip} is already {seen[ip]}; a virtual address belongs to no router: "
                "pick an address no router owns",
            )
            continue
        seen[ip] = path
        if ip in statics:
            out.error(
                group,
                path,
                f"{ip} is this router's own address ({statics[ip].ref}); the VRRP master "
                "adds a virtual address and the backup removes it: pick another address",
            )


def _interfaces(out: _Issues, group: RedundancyGroup) -> None:
    s = group.spec
    declared = interface_names(out.config)
    if s.interface not in declared:
        out.warn(
            group,
            "spec.interface",
            f"{s.interface!r} is not a declared Interface; routerd uses it as an OS interface name",
        )
    main = os_ifname(out.config, s.interface)
    seen: set[str] = set()
    for i, name in enumerate(s.track_interfaces):
        resolved = os_ifname(out.config, name)
        path = f"spec.trackInterfaces.{i}"
        if resolved == main:
            out.error(group, path, f"{name!r} is the VRRP interface, tracked already: remove it")
        elif resolved in seen:
            out.error(group, path, f"{name!r} is listed twice: remove one")
        seen.add(resolved)


# ---------------------------------------------------------------------------------------
# The role, derived from observations


class Daemon(StrEnum):
    """What routerd knows about its VRRP daemon."""

    STARTING = "starting"
    RUNNING = "running"
    DOWN = "down"
    HUNG = "hung"


@dataclass(frozen=True)
class VrrpObservation:
    """Everything ``derive_role`` needs, as the watcher last saw it.

    Attributes:
        daemon: the daemon's life (from its process, never from a poll).
        vrrp: the last state keepalived reported (``MASTER``, ``BACKUP``, ``FAULT``,
            ``STOP``), None before the first report.
        at: when that changed (seconds since the epoch).
        detail: why the daemon is down or hung, for people.
        takeover: ``pending`` while a planned takeover runs, ``failed: why`` after one
            that did not complete, else empty.
        master: the partner heard advertising as master (``10.40.8.3 (priority 100)``),
            empty when none is heard.
    """

    daemon: Daemon
    vrrp: str | None = None
    at: float = 0.0
    detail: str = ""
    takeover: str = ""
    master: str = ""


@dataclass(frozen=True)
class RoleState:
    """This router's role in its pair, since when, and why (for people and the doctor)."""

    role: Role
    since: float
    why: str
    group: str = ""

    @property
    def active(self) -> bool:
        """Whether this router captures and originates (only the active one does)."""
        return self.role is Role.ACTIVE


SOLO = RoleState(Role.ACTIVE, 0.0, "no RedundancyGroup: this router is its site's only router")


def _standby_why(plan: PairPlan, obs: VrrpObservation) -> str:
    master = obs.master or "a partner"
    head = f"VRRP backup of VRID {plan.vrid} on {plan.interface}: {master} is master"
    if obs.takeover == "pending":
        return f"{head}; a planned takeover is under way"
    if obs.takeover.startswith("failed"):
        return f"{head}; the planned takeover {obs.takeover}"
    if plan.preempt:
        return f"{head}; takes over at once from a lower-priority master"
    if plan.hold_down is not None:
        return (
            f"{head}; takes over from a lower-priority master after "
            f"{format_duration(plan.hold_down)} as a healthy backup (failbackHoldDown)"
        )
    return f"{head}; stays standby until `routerctl failback` (no preemption)"


def derive_role(
    plan: PairPlan, obs: VrrpObservation, previous: RoleState | None = None
) -> RoleState:
    """The role implied by an observation; ``since`` only moves when the role does.

    Anything short of keepalived saying MASTER is not active: a router that cannot tell
    must not capture, or the segment could see two.

    Args:
        plan: the group's plan (for the explanations).
        obs: the latest observation.
        previous: the role reported before, to keep ``since`` across explanations.

    Returns:
        The role now.
    """
    vrid = f"VRID {plan.vrid} on {plan.interface}"
    if obs.daemon is Daemon.DOWN:
        detail = f" ({obs.detail})" if obs.detail else ""
        role, why = Role.FAULT, f"keepalived is not running{detail}; routerd restarts it"
    elif obs.daemon is Daemon.HUNG:
        role, why = Role.FAULT, f"keepalived stopped answering ({obs.detail}); restarting it"
    elif obs.vrrp is None:
        role, why = Role.UNKNOWN, "keepalived has not reported a VRRP state yet"
    elif obs.vrrp == "MASTER":
        role, why = Role.ACTIVE, f"VRRP master of {vrid}"
    elif obs.vrrp == "BACKUP":
        role, why = Role.STANDBY, _standby_why(plan, obs)
    elif obs.vrrp == "FAULT":
        role, why = (
            Role.FAULT,
            f"VRRP fault on {vrid}: {plan.interface} or a tracked interface is down",
        )
    else:
        role, why = Role.FAULT, f"keepalived reports {obs.vrrp} for {vrid}"
    since = previous.since if previous is not None and previous.role is role else obs.at
    return RoleState(role, since, why, plan.ref)


# ---------------------------------------------------------------------------------------
# The port


class TakeoverRefused(RouterdError):
    """A planned takeover (failback) cannot start; the message says why and what to do."""


class RoleSource(Protocol):
    """Where the engine learns this router's role; implemented outside core."""

    def start(self, on_change: Callable[[], None]) -> None:
        """Begin observing; ``on_change`` is called (from any thread) when the role moves."""

    def role(self) -> RoleState:
        """The current role (cheap; no I/O)."""

    def take_over(self) -> str:
        """Become active without an outage (a planned failback).

        Returns:
            What was done, for people.

        Raises:
            TakeoverRefused: this router cannot take over now (fault, not running, ...).
        """

    def close(self, *, cleanup: bool = False) -> None:
        """Stop observing; with ``cleanup`` also stop the VRRP daemon and drop its addresses."""


class SoloRoleSource:
    """The role of a router without a pair: always active."""

    def start(self, on_change: Callable[[], None]) -> None:
        return None

    def role(self) -> RoleState:
        return SOLO

    def take_over(self) -> str:
        return "this router has no partner; it is always active"

    def close(self, *, cleanup: bool = False) -> None:
        return None
