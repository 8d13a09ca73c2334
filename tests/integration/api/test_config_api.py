"""ConfigService and TopologyService: dynamic parts, validate, plan, reload, derived topology."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf import json_format

from routerd.keys import read_private_key
from routerd.v1 import (
    claims_pb2,
    claims_pb2_grpc,
    config_pb2,
    config_pb2_grpc,
    topology_pb2,
    topology_pb2_grpc,
)
from tests.integration.api.harness import Served
from tests.support.wait import wait_until

pytestmark = pytest.mark.integration

PART = """
apiVersion: config.routerd.net/v1alpha1
kind: DynamicConfigPart
metadata: {{ name: operator-extra }}
spec:
  source: {source}
  ttl: 300s
  resources:
    - apiVersion: hybrid.routerd.net/v1alpha1
      kind: RemoteAddressClaim
      metadata: {{ name: {name} }}
      spec:
        domainRef: edge-lan
        address: {address}
        ownerSide: cloud
        capture: {{ type: proxy-arp, interface: ens19 }}
        delivery: {{ peerRef: cloud-a, mode: route, tunnelInterface: wg-sam }}
"""

MASK_PART = """
apiVersion: config.routerd.net/v1alpha1
kind: DynamicConfigPart
metadata: { name: rogue }
spec:
  source: Operator/mallory
  ttl: 300s
  directives:
    - op: mask
      target: { apiVersion: net.routerd.net/v1alpha1, kind: IPv4Route, name: app-fallback-route }
