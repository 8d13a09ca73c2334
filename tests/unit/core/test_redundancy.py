"""RedundancyGroup: bad input gets one clear error per mistake, all at once; the plan and the
role derived from keepalived's reports are what the engine and people rely on."""

from __future__ import annotations

import textwrap

import pytest

from routerd.core.loader import LoadResult, load_text
from routerd.core.redundancy import (
    SOLO,
    Daemon,
    PairPlan,
    Role,
    RoleSource,
    SoloRoleSource,
    VrrpObservation,
    derive_role,
    plan_group,
)
from routerd.core.resources import RedundancyGroup

BASE = textwrap.dedent("""\
    apiVersion: routerd.net/v1alpha1
    kind: Router
    metadata: {name: onprem-rt-a}
    spec:
      resources:
        - apiVersion: net.routerd.net/v1alpha1
          kind: Interface
          metadata: {name: lan}
          spec: {ifname: ens19}
        - apiVersion: net.routerd.net/v1alpha1
          kind: IPv4StaticAddress
          metadata: {name: lan-a}
          spec: {interface: ens19, address: 10.40.8.2/24}
        - apiVersion: hybrid.routerd.net/v1alpha1
          kind: RedundancyGroup
          metadata: {name: site-a}
          spec:
            role: onprem
            interface: lan
            virtualRouterID: 42
            priority: 150
            peers: [10.40.8.3]
            virtualAddresses: [10.40.8.254/24]
""")


def load(text: str) -> LoadResult:
    return load_text(text, "router.yaml")


def spec_with(*lines: str, drop: tuple[str, ...] = ()) -> str:
    text = BASE
    for key in drop:
        text = "\n".join(ln for ln in text.splitlines() if not ln.strip().startswith(key)) + "\n"
    return text + "".join(f"        {ln}\n" for ln in lines)


def rendered(result: LoadResult) -> list[str]:
    return [e.render() for e in result.errors]


def group_of(text: str) -> tuple[RedundancyGroup, LoadResult]:
    r = load(text)
    assert r.valid, rendered(r)
    assert r.config is not None
    return r.config.of(RedundancyGroup)[0], r


def test_base_group_is_valid_and_planned():
    group, r = group_of(BASE)
    assert r.warnings == []
    assert r.config is not None
    plan = plan_group(group, r.config)
    assert plan.interface == "ens19"  # the Interface alias resolved to its OS name
    assert plan.advert_interval == 0.1
    assert [(a.cidr, a.dev, a.token) for a in plan.addresses] == [
        ("10.40.8.254/24", "ens19", False)
    ]
    assert plan.preempt is False and plan.hold_down is None
    # three adverts plus the skew of RFC 5798 at priority 150
    assert plan.detection_time == pytest.approx(0.3 + 106 * 0.1 / 256)


def test_group_without_virtual_addresses_uses_a_loopback_token():
    group, r = group_of(spec_with(drop=("virtualAddresses",)))
    plan = plan_group(group, r.config)
    assert [(a.cidr, a.dev, a.token) for a in plan.addresses] == [("127.77.0.42/32", "lo", True)]
    assert plan.serving_addresses == ()


@pytest.mark.parametrize(
    ("line", "path", "expected"),
    [
        ("advertInterval: 15ms", "spec.advertInterval", "not a multiple of 10ms"),
        ("advertInterval: 41s", "spec.advertInterval", "outside 10ms..40.95s"),
        ("advertInterval: soon", "spec.advertInterval", "invalid duration"),
        ("failbackHoldDown: 20m", "spec.failbackHoldDown", "outside 1s..1000s"),
        ("sourceAddress: 224.0.0.18", "spec.sourceAddress", "not a unicast address"),
        ("trackInterfaces: ['']", "spec.trackInterfaces.0", "must not be empty"),
    ],
)
def test_single_field_errors_name_the_path(line, path, expected):
    r = load(spec_with(line))
    assert len(r.errors) == 1, rendered(r)
    msg = r.errors[0].render()
    assert f"RedundancyGroup/site-a {path}:" in msg and expected in msg


@pytest.mark.parametrize(
    ("old", "new", "path", "expected"),
    [
        ("priority: 150", "priority: 254", "spec.priority", "less than or equal to 253"),
        ("virtualRouterID: 42", "virtualRouterID: 0", "spec.virtualRouterID", "greater than"),
        ("role: onprem", "role: edge", "spec.role", "use one of: onprem, cloud"),
        ("peers: [10.40.8.3]", "peers: []", "spec.peers", "at least 1"),
        ("peers: [10.40.8.3]", "peers: [10.40.8.3, 127.0.0.1]", "spec.peers.1", "not a unicast"),
        ("[10.40.8.254/24]", "[10.40.8.254]", "spec.virtualAddresses.0", "example 10.40.8.254/24"),
        ("[10.40.8.254/24]", "[10.40.8.255/24]", "spec.virtualAddresses.0", "broadcast address"),
    ],
)
def test_field_errors_in_the_base(old, new, path, expected):
    r = load(BASE.replace(old, new))
    assert len(r.errors) == 1, rendered(r)
    msg = r.errors[0].render()
    assert f"RedundancyGroup/site-a {path}:" in msg and expected in msg, msg


