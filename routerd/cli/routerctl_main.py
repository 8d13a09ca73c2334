"""``routerctl``: inspect and steer a running routerd over its gRPC Unix socket.

Every command talks to the daemon at ``--socket`` (``$ROUTERD_SOCKET``, default
/run/routerd/routerd.sock), except ``doctor --local``, which runs the checks in-process.
``--socket`` and ``--timeout`` are accepted before or after the command. Exit codes are the
same for every command: 0 ok, 1 routerd unreachable (with a hint) or the operation failed,
2 usage or invalid input, 3 doctor found a failing check.

The parser (``routerd.cli.ctl_args``, ``ctl_args_admin``) names each command's
implementation, which is imported only when that command runs, and the gRPC client only once
the command line parsed: ``--help`` and a usage error load no grpc, and one command loads
only its own module.
"""

from __future__ import annotations

import argparse
import sys

from routerd import __version__
from routerd.cli import ctl_args, ctl_args_admin
from routerd.cli.common import DEFAULT_SOCKET, EXIT_FAIL, add_socket

DEFAULT_TIMEOUT = 30.0
EPILOG = (
    "exit codes: 0 ok; 1 routerd unreachable or the operation failed; 2 usage or invalid "
    "input; 3 doctor found a failing check"
)


def common_flags() -> argparse.ArgumentParser:
    """Flags every command accepts after its name (they override the global ones)."""
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument(
        "--socket",
        default=argparse.SUPPRESS,
        metavar="PATH",
        help=f"routerd's gRPC Unix socket (default: $ROUTERD_SOCKET or {DEFAULT_SOCKET})",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=argparse.SUPPRESS,
        metavar="SECONDS",
        help=f"deadline for each call (default: {DEFAULT_TIMEOUT:.0f})",
    )
    return p


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="routerctl",
        description="Inspect and steer a running routerd: claims and their transitions, "
        "peers, routes, where mobile addresses live and moving them, failback of a router pair, "
        "dynamic config, "
        "plugins, provider actions, diagnostics.",
        epilog=EPILOG,
    )
    p.add_argument("--version", action="version", version=f"routerctl {__version__}")
    add_socket(p)
    p.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"deadline for each call (default: {DEFAULT_TIMEOUT:.0f})",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)
    common = common_flags()
    registers = (
        ctl_args.register_status,
        ctl_args.register_get,
        ctl_args.register_watch,
        ctl_args.register_mobility,
        ctl_args.register_pair,
        ctl_args_admin.register_doctor,
        ctl_args_admin.register_config,
        ctl_args_admin.register_dynamic,
        ctl_args_admin.register_plugin,
        ctl_args_admin.register_action,
    )
    for register in registers:  # in the order --help lists them
        register(sub, common)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)  # exits 2 on usage errors
    from routerd.cli.ctl_client import Client, CtlError  # grpc: only once there is a command

    client = Client(args.socket, args.timeout)
    try:
        code: int = args.func(args, client)
        return code
    except CtlError as e:
        print(f"error: {e.message}", file=sys.stderr)
        return e.code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `routerctl watch claims | head`
        return EXIT_FAIL
    finally:
        client.close()


if __name__ == "__main__":
    sys.exit(main())