"""


def part(source="Operator/alice", name="extra-vm-50", address="10.40.8.50/32") -> str:
    return PART.format(source=source, name=name, address=address)


def cfg(served: Served) -> config_pb2_grpc.ConfigServiceStub:
    return served.stub(config_pb2_grpc.ConfigServiceStub)


def topo(served: Served) -> topology_pb2_grpc.TopologyServiceStub:
    return served.stub(topology_pb2_grpc.TopologyServiceStub)


def put(served: Served, text: str) -> config_pb2.PutDynamicPartResponse:
    return cfg(served).PutDynamicPart(config_pb2.PutDynamicPartRequest(document=text))


def claim_state(served: Served, name: str) -> str | None:
    view = served.daemon.engine.snapshot.claims.get(name)
    return view.state if view else None


def test_bad_part_gets_invalid_argument_with_field_path_and_stores_nothing(served):
    before = served.daemon.store.parts_version()
    with pytest.raises(grpc.RpcError) as e:
        put(served, part(address="10.40.8.50"))
    assert e.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "spec.resources.0.spec.address" in e.value.details()
    assert "10.40.8.50/32" in e.value.details()  # says what to write instead
    assert served.daemon.store.list_parts() == []
    assert served.daemon.store.parts_version() == before


def test_part_the_merge_would_reject_is_refused_with_reasons_and_not_stored(served):
    with pytest.raises(grpc.RpcError) as e:
        put(served, MASK_PART)
    assert e.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "not allowed by any DynamicOverridePolicy" in e.value.details()
    with pytest.raises(grpc.RpcError) as e:
        put(served, part(name="cloud-vm-21"))  # a startup claim's name
    assert e.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert "conflicts with a startup resource" in e.value.details()
    assert served.daemon.store.list_parts() == []


def test_good_part_is_stored_reconciled_superseded_and_deleted(served):
    first = put(served, part()).part
    assert (first.source, first.generation, first.status) == ("Operator/alice", 1, "active")
    wait_until(
        lambda: None if claim_state(served, "extra-vm-50") == "verified" else "not yet",
        what="dynamic claim verified",
    )
    second = put(served, part()).part
    assert second.generation == 2
    listed = cfg(served).ListDynamicParts(config_pb2.ListDynamicPartsRequest()).parts
    assert [(p.generation, p.status) for p in listed] == [(1, "superseded"), (2, "active")]
    eff = cfg(served).GetEffectiveConfig(config_pb2.GetEffectiveConfigRequest())
    wait_until(
        lambda: (
            None
            if "Operator/alice@2"
            in cfg(served).GetEffectiveConfig(config_pb2.GetEffectiveConfigRequest()).active
            else "generation 2 not active yet"
        )
    )
    eff = cfg(served).GetEffectiveConfig(config_pb2.GetEffectiveConfigRequest())
    assert [(a.kind, a.name) for a in eff.added] == [("RemoteAddressClaim", "extra-vm-50")]
    names = [
        r["metadata"]["name"] for r in json_format.MessageToDict(eff.config)["spec"]["resources"]
    ]
    assert "extra-vm-50" in names

    resp = cfg(served).DeleteDynamicSource(
        config_pb2.DeleteDynamicSourceRequest(source="Operator/alice")
    )
    assert resp.deleted == 2
    wait_until(lambda: None if claim_state(served, "extra-vm-50") is None else "still there")
    with pytest.raises(grpc.RpcError) as e:
        cfg(served).DeleteDynamicSource(
            config_pb2.DeleteDynamicSourceRequest(source="Operator/alice")
        )
    assert e.value.code() is grpc.StatusCode.NOT_FOUND


def test_validate_reports_errors_with_paths(served):
    good = (served.tmp / "router.yaml").read_text()
    ok = cfg(served).ValidateConfig(config_pb2.ValidateConfigRequest(config_yaml=good))
    assert ok.valid and not ok.errors
    bad = good.replace("address: 10.40.8.21/32", "address: 10.40.8.21/24")
    resp = cfg(served).ValidateConfig(config_pb2.ValidateConfigRequest(config_yaml=bad))
    assert not resp.valid
    assert [(e.resource, e.path) for e in resp.errors] == [
        ("RemoteAddressClaim/cloud-vm-21", "spec.address")
    ]
    assert resp.errors[0].line > 0


def test_plan_is_empty_when_converged_and_shows_what_a_candidate_changes(served):
    plan = cfg(served).PlanChanges(config_pb2.PlanChangesRequest())
    assert list(plan.changes) == [] and plan.router == "oci-onprem-rt-1"
    text = (served.tmp / "router.yaml").read_text()
    candidate = text.replace("10.40.8.21/32", "10.40.8.22/32")
    plan = cfg(served).PlanChanges(config_pb2.PlanChangesRequest(config_yaml=candidate))
    routes = {(c.op, c.key) for c in plan.changes if c.key.startswith("route/")}
    assert routes == {("add", "route/254/10.40.8.22/32"), ("remove", "route/254/10.40.8.21/32")}
    assert plan.add == sum(c.op == "add" for c in plan.changes)
    with pytest.raises(grpc.RpcError) as e:
        cfg(served).PlanChanges(config_pb2.PlanChangesRequest(config_yaml="kind: Nope"))
    assert e.value.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert served.host.objects.get(("route", "254", "10.40.8.21/32")) is not None


def test_reload_applies_a_valid_file_and_keeps_the_running_config_otherwise(served):
    path = served.tmp / "router.yaml"
    good = path.read_text()
    path.write_text(good.replace("address: 10.40.8.21/32", "address: 10.40.8.21/33"))
    with pytest.raises(grpc.RpcError) as e:
        cfg(served).ReloadConfig(config_pb2.ReloadConfigRequest())
    assert e.value.code() is grpc.StatusCode.FAILED_PRECONDITION
    assert "spec.address" in e.value.details() and "running config is kept" in e.value.details()
    assert served.daemon.engine.snapshot.claims["cloud-vm-21"].address == "10.40.8.21/32"

    path.write_text(good.replace("10.40.8.21/32", "10.40.8.23/32"))
    resp = cfg(served).ReloadConfig(config_pb2.ReloadConfigRequest())
    assert resp.config_path == str(path) and resp.resources > 0
    wait_until(
        lambda: (
            None
            if served.daemon.engine.snapshot.claims["cloud-vm-21"].intent.address == "10.40.8.23/32"
            else "old address still in use"
        ),
        what="reloaded config applied",
    )
    stub = served.stub(claims_pb2_grpc.ClaimServiceStub)
    assert stub.GetClaim(claims_pb2.GetClaimRequest(name="cloud-vm-21")).address == "10.40.8.23/32"


def test_wireguard_interface_shows_public_key_and_derived_allowed_ips_never_the_private_key(
    served,
):
    wgi = topo(served).GetWireGuardInterface(
        topology_pb2.GetWireGuardInterfaceRequest(name="wg-sam")
    )
    key_file = served.tmp / "keys" / "wg-sam.key"
    assert wgi.private_key_file == str(key_file)
    private = read_private_key(str(key_file))
    assert private not in str(wgi) and private not in json_format.MessageToJson(wgi)
    expected_pub = served.daemon.engine.snapshot.lowered.desired.objects[("wg", "wg-sam")]
    assert wgi.public_key and wgi.public_key == expected_pub.public_key
    [peer] = wgi.peers
    assert set(peer.allowed_ips) == {"10.40.8.21/32", "10.255.40.0/32"}
    assert set(peer.derived_allowed_ips) == set(peer.allowed_ips)
    assert list(peer.explicit_allowed_ips) == []
    with pytest.raises(grpc.RpcError) as e:
        topo(served).GetWireGuardInterface(topology_pb2.GetWireGuardInterfaceRequest(name="wg9"))
    assert e.value.code() is grpc.StatusCode.NOT_FOUND and "wg-sam" in e.value.details()


def test_peers_domains_and_routes_come_from_the_effective_config(served):
    [peer] = topo(served).ListPeers(topology_pb2.ListPeersRequest()).peers
    assert (peer.name, peer.interface, peer.remote_address, list(peer.claims)) == (
        "cloud-a",
        "wg-sam",
        "10.255.40.0",
        ["cloud-vm-21"],
    )
    [dom] = topo(served).ListDomains(topology_pb2.ListDomainsRequest()).domains
    assert (dom.name, dom.prefix, list(dom.claims)) == ("edge-lan", "10.40.8.0/24", ["cloud-vm-21"])
    routes = {
        r.destination: r for r in topo(served).ListRoutes(topology_pb2.ListRoutesRequest()).routes
    }
    delivery = routes["10.40.8.21/32"]
    assert (delivery.device, list(delivery.owners)) == (
        "wg-sam",
        ["RemoteAddressClaim/cloud-vm-21"],
    )
    assert routes["10.40.8.44/32"].owners == ["IPv4Route/app-fallback-route"]
