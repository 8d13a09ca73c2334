"""``routerctl get`` (lists as tables) and ``routerctl describe`` (one object in detail).

``get`` answers "what is there and is it healthy?" in one aligned table per kind;
``describe`` shows everything about one object, including what routerd *derived* (a claim's
resolved tunnel and recent transitions, a WireGuard peer's allowed IPs, the interface's
public key). Private keys are never shown: only the path of the key file.
"""

from __future__ import annotations

import argparse

from google.protobuf import json_format
from google.protobuf.message import Message

from routerd.cli import ctl_mobility
from routerd.cli.common import EXIT_OK, EXIT_USAGE, table
from routerd.cli.ctl_client import Client, CtlError
from routerd.cli.ctl_dynamic import parts_table
from routerd.cli.ctl_output import ago, emit, fields, when
from routerd.v1 import (
    claims_pb2,
    claims_pb2_grpc,
    config_pb2,
    config_pb2_grpc,
    topology_pb2,
    topology_pb2_grpc,
)

RECENT = 10


def _claims(client: Client) -> tuple[Message, str]:
    stub = client.stub(claims_pb2_grpc.ClaimServiceStub)
    resp = client.call(stub.ListClaims, claims_pb2.ListClaimsRequest())
    rows = [
        [c.name, c.address, c.state, c.reason or "-", ago(c.since), c.peer, c.origin]
        for c in resp.claims
    ]
    headers = ["NAME", "ADDRESS", "STATE", "REASON", "SINCE", "PEER", "ORIGIN"]
    return resp, table(rows, headers) if rows else "no claims in the effective config"


def _domains(client: Client) -> tuple[Message, str]:
    stub = client.stub(topology_pb2_grpc.TopologyServiceStub)
    resp = client.call(stub.ListDomains, topology_pb2.ListDomainsRequest())
    rows = [
        [d.name, d.prefix, d.mode, d.peer_ref or "-", str(len(d.claims)), d.origin]
        for d in resp.domains
    ]
    headers = ["NAME", "PREFIX", "MODE", "PEER", "CLAIMS", "ORIGIN"]
    return resp, table(rows, headers) if rows else "no AddressMobilityDomains configured"


def _peers(client: Client) -> tuple[Message, str]:
    stub = client.stub(topology_pb2_grpc.TopologyServiceStub)
    resp = client.call(stub.ListPeers, topology_pb2.ListPeersRequest())
    rows = [
        [
            p.name,
            p.role,
            p.interface,
            p.local_address or "-",
            p.remote_address or "-",
            str(len(p.claims)),
            p.origin,
        ]
        for p in resp.peers
    ]
    headers = ["NAME", "ROLE", "INTERFACE", "LOCAL", "REMOTE", "CLAIMS", "ORIGIN"]
    return resp, table(rows, headers) if rows else "no OverlayPeers configured"


def _routes(client: Client) -> tuple[Message, str]:
    stub = client.stub(topology_pb2_grpc.TopologyServiceStub)
    resp = client.call(stub.ListRoutes, topology_pb2.ListRoutesRequest())
    rows = [
        [
            r.destination,
            r.device or "-",
            r.gateway or "-",
            str(r.metric),
            "main" if r.table == 254 else str(r.table),
            ", ".join(r.owners),
        ]
        for r in resp.routes
    ]
    headers = ["DESTINATION", "DEVICE", "GATEWAY", "METRIC", "TABLE", "OWNERS"]
    return resp, table(rows, headers) if rows else "routerd installs no routes"


def _dynamic(client: Client) -> tuple[Message, str]:
    stub = client.stub(config_pb2_grpc.ConfigServiceStub)
    resp = client.call(stub.ListDynamicParts, config_pb2.ListDynamicPartsRequest())
    return resp, parts_table(list(resp.parts))


GETTERS = {
    "claims": _claims,
    "domains": _domains,
    "peers": _peers,
    "routes": _routes,
    "dynamic": _dynamic,
}


def cmd_get(args: argparse.Namespace, client: Client) -> int:
    if args.domain and args.kind != "homes":
        raise CtlError("--domain applies to get homes only", EXIT_USAGE)
    if args.kind == "homes":
        resp, text = ctl_mobility.get_homes(client, args.domain or "")
    else:
        resp, text = GETTERS[args.kind](client)
    if args.output == "table":
        print(text)
    else:
        emit(resp, args.output)
    return EXIT_OK


