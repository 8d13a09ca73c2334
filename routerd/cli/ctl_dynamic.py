"""``routerctl dynamic``: stored dynamic config parts and their effect.

``list`` / ``describe`` show what is stored and how the merge treats each generation
(active, expired, superseded, rejected with reasons); ``render`` prints the effective Router
the daemon reconciles; ``diff`` prints what the dynamic parts change relative to the startup
config. ``put`` goes through the daemon's trial merge: a part it would reject is refused
with every reason and nothing is stored (exit 2).
"""

from __future__ import annotations

import argparse

from routerd.cli.common import EXIT_OK, table
from routerd.cli.ctl_client import Client, read_document
from routerd.cli.ctl_output import dump, emit, to_data, when
from routerd.v1 import config_pb2, config_pb2_grpc


def parts_table(parts: list[config_pb2.DynamicPart]) -> str:
    """SOURCE/GEN/STATUS/RESOURCES/DIRECTIVES/EXPIRES: the columns of the Go implementation
    routerd succeeds, so its operators' scripts and habits still fit."""
    rows = [
        [
            p.source,
            str(p.generation),
            p.status,
            str(p.resources),
            str(p.directives),
            when(p.expires_at),
        ]
        for p in parts
    ]
    headers = ["SOURCE", "GEN", "STATUS", "RESOURCES", "DIRECTIVES", "EXPIRES"]
    out = table(rows, headers) if rows else "no dynamic config parts stored"
    rejected = [p for p in parts if p.status == "rejected"]
    for p in rejected:
        out += f"\n\n{p.source}@{p.generation} rejected:\n" + "\n".join(
            f"  - {r}" for r in p.reasons
        )
    return out


def _stub(client: Client) -> config_pb2_grpc.ConfigServiceStub:
    return client.stub(config_pb2_grpc.ConfigServiceStub)


def cmd_list(args: argparse.Namespace, client: Client) -> int:
    stub = _stub(client)
    resp = client.call(stub.ListDynamicParts, config_pb2.ListDynamicPartsRequest())
    if args.output == "table":
        print(parts_table(list(resp.parts)))
    else:
        emit(resp, args.output)
    return EXIT_OK


def cmd_describe(args: argparse.Namespace, client: Client) -> int:
    stub = _stub(client)
    req = config_pb2.ListDynamicPartsRequest(source=args.source)
    resp = client.call(stub.ListDynamicParts, req)
    if args.output != "table":
        emit(resp, args.output)
        return EXIT_OK
    blocks = []
    for p in resp.parts:
        head = f"# {p.source} generation {p.generation}: {p.status}"
        reasons = "".join(f"\n#   - {r}" for r in p.reasons)
        blocks.append(f"{head}{reasons}\n{dump(to_data(p.document), 'yaml')}")
    print("\n---\n".join(blocks))
    return EXIT_OK


def _effective(client: Client) -> config_pb2.EffectiveConfig:
    stub = _stub(client)
    effective: config_pb2.EffectiveConfig = client.call(
        stub.GetEffectiveConfig, config_pb2.GetEffectiveConfigRequest()
    )
    return effective


def cmd_render(args: argparse.Namespace, client: Client) -> int:
    eff = _effective(client)
    print(dump(to_data(eff.config), args.output))
    return EXIT_OK


def diff_lines(eff: config_pb2.EffectiveConfig) -> list[str]:
    lines = [
        f"+ {a.api_version}/{a.kind}/{a.name} source={a.source} generation={a.generation}"
        for a in eff.added
    ]
    for s in eff.suppressed:
        until = s.masked_until.ToJsonString() if s.HasField("masked_until") else "-"
        lines.append(
            f"- {s.api_version}/{s.kind}/{s.name} maskedBy={','.join(s.masked_by)} "
            f"maskedUntil={until} reason={s.reason or '-'}"
        )
    for r in eff.rejected:
        lines.append(f"! {r.source}@{r.generation} rejected: {'; '.join(r.reasons)}")
    return lines


def cmd_diff(args: argparse.Namespace, client: Client) -> int:
    eff = _effective(client)
    if args.output == "json":
        emit(eff, "json")
        return EXIT_OK
    print("\n".join(diff_lines(eff)) or "no dynamic config changes")
    return EXIT_OK


def cmd_put(args: argparse.Namespace, client: Client) -> int:
    text = read_document(args.file)
    stub = _stub(client)
    resp = client.call(stub.PutDynamicPart, config_pb2.PutDynamicPartRequest(document=text))
    p = resp.part
    if args.output == "table":
        print(
            f"stored {p.source}@{p.generation}: {p.resources} resources, "
            f"{p.directives} directives, active until {when(p.expires_at)}"
        )
    else:
        emit(resp, args.output)
    return EXIT_OK


def cmd_delete(args: argparse.Namespace, client: Client) -> int:
    stub = _stub(client)
    req = config_pb2.DeleteDynamicSourceRequest(source=args.source)
    resp = client.call(stub.DeleteDynamicSource, req)
    print(f"deleted {resp.deleted} generation(s) of {args.source}")
    return EXIT_OK
