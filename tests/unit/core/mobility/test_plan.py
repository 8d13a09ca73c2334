"""The compiled plan (lookups, speaker settings, import policy, watches) and derived claims."""

from __future__ import annotations

import pytest

from routerd.configfile import load_file
from routerd.core.exchange import ReceivedPath, judge
from routerd.core.loader import load_text
from routerd.core.mobility.decision import ClaimWant
from routerd.core.mobility.derive import ClaimFactory, ClaimOrigin, claim_name, same_claim
from routerd.core.mobility.gateway import gateway_ifname
from routerd.core.mobility.plan import MobilityPlan
from routerd.core.resources import RemoteAddressClaim
from tests.support import configs
from tests.unit.core.mobility.kit import ROOT, config

PLAN = MobilityPlan.of(config("a"))
PIN = """
    - apiVersion: hybrid.routerd.net/v1alpha1
      kind: RemoteAddressClaim
      metadata: {name: pinned-vm}
      spec:
        domainRef: lab
        address: 10.77.3.99/32
        ownerSide: onprem
        capture: {type: proxy-arp, interface: lan}
        delivery: {peerRef: site-b}
"""


@pytest.mark.parametrize(
    "address,mobile",
    [
        ("10.77.3.9", True),
        ("10.77.255.254", True),
        ("10.77.0.1", False),  # the anycast gateway
        ("10.77.0.2", False),  # excluded (10.77.0.2/31)
        ("10.77.0.3", False),
        ("10.77.0.0", False),  # the prefix's network address
        ("10.77.255.255", False),  # and its broadcast address
        ("10.78.0.1", False),
        ("10.77.3.09", False),
        ("not-an-ip", False),
    ],
)
def test_domain_of(address: str, mobile: bool) -> None:
    dom = PLAN.domain_of(address)
    assert (dom is not None and dom.name == "lab") is mobile


def test_domain_facts() -> None:
    (dom,) = PLAN.domains
    assert dom.local.name == "site-a" and dom.local.site_id == 1
    assert dom.capture_ifname == "ens19"  # the Interface alias resolved
    assert dom.router_id == "10.255.0.11"
    assert (dom.probe_interval, dom.absent_after, dom.stale_time) == (1.0, 3, 120.0)
    assert dom.site_by_id(3) is not None and dom.site_by_id(3).kind == "cloud"
    assert dom.site_by_id(7) is None


def test_speaker_settings_are_valid_for_the_exchange() -> None:
    s = PLAN.speaker_settings()
    assert s is not None and s.problems() == []
    assert (s.asn, s.site_id, s.router_id, s.listen_address, s.listen_port) == (
        65000,
        1,
        "10.255.0.11",
        "10.255.0.11",
        179,
    )
    (n,) = s.neighbors
    assert (n.address, n.description, n.hold_time, n.keepalive) == ("10.255.0.1", "rr-1", 9, 3)


def test_import_policy_accepts_a_site_only_from_its_routers() -> None:
    policy = PLAN.import_policy()
    assert policy is not None
    assert policy.domains == ("10.77.0.0/16",)
    assert policy.sites[1] == frozenset({"10.255.0.11", "10.255.0.12"})

    def received(site: int, sender: str) -> ReceivedPath:
        communities = ((65000, 100, site), (65000, 101, 4))
        return ReceivedPath("10.77.3.9/32", sender, "10.255.0.1", "10.255.0.1", sender, communities)

    assert judge(received(2, "10.255.0.21"), policy).__class__.__name__ == "LearnedPath"
    refusal = judge(received(1, "10.255.0.21"), policy)
    assert getattr(refusal, "reason", "") == "foreign-site-identity"


def test_watches_cover_onprem_sites_only() -> None:
    (w,) = PLAN.watches()
    assert (w.domain, w.interface, w.prefix) == ("lab", "ens19", "10.77.0.0/16")
    assert w.ignore_macs == ("02:00:00:4d:00:01",)  # the anycast gateway's MAC
    assert MobilityPlan.of(config("c")).watches() == []


