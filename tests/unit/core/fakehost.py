"""A minimal in-memory host behind the backend port, for engine unit tests.

It stores objects by key exactly as applied, reports handshakes and route lookups from
simple rules, and supports fault injection. Like a real backend it names what its fault
injections change (``drain``): sysctls, links and WireGuard devices need not be named (the
engine reads them on every pass). It is not an oracle (that is the sim backend); it
exists so the engine's state walking can be tested without the sim.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from routerd.core.desired import (
    AbsentAddress,
    DataplaneObject,
    Garp,
    Key,
    LinkState,
    Observed,
    ObserveScope,
    Route,
    Sysctl,
    WireGuardDevice,
)
from routerd.core.port import Change, ChangeResult, Drift, PathCheck, PathEvidence


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
        self.drifted: set[Key] = set()
        self.observed_keys: list[int | None] = []  # per observe: keys asked for (None: all)

    def start(self, on_change: Callable[[], None]) -> None:
        self.on_change = on_change

    def drain(self) -> Drift:
        out, self.drifted = Drift(frozenset(self.drifted)), set()
        return out

    def observe(self, scope: ObserveScope) -> Observed:
        o = Observed()
        keys = scope.keys
        self.observed_keys.append(None if keys is None else len(keys))
        if keys is None:
            o.objects.update(self.objects)
            o.owned = set(self.owned)
        else:
            o.objects.update((k, self.objects[k]) for k in keys if k in self.objects)
            o.owned = {k for k in keys if k in self.owned}
        for name in scope.sysctls:
            o.objects[("sysctl", name)] = Sysctl(name, self.sysctls.get(name, "0"))
        for addr in scope.absent_addresses:
            o.objects[("absent", addr)] = AbsentAddress(
                addr, tuple(self.local_addresses.get(addr, ()))
            )
        for name in scope.links:
            o.links[name] = LinkState(name, exists=name in self.links)
        devices = [("wg", n) for n in scope.wireguard]
        for v in (self.objects[k] for k in devices if k in self.objects):
            if isinstance(v, WireGuardDevice) and self.handshake_age is not None:
                for p in v.peers:
                    o.handshakes[(v.ifname, p.public_key)] = self.handshake_age
        return o

    def apply(self, changes: Sequence[Change]) -> list[ChangeResult]:
        out = []
        for c in changes:
            if c.op == "announce":  # an action, recorded apart from the object changes
                assert isinstance(c.new, Garp)
                self.garps.append((c.new.address, c.new.dev))
                out.append(ChangeResult(c, True))
                continue
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

    def close(self, *, cleanup: bool = False) -> None:
        self.closed_with = cleanup

    # fault injection --------------------------------------------------------------------
    def delete(self, key: Key) -> None:
        self.objects.pop(key, None)
        self.drifted.add(key)
        if self.on_change:
            self.on_change()

    def agent_adds(self, address: str, dev: str, cidr: str) -> None:
        self.local_addresses.setdefault(address, []).append((dev, cidr))
        self.drifted.add(("absent", address))

    def strip_peer(self, ifname: str, cidr: str) -> None:
        dev = self.objects[("wg", ifname)]
        assert isinstance(dev, WireGuardDevice)
        peers = tuple(replace(p, allowed_ips=p.allowed_ips - {cidr}) for p in dev.peers)
        self.objects[("wg", ifname)] = replace(dev, peers=peers)
