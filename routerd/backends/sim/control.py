"""A running world's controls: faults, VM moves, partitions, traces and the world's timers.

``WorldControl`` is what ``SimService`` acts on, independent of gRPC and of the engines:

* ``faults`` — the ``FaultBook`` (inject, clear, list);
* ``partitions`` — the ``PartitionBook``: cut sites, routers or the route reflector apart
  (BGP sessions and the underlay between them), heal them later;
* ``move_vm`` — unplug a VM's interface and plug it into another segment, in its own site
  or another (it keeps its address, MAC and default gateway, as a live-migrated VM does),
  and let it announce itself there: a gratuitous ARP (default), a RARP naming only its MAC
  (what hypervisors send for a resumed VM), or nothing. The announcement is presence
  evidence at every router listening on that segment (``routerd.backends.sim.presence``);
  the segment it left hears nothing more from it and its probes go unanswered. Static
  claims do not follow: the next verification shows the claim whose address left;
* ``announce_vm`` — the same announcement without a move (a VM booting, a failover);
* ``trace`` — one packet through the world (``World.trace``) with its names checked;
* timers in virtual time that belong to the world, not to any routerd: a cloud's guest
  agent re-adding provider addresses to router NICs (``quirks.guestAgentReadds``), and the
  world's timer queue (BGP updates in flight, hold timers, answers to presence probes).
  The scheduler that drives the routers runs them (``next_timer``, ``run_timers``).

A VM move is also published to ``move_listeners``, for whoever needs more than the
announcement (a provider inventory).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass

from routerd.core.duration import parse_duration

from .fabric import ProviderFabric
from .faultbook import FaultBook
from .faultkind import FaultInputError
from .packet import Proto, Trace
from .partitions import PartitionBook
from .world import World
from .worldfile.spec import VmSpec, WorldSpec

ANNOUNCE = ("garp", "rarp", "none")
"""How a VM announces itself on a segment."""


@dataclass(frozen=True)
class VmMove:
    """A VM's interface moved from one segment to another (``at``: world clock).

    ``announce`` is how it announced itself there; ``heard_by`` the routers whose presence
    source heard it (listening on that segment for its address).
    """

    vm: str
    interface: str
    from_segment: str
    to_segment: str
    from_site: str
    to_site: str
    at: float
    announce: str = "garp"
    heard_by: tuple[str, ...] = ()


@dataclass
class GuestAgent:
    """A cloud image's agent that re-adds provider secondary IPs to a router's NICs."""

    router: str
    every: float
    next_at: float

    def run(self, world: World) -> int:
        """Put every secondary IP the provider assigns to a NIC back on it; returns how many."""
        added = 0
        host = world.hosts[self.router]
        for ifname, iface in host.interfaces.items():
            fabric = world.medium_of((self.router, ifname))
            if not isinstance(fabric, ProviderFabric) or not iface.addresses:
                continue
            prefix = ipaddress.IPv4Interface(next(iter(iface.addresses))).network.prefixlen
            for ip in sorted(fabric.nics[(self.router, ifname)].addresses):
                if not host.is_local(ip):
                    world.agent_add_address(self.router, ifname, f"{ip}/{prefix}")
                    added += 1
        return added


class WorldControl:
    """Faults, moves, traces and world timers of one world built from ``spec``."""

    def __init__(self, world: World, spec: WorldSpec) -> None:
        self.world = world
        self.spec = spec
        self.faults = FaultBook(world)
        self.partitions = PartitionBook(world, spec)
        self.move_listeners: list[Callable[[VmMove], None]] = []
        world.timers.driven = True
        self.location = {vm.name: vm.segment for vm in spec.spec.vms}
        now = world.clock()
        self.agents: list[GuestAgent] = []
        for router in spec.spec.routers:
            site = spec.site(router.site)
            every = site.quirks.guest_agent_readds if site else ""
            if every:
                seconds = parse_duration(every)
                self.agents.append(GuestAgent(router.name, seconds, now + seconds))

    def site_of(self, segment: str) -> str:
        found = self.spec.segments().get(segment)
        return found[0].name if found else ""

    def move_vm(self, vm: str, segment: str, *, announce: str = "garp") -> VmMove:
        """Move ``vm``'s interface to ``segment``, let it announce itself, wake every router.

        Raises:
            FaultInputError: unknown VM or segment, already there, an address the target
                cloud subnet cannot hold, or an unknown way to announce.
        """
        spec = self._vm(vm)
        _check_announce(announce)
        target = self.spec.segments().get(segment)
        if target is None:
            known = ", ".join(sorted(self.spec.segments()))
            raise FaultInputError("segment", f"no segment {segment!r} (segments: {known})")
        here = self.location[vm]
        if here == segment:
            raise FaultInputError("segment", f"{vm} is already on {segment}")
        site, seg = target
        ip = spec.address.split("/")[0]
        if seg.subnet and ipaddress.IPv4Address(ip) not in ipaddress.IPv4Network(seg.subnet):
            raise FaultInputError(
                "segment", f"{segment} is {seg.subnet} in {site.provider}: it cannot hold {ip}"
            )
        with self.world.lock:
            self.world.move_port(vm, spec.interface, segment)
            self.location[vm] = segment
            heard = self._announce(vm, announce)
        move = VmMove(
            vm,
            spec.interface,
            here,
            segment,
            self.site_of(here),
            site.name,
            self.world.clock(),
            announce,
            heard,
        )
        for listener in list(self.move_listeners):
            listener(move)
        self.world.notify_all()
        return move

    def announce_vm(self, vm: str, announce: str = "garp") -> tuple[str, ...]:
        """Let ``vm`` announce its address where it is now; returns the routers that heard.

        Raises:
            FaultInputError: unknown VM, or an unknown way to announce.
        """
        self._vm(vm)
        _check_announce(announce)
        with self.world.lock:
            heard = self._announce(vm, announce)
        return heard

    def _vm(self, vm: str) -> VmSpec:
        spec = self.spec.vm(vm)
        if spec is None:
            known = ", ".join(v.name for v in self.spec.spec.vms) or "none"
            raise FaultInputError("vm", f"no VM {vm!r} in this world (VMs: {known})")
        return spec

    def _announce(self, vm: str, announce: str) -> tuple[str, ...]:
        """Under the world lock: the VM's announcement; the routers that heard it."""
        if announce == "none":
            return ()
        spec = self._vm(vm)
        ip = spec.address.split("/")[0]
        return self.world.record_garp(vm, spec.interface, ip, kind=announce).heard_by

    def trace(
        self,
        src_host: str,
        dst_ip: str,
        *,
        size: int = 84,
        df: bool = True,
        proto: Proto = "icmp",
        src_ip: str = "",
        dport: int = 0,
    ) -> Trace:
        """One packet from ``src_host`` to ``dst_ip`` (see ``World.trace``).

        Raises:
            FaultInputError: unknown host, a bad address, size or protocol.
        """
        if src_host not in self.world.hosts:
            known = ", ".join(sorted(self.world.hosts))
            raise FaultInputError("from", f"no host {src_host!r} (hosts: {known})")
        for name, value in (("to", dst_ip), ("source", src_ip)):
            if value or name == "to":
                try:
                    ipaddress.IPv4Address(value)
                except ValueError:
                    raise FaultInputError(name, f"{value!r} is not an IPv4 address") from None
        if not 28 <= size <= 65535:
            raise FaultInputError("size", f"{size} is not an IPv4 packet size (28..65535)")
        if proto not in ("icmp", "tcp", "udp"):
            raise FaultInputError("protocol", f"{proto!r}: use icmp, tcp or udp")
        return self.world.trace(
            src_host, dst_ip, size, df=df, proto=proto, src_ip=src_ip, dport=dport
        )

    # -- world timers (virtual time) -------------------------------------------------------

    def next_timer(self) -> float | None:
        """When the next world timer is due (None: no timers)."""
        due = [a.next_at for a in self.agents]
        queued = self.world.timers.next_due()
        if queued is not None:
            due.append(queued)
        return min(due, default=None)

    def run_timers(self, now: float) -> int:
        """Run every timer due at ``now``; returns how many changes they made."""
        changed = self.world.timers.run_due(now)
        for agent in self.agents:
            while agent.next_at <= now:
                changed += agent.run(self.world)
                agent.next_at += agent.every
        return changed


def _check_announce(announce: str) -> None:
    if announce not in ANNOUNCE:
        raise FaultInputError(
            "announce", f"{announce!r}: use garp (default), rarp or none (a silent VM)"
        )
