"""Effective config = startup + active dynamic parts - masks (D1-D4, docs/decisions.md)."""

from __future__ import annotations

import copy

import pytest

from routerd.core import effective
from routerd.core.dynamic import DynamicPart, make_part, parse_rfc3339
from routerd.core.effective import build_effective
from routerd.core.loader import decode_resource
from routerd.core.resources import Directive, Resource
from tests.unit.core.test_validation import ONPREM, load, with_resource

NOW = 1_800_000_000.0
ROUTE_ID = ("net.routerd.net/v1alpha1", "IPv4Route", "app-fallback")

STARTUP = with_resource("""\
    - apiVersion: net.routerd.net/v1alpha1
      kind: IPv4Route
      metadata: {name: app-fallback}
      spec: {destination: 10.40.8.44/32, gateway: 10.40.8.254}
    - apiVersion: config.routerd.net/v1alpha1
      kind: DynamicOverridePolicy
      metadata: {name: inventory-may-mask}
      spec:
        allow:
          - source: Plugin/inv
            operations: [mask]
            targets: [{apiVersion: net.routerd.net/v1alpha1, kind: IPv4Route, name: app-fallback}]
          - source: Plugin/other
            operations: [mask]
            targets: [{apiVersion: net.routerd.net/v1alpha1, kind: IPv4Route, name: app-fallback}]
    """)


@pytest.fixture
def startup():
    r = load(STARTUP)
    assert r.config is not None, [e.render() for e in r.errors]
    return r.config


def claim(name: str, address: str) -> Resource:
    res, problems = decode_resource(
        {
            "apiVersion": "hybrid.routerd.net/v1alpha1",
            "kind": "RemoteAddressClaim",
            "metadata": {"name": name},
            "spec": {
                "domainRef": "edge-lan",
                "address": address,
                "ownerSide": "cloud",
                "capture": {"type": "proxy-arp", "interface": "ens19"},
                "delivery": {"peerRef": "cloud-a", "tunnelInterface": "wg-sam"},
            },
        }
    )
    assert res is not None, problems
    return res


def mask(kind: str = "IPv4Route", name: str = "app-fallback", reason: str = "") -> Directive:
    return Directive.model_validate(
        {
            "op": "mask",
            "reason": reason,
            "target": {"apiVersion": "net.routerd.net/v1alpha1", "kind": kind, "name": name},
        }
    )


def part(
    source: str = "Plugin/inv",
    gen: int = 1,
    *,
    received: float = NOW - 10,
    ttl: float = 60,
    resources: tuple[Resource, ...] = (),
    directives: tuple[Directive, ...] = (),
    observed_at: str = "",
) -> DynamicPart:
    return make_part(
        source, gen, received, ttl, list(resources), list(directives), observed_at=observed_at
    )


def names(result) -> set[str]:
    return {r.ref for r in result.config}


def test_active_part_adds_claim_and_masks_route(startup):
    r = build_effective(
        startup,
        [part(resources=(claim("app-44", "10.40.8.44/32"),), directives=(mask(reason="moved"),))],
        NOW,
    )
    assert "RemoteAddressClaim/app-44" in names(r)
    assert "IPv4Route/app-fallback" not in names(r)
    assert [s.target for s in r.suppressed] == [ROUTE_ID]
    assert r.suppressed[0].masked_by == ("DynamicConfigPart/Plugin/inv",)
    assert r.suppressed[0].reason == "moved"
    assert [(a.source, a.identity[2]) for a in r.added] == [("Plugin/inv", "app-44")]
    assert r.rejected == []


def test_mask_then_add_under_a_new_name_needs_the_mask(startup):
    add = (claim("app-44", "10.40.8.44/32"),)  # same destination as the masked route
    without_mask = build_effective(startup, [part(resources=add)], NOW)
    assert len(without_mask.rejected) == 1
    assert "collides with IPv4Route/app-fallback" in without_mask.rejected[0].reasons[0]
    with_mask = build_effective(startup, [part(resources=add, directives=(mask(),))], NOW)
    assert with_mask.rejected == [] and "RemoteAddressClaim/app-44" in names(with_mask)