def test_static_pins_and_no_mobility() -> None:
    plan = MobilityPlan.of(config("a", PIN))
    pin = plan.static_pins["10.77.3.99"]
    assert (pin.site, pin.claim, pin.domain) == ("site-b", "pinned-vm", "lab")
    plain = MobilityPlan.of(load_file(ROOT / "examples" / "aws" / "onprem.yaml").raise_for_errors())
    assert not plain and plain.speaker_settings() is None and plain.import_policy() is None
    assert plain.domain_of("10.40.8.21") is None


def test_derived_claims_equal_validated_ones_and_share_their_parts() -> None:
    (dom,) = PLAN.domains
    factory = ClaimFactory()
    one = factory.build(dom, "10.77.3.9", ClaimWant("site-b", "bgp", 4, "10.255.0.1"))
    two = factory.build(dom, "10.77.3.10", ClaimWant("site-b", "bgp", 2, "10.255.0.1"))
    assert one.claim.name == claim_name("lab", "10.77.3.9") == "mobility.lab.10-77-3-9"
    assert one.claim == RemoteAddressClaim.model_validate(one.claim.to_doc())
    assert one.claim.to_doc()["spec"] == {
        "domainRef": "lab",
        "address": "10.77.3.9/32",
        "ownerSide": "onprem",
        "capture": {
            "type": "proxy-arp",
            "interface": gateway_ifname("lab"),  # proxy answers carry the gateway MAC
            "gratuitousARP": True,
        },
        "delivery": {"peerRef": "site-b"},
    }
    assert (dom.capture_ifname, dom.capture_device) == ("ens19", gateway_ifname("lab"))
    assert one.claim.spec.capture is two.claim.spec.capture
    assert one.claim.spec.delivery is two.claim.spec.delivery
    again = factory.build(dom, "10.77.3.9", ClaimWant("site-b", "bgp", 9, "10.255.0.2"))
    assert same_claim(one.claim, again.claim) and one.origin != again.origin
    elsewhere = factory.build(dom, "10.77.3.9", ClaimWant("site-c", "pin"))
    assert not same_claim(one.claim, elsewhere.claim)
    assert elsewhere.origin.describe() == "pin site-c"
    assert ClaimOrigin("bgp", "site-b", "10.255.0.1", 3, True).describe() == (
        "bgp site-b seq 3 via 10.255.0.1 (stale)"
    )


def test_derived_claims_announce_unless_told_not_and_need_a_gateway_for_its_device() -> None:
    text = (ROOT / "examples" / "mobility" / "site-a.yaml").read_text()
    quiet = text.replace("gratuitousARP: true", "gratuitousARP: false")
    (dom,) = MobilityPlan.of(load_text(quiet, "quiet.yaml").raise_for_errors()).domains
    assert dom.derived_capture.gratuitous_arp is False
    unsaid = text.replace("            gratuitousARP: true\n", "")
    assert unsaid != text
    plain = load_text(configs.without_gateway(unsaid), "plain.yaml").raise_for_errors()
    (dom,) = MobilityPlan.of(plain).domains
    assert dom.derived_capture.gratuitous_arp is True  # mobility's default
    assert dom.capture.gratuitous_arp is False  # the configured block is left as written
    assert dom.capture_device == dom.capture_ifname == "ens19"
    assert dom.derived_capture.interface == "lan"
    (cloud,) = MobilityPlan.of(config("c")).domains
    assert cloud.derived_capture is cloud.capture


def test_gateway_device_name_is_stable_short_and_owned() -> None:
    from routerd.core.mobility.gateway import PREFIX, gateway_ifname

    name = gateway_ifname("lab")
    assert name == gateway_ifname("lab") != gateway_ifname("lab2")
    assert name.startswith(PREFIX) and len(name) <= 15
