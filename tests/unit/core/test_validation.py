"""Bad input gets an error a person can act on: one test per case, asserting the message."""

from __future__ import annotations

import textwrap

import pytest

from routerd.core.loader import LoadResult, load_text

ONPREM = textwrap.dedent("""\
    apiVersion: routerd.net/v1alpha1
    kind: Router
    metadata: {name: onprem-rt}
    spec:
      resources:
        - apiVersion: net.routerd.net/v1alpha1
          kind: WireGuardInterface
          metadata: {name: wg-sam}
          spec: {privateKeyFile: /tmp/routerd-test-never-created.key, listenPort: 51820, mtu: 1420}
        - apiVersion: net.routerd.net/v1alpha1
          kind: WireGuardPeer
          metadata: {name: cloud-a}
          spec:
            interface: wg-sam
            publicKey: Q0xPVUQtUk9VVEVSLVBVQkxJQy1LRVktUkVQTEFDRSE=
            endpoint: 203.0.113.10:51820
        - apiVersion: hybrid.routerd.net/v1alpha1
          kind: OverlayPeer
          metadata: {name: cloud-a}
          spec:
            role: cloud
            nodeID: cloud-rt-a
            underlay: {type: wireguard, interface: wg-sam, address: 10.255.40.1}
            remote: {nodeID: cloud-rt-a, address: 10.255.40.0}
        - apiVersion: hybrid.routerd.net/v1alpha1
          kind: AddressMobilityDomain
          metadata: {name: edge-lan}
          spec: {prefix: 10.40.8.0/24, mode: selective-address, peerRef: cloud-a}
        - apiVersion: hybrid.routerd.net/v1alpha1
          kind: CloudProviderProfile
          metadata: {name: aws-lab}
          spec: {provider: aws, capabilities: [eni-secondary-ip, source-dest-check-disabled]}
        - apiVersion: hybrid.routerd.net/v1alpha1
          kind: RemoteAddressClaim
          metadata: {name: cloud-vm-21}
          spec:
            domainRef: edge-lan
            address: 10.40.8.21/32
            ownerSide: cloud
            capture: {type: proxy-arp, interface: ens19}
            delivery: {peerRef: cloud-a, mode: route, tunnelInterface: wg-sam}
""")


def load(text: str) -> LoadResult:
    return load_text(text, "router.yaml")


def with_resource(doc: str) -> str:
    return ONPREM + textwrap.indent(textwrap.dedent(doc), "    ")


def only_error(result: LoadResult) -> str:
    assert not result.valid
    assert len(result.errors) == 1, [e.render() for e in result.errors]
    return result.errors[0].render()


def test_base_config_is_valid():
    r = load(ONPREM)
    assert r.valid, [e.render() for e in r.errors]


def test_yaml_syntax_error_names_line_and_column():
    msg = only_error(load(ONPREM.replace("kind: Router", "kind: [Router")))
    assert msg.startswith("router.yaml:")
    assert "YAML syntax error, column" in msg


def test_wrong_type_names_field():
    msg = only_error(load(ONPREM.replace("mtu: 1420", "mtu: big")))
    assert "WireGuardInterface/wg-sam spec.mtu:" in msg and "integer" in msg
    assert msg.startswith("router.yaml:9:")


def test_unknown_field_is_an_error_not_ignored():
    msg = only_error(
        load(ONPREM.replace("ownerSide: cloud", "ownerSide: cloud\n        colour: red"))
    )
    assert "RemoteAddressClaim/cloud-vm-21 spec.colour: unknown field" in msg


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        pytest.param("10.40.8.21", "must be written as a /32: use 10.40.8.21/32", id="bare-ip"),
        pytest.param("10.40.8.0/24", "is a /24; a claim moves exactly one address", id="not-32"),
        pytest.param("10.40.8.300/32", "is not an IPv4 /32", id="not-an-ip"),
    ],
)
def test_claim_address_must_be_a_32(address, expected):
    msg = only_error(load(ONPREM.replace("address: 10.40.8.21/32", f"address: {address}")))
    assert "spec.address" in msg and expected in msg


def test_address_outside_domain_prefix():
    msg = only_error(load(ONPREM.replace("address: 10.40.8.21/32", "address: 10.40.9.21/32")))
    assert "outside AddressMobilityDomain/edge-lan (10.40.8.0/24)" in msg


def test_two_claims_with_one_address():
    r = load(
        with_resource("""\
        - apiVersion: hybrid.routerd.net/v1alpha1
          kind: RemoteAddressClaim
          metadata: {name: second}
          spec:
            domainRef: edge-lan
            address: 10.40.8.21/32
            ownerSide: cloud
            capture: {type: proxy-arp, interface: ens19}
            delivery: {peerRef: cloud-a}
        """)
    )
    msg = only_error(r)
    assert "RemoteAddressClaim/second spec.address" in msg
    assert "already claimed by RemoteAddressClaim/cloud-vm-21" in msg