def test_expired_part_contributes_nothing_and_target_returns(startup):
    p = part(
        received=NOW - 100,
        ttl=60,
        resources=(claim("app-44", "10.40.8.44/32"),),
        directives=(mask(),),
    )
    r = build_effective(startup, [p], NOW)
    assert r.expired == ["Plugin/inv@1"] and r.active == []
    assert "IPv4Route/app-fallback" in names(r) and "RemoteAddressClaim/app-44" not in names(r)
    assert r.suppressed == []


def test_expiry_counts_from_receive_time_not_observed_at(startup):
    # D4: the plugin claims it observed this long ago; routerd received it just now.
    p = part(
        received=NOW - 1,
        ttl=60,
        resources=(claim("app-45", "10.40.8.45/32"),),
        observed_at="2020-01-01T00:00:00Z",
    )
    r = build_effective(startup, [p], NOW)
    assert r.active == ["Plugin/inv@1"]
    assert parse_rfc3339(p.observed_at) < NOW - 60  # would be expired by observedAt
    assert r.next_change_at == NOW - 1 + 60


def test_disallowed_mask_rejects_only_that_part(startup):
    bad = part(
        "Plugin/rogue", resources=(claim("rogue-46", "10.40.8.46/32"),), directives=(mask(),)
    )
    good = part("Plugin/inv", resources=(claim("app-47", "10.40.8.47/32"),))
    r = build_effective(startup, [bad, good], NOW)
    assert [x.source for x in r.rejected] == ["Plugin/rogue"]
    assert "not allowed by any DynamicOverridePolicy" in r.rejected[0].reasons[0]
    assert "RemoteAddressClaim/app-47" in names(r)
    assert "RemoteAddressClaim/rogue-46" not in names(r)
    assert "IPv4Route/app-fallback" in names(r)  # startup keeps working


def test_missing_mask_target_rejects_the_part(startup):
    r = build_effective(startup, [part(directives=(mask(name="ghost"),))], NOW)
    assert len(r.rejected) == 1 and r.active == []


def test_dynamic_resource_conflicting_with_startup_is_rejected(startup):
    same_name = claim("cloud-vm-21", "10.40.8.60/32")
    r = build_effective(startup, [part(resources=(same_name,))], NOW)
    assert "conflicts with a startup resource" in r.rejected[0].reasons[0]
    claims = [x for x in r.config if x.kind == "RemoteAddressClaim"]
    assert [c.spec.address for c in claims] == ["10.40.8.21/32"]


def test_dynamic_dynamic_conflict_first_received_wins(startup):
    first = part("Plugin/inv", received=NOW - 20, resources=(claim("shared", "10.40.8.50/32"),))
    later = part("Plugin/other", received=NOW - 5, resources=(claim("shared", "10.40.8.51/32"),))
    r = build_effective(startup, [later, first], NOW)
    assert [x.source for x in r.rejected] == ["Plugin/other"]
    assert "conflicts with the same resource from Plugin/inv@1" in r.rejected[0].reasons[0]
    assert r.active == ["Plugin/inv@1"]


def test_duplicate_address_across_parts_rejects_the_later(startup):
    a = part("Plugin/inv", received=NOW - 20, resources=(claim("a", "10.40.8.52/32"),))
    b = part("Plugin/other", received=NOW - 5, resources=(claim("b", "10.40.8.52/32"),))
    r = build_effective(startup, [a, b], NOW)
    assert [x.source for x in r.rejected] == ["Plugin/other"]
    assert "already claimed by RemoteAddressClaim/a" in r.rejected[0].reasons[0]


