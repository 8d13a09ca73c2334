"""Mobility config: the BGPSpeaker kind and spec.mobility, each rule's message, the examples."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from routerd.cli.validate_cmd import router_schema
from routerd.configfile import load_file
from routerd.core.loader import LoadResult, load_text
from routerd.core.validation_mobility import mobility_notes
from routerd.providers import config_checks

ROOT = Path(__file__).resolve().parents[4]
EXAMPLES = sorted((ROOT / "examples" / "mobility").glob("site-*.yaml"))
SITE_A = (ROOT / "examples" / "mobility" / "site-a.yaml").read_text()


def load(text: str) -> LoadResult:
    return load_text(text, "router.yaml")


def edit(text: str, *pairs: tuple[str, str]) -> str:
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def messages(result: LoadResult, *, warnings: bool = False) -> list[str]:
    return [i.render() for i in (result.warnings if warnings else result.errors)]


def only_error(result: LoadResult) -> str:
    errs = messages(result)
    assert len(errs) == 1, errs
    return errs[0]


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_examples_are_valid_without_warnings(path: Path) -> None:
    result = load_file(path, extra_checks=[config_checks])
    assert result.valid, messages(result)
    assert result.warnings == []


def test_there_are_three_example_sites_two_onprem_one_cloud() -> None:
    kinds = []
    for path in EXAMPLES:
        config = load_file(path).raise_for_errors()
        (dom,) = [r for r in config if r.kind == "AddressMobilityDomain"]
        m = dom.spec.mobility
        kinds.append(next(s.kind for s in m.sites if s.name == m.local_site))
    assert sorted(kinds) == ["cloud", "onprem", "onprem"]


def test_examples_agree_on_sites_and_speaker_addresses() -> None:
    """Every router lists the same sites; each one's routerID is its site's."""
    sites = set()
    for path in EXAMPLES:
        config = load_file(path).raise_for_errors()
        (dom,) = [r for r in config if r.kind == "AddressMobilityDomain"]
        (speaker,) = [r for r in config if r.kind == "BGPSpeaker"]
        m = dom.spec.mobility
        sites.add(tuple((s.name, s.site_id, s.router_ids, s.kind) for s in m.sites))
        local = next(s for s in m.sites if s.name == m.local_site)
        assert speaker.spec.router_id in local.router_ids
    assert len(sites) == 1


def test_domain_without_mobility_is_unchanged() -> None:
    cfg = load_file(ROOT / "examples" / "aws" / "onprem.yaml").raise_for_errors()
    (dom,) = [r for r in cfg if r.kind == "AddressMobilityDomain"]
    assert dom.spec.mobility is None
    assert "mobility" not in dom.to_doc()["spec"]


def test_schema_has_the_speaker_and_the_mobility_block() -> None:
    schema = router_schema()
    variants = schema["properties"]["spec"]["properties"]["resources"]["items"]["oneOf"]
    titles = {v["title"] for v in variants}
    assert "BGPSpeaker" in titles
    assert "MobilitySpec" in schema["$defs"]
    assert {"localSite", "speakerRef", "capture", "sites", "gateway"} <= set(
        schema["$defs"]["MobilitySpec"]["properties"]
    )


def test_routerd_schema_command_prints_it() -> None:
    exe = Path(sys.executable).parent / "routerd"
    out = subprocess.run([str(exe), "schema"], capture_output=True, text=True, check=True)
    doc = json.loads(out.stdout)
    assert "MobilitySpec" in doc["$defs"] and "BGPSpeakerSpec" in doc["$defs"]


# -- each rule ---------------------------------------------------------------------------


def test_local_site_must_name_a_site() -> None:
    msg = only_error(load(edit(SITE_A, ("localSite: site-a ", "localSite: site-x "))))
    assert "AddressMobilityDomain/lab spec.mobility.localSite" in msg
    assert "'site-x' is not one of the sites (site-a, site-b, site-c)" in msg


def test_site_names_and_ids_are_unique() -> None:
    text = edit(
        SITE_A,
        ("{name: site-b, siteID: 2,", "{name: site-a, siteID: 1,"),
    )
    errs = messages(load(text))
    assert any("spec.mobility.sites.1.name: site 'site-a' is already sites[0]" in e for e in errs)
    assert any("sites.1.siteID: siteID 1 is already used by sites[0]" in e for e in errs)


def test_site_id_range() -> None:
    msg = only_error(load(edit(SITE_A, ("siteID: 3,", "siteID: 70000,"))))
    assert "spec.mobility.sites.2.siteID" in msg


def test_non_local_site_needs_a_peer_and_local_has_none() -> None:
    text = edit(
        SITE_A,
        ("routerIDs: [10.255.0.21], peerRef: site-b}", "routerIDs: [10.255.0.21]}"),
        ("routerIDs: [10.255.0.11, 10.255.0.12]}", "routerIDs: [10.255.0.11], peerRef: site-b}"),
    )
    errs = messages(load(text))
    assert any("sites.1.peerRef: required for every site but the local one" in e for e in errs), (
        errs
    )
    assert any("sites.0.peerRef: the local site is this router" in e for e in errs), errs


def test_peer_ref_must_exist_and_not_be_shared() -> None:
    errs = messages(
        load(edit(SITE_A, ("peerRef: site-c, kind: cloud", "peerRef: site-b, kind: cloud")))
    )
    assert any(
        "sites.2.peerRef: OverlayPeer/site-b already delivers to site 'site-b'" in e for e in errs
    )
    msg = only_error(load(edit(SITE_A, ("peerRef: site-c, kind", "peerRef: nowhere, kind"))))
    assert "sites.2.peerRef: OverlayPeer 'nowhere' does not exist" in msg


def test_speaker_ref_must_exist() -> None:
    msg = only_error(load(edit(SITE_A, ("speakerRef: bgp", "speakerRef: bgp2"))))
    assert "spec.mobility.speakerRef: BGPSpeaker 'bgp2' does not exist (declared: bgp)" in msg


def test_speaker_router_id_must_be_a_local_router() -> None:
    text = edit(SITE_A, ("routerID: 10.255.0.11", "routerID: 10.255.0.99"))
    msg = only_error(load(text))
    assert "sites.0.routerIDs: BGPSpeaker/bgp routerID 10.255.0.99 is not one of" in msg
    assert "foreign-site-identity" in msg


def test_router_ids_are_ipv4_and_belong_to_one_site() -> None:
    msg = only_error(load(edit(SITE_A, ("routerIDs: [10.255.0.21]", "routerIDs: [rt-b]"))))
    assert "sites.1.routerIDs" in msg and "not an IPv4 address" in msg
    msg = only_error(load(edit(SITE_A, ("routerIDs: [10.255.0.21]", "routerIDs: [10.255.0.12]"))))
    assert "10.255.0.12 is also a router of site 'site-a'" in msg


def test_gateway_inside_prefix_and_mac_rules() -> None:
    msg = only_error(load(edit(SITE_A, ("address: 10.77.0.1\n", "address: 10.78.0.1\n"))))
    assert "spec.mobility.gateway.address: 10.78.0.1 is outside the domain prefix" in msg
    msg = only_error(load(edit(SITE_A, ('mac: "02:00:00:4d:00:01"', 'mac: "01:00:5e:00:00:01"'))))
    assert "spec.mobility.gateway.mac" in msg and "multicast" in msg
    res = load(edit(SITE_A, ('mac: "02:00:00:4d:00:01"', 'mac: "00:16:3e:00:00:01"')))
    assert res.valid
    assert any(
        "gateway.mac: 00:16:3e:00:00:01 is a universally" in w for w in messages(res, warnings=True)
    )


def test_gateway_listed_in_exclude_is_a_warning() -> None:
    res = load(edit(SITE_A, ("exclude: [10.77.0.2/31]", "exclude: [10.77.0.1]")))
    assert res.valid
    (w,) = messages(res, warnings=True)
    assert "spec.mobility.exclude.0: 10.77.0.1/32 covers the gateway" in w


def test_onprem_site_without_gateway_is_warned() -> None:
    start = SITE_A.index("          gateway:")
    end = SITE_A.index("          exclude:")
    res = load(SITE_A[:start] + SITE_A[end:])
    assert res.valid
    assert any("spec.mobility.gateway: not set" in w for w in messages(res, warnings=True))


def test_capture_must_suit_the_local_site_kind() -> None:
    text = edit(SITE_A, ("{name: site-a, siteID: 1,", "{name: site-a, kind: cloud, siteID: 1,"))
    msg = only_error(load(text))
    assert "spec.mobility.capture.type: the local site 'site-a' is cloud" in msg
    assert "use type: provider-secondary-ip" in msg


def test_capture_interface_must_be_declared() -> None:
    msg = only_error(load(edit(SITE_A, ("interface: lan\n", "interface: eth9\n"))))
    assert "spec.mobility.capture.interface: 'eth9' is not a declared Interface" in msg


def test_provider_capture_fields_are_required() -> None:
    site_c = (ROOT / "examples" / "mobility" / "site-c.yaml").read_text()
    errs = messages(load(edit(site_c, ("            nicRef: eni-0a1b2c3d4e5f60789\n", ""))))
    assert any(
        "spec.mobility.capture.nicRef: required for provider-secondary-ip" in e for e in errs
    )


def test_unknown_field_and_bad_durations() -> None:
    msg = only_error(load(edit(SITE_A, ("absentAfter: 3", "absentAftr: 3"))))
    assert "spec.mobility.presence.absentAftr: unknown field" in msg
    msg = only_error(load(edit(SITE_A, ("probeInterval: 1s", "probeInterval: soon"))))
    assert "spec.mobility.presence.probeInterval" in msg


def test_domains_may_not_overlap_when_one_is_mobile() -> None:
    extra = """
    - apiVersion: hybrid.routerd.net/v1alpha1
      kind: AddressMobilityDomain
      metadata: {name: other}
      spec: {prefix: 10.77.8.0/24}
