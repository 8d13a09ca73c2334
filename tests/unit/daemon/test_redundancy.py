"""The redundancy component (``routerd.daemon.redundancy``) against a recording engine.

What these catch: a paired router capturing before keepalived said it is master (its
first pass); a role change not reaching capture, the gateways or subscribers; one failing
subscriber silencing the others; a changed group not handed to keepalived; the fence not
started or stopped.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from routerd.core.config import RouterConfig
from routerd.core.redundancy import PairPlan, Role, RoleState, plan_group
from routerd.core.resources.redundancy import RedundancyGroup
from routerd.daemon.redundancy import Redundancy, join_mobility, pair_plan
from tests.support import configs
from tests.support.wait import wait_until

PAIR = """
    - apiVersion: hybrid.routerd.net/v1alpha1
      kind: RedundancyGroup
      metadata: {name: site-a-pair}
      spec: {role: onprem, interface: lan, virtualRouterID: 42, priority: 150, peers: [10.77.0.3]}
"""


def site(tmp_path: Path, extra: str = PAIR) -> RouterConfig:
    text = configs.with_keys(configs.example_text("mobility", "site-a"), tmp_path)
    return configs.load(text.rstrip("\n") + extra)


class Roles:
    def __init__(self, plan: PairPlan | None, role: Role = Role.UNKNOWN) -> None:
        self.plan = plan
        self.state = RoleState(role, time.time(), str(role))
        self.on_change: Callable[[], None] | None = None
        self.updates: list[PairPlan] = []
        self.closed: bool | None = None

    def start(self, on_change: Callable[[], None]) -> None:
        self.on_change = on_change

    def role(self) -> RoleState:
        return self.state

    def set(self, role: Role) -> None:
        self.state = RoleState(role, time.time(), str(role))
        assert self.on_change is not None
        self.on_change()

    def update(self, plan: PairPlan) -> None:
        self.updates.append(plan)

    def take_over(self) -> str:
        return "taking over"

    def close(self, *, cleanup: bool = False) -> None:
        self.closed = cleanup


@dataclass
class Engine:
    calls: list[tuple[str, Any]] = field(default_factory=list)
    listeners: list[Any] = field(default_factory=list)

    def set_capture_active(self, ifname: str, active: bool) -> None:
        self.calls.append(("capture", (ifname, active)))

    def set_gateway_standby(self, domains: Any) -> None:
        self.calls.append(("gateways", frozenset(domains)))


@dataclass
class Fence:
    plan: PairPlan
    started: int = 0
    closed: list[bool] = field(default_factory=list)

    def start(self) -> None:
        self.started += 1

    def close(self, *, cleanup: bool = False) -> None:
        self.closed.append(cleanup)


@dataclass
class Snap:
    startup: RouterConfig
    effective: Any = None


def test_a_paired_router_starts_standby_and_follows_the_role(tmp_path: Path) -> None:
    cfg = site(tmp_path)
    plan = pair_plan(cfg)
    assert plan is not None and plan.vrid == 42
    roles, engine, fence = Roles(plan), Engine(), Fence(plan)
    red = Redundancy(engine, roles, cfg, fence)  # type: ignore[arg-type]
    red.start()
    assert engine.calls == [("capture", ("*", False)), ("gateways", frozenset({"lab"}))]
    assert fence.started == 1 and not red.is_active()

    seen: list[Role] = []

    def broken(role: RoleState) -> None:
        if role.active:
            raise RuntimeError("a broken subscriber")

    red.subscribe(broken)
    red.subscribe(lambda r: seen.append(r.role))
    roles.set(Role.ACTIVE)
    assert engine.calls[-2:] == [("capture", ("*", True)), ("gateways", frozenset())]
    assert red.is_active() and seen == [Role.UNKNOWN, Role.ACTIVE]
    calls = len(engine.calls)
    roles.set(Role.ACTIVE)  # a new why, the same role: the engine is not asked again
    assert len(engine.calls) == calls
    roles.set(Role.FAULT)
    assert engine.calls[-2:] == [("capture", ("*", False)), ("gateways", frozenset({"lab"}))]
    red.stop(cleanup=True)
    assert roles.closed is True and fence.closed == [True]


def test_a_reload_hands_a_changed_group_to_keepalived(tmp_path: Path) -> None:
    cfg = site(tmp_path)
    plan = pair_plan(cfg)
    roles, engine = Roles(plan, Role.STANDBY), Engine()
    fences: list[Fence] = []

    def make(p: PairPlan | None) -> Fence:
        assert p is not None
        fences.append(Fence(p))
        return fences[-1]

    red = Redundancy(engine, roles, cfg, Fence(plan), make_fence=make)  # type: ignore[arg-type]
    red.start()
    [listener] = engine.listeners
    added = site(tmp_path, PAIR.replace("priority: 150", "priority: 120"))
    listener(Snap(added), [])
    wait_until(lambda: None if roles.updates else "no update", timeout=5)
    assert roles.updates[0].priority == 120
    assert [f.started for f in fences] == [1] and fences[0].plan.priority == 120
    listener(Snap(added), [])  # the same config again: nothing more
    time.sleep(0.1)
    assert len(roles.updates) == 1


def test_without_a_group_the_router_is_solo(tmp_path: Path) -> None:
    cfg = site(tmp_path, "\n")
    assert pair_plan(cfg) is None
    group = site(tmp_path).of(RedundancyGroup)[0]
    assert replace(plan_group(group), priority=1).priority == 1


class Mobility:
    def __init__(self) -> None:
        self.active: Callable[[], bool] | None = None
        self.wakes = 0

    def set_active_source(self, active: Callable[[], bool] | None) -> None:
        self.active = active

    def wake(self) -> None:
        self.wakes += 1


def test_mobility_originates_only_while_active(tmp_path: Path) -> None:
    cfg = site(tmp_path)
    roles = Roles(pair_plan(cfg), Role.STANDBY)
    red = Redundancy(Engine(), roles, cfg)  # type: ignore[arg-type]
    red.start()
    mob = Mobility()
    undo = join_mobility(red, mob)
    assert mob.active is not None and mob.active() is False
    wakes = mob.wakes
    roles.set(Role.ACTIVE)
    assert mob.active() is True and mob.wakes == wakes + 1
    roles.set(Role.STANDBY)
    assert mob.active() is False and mob.wakes == wakes + 2
    undo()
    roles.set(Role.ACTIVE)
    assert mob.active is None and mob.wakes == wakes + 2
