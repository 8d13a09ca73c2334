"""Config-level hybrid checks on the effective config; no host needed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from routerd.core.config import RouterConfig
from routerd.core.doctor import Status
from routerd.core.resources import Resource
from tests.unit.doctor.kit import Scene, config_of, one

Recorded = Callable[[str], Scene]

HYBRID_ROUTE = """
    - apiVersion: hybrid.routerd.net/v1alpha1
      kind: HybridRoute
      metadata:
        name: to-cloud
      spec:
        destinationCIDRs: [10.50.0.0/16]
        peerRef: cloud
"""


def with_route(s: Scene, extra: str = "") -> RouterConfig:
    return config_of(s.rec["topology"]["config"] + HYBRID_ROUTE + extra)


def patched(cfg: RouterConfig, kind: str, name: str, **spec: Any) -> RouterConfig:
    """The config with one resource's spec fields replaced, bypassing validation."""

    def edit(r: Resource) -> Resource:
        if (r.kind, r.name) != (kind, name):
            return r
        return r.model_copy(update={"spec": r.spec.model_copy(update=spec)})

    return cfg.replace(edit(r) for r in cfg)


def test_no_hybrid_resources_is_one_skip(recorded: Recorded) -> None:
    s = recorded("healthy")
    bare = s.config.replace(r for r in s.config if r.kind in ("Interface", "WireGuardInterface"))
    report = s.doctor(startup=bare, host=False)
    assert [(f.name, f.status) for f in report.findings] == [("HybridRoute", Status.SKIP)]


def test_hybrid_route_checks(recorded: Recorded) -> None:
    s = recorded("healthy")
    report = s.doctor(startup=with_route(s), host=False)
    assert one(report, "HybridRoute/to-cloud peerRef").status is Status.PASS
    assert one(report, "HybridRoute/to-cloud default route untouched").status is Status.PASS
    mtu = one(report, "HybridRoute/to-cloud MTU estimate")
    assert mtu.status is Status.PASS and "inner MTU 1340" in mtu.detail

    broken = patched(with_route(s), "HybridRoute", "to-cloud", peer_ref="nope",
                     destination_cidrs=("0.0.0.0/0",), health_check_ref="hc")  # fmt: skip
    report = s.doctor(startup=broken, host=False)
    assert one(report, "HybridRoute/to-cloud peerRef").status is Status.FAIL
    assert one(report, "HybridRoute/to-cloud default route untouched").status is Status.FAIL
    assert one(report, "HybridRoute/to-cloud healthCheckRef").status is Status.WARN


def test_small_tunnel_mtu_estimate_warns(recorded: Recorded) -> None:
    s = recorded("healthy")
    small = patched(with_route(s), "WireGuardInterface", s.names["wg1"], mtu=1300)
    f = one(s.doctor(startup=small, host=False), "HybridRoute/to-cloud MTU estimate")
    assert f.status is Status.WARN and "1220" in f.detail


def test_hybrid_route_is_checked_live_on_the_host(recorded: Recorded) -> None:
    s = recorded("healthy")
    routes = ("ip", "-j", "-4", "route", "show", "table", "main")
    s.edit_json(routes, lambda rows: [r for r in rows if r["dst"] != "10.50.0.0/16"])
    f = one(s.doctor(startup=with_route(s)), "HybridRoute/to-cloud route 10.50.0.0/16")
    assert f.status is Status.WARN


def test_dangling_references_fail_by_claim(recorded: Recorded) -> None:
    s = recorded("healthy")
    cfg = patched(s.config, "RemoteAddressClaim", "vm31", domain_ref="gone")
    cfg = patched(cfg, "AddressMobilityDomain", "edge-lan", peer_ref="ghost")
    report = s.doctor(startup=cfg, host=False)
    f = one(report, "vm31 domainRef")
    assert (f.status, f.claim) == (Status.FAIL, "vm31")
    assert one(report, "AddressMobilityDomain/edge-lan peerRef").status is Status.FAIL


def test_claim_whose_peer_is_missing_has_no_tunnel(recorded: Recorded) -> None:
    s = recorded("healthy")
    claim = next(r for r in s.config if r.kind == "RemoteAddressClaim")
    delivery = claim.spec.delivery.model_copy(update={"peer_ref": "ghost"})
    cfg = patched(s.config, "RemoteAddressClaim", "vm31", delivery=delivery)
    report = s.doctor(startup=cfg, host=False)
    assert one(report, "vm31 delivery.peerRef").status is Status.FAIL
    assert one(report, "vm31 delivery tunnel").status is Status.FAIL


def test_reserved_capture_type_and_overlay_range_fail(recorded: Recorded) -> None:
    s = recorded("healthy")
    claim = next(r for r in s.config if r.kind == "RemoteAddressClaim")
    capture = claim.spec.capture.model_copy(update={"type": "garp"})
    cfg = patched(s.config, "RemoteAddressClaim", "vm31", capture=capture)
    peer = next(r for r in cfg if r.kind == "OverlayPeer")
    remote = peer.spec.remote.model_copy(update={"address": "169.254.10.1"})
    cfg = patched(cfg, "OverlayPeer", "cloud", remote=remote)
    report = s.doctor(startup=cfg, host=False)
    assert "reserved" in one(report, "vm31 capture.type").detail
    assert one(report, "OverlayPeer/cloud remote.address").status is Status.FAIL


def test_wireguard_underlay_needs_a_declared_interface(recorded: Recorded) -> None:
    s = recorded("healthy")
    cfg = s.config.replace(r for r in s.config if r.kind != "WireGuardInterface")
    f = one(s.doctor(startup=cfg, host=False), "OverlayPeer/cloud underlay interface")
    assert f.status is Status.FAIL
