"""``routerd``: validate, plan, apply and serve a Router config; run the demo."""

from __future__ import annotations

import argparse
import logging
import sys

from routerd import __version__
from routerd.cli import demo_cmd, install_cmd, run_cmd, state_cmd, validate_cmd
from routerd.cli.logs import setup_logging


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="routerd",
        description="Selective Address Mobility daemon: capture selected /32 addresses and "
        "deliver them over a router-to-router WireGuard overlay, source preserved, no NAT.",
    )
    p.add_argument("--version", action="version", version=f"routerd {__version__}")
    p.add_argument("--log-level", default="info", choices=("debug", "info", "warning", "error"))
    p.add_argument(
        "--log-format",
        default="text",
        choices=("text", "json"),
        help="text is key=value; json is one object per line",
    )
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)
    validate_cmd.register(sub)
    run_cmd.register(sub)
    install_cmd.register(sub)
    state_cmd.register(sub)
    demo_cmd.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.log_level, args.log_format)
    try:
        code: int = args.func(args)
    except BrokenPipeError:  # `routerd ... | head`: the reader left; not an error
        sys.stderr.close()
        return 0
    except Exception:  # a bug: one log record (JSON stays JSON), not a raw traceback
        logging.getLogger("routerd").critical("routerd %s failed", args.command, exc_info=True)
        return 1
    return code


if __name__ == "__main__":
    sys.exit(main())