def test_claim_address_equal_to_user_route():
    msg = only_error(
        load(
            with_resource("""\
        - apiVersion: net.routerd.net/v1alpha1
          kind: IPv4Route
          metadata: {name: app}
          spec: {destination: 10.40.8.21/32, device: wg-sam}
        """)
        )
    )
    assert "collides with IPv4Route/app" in msg and "remove the IPv4Route" in msg


def test_configure_os_address_true_is_rejected():
    msg = only_error(
        load(ONPREM.replace("interface: ens19}", "interface: ens19, configureOSAddress: true}"))
    )
    assert "spec.capture.configureOSAddress" in msg and "not supported" in msg


@pytest.mark.parametrize("ctype", ["garp", "static-host-route"])
def test_reserved_capture_types(ctype):
    msg = only_error(load(ONPREM.replace("type: proxy-arp", f"type: {ctype}")))
    assert f"capture type '{ctype}' is reserved and not implemented" in msg


@pytest.mark.parametrize("missing", ["providerRef", "providerMode", "nicRef"])
def test_provider_secondary_ip_needs_ref_mode_and_nic(missing):
    fields = {
        "providerRef": "aws-lab",
        "providerMode": "eni-secondary-ip",
        "nicRef": "eni-0a1b2c3d4e5f60789",
    }
    fields.pop(missing)
    cap = ", ".join(f"{k}: {v}" for k, v in fields.items())
    text = ONPREM.replace(
        "capture: {type: proxy-arp, interface: ens19}",
        f"capture: {{type: provider-secondary-ip, interface: ens19, {cap}}}",
    )
    text = text.replace("ownerSide: cloud", "ownerSide: onprem")
    msg = only_error(load(text))
    assert f"spec.capture.{missing}" in msg and "required" in msg


def test_proxy_arp_needs_interface():
    msg = only_error(
        load(
            ONPREM.replace(
                "capture: {type: proxy-arp, interface: ens19}", "capture: {type: proxy-arp}"
            )
        )
    )
    assert "spec.capture.interface: required for proxy-arp" in msg


@pytest.mark.parametrize(
    ("old", "new", "path", "kind"),
    [
        ("domainRef: edge-lan", "domainRef: nowhere", "spec.domainRef", "AddressMobilityDomain"),
        (
            "delivery: {peerRef: cloud-a",
            "delivery: {peerRef: ghost",
            "spec.delivery.peerRef",
            "OverlayPeer",
        ),
    ],
)
def test_dangling_references(old, new, path, kind):
    msg = only_error(load(ONPREM.replace(old, new)))
    assert path in msg and f"{kind} '{new.split()[-1]}' does not exist" in msg


def test_dangling_provider_ref():
    text = ONPREM.replace(
        "capture: {type: proxy-arp, interface: ens19}",
        "capture: {type: provider-secondary-ip, interface: ens19, providerRef: gone, "
        "providerMode: eni-secondary-ip, nicRef: eni-0a1b2c3d4e5f60789}",
    ).replace("ownerSide: cloud", "ownerSide: onprem")
    msg = only_error(load(text))
    assert "spec.capture.providerRef: CloudProviderProfile 'gone' does not exist" in msg


def test_references_accept_kind_slash_name():
    r = load(ONPREM.replace("domainRef: edge-lan", "domainRef: AddressMobilityDomain/edge-lan"))
    assert r.valid, [e.render() for e in r.errors]


def test_full_l2_mode_is_rejected():
    msg = only_error(load(ONPREM.replace("mode: selective-address", "mode: full-l2")))
    assert "full L2 extension is not supported" in msg


@pytest.mark.parametrize("dest", ["default", "0.0.0.0/0"])
def test_hybrid_route_rejects_default(dest):
    msg = only_error(
        load(
            with_resource(f"""\
        - apiVersion: hybrid.routerd.net/v1alpha1
          kind: HybridRoute
          metadata: {{name: apps}}
          spec: {{destinationCIDRs: [10.30.0.0/16, {dest}], peerRef: cloud-a}}
        """)
        )
    )
    assert "spec.destinationCIDRs" in msg and "default route" in msg


def test_hybrid_route_table_other_than_main():
    msg = only_error(
        load(
            with_resource("""\
        - apiVersion: hybrid.routerd.net/v1alpha1
          kind: HybridRoute
          metadata: {name: apps}
          spec: {destinationCIDRs: [10.30.0.0/16], peerRef: cloud-a, install: {table: "100"}}
        """)
        )
    )
    assert "spec.install.table" in msg and "use one of: main" in msg


@pytest.mark.parametrize("addr", ["169.254.110.1", "100.64.0.1"])
def test_overlay_address_in_reserved_ranges(addr):
    msg = only_error(load(ONPREM.replace("address: 10.255.40.1}", f"address: {addr}}}")))
    assert "OverlayPeer/cloud-a spec.underlay.address" in msg
    assert "clouds reserve" in msg


def test_relative_plugin_executable():
    msg = only_error(
        load(
            with_resource("""\
        - apiVersion: plugin.routerd.net/v1alpha1
          kind: Plugin
          metadata: {name: inv}
          spec: {executable: bin/inventory}
        """)
        )
    )
    assert "Plugin/inv spec.executable" in msg and "must be an absolute path" in msg


