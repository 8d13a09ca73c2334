"""A minimal in-memory host behind the backend port, for engine unit tests.

It stores objects by key exactly as applied, reports handshakes and route lookups from
simple rules, and supports fault injection. It is not an oracle (that is the sim backend);
it exists so the engine's state walking can be tested without the sim.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from routerd.core.desired import (
    AbsentAddress,
    DataplaneObject,
    Key,
    LinkState,
    Observed,
    ObserveScope,
    Route,
    Sysctl,
    WireGuardDevice,
)
from routerd.core.port import Change, ChangeResult, PathCheck, PathEvidence


class FakeHost:
    name = "fake"

    def __init__(self, links: Sequence[str] = ("ens19", "eth0")) -> None:
        self.objects: dict[Key, DataplaneObject] = {}
        self.owned: set[Key] = set()
        self.sysctls: dict[str, str] = {"net.ipv4.ip_forward": "0"}
        self.links = set(links)
        self.local_addresses: dict[str, list[tuple[str, str]]] = {}
        self.handshake_age: float | None = 5.0
        self.fail: dict[Key, str] = {}
        self.applied: list[Change] = []
        self.garps: list[tuple[str, str]] = []
        self.on_change: Callable[[], None] | None = None
        self.closed_with: bool | None = None

    def start(self, on_change: Callable[[], None]) -> None:
        self.on_change = on_change

    def observe(self, scope: ObserveScope) -> Observed:
        o = Observed()
        for k, v in self.objects.items():
            o.objects[k] = v
        o.owned = set(self.owned)
        for name in scope.sysctls:
            o.objects[("sysctl", name)] = Sysctl(name, self.sysctls.get(name, "0"))
        for addr in scope.absent_addresses:
            o.objects[("absent", addr)] = AbsentAddress(
                addr, tuple(self.local_addresses.get(addr, ()))
            )
        for name in scope.links:
            o.links[name] = LinkState(name, exists=name in self.links)
        for v in self.objects.values():
            if isinstance(v, WireGuardDevice) and self.handshake_age is not None:
                for p in v.peers:
                    o.handshakes[(v.ifname, p.public_key)] = self.handshake_age
        return o

    def apply(self, changes: Sequence[Change]) -> list[ChangeResult]:
        out = []
        for c in changes:
            self.applied.append(c)
            if c.key in self.fail:
                out.append(ChangeResult(c, False, self.fail[c.key]))
                continue
            if c.op == "remove":
                self.objects.pop(c.key, None)
                self.owned.discard(c.key)
                if c.key[0] == "sysctl":
                    self.sysctls[c.key[1]] = "0"
            else:
                self._put(c.new)
            out.append(ChangeResult(c, True))
        return out

    def _put(self, obj: DataplaneObject | None) -> None:
        assert obj is not None
        if isinstance(obj, Sysctl):
            self.sysctls[obj.name] = obj.value
            self.owned.add(obj.key)
            return
        if isinstance(obj, AbsentAddress):
            self.local_addresses.pop(obj.address, None)
            return
        if isinstance(obj, WireGuardDevice):
            self.links.add(obj.ifname)
        self.objects[obj.key] = obj
        self.owned.add(obj.key)

    def verify(self, checks: Sequence[PathCheck]) -> dict[str, PathEvidence]:
        out = {}
        for chk in checks:
            route = self.objects.get(("route", "254", f"{chk.address}/32"))
            dev = route.dev if isinstance(route, Route) else None
            out[chk.claim] = PathEvidence(dev, None)
        return out

    def send_garp(self, address: str, dev: str) -> None:
        self.garps.append((address, dev))

    def close(self, *, cleanup: bool = False) -> None:
        self.closed_with = cleanup

    # fault injection --------------------------------------------------------------------
    def delete(self, key: Key) -> None:
        self.objects.pop(key, None)
        if self.on_change:
            self.on_change()

    def agent_adds(self, address: str, dev: str, cidr: str) -> None:
        self.local_addresses.setdefault(address, []).append((dev, cidr))

    def strip_peer(self, ifname: str, cidr: str) -> None:
        dev = self.objects[("wg", ifname)]
        assert isinstance(dev, WireGuardDevice)
        peers = tuple(replace(p, allowed_ips=p.allowed_ips - {cidr}) for p in dev.peers)
        self.objects[("wg", ifname)] = replace(dev, peers=peers)