"""
    msg = only_error(load(SITE_A + extra))
    assert "AddressMobilityDomain/other spec.prefix: 10.77.8.0/24 overlaps" in msg


def test_speaker_rules() -> None:
    msg = only_error(load(edit(SITE_A, ("implementation: gobgp", "implementation: frr"))))
    assert "BGPSpeaker/bgp spec.implementation" in msg and "use implementation: gobgp" in msg
    msg = only_error(load(edit(SITE_A, ("keepaliveTime: 3s}", "keepaliveTime: 5s}"))))
    assert "spec.neighbors.0.keepaliveTime: 5s is more than a third of holdTime 9s" in msg
    msg = only_error(load(edit(SITE_A, ("holdTime: 9s", "holdTime: 1500ms"))))
    assert "spec.neighbors.0.holdTime" in msg and "whole seconds" in msg
    msg = only_error(load(edit(SITE_A, ("asn: 65000", "asn: 0"))))
    assert "BGPSpeaker/bgp spec.asn" in msg
    twice = edit(
        SITE_A,
        (
            "{address: 10.255.0.1, description: rr-1, holdTime: 9s, keepaliveTime: 3s}",
            "{address: 10.255.0.1}\n          - {address: 10.255.0.1}",
        ),
    )
    assert "spec.neighbors.1.address: 10.255.0.1 is already neighbors[0]" in only_error(load(twice))


def test_second_speaker_is_an_error_and_unused_is_a_warning() -> None:
    extra = """
    - apiVersion: hybrid.routerd.net/v1alpha1
      kind: BGPSpeaker
      metadata: {name: bgp2}
      spec: {asn: 65000, routerID: 10.255.0.11, neighbors: [{address: 10.255.0.1}]}
