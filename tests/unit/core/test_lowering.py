"""Lowering is pure and produces exactly the SAM objects the spec lists."""

from __future__ import annotations

import json

import pytest

from routerd.core.composition import Composition
from routerd.core.desired import AbsentAddress, MssRule, Observed, implied
from routerd.core.lowering import claim_context, lower, lower_claim, observe_scope
from routerd.core.mtu import path_mtu
from routerd.core.plan import diff
from routerd.core.port import describe_object
from routerd.core.resources import OverlayPeer, RemoteAddressClaim
from tests.support import configs
from tests.unit.core.test_validation import ONPREM, load, with_resource


def described(cfg) -> list[str]:
    return sorted(describe_object(o) for o in lower(cfg).desired.objects.values())


def test_no_claims_lowers_to_no_sam_objects():
    # golden: without claims only the declared WireGuard interface remains - no sysctl,
    # route, proxy neighbour, address absence or clamp table.
    text = "\n".join(line for line in ONPREM.splitlines())
    text = text[
        : text.index(
            "    - apiVersion: hybrid.routerd.net/v1alpha1\n      kind: RemoteAddressClaim"
        )
    ]
    cfg = load(text).config
    assert cfg is not None
    assert described(cfg) == ["wireguard wg-sam (1 peers)"]
    dev = next(iter(lower(cfg).desired.objects.values()))
    assert dev.peers[0].allowed_ips == frozenset({"10.255.40.0/32"})  # peer overlay only


def test_onprem_claim_objects(tmp_path):
    cfg = configs.single("azure", "onprem", tmp_path)
    assert described(cfg) == sorted(
        [
            "address 10.255.40.1/31 dev wg-sam",
            "nft table inet routerd_mss [ens19->wg-sam mss 1300, wg-sam->ens19 mss 1300]",
            "route 10.40.8.21/32 dev wg-sam metric 120",
            "sysctl net.ipv4.conf.ens19.forwarding=1",
            "sysctl net.ipv4.conf.ens19.proxy_arp=1",
            "sysctl net.ipv4.conf.wg-sam.rp_filter=2",
            "sysctl net.ipv4.ip_forward=1",
            "sysctl net.ipv4.neigh.ens19.proxy_delay=0",
            "wireguard wg-sam (1 peers)",
        ]
    )


def test_a_proxy_arp_capture_is_its_route_and_the_interfaces_settings(tmp_path):
    # No per-address capture object: the /32 route and the interface's proxy_arp and
    # forwarding are what the kernel answers by; conf.all.proxy_arp is read, not set.
    lw = lower(configs.single("azure", "onprem", tmp_path))
    keys = lw.desired.claim_keys["cloud-vm-21"]
    assert not any(k[0] == "pneigh" for k in lw.desired.objects)
    assert ("route", "254", "10.40.8.21/32") in keys
    for name in ("ens19.proxy_arp", "ens19.forwarding", "all.proxy_arp"):
        assert ("sysctl", f"net.ipv4.conf.{name}") in keys
    assert ("sysctl", "net.ipv4.conf.all.proxy_arp") not in lw.desired.objects


def test_switching_capture_off_changes_exactly_one_sysctl(tmp_path):
    cfg = configs.single("azure", "onprem", tmp_path)
    on = lower(cfg, capture_active={"ens19": True})
    off = lower(cfg, capture_active={"ens19": False})
    elsewhere = lower(cfg, capture_active={"ens20": False})  # no claim captures there

    changes = diff(off.desired, _as_observed(on.desired))

    assert [(c.op, describe_object(c.new)) for c in changes] == [
        ("replace", "sysctl net.ipv4.conf.ens19.proxy_arp=0")
    ]
    assert diff(on.desired, _as_observed(off.desired))[0].new.value == "1"
    assert on.desired.objects == lower(cfg).desired.objects == elsewhere.desired.objects
    assert off.desired.owners[("sysctl", "net.ipv4.conf.ens19.proxy_arp")] >= {
        "routerd/capture-standby",
        "RemoteAddressClaim/cloud-vm-21",
    }


def test_a_kept_composition_switches_standby_like_lower(tmp_path):
    cfg = configs.single("azure", "onprem", tmp_path)
    context = claim_context(cfg)
    comp = Composition(context)
    piece = lower_claim(next(iter(cfg.of(RemoteAddressClaim))), context)
    comp.set_tail_inputs(generation=0, key_dir=comp.key_dir, public_keys={}, capture_active={})
    comp.set_tail_inputs(
        generation=0, key_dir=comp.key_dir, public_keys={}, capture_active={"ens19": False}
    )
    assert comp.standby == frozenset()  # no claim captures on ens19 yet
    comp.put(piece)
    assert comp.standby == {"ens19"}
    assert (
        comp.publish().desired.objects
        == lower(cfg, capture_active={"ens19": False}).desired.objects
    )
    comp.remove(piece.name)
    assert ("sysctl", "net.ipv4.conf.ens19.proxy_arp") not in comp.publish().desired.objects


def _as_observed(state):
    return Observed(objects=dict(state.objects), owned=set(state.objects))