def test_latest_generation_per_source_wins(startup):
    g1 = part(gen=1, received=NOW - 30, resources=(claim("app", "10.40.8.53/32"),))
    g2 = part(gen=2, received=NOW - 10, resources=(claim("app", "10.40.8.54/32"),))
    r = build_effective(startup, [g2, g1], NOW)
    assert r.active == ["Plugin/inv@2"] and r.superseded == ["Plugin/inv@1"]
    assert r.rejected == []
    app = next(x for x in r.config if x.name == "app")
    assert app.spec.address == "10.40.8.54/32"


def test_masked_until_is_the_max_and_masked_by_joined(startup):
    a = part("Plugin/inv", received=NOW - 10, ttl=60, directives=(mask(reason="a"),))
    b = part("Plugin/other", received=NOW - 10, ttl=300, directives=(mask(reason="b"),))
    r = build_effective(startup, [a, b], NOW)
    (s,) = r.suppressed
    assert s.masked_until == NOW - 10 + 300
    assert s.masked_by == ("DynamicConfigPart/Plugin/inv", "DynamicConfigPart/Plugin/other")
    assert s.reason == "a; b"


def test_part_with_invalid_resource_is_rejected_with_field_path(startup):
    bad = claim("outside", "10.40.9.9/32")
    r = build_effective(startup, [part(resources=(bad,))], NOW)
    assert "spec.address" in r.rejected[0].reasons[0]
    assert "outside AddressMobilityDomain/edge-lan" in r.rejected[0].reasons[0]


def test_kinds_that_may_not_be_dynamic(startup):
    res, _ = decode_resource(
        {
            "apiVersion": "plugin.routerd.net/v1alpha1",
            "kind": "Plugin",
            "metadata": {"name": "sneaky"},
            "spec": {"executable": "/bin/true"},
        }
    )
    assert res is not None
    r = build_effective(startup, [part(resources=(res,))], NOW)
    assert "may not come from dynamic config" in r.rejected[0].reasons[0]


def test_startup_is_never_mutated(startup):
    before = copy.deepcopy(startup.to_doc())
    build_effective(
        startup, [part(resources=(claim("x", "10.40.8.44/32"),), directives=(mask(),))], NOW
    )
    assert startup.to_doc() == before


def test_no_parts_gives_startup(startup):
    r = build_effective(startup, [], NOW)
    assert r.config.to_doc() == startup.to_doc() and r.next_change_at is None


def test_onprem_base_is_valid_for_merge_tests():
    assert load(ONPREM).valid


def _results(r) -> tuple:
    return (
        r.config.to_doc(),
        r.suppressed,
        r.added,
        r.rejected,
        r.active,
        r.expired,
        r.superseded,
        r.next_change_at,
        r.dynamic_origin,
    )


def test_validation_runs_only_when_a_part_needs_judging(startup, monkeypatch):
    calls = []
    real = effective.validate_config

    def counting(config, checks=()):
        calls.append(len(config))
        return real(config, checks)

    monkeypatch.setattr(effective, "validate_config", counting)
    expired = part(received=NOW - 100, ttl=60, resources=(claim("x", "10.40.8.44/32"),))
    build_effective(startup, [], NOW)
    build_effective(startup, [expired], NOW)
    assert calls == []  # no candidate part: nothing to judge, no baseline either
    live = part(resources=(claim("y", "10.40.8.45/32"),))
    build_effective(startup, [live], NOW)
    assert len(calls) == 2  # the startup baseline once, the trial once
    known = effective.startup_findings(startup, ())
    second = part("Plugin/other", resources=(claim("z", "10.40.8.46/32"),))
    calls.clear()
    with_baseline = build_effective(startup, [live, second], NOW + 2, baseline=lambda: known)
    assert len(calls) == 2  # a baseline kept by the caller: both candidates judged, in order
    assert _results(with_baseline) == _results(build_effective(startup, [live, second], NOW + 2))


def test_no_parts_shares_the_startup_indexes_and_digest(startup):
    startup.digest()
    r = build_effective(startup, [], NOW)
    assert r.config is not startup and r.config.lines == {}
    assert r.config.digest() == startup.digest()
    assert [x.ref for x in r.config] == [x.ref for x in startup]