"""
    res = load(SITE_A + extra)
    assert "BGPSpeaker/bgp2 metadata.name: a router runs one BGP speaker" in only_error(res)
    assert any(
        "BGPSpeaker/bgp2 metadata.name: no AddressMobilityDomain uses" in w
        for w in messages(res, warnings=True)
    )


def test_domains_sharing_a_speaker_must_agree_on_sites() -> None:
    second = edit(
        SITE_A[
            SITE_A.index(
                "    - apiVersion: hybrid.routerd.net/v1alpha1\n      kind: AddressMobilityDomain"
            ) :
        ],
        ("name: lab\n", "name: lab2\n"),
        ("prefix: 10.77.0.0/16", "prefix: 10.78.0.0/16"),
        ("address: 10.77.0.1\n", "address: 10.78.0.1\n"),
        ("exclude: [10.77.0.2/31]", "exclude: []"),
        ("{name: site-a, siteID: 1,", "{name: site-a, siteID: 4,"),
        ('mac: "02:00:00:4d:00:01"', 'mac: "02:00:00:4e:00:01"'),
    )
    # One anycast gateway per capture interface: the second domain lives on its own one.
    second += """
    - apiVersion: net.routerd.net/v1alpha1
      kind: Interface
      metadata:
        name: lan2
      spec:
        ifname: ens20
        managed: false