def test_cloud_claim_objects_enforce_absence_not_proxy_arp(tmp_path):
    cfg = configs.single("aws", "cloud", tmp_path)
    out = described(cfg)
    assert not any(o.startswith("proxy neighbour") for o in out)
    assert "route 10.40.8.31/32 dev wg-sam metric 120" in out
    # the absence is a key the claim needs with no object: its owner holds it, and the
    # object diff takes for it when the address is reported present is the empty absence
    lw = lower(cfg)
    key = ("absent", "10.40.8.31")
    assert key not in lw.desired.objects and not any(o.startswith("absence") for o in out)
    assert key in lw.desired.claim_keys[next(iter(lw.claims))]
    assert set(lw.desired.owners[key]) == {f"RemoteAddressClaim/{next(iter(lw.claims))}"}
    assert implied(key) == AbsentAddress("10.40.8.31")


@pytest.mark.parametrize("provider,side", [("aws", "cloud"), ("azure", "onprem")])
def test_observe_scope_names_every_sysctl_absence_and_wireguard_device(tmp_path, provider, side):
    # made in one walk of the desired keys: the same sets as a filter of them by kind
    lw = lower(configs.single(provider, side, tmp_path))
    objects = lw.desired.objects
    scope = observe_scope(lw)
    devices = {o.ifname for k, o in objects.items() if k[0] == "wg"}
    assert devices and scope.wireguard == devices
    assert {k[1] for k in objects if k[0] == "sysctl"} <= scope.sysctls
    assert scope.absent_addresses == {k[1] for k in lw.desired.owners if k[0] == "absent"}
    ips = {c.ip for c in lw.claims.values()}
    assert scope.absent_addresses == (ips if side == "cloud" else set())
    assert devices <= scope.links


def test_allowed_ips_are_derived_and_explicit_ones_kept(tmp_path):
    text = configs.with_keys(configs.example_text("azure", "onprem"), tmp_path)
    text = text.replace(
        "persistentKeepalive: 25", "persistentKeepalive: 25\n        allowedIPs: [192.0.2.0/24]"
    )
    lw = lower(configs.load(text))
    dev = lw.desired.objects[("wg", "wg-sam")]
    assert dev.peers[0].allowed_ips == frozenset(
        {"192.0.2.0/24", "10.255.40.0/32", "10.40.8.21/32"}
    )
    assert lw.claims["cloud-vm-21"].wg_public_key == dev.peers[0].public_key


def test_mss_1300_from_conservative_estimate_both_directions(tmp_path):
    lw = lower(configs.single("oci", "cloud", tmp_path))
    table = lw.desired.objects[("nft", "inet", "routerd_mss")]
    assert table.rules == frozenset(
        {MssRule("ens3", "wg-sam", 1300), MssRule("wg-sam", "ens3", 1300)}
    )
    assert lw.claims["onprem-vm-31"].mss == 1300


def test_stated_path_mtu_gives_the_measured_mss(tmp_path):
    text = configs.with_keys(configs.example_text("oci", "onprem"), tmp_path)
    text = text.replace(
        "address: 10.255.40.1\n", "address: 10.255.40.1\n        pathMTU: 1452\n", 1
    )
    cfg = configs.load(text)
    peer = cfg.get(OverlayPeer, "cloud-a")
    pm = path_mtu(cfg, peer, "ens19", "wg-sam")
    # endpoint 203.0.113.10 is IPv4: overhead 60, inner min(1420, 1392) = 1392
    assert (pm.inner_mtu, pm.mss) == (1392, 1352)


def test_no_clamp_when_path_does_not_step_down(tmp_path):
    text = configs.with_keys(configs.example_text("azure", "onprem"), tmp_path)
    text = text.replace("mtu: 1500", "mtu: 1300")
    lw = lower(configs.load(text))
    assert ("nft", "inet", "routerd_mss") not in lw.desired.objects
    assert lw.claims["cloud-vm-21"].mss is None


def test_user_sysctl_wins_over_derived():
    cfg = load(
        with_resource("""\
        - apiVersion: system.routerd.net/v1alpha1
          kind: Sysctl
          metadata: {name: fwd}
          spec: {key: net.ipv4.ip_forward, value: 1}
        """)
    ).config
    lw = lower(cfg)
    key = ("sysctl", "net.ipv4.ip_forward")
    # the user's Sysctl provides the object; the claim still needs it (and is named as such)
    assert lw.desired.owners[key] == {"Sysctl/fwd", "RemoteAddressClaim/cloud-vm-21"}
    assert key in lw.desired.claim_keys["cloud-vm-21"]


def test_hybrid_route_lowering():
    cfg = load(
        with_resource("""\
        - apiVersion: hybrid.routerd.net/v1alpha1
          kind: HybridRoute
          metadata: {name: cloud-apps}
          spec: {destinationCIDRs: [10.30.0.0/16], peerRef: cloud-a, install: {metric: 150}}
        """)
    ).config
    lw = lower(cfg)
    route = lw.desired.objects[("route", "254", "10.30.0.0/16")]
    assert describe_object(route) == "route 10.30.0.0/16 dev wg-sam metric 150"
    assert lw.desired.owners[route.key] == {"HybridRoute/cloud-apps-10-30-0-0-16"}
    assert "10.30.0.0/16" in lw.desired.objects[("wg", "wg-sam")].peers[0].allowed_ips


def test_lowering_is_deterministic(tmp_path):
    cfg = configs.single("azure", "onprem", tmp_path)
    a = [describe_object(o) for o in lower(cfg).desired.objects.values()]
    b = [describe_object(o) for o in lower(cfg).desired.objects.values()]
    assert json.dumps(a) == json.dumps(b)
