"""``routerctl watch claims`` (live transitions) and ``routerctl history claim NAME``.

``watch homes`` and ``history address|domain`` share these commands' parsers and are
served by ``ctl_mobility``.

A watch never misses or repeats a transition: each line carries its journal sequence number,
``--since SEQ`` resumes after a sequence already seen, and when routerd disconnects a watcher
that fell behind (it never lets a slow reader stall the engine) the watch resumes by itself
from the sequence routerd names. ``-o json`` prints one JSON object per line (JSON Lines).
"""

from __future__ import annotations

import argparse
import sys

import grpc

from routerd.cli import ctl_mobility
from routerd.cli.common import EXIT_OK, EXIT_USAGE, table
from routerd.cli.ctl_client import Client, CtlError, resume_point, rpc_failure
from routerd.cli.ctl_output import ago, emit, emit_line, stamp
from routerd.v1 import claims_pb2, claims_pb2_grpc

LINE = "{seq:>8}  {at:<20}  {claim:<24} {change:<25} {trigger:<8} {reason}"


def _line(e: claims_pb2.ClaimEvent) -> str:
    at = stamp(e.at)
    return LINE.format(
        seq=e.seq,
        at=at,
        claim=e.claim,
        change=f"{e.from_state} -> {e.to_state}",
        trigger=e.trigger,
        reason=e.reason or "-",
    ).rstrip()


def cmd_watch(args: argparse.Namespace, client: Client) -> int:
    if args.kind == "homes":
        return ctl_mobility.cmd_watch_homes(args, client)
    if args.address or args.domain:
        raise CtlError("--address and --domain apply to watch homes", EXIT_USAGE)
    stub = client.stub(claims_pb2_grpc.ClaimServiceStub)
    since: int | None = args.since
    seen = 0
    if args.output == "table":
        header = LINE.format(
            seq="SEQ",
            at="AT",
            claim="CLAIM",
            change="TRANSITION",
            trigger="TRIGGER",
            reason="REASON",
        )
        print(header)
    while True:
        req = claims_pb2.WatchClaimsRequest(claim=args.claim or "")
        if since is not None:
            req.since_seq = since
        call = stub.WatchClaims(req)
        try:
            for e in call:
                emit_line(e, args.output, _line)
                since, seen = e.seq, seen + 1
                if args.count and seen >= args.count:
                    call.cancel()
                    return EXIT_OK
            return EXIT_OK
        except grpc.RpcError as e:
            resume = resume_point(e)
            if e.code() is grpc.StatusCode.RESOURCE_EXHAUSTED and resume is not None:
                print(f"# fell behind; resuming after seq {resume}", file=sys.stderr)
                since = resume
                continue
            if resume is not None:
                raise CtlError(f"{e.details()}") from None
            raise rpc_failure(e, client.path) from None


def cmd_history(args: argparse.Namespace, client: Client) -> int:
    if args.kind in ("address", "domain"):
        return ctl_mobility.cmd_history_moves(args, client)
    stub = client.stub(claims_pb2_grpc.ClaimServiceStub)
    req = claims_pb2.ListClaimHistoryRequest(name=args.name, limit=args.limit)
    resp = client.call(stub.ListClaimHistory, req)
    if args.output != "table":
        emit(resp, args.output)
        return EXIT_OK
    rows = [
        [str(e.seq), ago(e.at), e.from_state, e.to_state, e.trigger, e.reason or "-"]
        for e in resp.events
    ]
    headers = ["SEQ", "AT", "FROM", "TO", "TRIGGER", "REASON"]
    print(table(rows, headers) if rows else f"no transitions journaled for {args.name}")
    return EXIT_OK