@pytest.mark.parametrize(
    ("ttl", "expected"),
    [
        ("0s", "must be greater than zero"),
        ("10 minutes", "invalid duration"),
        ("5", "invalid duration"),
    ],
)
def test_zero_or_malformed_durations(ttl, expected):
    msg = only_error(
        load(
            with_resource(f"""\
        - apiVersion: plugin.routerd.net/v1alpha1
          kind: Plugin
          metadata: {{name: inv}}
          spec: {{executable: /usr/local/bin/inv}}
        - apiVersion: plugin.routerd.net/v1alpha1
          kind: DynamicConfigSource
          metadata: {{name: inv}}
          spec: {{pluginRef: inv, ttl: "{ttl}"}}
        """)
        )
    )
    assert "DynamicConfigSource/inv spec.ttl" in msg and expected in msg


def test_override_policy_operation_other_than_mask():
    msg = only_error(
        load(
            with_resource("""\
        - apiVersion: config.routerd.net/v1alpha1
          kind: DynamicOverridePolicy
          metadata: {name: pol}
          spec:
            allow:
              - source: Plugin/inv
                operations: [replace]
                targets:
                  - {apiVersion: hybrid.routerd.net/v1alpha1, kind: RemoteAddressClaim,
                     name: cloud-vm-21}
        """)
        )
    )
    assert "DynamicOverridePolicy/pol spec.allow.0.operations" in msg
    assert "only dynamic override operation is mask" in msg


def test_unknown_kind_names_the_kind_and_line():
    text = with_resource("""\
        - apiVersion: hybrid.routerd.net/v1alpha1
          kind: HealthCheck
          metadata: {name: hc}
          spec: {}
        """)
    msg = only_error(load(text))
    assert "unknown kind 'HealthCheck'" in msg
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "kind: HealthCheck" in t)
    assert msg.startswith(f"router.yaml:{line}:")


def test_inline_private_key_is_refused():
    msg = only_error(
        load(
            ONPREM.replace(
                "spec: {privateKeyFile: /tmp/routerd-test-never-created.key,",
                "spec: {privateKey: c2VjcmV0,",
            )
        )
    )
    assert "inline privateKey is not accepted" in msg
    assert "c2VjcmV0" not in msg


def test_all_errors_reported_at_once():
    text = (
        ONPREM.replace("mode: selective-address", "mode: full-l2")
        .replace("address: 10.40.8.21/32", "address: 10.40.8.21")
        .replace("mtu: 1420", "mtu: x")
    )
    r = load(text)
    assert len(r.errors) == 3


def test_duplicate_yaml_key_is_an_error():
    msg = only_error(
        load(ONPREM.replace("ownerSide: cloud", "ownerSide: cloud\n        ownerSide: onprem"))
    )
    assert "duplicate key" in msg


def test_warning_for_undeclared_capture_interface_does_not_fail():
    r = load(ONPREM)
    assert r.valid
    assert any("'ens19' is not a declared Interface" in w.message for w in r.warnings)


def overlay_warnings(r: LoadResult) -> list[str]:
    return [
        w.render()
        for w in r.warnings
        if w.resource == "OverlayPeer/cloud-a" and "cannot probe" in w.message
    ]


def test_descriptive_overlay_address_warns_what_verified_then_cannot_prove():
    r = load(ONPREM)  # names 10.255.40.1 as this router's overlay address, assigns nothing
    assert r.valid
    [msg] = overlay_warnings(r)
    assert "OverlayPeer/cloud-a spec.underlay.address" in msg
    assert "no IPv4StaticAddress assigns 10.255.40.1 on wg-sam" in msg
    assert "does not prove that packets cross the tunnel" in msg
    assert "10.255.40.0 on the peer's tunnel" in msg


STATIC = """\
- apiVersion: net.routerd.net/v1alpha1
  kind: IPv4StaticAddress
  metadata: {{name: overlay}}
  spec: {{interface: {dev}, address: 10.255.40.1/31}}
"""


def test_overlay_address_assigned_on_the_tunnel_does_not_warn():
    assert overlay_warnings(load(with_resource(STATIC.format(dev="wg-sam")))) == []


def test_overlay_address_assigned_elsewhere_still_warns():
    assert len(overlay_warnings(load(with_resource(STATIC.format(dev="ens19"))))) == 1


def test_half_configured_overlay_addresses_warn_on_the_missing_one():
    r = load(ONPREM.replace("address: 10.255.40.0}", "address: ''}"))
    [msg] = overlay_warnings(r)
    assert "OverlayPeer/cloud-a spec.remote.address" in msg and "not set" in msg


def test_no_overlay_addresses_at_all_do_not_warn():
    text = ONPREM.replace(", address: 10.255.40.0}", "}").replace(", address: 10.255.40.1}", "}")
    r = load(text)
    assert r.valid, [e.render() for e in r.errors]
    assert overlay_warnings(r) == []
