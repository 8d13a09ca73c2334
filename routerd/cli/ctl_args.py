"""``routerctl``'s command line: every subcommand's arguments and help, nothing it runs.

Each subcommand names the function that implements it (``Run("module:function")``); that
module is imported only when the subcommand runs. Parsing the command line (and every
``--help``) therefore loads argparse and these tables, not grpc, protobuf, the engine,
validation, the resource models or the doctor: ``routerctl move`` at a cutover pays for its
own gRPC call and nothing else. ``tests/unit/cli/test_ctl_imports.py`` keeps it so.

This module has the commands that look at the daemon and move addresses (``status``,
``get``, ``describe``, ``watch``, ``history``, ``move``, ``where``, ``pin``, ``unpin``);
``routerd.cli.ctl_args_admin`` has ``doctor``, ``config``, ``dynamic``, ``plugin`` and
``action``. Every implementation takes ``(args, client)`` and returns the exit code.
"""

from __future__ import annotations

import argparse
import importlib
from typing import TYPE_CHECKING

from routerd.cli.common import DATA_FORMATS, add_output

if TYPE_CHECKING:
    from collections.abc import Callable

    from routerd.cli.ctl_client import Client

    Subparsers = argparse._SubParsersAction[argparse.ArgumentParser]

GET_KINDS = ("claims", "domains", "peers", "routes", "dynamic", "homes")
DESCRIBE_KINDS = ("claim", "peer", "wireguardinterface")
DOCTOR_AREAS = ("hybrid", "dynamic", "plugin", "firewall", "mobility", "provider")
"""``routerd.core.doctor.AREAS``, which imports the doctor's inputs (a test keeps them equal)."""


class Run:
    """A subcommand's implementation, ``"module:function"``, imported when it runs.

    Args:
        target: the dotted module and the function's name, separated by a colon.
    """

    def __init__(self, target: str) -> None:
        self.module, _, self.name = target.partition(":")

    def resolve(self) -> Callable[[argparse.Namespace, Client], int]:
        """Import the implementation's module and return the function."""
        func: Callable[[argparse.Namespace, Client], int] = getattr(
            importlib.import_module(self.module), self.name
        )
        return func

    def __call__(self, args: argparse.Namespace, client: Client) -> int:
        return self.resolve()(args, client)

    def __repr__(self) -> str:
        return f"Run({self.module}:{self.name})"


def register_status(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "status",
        parents=[common],
        help="daemon status, claim counts and health problems",
        description="Show the running router, config generation, uptime, reconcile passes "
        "and claim counts by state, and whether the config file on disk is what runs. "
        "Health problems (degraded claims, rejected dynamic parts, failed applies, a "
        "rejected reload, a damaged state database) follow in a '# Health:' block.",
    )
    add_output(p, DATA_FORMATS, "table")
    p.set_defaults(func=Run("routerd.cli.ctl_status:cmd_status"))


def register_get(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "get",
        parents=[common],
        help="list claims, domains, peers, routes, dynamic parts or homes",
        description="List objects of one kind as a table. claims: state and reason per "
        "claim; domains: AddressMobilityDomains; peers: OverlayPeers; routes: the routes "
        "routerd installs; dynamic: stored dynamic config parts with their merge status; "
        "homes: every address of a mobile domain with a known home site, its sequence and "
        "evidence.",
    )
    p.add_argument("kind", choices=GET_KINDS, help="what to list")
    p.add_argument("--domain", metavar="NAME", help="homes: only this mobile domain")
    add_output(p, DATA_FORMATS, "table")
    p.set_defaults(func=Run("routerd.cli.ctl_get:cmd_get"))

    p = sub.add_parser(
        "describe",
        parents=[common],
        help="show one claim, peer or WireGuard interface in detail",
        description="Show one object in detail. claim: intent, state, reason and recent "
        "transitions; peer: overlay addresses and delivered claims; wireguardinterface: "
        "the public key and each peer's allowed IPs, explicit and derived (private keys "
        "are never shown).",
    )
    p.add_argument("kind", choices=DESCRIBE_KINDS, help="what to describe")
    p.add_argument("name", help="its name (metadata.name)")
    add_output(p, DATA_FORMATS, "table")
    p.set_defaults(func=Run("routerd.cli.ctl_get:cmd_describe"))


