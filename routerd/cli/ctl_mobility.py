"""``routerctl move``, ``where``, ``pin``, ``unpin``, ``get homes``, ``watch homes`` and
``history address|domain``: address mobility as the router sees it, and explicit moves.

A router speaks only for its own site, so ``move --to SITE`` is run against the router of
SITE (its ``--socket``); the refusal says which router that is. A move is all or none and,
unless ``--no-wait``, returns once the addresses are originated here, each with its new
sequence. ``watch homes`` follows the move journal: each line carries its journal sequence,
``--since SEQ`` resumes after one already seen, and nothing is missed or repeated.
"""

from __future__ import annotations

import argparse
from typing import Any

import grpc

from routerd.cli.common import EXIT_OK, EXIT_USAGE, table
from routerd.cli.ctl_client import Client, CtlError, resume_point, rpc_failure
from routerd.cli.ctl_output import ago, clip, emit, emit_line, fields, stamp, when
from routerd.v1 import mobility_pb2, mobility_pb2_grpc

WATCH_LINE = "{seq:>8}  {at:<20}  {address:<15} {change:<24} {sequence:>8}  {cause}"


def _stub(client: Client) -> mobility_pb2_grpc.MobilityServiceStub:
    return client.stub(mobility_pb2_grpc.MobilityServiceStub)


# -- move ---------------------------------------------------------------------------------


def cmd_move(args: argparse.Namespace, client: Client) -> int:
    req = mobility_pb2.MoveAddressRequest(
        addresses=args.addresses,
        to_site=args.to,
        cause=args.cause,
        no_wait=args.no_wait,
        dry_run=args.dry_run,
    )
    resp = client.call(_stub(client).MoveAddress, req)
    refused = any(not r.accepted for r in resp.results)
    if args.output != "table":
        emit(resp, args.output)
        return EXIT_USAGE if refused else EXIT_OK
    rows = [
        [
            r.address,
            r.status,
            str(r.sequence) if r.sequence else "-",
            f"[{r.reason}] {r.message}" if r.reason else r.message or "-",
        ]
        for r in resp.results
    ]
    print(table(rows, ["ADDRESS", "RESULT", "SEQUENCE", "DETAIL"]))
    if args.dry_run:
        ok = sum(r.accepted for r in resp.results)
        print(f"dry run: {ok} of {len(resp.results)} would be accepted; nothing was moved")
    return EXIT_USAGE if refused else EXIT_OK


# -- where, get homes -----------------------------------------------------------------------


def _home_line(h: mobility_pb2.Home) -> str:
    if not h.home:
        return "unknown (no site originates it as far as this router knows)"
    if h.state == "stale":
        return (
            f"{h.home} (stale: its path went with a session that is down; given up at "
            f"{stamp(h.stale_until)} unless it returns)"
        )
    if h.home == h.local_site:
        where = "this router's site"
    else:
        where = f"this router serves {h.local_site}"
    return f"{h.home} ({where}{'; in conflict, see below' if h.conflicts else ''})"


def evidence_text(e: mobility_pb2.Evidence) -> str:
    """One line for people: the port's detail (after its kind, unless it starts with it),
    else kind, MAC and interface."""
    parts = (e.kind, f"from {e.mac}" if e.mac else "", f"on {e.interface}" if e.interface else "")
    text = " ".join(p for p in parts if p)
    if e.detail:
        starts = e.kind and e.detail.lower().startswith(e.kind.lower())
        text = e.detail if starts or not e.kind else f"{e.kind}: {e.detail}"
    if e.peer and e.peer not in text:
        text += f" (peer {e.peer})"
    return text or "-"


def _pin_line(h: mobility_pb2.Home) -> str:
    if not h.HasField("pin"):
        return "no"
    p = h.pin
    by = f"by RemoteAddressClaim/{p.claim}" if p.claim else f"since {when(p.since)}"
    return f"at {p.site} {by}" + (f": {p.cause}" if p.cause else "")


def describe_home(h: mobility_pb2.Home) -> str:
    ev = evidence_text(h.evidence)
    if h.evidence.HasField("at") and h.evidence.detail:
        ev += f", at {stamp(h.evidence.at)}"
    text = fields(
        [
            ("Address", h.address),
            ("Domain", h.domain),
            ("Home", _home_line(h)),
            ("State", h.state),
            ("Sequence", str(h.sequence) if h.sequence else "-"),
            ("Since", when(h.since)),
            ("Origin", h.origin or "-"),
            ("Evidence", ev),
            ("Originating", "yes (this router announces it)" if h.originating else "no"),
            ("Pinned", _pin_line(h)),
            ("Conflicts", "" if h.conflicts else "none"),
        ]
    )
    lines = [
        f"  - {c.code}: {c.detail}" + (f"; {c.remedy}" if c.remedy else "") for c in h.conflicts
    ]
    return "\n".join([text, *lines])