def describe_claim(client: Client, name: str) -> tuple[Message, str]:
    stub = client.stub(claims_pb2_grpc.ClaimServiceStub)
    c = client.call(stub.GetClaim, claims_pb2.GetClaimRequest(name=name))
    history = client.call(stub.ListClaimHistory, claims_pb2.ListClaimHistoryRequest(name=name))
    text = fields(
        [
            ("Name", c.name),
            ("Address", c.address),
            ("State", c.state),
            ("Reason", c.reason or "-"),
            ("Message", c.message or "-"),
            ("Since", when(c.since)),
            ("Domain", c.domain),
            ("Capture", f"{c.capture_type} on {c.capture_interface or '(any interface)'}"),
            ("Gratuitous ARP", "yes" if c.gratuitous_arp else "no"),
            ("Delivery", f"peer {c.peer} via {c.tunnel or '(unresolved)'}"),
            ("MSS clamp", str(c.mss) if c.mss else "none (the path does not step down)"),
            ("Origin", c.origin),
            ("Generation", str(c.config_generation)),
        ]
    )
    events = list(history.events)[-RECENT:]
    rows = [
        [str(e.seq), ago(e.at), e.from_state, e.to_state, e.trigger, e.reason or "-"]
        for e in events
    ]
    recent = table(rows, ["SEQ", "AT", "FROM", "TO", "TRIGGER", "REASON"]) if rows else "none"
    text = f"{text}\n\nRecent transitions:\n{recent}"
    actions = _provider_actions(client, c)
    return c, f"{text}\n\n{actions}" if actions else text


def _provider_actions(client: Client, c: claims_pb2.Claim) -> str:
    """The claim's provider commands with their undo, from the daemon's effective config."""
    if c.capture_type != "provider-secondary-ip":
        return ""
    from routerd.cli import provider_actions  # the resource models and provider plans

    stub = client.stub(config_pb2_grpc.ConfigServiceStub)
    eff = client.call(stub.GetEffectiveConfig, config_pb2.GetEffectiveConfigRequest())
    entry = provider_actions.for_document(json_format.MessageToDict(eff.config), c.name)
    return "\n".join(provider_actions.render([entry] if entry else []))


def describe_peer(client: Client, name: str) -> tuple[Message, str]:
    stub = client.stub(topology_pb2_grpc.TopologyServiceStub)
    p = client.call(stub.GetPeer, topology_pb2.GetPeerRequest(name=name))
    text = fields(
        [
            ("Name", p.name),
            ("Role", p.role),
            ("Node ID", p.node_id),
            ("Underlay", f"{p.underlay_type} on {p.interface}"),
            ("Local overlay", p.local_address or "-"),
            ("Remote", f"{p.remote_node_id or '-'} at {p.remote_address or '-'}"),
            ("WireGuard key", p.wireguard_public_key or "-"),
            ("Path MTU", str(p.path_mtu) if p.path_mtu else "unknown (conservative estimate)"),
            ("Origin", p.origin),
            ("Claims", ", ".join(p.claims) or "none"),
        ]
    )
    return p, text


def describe_wireguardinterface(client: Client, name: str) -> tuple[Message, str]:
    stub = client.stub(topology_pb2_grpc.TopologyServiceStub)
    w = client.call(
        stub.GetWireGuardInterface, topology_pb2.GetWireGuardInterfaceRequest(name=name)
    )
    text = fields(
        [
            ("Name", w.name),
            ("Public key", w.public_key or "(key file not readable yet)"),
            ("Private key", f"in {w.private_key_file} (never shown)"),
            ("Listen port", str(w.listen_port) if w.listen_port else "kernel's choice"),
            ("MTU", str(w.mtu) if w.mtu else "default"),
            ("Origin", w.origin),
        ]
    )
    lines = [text, "", "Peers:" if w.peers else "Peers: none"]
    for p in w.peers:
        keepalive = f", keepalive {p.persistent_keepalive}s" if p.persistent_keepalive else ""
        lines.append(f"  {p.name or '(unnamed)'}  {p.public_key}")
        lines.append(f"    endpoint {p.endpoint or '(dials in)'}{keepalive}")
        explicit = set(p.explicit_allowed_ips)
        ips = [f"{a} ({'explicit' if a in explicit else 'derived'})" for a in p.allowed_ips]
        lines.append(f"    allowed IPs: {', '.join(ips) or 'none'}")
    return w, "\n".join(lines)


DESCRIBERS = {
    "claim": describe_claim,
    "peer": describe_peer,
    "wireguardinterface": describe_wireguardinterface,
}


def cmd_describe(args: argparse.Namespace, client: Client) -> int:
    resp, text = DESCRIBERS[args.kind](client, args.name)
    if args.output == "table":
        print(text)
    else:
        emit(resp, args.output)
    return EXIT_OK