def register_watch(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "watch",
        parents=[common],
        help="stream claim transitions or address moves as they happen",
        description="Print claim transitions (claims) or journaled moves of mobile addresses "
        "(homes) as they happen, each with its journal sequence number. --since SEQ first "
        "replays everything after SEQ (0: all the journal keeps), so a watch restarted with the "
        "last SEQ it printed misses nothing and repeats nothing (a SEQ older than the journal "
        "keeps, see routerd serve --journal-keep, is refused with the oldest it holds). "
        "routerd disconnects a claims "
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
    p.set_defaults(func=Run("routerd.cli.ctl_watch:cmd_watch"))

    p = sub.add_parser(
        "history",
        parents=[common],
        help="the journaled transitions of a claim, or the moves of an address or domain",
        description="Print, oldest first, every journaled transition of one claim (also of a "
        "claim that has since been removed), or every journaled move of one mobile address "
        "or of one domain, with its cause (presence, explicit, pin, bgp, ...) and evidence; "
        "as far back as the journal keeps (routerd serve --journal-keep).",
    )
    p.add_argument("kind", choices=("claim", "address", "domain"), help="what to show history for")
    p.add_argument("name", help="the claim's name, the address, or the domain's name")
    p.add_argument("--limit", type=int, default=1000, metavar="N", help="at most N entries (1000)")
    add_output(p, DATA_FORMATS, "table")
    p.set_defaults(func=Run("routerd.cli.ctl_watch:cmd_history"))


def register_mobility(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "move",
        parents=[common],
        help="move addresses to this router's site (explicit migration cutover)",
        description="Move addresses of a mobile domain to SITE, which must be the site of the "
        "router you are talking to (a router speaks only for its own site: to move an "
        "address to another site, run this against that site's router). All or none: when "
        "any address is refused nothing moves and each refusal is listed with what to do. "
        "Waits until the addresses are originated here and prints each one's new sequence "
        "(queued if that takes longer than 10 s; the move still happens). Exit 2 when "
        "refused.",
    )
    p.add_argument("addresses", nargs="+", metavar="ADDRESS", help="an IPv4 address to move")
    p.add_argument("--to", required=True, metavar="SITE", help="this router's site")
    p.add_argument("--cause", default="", metavar="TEXT", help="why (journaled with each move)")
    p.add_argument(
        "--no-wait", action="store_true", help="return once queued, before they are originated"
    )
    p.add_argument("--dry-run", action="store_true", help="check every address and move nothing")
    add_output(p, DATA_FORMATS, "table")
    p.set_defaults(func=Run("routerd.cli.ctl_mobility:cmd_move"))

    p = sub.add_parser(
        "where",
        parents=[common],
        help="where an address lives now, and why",
        description="Show an address's home site, its mobility sequence, since when, the "
        "evidence (a host answering here, a BGP path from another site, an explicit move, a "
        "pin), whether this router originates it, and any conflict with what to do.",
    )
    p.add_argument("address", help="an IPv4 address of a mobile domain")
    add_output(p, DATA_FORMATS, "table")
    p.set_defaults(func=Run("routerd.cli.ctl_mobility:cmd_where"))

    p = sub.add_parser(
        "pin",
        parents=[common],
        help="keep an address at a site whatever presence says",
        description="Pin an address to SITE: this router then always originates it (SITE is "
        "its own) or never does (another site), and presence no longer moves it. Stored; "
        "survives restarts. Pinning again replaces the pin. An address pinned by a static "
        "RemoteAddressClaim is changed in the config instead.",
    )
    p.add_argument("address", help="an IPv4 address of a mobile domain")
    p.add_argument("--site", required=True, metavar="SITE", help="a site of its domain")
    p.add_argument("--cause", default="", metavar="TEXT", help="why (kept with the pin)")
    add_output(p, DATA_FORMATS, "table")
    p.set_defaults(func=Run("routerd.cli.ctl_mobility:cmd_pin"))

    p = sub.add_parser(
        "unpin",
        parents=[common],
        help="remove an address's pin (presence moves it again)",
        description="Remove the pin set with routerctl pin. An address that is not pinned is "
        "not an error.",
    )
    p.add_argument("address", help="an IPv4 address of a mobile domain")
    add_output(p, DATA_FORMATS, "table")
    p.set_defaults(func=Run("routerd.cli.ctl_mobility:cmd_unpin"))


def register_pair(sub: Subparsers, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser(
        "failback",
        parents=[common],
        help="make this router its pair's active router again (planned, no outage)",
        description="Ask this router to become its pair's active router (RedundancyGroup). "
        "It takes over by VRRP preemption: the partner hears a higher priority and yields, "
        "and this router captures and announces every address in the same step, so no "
        "traffic is lost. Refused (exit 2, with the reason) while this router is in fault "
        "or its keepalived is not running. On a router without a pair it does nothing.",
    )
    add_output(p, DATA_FORMATS, "table")
    p.set_defaults(func=Run("routerd.cli.ctl_pair:cmd_failback"))