def cmd_where(args: argparse.Namespace, client: Client) -> int:
    home = client.call(_stub(client).WhereIs, mobility_pb2.WhereIsRequest(address=args.address))
    if args.output == "table":
        print(describe_home(home))
    else:
        emit(home, args.output)
    return EXIT_OK


def get_homes(client: Client, domain: str) -> tuple[mobility_pb2.ListHomesResponse, str]:
    """``routerctl get homes``: the response and its table."""
    resp = client.call(_stub(client).ListHomes, mobility_pb2.ListHomesRequest(domain=domain))
    rows = [
        [
            h.address,
            h.domain,
            h.home or "-",
            h.state,
            str(h.sequence) if h.sequence else "-",
            ago(h.since),
            h.origin or "-",
            clip(evidence_text(h.evidence), 40),
        ]
        for h in resp.homes
    ]
    headers = ["ADDRESS", "DOMAIN", "HOME", "STATE", "SEQUENCE", "SINCE", "ORIGIN", "EVIDENCE"]
    empty = "no address has a known home" + (f" in domain {domain}" if domain else "")
    text = table(rows, headers) if rows else empty
    pair = resp.local_pair
    if pair.group:  # a site's homes are captured and originated by its active router only
        who = "this router" if pair.active else "its partner, not this router"
        text += f"\n\n# {pair.group}: this site's active router is {who} ({pair.role}: {pair.why})"
    return resp, text


# -- pin, unpin ---------------------------------------------------------------------------


def cmd_pin(args: argparse.Namespace, client: Client) -> int:
    req = mobility_pb2.PinRequest(address=args.address, site=args.site, cause=args.cause)
    resp = client.call(_stub(client).Pin, req)
    if args.output != "table":
        emit(resp, args.output)
    elif resp.changed:
        print(f"pinned {resp.pin.address} at {resp.pin.site}")
    else:
        print(f"{resp.pin.address} was already pinned at {resp.pin.site}")
    return EXIT_OK


def cmd_unpin(args: argparse.Namespace, client: Client) -> int:
    resp = client.call(_stub(client).Unpin, mobility_pb2.UnpinRequest(address=args.address))
    if args.output != "table":
        emit(resp, args.output)
    elif resp.removed:
        print(f"unpinned {resp.address}")
    else:
        print(f"{resp.address} was not pinned; nothing to do")
    return EXIT_OK


# -- watch homes, history -------------------------------------------------------------------


def _watch_line(r: mobility_pb2.MoveRecord) -> str:
    return WATCH_LINE.format(
        seq=r.seq,
        at=stamp(r.at),
        address=r.address,
        change=f"{r.from_site or '-'} -> {r.to_site or '-'}",
        sequence=r.sequence or "-",
        cause=r.cause,
    ).rstrip()


def cmd_watch_homes(args: argparse.Namespace, client: Client) -> int:
    """``routerctl watch homes``: print journaled moves as they happen."""
    if args.claim:
        raise CtlError(
            "--claim applies to watch claims; use --address with watch homes", EXIT_USAGE
        )
    req = mobility_pb2.WatchHomesRequest(address=args.address or "", domain=args.domain or "")
    if args.since is not None:
        req.since_seq = args.since
    if args.output == "table":
        header = WATCH_LINE.format(
            seq="SEQ", at="AT", address="ADDRESS", change="MOVE", sequence="SEQUENCE", cause="CAUSE"
        )
        print(header)
    call = _stub(client).WatchHomes(req)
    seen = 0
    try:
        for r in call:
            emit_line(r, args.output, _watch_line)
            seen += 1
            if args.count and seen >= args.count:
                call.cancel()
                break
    except grpc.RpcError as e:
        if resume_point(e) is not None:  # the message says how to resume
            raise CtlError(e.details() or str(e.code())) from None
        raise rpc_failure(e, client.path) from None
    return EXIT_OK


def cmd_history_moves(args: argparse.Namespace, client: Client) -> int:
    """``routerctl history address ADDRESS`` and ``history domain NAME``."""
    by: dict[str, Any] = {args.kind: args.name}
    req = mobility_pb2.MoveHistoryRequest(limit=args.limit, **by)
    resp = client.call(_stub(client).History, req)
    if args.output != "table":
        emit(resp, args.output)
        return EXIT_OK
    rows = [
        [
            str(m.seq),
            ago(m.at),
            *([m.address] if args.kind == "domain" else []),
            m.from_site or "-",
            m.to_site or "-",
            str(m.sequence) if m.sequence else "-",
            m.cause,
            clip(m.evidence or "-", 40),
        ]
        for m in resp.moves
    ]
    headers = ["SEQ", "AT", *(["ADDRESS"] if args.kind == "domain" else [])]
    headers += ["FROM", "TO", "SEQUENCE", "CAUSE", "EVIDENCE"]
    print(table(rows, headers) if rows else f"no moves journaled for {args.kind} {args.name}")
    return EXIT_OK


# -- registration ---------------------------------------------------------------------------
