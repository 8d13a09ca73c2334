"""diff: ownership-limited removal and the order changes are applied in."""

from __future__ import annotations

from routerd.core.desired import DesiredState, Observed, Route, Sysctl
from routerd.core.plan import diff


def state(*objs) -> DesiredState:
    d = DesiredState()
    for o in objs:
        d.add(o, "test")
    return d


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
