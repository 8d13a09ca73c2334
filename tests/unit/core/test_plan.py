"""diff: ownership-limited removal and the order changes are applied in."""

from __future__ import annotations

import random

from routerd.core.desired import DesiredBuilder, DesiredState, Observed, Route, Sysctl
from routerd.core.plan import diff


def state(*objs) -> DesiredState:
    d = DesiredBuilder()
    for o in objs:
        d.add(o, "test")
    return d.build()


def observed(*objs, owned=True) -> Observed:
    o = Observed()
    for x in objs:
        o.objects[x.key] = x
        if owned:
            o.owned.add(x.key)
    return o


def test_removals_only_of_owned_objects_and_devices_before_routes():
    want = state(Route("10.0.0.1/32", "wg0", 120), Sysctl("net.ipv4.ip_forward", "1"))
    have = observed(Route("10.0.0.9/32", "wg0", 120))
    have.objects[("route", "254", "10.0.0.8/32")] = Route("10.0.0.8/32", "eth0")  # foreign
    ops = [(c.op, c.key) for c in diff(want, have)]
    assert ops == [
        ("remove", ("route", "254", "10.0.0.9/32")),
        ("add", ("sysctl", "net.ipv4.ip_forward")),
        ("add", ("route", "254", "10.0.0.1/32")),
    ]


def test_changes_come_out_in_one_canonical_order_whatever_the_input_order():
    objs = [Route(f"10.0.0.{i}/32", "wg0", 120) for i in range(20)]
    objs += [Sysctl(f"net.ipv4.conf.if{i}.rp_filter", "2") for i in range(5)]
    stale = [Route(f"10.9.0.{i}/32", "wg0", 120) for i in range(5)]
    rng = random.Random(3)
    plans = set()
    for _ in range(10):
        rng.shuffle(objs)
        rng.shuffle(stale)
        plan = diff(state(*objs), observed(*stale))
        plans.add(tuple((c.op, c.key) for c in plan))
    (plan,) = plans
    assert [op for op, _ in plan[:5]] == ["remove"] * 5
    assert [k for _, k in plan[5:10]] == sorted(k for _, k in plan[5:10])  # sysctls by key
    assert plan[5][1][0] == "sysctl" and plan[-1][1][0] == "route"


def test_a_scoped_diff_looks_only_at_its_keys():
    want = state(Route("10.0.0.1/32", "wg0", 120), Route("10.0.0.2/32", "wg0", 120))
    have = observed(Route("10.0.0.9/32", "wg0", 120), Route("10.0.0.8/32", "wg0", 120))
    keys = [("route", "254", "10.0.0.1/32"), ("route", "254", "10.0.0.9/32")]
    assert [(c.op, c.key) for c in diff(want, have, keys=keys)] == [
        ("remove", ("route", "254", "10.0.0.9/32")),
        ("add", ("route", "254", "10.0.0.1/32")),
    ]
