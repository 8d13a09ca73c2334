"""A cloud router pair through each cloud's real SDK against its enforcing double.

Two routers (NICs A and B of the double), each with its own store, provider reconciler and
``Redundancy`` (the daemon component) over a role the test sets. What these catch: a
standby that assigns or releases anything; a new active router that does not take the
secondary IP over from its failed partner's NIC; a recovering former active that takes
the address back by itself (the fence); a failback that does not move it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from routerd.core.redundancy import Role, RoleState
from routerd.daemon.provider_actions import follow_role
from routerd.daemon.redundancy import Redundancy
from routerd.providers.reconciler import ProviderReconciler
from routerd.state.store import Store
from tests.support.wait import wait_until
from tests.unit.providers.action_kit import Kit
from tests.unit.providers.exec_worlds import World


class Roles:
    """A RoleSource the test drives."""

    def __init__(self, role: Role) -> None:
        self.state = RoleState(role, time.time(), f"set by the test: {role}", "RedundancyGroup/x")
        self.on_change: Callable[[], None] | None = None

    def start(self, on_change: Callable[[], None]) -> None:
        self.on_change = on_change

    def role(self) -> RoleState:
        return self.state

    def set(self, role: Role) -> None:
        self.state = RoleState(role, time.time(), f"set by the test: {role}", "RedundancyGroup/x")
        assert self.on_change is not None
        self.on_change()

    def take_over(self) -> str:
        return "not used"

    def close(self, *, cleanup: bool = False) -> None:
        return None


@dataclass
class Engine:
    """What ``Redundancy`` asks of the engine, recorded."""

    capture: list[tuple[str, bool]] = field(default_factory=list)
    gateways: list[frozenset[str]] = field(default_factory=list)
    listeners: list[Any] = field(default_factory=list)

    def set_capture_active(self, ifname: str, active: bool) -> None:
        self.capture.append((ifname, active))

    def set_gateway_standby(self, domains: Any) -> None:
        self.gateways.append(frozenset(domains))


@dataclass
class Router:
    kit: Kit
    nic: str
    roles: Roles
    engine: Engine = field(default_factory=Engine)
    rec: ProviderReconciler | None = None

    def start(self, address: str) -> None:
        """Start (or restart, keeping the store) this router's reconciler."""
        config, claims = self.kit.lowered({address: self.nic})
        red = Redundancy(self.engine, self.roles, config)  # type: ignore[arg-type]
        red.start()
        self.rec = ProviderReconciler(self.kit.runner, resync=3600)
        follow_role(self.rec, red)
        self.rec.start()
        self.rec.offer(config, claims)

    def crash(self) -> None:
        assert self.rec is not None
        self.rec.stop()
        self.rec = None

    def actions(self) -> list[tuple[str, str, str]]:
        records = reversed(self.kit.store.list_actions())
        return [(r.operation, r.from_nic, r.status) for r in records]


@pytest.fixture
def pair(world: World, tmp_path: Path) -> Iterator[tuple[Router, Router]]:
    stores = [Store.open(tmp_path / n) for n in ("a", "b")]
    a = Router(Kit(world, stores[0]), world.nics[0], Roles(Role.ACTIVE))
    b = Router(Kit(world, stores[1]), world.nics[1], Roles(Role.STANDBY))
    try:
        yield a, b
    finally:
        for r in (a, b):
            if r.rec is not None:
                r.rec.stop()
        for s in stores:
            s.close()


def _held(world: World, address: str, nic: str) -> None:
    wait_until(
        lambda: None if world.held_by(address) == [nic] else f"held by {world.held_by(address)}",
        timeout=10,
        what=f"{address} on {nic}",
    )


def _journaled(r: Router, want: list[tuple[str, str, str]]) -> None:
    wait_until(lambda: None if r.actions() == want else str(r.actions()), timeout=10)


def _runs(r: Router) -> int:
    assert r.rec is not None
    return r.rec.runs


def test_failover_fence_and_failback(world: World, pair: tuple[Router, Router]) -> None:
    a, b = pair
    ip = world.free[0]
    a.start(ip)
    b.start(ip)
    _held(world, ip, a.nic)
    _journaled(a, [("assign", "", "succeeded")])
    time.sleep(0.3)
    assert _runs(b) == 0 and b.actions() == [], "the standby never touches the provider"
    assert a.engine.capture == [("*", True)] and b.engine.capture == [("*", False)]

    a.crash()  # the whole router: its reconciler is gone too
    b.roles.set(Role.ACTIVE)
    _held(world, ip, b.nic)
    _journaled(b, [("reassign", a.nic, "succeeded")])
    assert b.engine.capture[-1] == ("*", True)

    a.roles = Roles(Role.UNKNOWN)  # restarted: keepalived has not reported yet
    a.start(ip)
    a.roles.set(Role.STANDBY)  # nopreempt: it comes back as backup
    time.sleep(0.3)
    assert _runs(a) == 0
    assert world.held_by(ip) == [b.nic], "a recovering router never takes it back by itself"
    assert a.actions() == [("assign", "", "succeeded")]  # from before the crash, nothing new
    assert a.engine.capture[-1] == ("*", False)

    a.roles.set(Role.ACTIVE)  # routerctl failback
    b.roles.set(Role.STANDBY)
    _held(world, ip, a.nic)
    _journaled(a, [("assign", "", "succeeded"), ("reassign", b.nic, "succeeded")])
    runs = _runs(b)
    time.sleep(0.3)
    assert _runs(b) == runs, "the new standby runs nothing"
    assert b.actions() == [("reassign", a.nic, "succeeded")], "the new standby did nothing"
    assert world.held_by(ip) == [a.nic]
