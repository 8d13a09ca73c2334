"""diff: ownership-limited removal and the order changes are applied in."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from routerd.core.desired import (
    AbsentAddress,
    Address,
    DesiredBuilder,
    DesiredState,
    Observed,
    ProxyNeighbour,
    Route,
    Sysctl,
)
from routerd.core.persistent import Map, PSet
from routerd.core.plan import canonical, diff


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


def test_a_needed_absence_reported_present_is_removed_and_nothing_else_is():
    """An absence is needed with no object: only an address reported present that a claim
    needs absent gets a change, whose desired side is the empty absence."""
    b = DesiredBuilder()
    b.add(Route("10.0.0.1/32", "wg0", 120), "RemoteAddressClaim/a")
    for ip in ("10.0.0.1", "10.0.0.2"):
        b.need(("absent", ip), "RemoteAddressClaim/a")
    want = b.build()
    present = AbsentAddress("10.0.0.1", (("eth0", "10.0.0.1/32"),))
    stray = AbsentAddress("10.0.0.7", (("eth0", "10.0.0.7/32"),))  # nobody needs it absent
    have = observed(Route("10.0.0.1/32", "wg0", 120), present, stray, owned=False)
    plan = diff(want, have)
    assert [(c.op, c.key, c.old, c.new) for c in plan] == [
        ("replace", ("absent", "10.0.0.1"), present, AbsentAddress("10.0.0.1")),
    ]
    assert plan[0].owners == ("RemoteAddressClaim/a",)
    scoped = [("absent", "10.0.0.2"), ("route", "254", "10.0.0.1/32")]  # 10.0.0.1: out of scope
    assert diff(want, have, keys=scoped) == []
    assert [c.key for c in diff(want, have, keys=[("absent", "10.0.0.1")])] == [
        ("absent", "10.0.0.1")
    ]
    assert diff(want, have, skip=lambda k: k[0] == "absent") == []
    gone = observed(Route("10.0.0.1/32", "wg0", 120), AbsentAddress("10.0.0.1"), owned=False)
    assert diff(want, gone) == []  # an empty report (a backend that lists every address)


_OBJECTS = st.one_of(
    st.builds(
        Route,
        st.sampled_from(["10.0.0.1/32", "10.0.0.2/32", "10.0.1.0/24"]),
        st.sampled_from(["wg0", "wg1"]),
        st.sampled_from([0, 120]),
    ),
    st.builds(
        Sysctl,
        st.sampled_from(["net.ipv4.ip_forward", "net.ipv4.conf.a.proxy_arp"]),
        st.sampled_from(["0", "1"]),
    ),
    st.builds(ProxyNeighbour, st.sampled_from(["10.0.0.1", "10.0.0.3"]), st.just("eth0")),
    st.builds(Address, st.sampled_from(["wg0", "eth0"]), st.just("10.255.0.0/31")),
    st.builds(AbsentAddress, st.sampled_from(["10.0.0.1", "10.0.0.4"])),
)
_LABELS = st.lists(
    st.sampled_from(["RemoteAddressClaim/b", "RemoteAddressClaim/a", "Sysctl/x"]),
    min_size=1,
    max_size=3,
    unique=True,
)


@settings(max_examples=200, deadline=None)
@given(
    want=st.lists(st.tuples(_OBJECTS, _LABELS), max_size=12),
    have=st.lists(st.tuples(_OBJECTS, st.booleans()), max_size=12),
    frozen_owners=st.booleans(),
)
def test_the_plan_is_in_canonical_order_with_sorted_owners(want, have, frozen_owners):
    """Whatever the mix of kinds and ops: changes sorted by ``canonical``, each change's
    owners in sorted order, whether the owner sets are persistent or plain frozensets."""
    objects = {o.key: o for o, _ in want}
    owners = {o.key: labels for o, labels in want}
    wrap = frozenset if frozen_owners else PSet
    desired = DesiredState(Map(objects), Map({k: wrap(v) for k, v in owners.items()}))
    obs = Observed()
    for o, owned in have:
        obs.objects[o.key] = o
        if owned:
            obs.owned.add(o.key)
    plan = diff(desired, obs)
    assert plan == sorted(plan, key=canonical)
    assert len({c.key for c in plan}) == len(plan)
    for c in plan:
        if c.op == "remove":
            assert c.key in obs.owned and c.key not in objects
        else:
            assert c.owners == tuple(sorted(owners[c.key]))


def test_a_large_group_comes_out_in_key_order_whatever_order_its_keys_were_made_in():
    # the keys of one kind are made in a shuffled order, and more of them than the size
    # from which a group is first put in the order its keys were made in
    rng = random.Random(11)
    numbers = list(range(3000))
    rng.shuffle(numbers)
    routes = [Route(f"10.{i // 256}.{i % 256}.1/32", "wg0", 120) for i in numbers]
    proxies = [ProxyNeighbour(f"10.{i // 256}.{i % 256}.2", "eth0") for i in numbers[:1500]]
    stale = [Route(f"10.99.{i // 256}.{i % 256}/32", "wg0", 120) for i in numbers[:2000]]
    plan = diff(state(*routes, *proxies), observed(*stale))
    assert plan == sorted(plan, key=canonical)
    assert len(plan) == 3000 + 1500 + 2000
    assert [c.op for c in plan[:2000]] == ["remove"] * 2000
