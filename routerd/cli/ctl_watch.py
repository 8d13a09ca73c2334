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
import json
import sys

import grpc

from routerd.api.errors import RESUME_SEQ_KEY
from routerd.cli import ctl_mobility
from routerd.cli.common import EXIT_OK, EXIT_USAGE, add_output, table
from routerd.cli.ctl_client import Client, CtlError, rpc_failure
from routerd.cli.ctl_output import DATA_FORMATS, ago, dump, emit, stamp, to_data
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


def _print(e: claims_pb2.ClaimEvent, fmt: str) -> None:
    if fmt == "json":
        print(json.dumps(to_data(e), separators=(",", ":")))
    elif fmt == "yaml":
        print("---\n" + dump(to_data(e), "yaml"))
    else:
        print(_line(e))
    sys.stdout.flush()


def _resume_point(e: grpc.RpcError) -> int | None:
    if not isinstance(e, grpc.Call):
        return None
    for key, value in e.trailing_metadata() or ():
        if key == RESUME_SEQ_KEY:
            return int(value)
    return None


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
                _print(e, args.output)
                since, seen = e.seq, seen + 1
                if args.count and seen >= args.count:
                    call.cancel()
                    return EXIT_OK
            return EXIT_OK
        except grpc.RpcError as e:
            resume = _resume_point(e)
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


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: argparse.ArgumentParser
) -> None:
    p = sub.add_parser(
        "watch",
        parents=[common],
        help="stream claim transitions or address moves as they happen",
        description="Print claim transitions (claims) or journaled moves of mobile addresses "
        "(homes) as they happen, each with its journal sequence number. --since SEQ first "
        "replays everything after SEQ (0: the whole journal), so a watch restarted with the "
        "last SEQ it printed misses nothing and repeats nothing. routerd disconnects a claims "
        "watcher that falls behind rather than slow down; the watch then resumes by itself "
        "from the last SEQ it was sent. -o json prints one JSON object per line. Stop with "
        "Ctrl-C.",
    )
    p.add_argument("kind", choices=("claims", "homes"), help="what to watch")
    p.add_argument("--since", type=int, metavar="SEQ", help="resume after this sequence number")
    p.add_argument("--claim", metavar="NAME", help="claims: only this claim's transitions")
    p.add_argument("--address", metavar="ADDRESS", help="homes: only this address's moves")
    p.add_argument("--domain", metavar="NAME", help="homes: only this domain's moves")
    p.add_argument(
        "--count", type=int, default=0, metavar="N", help="exit after N transitions (0: never)"
    )
    add_output(p, DATA_FORMATS, "table")
    p.set_defaults(func=cmd_watch)

    p = sub.add_parser(
        "history",
        parents=[common],
        help="the journaled transitions of a claim, or the moves of an address or domain",
        description="Print, oldest first, every journaled transition of one claim (also of a "
        "claim that has since been removed), or every journaled move of one mobile address "
        "or of one domain, with its cause (presence, explicit, pin, bgp, ...) and evidence.",
    )
    p.add_argument("kind", choices=("claim", "address", "domain"), help="what to show history for")
    p.add_argument("name", help="the claim's name, the address, or the domain's name")
    p.add_argument("--limit", type=int, default=1000, metavar="N", help="at most N entries (1000)")
    add_output(p, DATA_FORMATS, "table")
    p.set_defaults(func=cmd_history)