"""
    second = second.replace("interface: lan\n", "interface: lan2\n")
    errs = messages(load(SITE_A + second))
    assert any(
        "AddressMobilityDomain/lab2 spec.mobility.localSite: the local site has siteID 4" in e
        for e in errs
    ), errs
    assert len(errs) == 1, errs
    second = second.replace("{name: site-a, siteID: 4,", "{name: site-a, siteID: 1,")
    second = second.replace("routerIDs: [10.255.0.21]", "routerIDs: [10.255.0.22]")
    errs = messages(load(SITE_A + second))
    assert errs == [
        e for e in errs if "sites.1.routerIDs: siteID 2 has routerIDs ['10.255.0.21']" in e
    ]
    assert len(errs) == 1


def test_every_error_is_reported_at_once() -> None:
    text = edit(
        SITE_A,
        ("localSite: site-a ", "localSite: site-x "),
        ("speakerRef: bgp", "speakerRef: nope"),
        ("address: 10.77.0.1\n", "address: 10.78.0.1\n"),
    )
    errs = messages(load(text))
    assert len(errs) == 3, errs


PIN = """
    - apiVersion: hybrid.routerd.net/v1alpha1
      kind: RemoteAddressClaim
      metadata: {name: pinned-vm}
      spec:
        domainRef: lab
        address: 10.77.3.9/32
        ownerSide: onprem
        capture: {type: proxy-arp, interface: lan}
        delivery: {peerRef: site-b}
"""


def test_static_claim_in_a_mobile_domain_is_a_pin_note() -> None:
    res = load(SITE_A + PIN)
    assert res.valid and res.config is not None, messages(res)
    assert res.warnings == [], messages(res, warnings=True)  # onprem ownerSide is usual here
    (note,) = mobility_notes(res.config)
    assert note.resource == "RemoteAddressClaim/pinned-vm"
    assert "pins 10.77.3.9 at site-b" in note.message


def test_static_claim_for_the_gateway_is_an_error() -> None:
    msg = only_error(load(SITE_A + PIN.replace("10.77.3.9/32", "10.77.0.1/32")))
    assert "RemoteAddressClaim/pinned-vm spec.address: 10.77.0.1 is the anycast gateway" in msg


def test_validate_prints_pins_as_info(tmp_path: Path) -> None:
    path = tmp_path / "router.yaml"
    path.write_text(SITE_A + PIN)
    exe = Path(sys.executable).parent / "routerd"
    out = subprocess.run([str(exe), "validate", "-c", str(path)], capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "info: " in out.stdout and "pins 10.77.3.9 at site-b" in out.stdout
    out = subprocess.run(
        [str(exe), "validate", "-c", str(path), "-o", "json"], capture_output=True, text=True
    )
    doc = json.loads(out.stdout)
    assert [i["resource"] for i in doc["info"]] == ["RemoteAddressClaim/pinned-vm"]


def test_examples_parse_as_yaml_documents() -> None:
    for path in EXAMPLES:
        assert yaml.safe_load(path.read_text())["kind"] == "Router"
