"""A running world's controls: faults, VM moves, packet traces and the world's own timers.

``WorldControl`` is what ``SimService`` acts on, independent of gRPC and of the engines:

* ``faults`` — the ``FaultBook`` (inject, clear, list);
* ``move_vm`` — unplug a VM's interface and plug it into another segment, in its own site
  or another (it keeps its address, MAC and default gateway, as a live-migrated VM does).
  With static claims only, routerd does not follow: the next verification shows the claim
  whose address left (``overlay-probe-failed``) and a trace shows where packets now end;
* ``trace`` — one packet through the world (``World.trace``) with its names checked;
* timers in virtual time that belong to the world, not to any routerd: a cloud's guest
  agent re-adding provider addresses to router NICs (``quirks.guestAgentReadds``).

Where address mobility plugs in: a VM move is published to ``move_listeners`` (a presence
source — ARP on a segment, a provider inventory — subscribes there) and world timers are
the place for presence hysteresis; a simulated route exchange between the routers' speakers
will be another world-level component driven by the same clock. Neither exists yet.
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
from .world import World
from .worldfile.spec import WorldSpec


@dataclass(frozen=True)
class VmMove:
    """A VM's interface moved from one segment to another (``at``: world clock)."""

    vm: str
    interface: str
    from_segment: str
    to_segment: str
    from_site: str
    to_site: str
    at: float


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
        self.move_listeners: list[Callable[[VmMove], None]] = []
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

    def move_vm(self, vm: str, segment: str) -> VmMove:
        """Move ``vm``'s interface to ``segment`` and wake every router.

        Raises:
            FaultInputError: unknown VM or segment, already there, or an address the target
                cloud subnet cannot hold.
        """
        spec = self.spec.vm(vm)
        if spec is None:
            known = ", ".join(v.name for v in self.spec.spec.vms) or "none"
            raise FaultInputError("vm", f"no VM {vm!r} in this world (VMs: {known})")
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
        self.world.move_port(vm, spec.interface, segment)
        self.location[vm] = segment
        move = VmMove(
            vm, spec.interface, here, segment, self.site_of(here), site.name, self.world.clock()
        )
        for listener in list(self.move_listeners):
            listener(move)
        self.world.notify_all()
        return move

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
        return min((a.next_at for a in self.agents), default=None)

    def run_timers(self, now: float) -> int:
        """Run every timer due at ``now``; returns how many changes they made."""
        changed = 0
        for agent in self.agents:
            while agent.next_at <= now:
                changed += agent.run(self.world)
                agent.next_at += agent.every
        return changed