def test_every_cross_field_error_at_once_with_its_line():
    text = (
        BASE.replace("peers: [10.40.8.3]", "peers: [10.40.8.3, 10.40.8.3]")
        .replace("[10.40.8.254/24]", "[10.40.8.254/24, 10.40.8.2/24, 10.40.8.3/24]")
        .replace("role: onprem", "role: onprem\n        preempt: true")
    )
    text += "        failbackHoldDown: 30s\n        trackInterfaces: [lan, eth9, eth9]\n"
    r = load(text)
    got = {(e.path, e.line) for e in r.errors}
    assert {p for p, _ in got} == {
        "spec.peers.1",
        "spec.virtualAddresses.1",
        "spec.virtualAddresses.2",
        "spec.failbackHoldDown",
        "spec.trackInterfaces.0",
        "spec.trackInterfaces.2",
    }, rendered(r)
    assert all(line is not None for _, line in got)
    messages = " | ".join(rendered(r))
    assert "10.40.8.3 is already spec.peers.0; list each partner once" in messages
    assert "10.40.8.2 is this router's own address (IPv4StaticAddress/lan-a)" in messages
    assert "preempt: true takes over at once, failbackHoldDown delays it" in messages
    assert "'lan' is the VRRP interface, tracked already" in messages


def test_cloud_group_refuses_floating_addresses():
    r = load(BASE.replace("role: onprem", "role: cloud"))
    assert [e.path for e in r.errors] == ["spec.virtualAddresses"]
    assert "a cloud fabric delivers only the addresses its provider assigned" in rendered(r)[0]


def test_second_group_is_refused():
    second = textwrap.indent(
        textwrap.dedent("""\
        - apiVersion: hybrid.routerd.net/v1alpha1
          kind: RedundancyGroup
          metadata: {name: other}
          spec: {role: onprem, interface: lan, virtualRouterID: 7, peers: [10.40.8.4]}
        """),
        "    ",
    )
    r = load(BASE + second)
    assert [(e.resource, e.path) for e in r.errors] == [("RedundancyGroup/other", "metadata.name")]
    assert "a router belongs to one pair, and RedundancyGroup/site-a already" in rendered(r)[0]


def test_undeclared_interface_is_a_warning():
    r = load(BASE.replace("interface: lan\n", "interface: eth3\n"))
    assert r.valid, rendered(r)
    assert [(w.path, "not a declared Interface" in w.message) for w in r.warnings] == [
        ("spec.interface", True)
    ]


# ---------------------------------------------------------------------------------------
# The role


def plan(**changes: object) -> PairPlan:
    group, r = group_of(BASE)
    p = plan_group(group, r.config)
    return PairPlan(**{**p.__dict__, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("obs", "role", "why"),
    [
        (VrrpObservation(Daemon.STARTING), Role.UNKNOWN, "has not reported"),
        (VrrpObservation(Daemon.RUNNING, None), Role.UNKNOWN, "has not reported"),
        (VrrpObservation(Daemon.RUNNING, "MASTER"), Role.ACTIVE, "VRRP master of VRID 42"),
        (VrrpObservation(Daemon.RUNNING, "BACKUP"), Role.STANDBY, "until `routerctl failback`"),
        (VrrpObservation(Daemon.RUNNING, "FAULT"), Role.FAULT, "ens19 or a tracked interface"),
        (VrrpObservation(Daemon.RUNNING, "STOP"), Role.FAULT, "keepalived reports STOP"),
        (
            VrrpObservation(Daemon.DOWN, "MASTER", detail="killed by signal 9"),
            Role.FAULT,
            "not running (killed by signal 9)",
        ),
        (
            VrrpObservation(Daemon.HUNG, "MASTER", detail="no advert for 450 ms"),
            Role.FAULT,
            "stopped answering (no advert for 450 ms)",
        ),
    ],
)
def test_only_a_reported_master_is_active(obs, role, why):
    state = derive_role(plan(), obs)
    assert state.role is role
    assert why in state.why
    assert state.active is (role is Role.ACTIVE)
    assert state.group == "RedundancyGroup/site-a"


@pytest.mark.parametrize(
    ("changes", "takeover", "why"),
    [
        ({"preempt": True}, "", "takes over at once from a lower-priority master"),
        ({"hold_down": 300.0}, "", "after 5m as a healthy backup (failbackHoldDown)"),
        ({}, "pending", "a planned takeover is under way"),
        ({}, "failed: no advert won in 2s", "the planned takeover failed: no advert won"),
    ],
)
def test_standby_says_when_it_would_take_over(changes, takeover, why):
    obs = VrrpObservation(Daemon.RUNNING, "BACKUP", takeover=takeover)
    assert why in derive_role(plan(**changes), obs).why


def test_standby_names_the_master_it_hears():
    obs = VrrpObservation(Daemon.RUNNING, "BACKUP", master="10.40.8.3 (priority 100)")
    assert "on ens19: 10.40.8.3 (priority 100) is master;" in derive_role(plan(), obs).why


def test_since_moves_only_with_the_role():
    p = plan()
    first = derive_role(p, VrrpObservation(Daemon.RUNNING, "BACKUP", at=10.0))
    pending = derive_role(p, VrrpObservation(Daemon.RUNNING, "BACKUP", 12.0, "", "pending"), first)
    assert pending.since == 10.0 and pending.why != first.why
    active = derive_role(p, VrrpObservation(Daemon.RUNNING, "MASTER", at=13.0), pending)
    assert active.since == 13.0


def test_solo_router_is_always_active():
    source: RoleSource = SoloRoleSource()
    source.start(lambda: None)
    assert source.role() is SOLO and SOLO.active
    assert "no partner" in source.take_over()
    source.close(cleanup=True)
