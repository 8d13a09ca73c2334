"""Flags and helpers shared by ``routerd`` and ``routerctl``.

The common flags mean the same everywhere: ``-c/--config``, ``--backend``, ``--state-dir``
(default /var/lib/routerd), ``--socket`` (default /run/routerd/routerd.sock or
``$ROUTERD_SOCKET``), ``-o table|json|yaml`` (or text|json where output is prose).

``routerctl`` imports this module to build its parser, so it imports nothing heavy: YAML is
loaded when something is emitted as YAML.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

DEFAULT_STATE_DIR = "/var/lib/routerd"
DEFAULT_SOCKET = "/run/routerd/routerd.sock"

EXIT_OK = 0
EXIT_FAIL = 1
EXIT_USAGE = 2
EXIT_DOCTOR_FAIL = 3

DATA_FORMATS = ("table", "json", "yaml")
"""``-o`` choices of commands that print data (``routerd.cli.ctl_output`` renders them)."""


def default_socket() -> str:
    return os.environ.get("ROUTERD_SOCKET") or DEFAULT_SOCKET


def add_config(
    p: argparse.ArgumentParser | argparse._ActionsContainer, *, required: bool = True
) -> None:
    p.add_argument(
        "-c",
        "--config",
        required=required,
        metavar="FILE",
        help="Router YAML file (startup config)",
    )


def add_world(p: argparse._ActionsContainer) -> None:
    p.add_argument(
        "--world",
        metavar="FILE",
        help="simulated World file (apiVersion sim.routerd.net/v1alpha1): its routers take "
        "their configs from it; see docs/testing-automation.md",
    )


def add_backend(p: argparse.ArgumentParser, default: str = "linux") -> None:
    p.add_argument(
        "--backend",
        choices=("linux", "sim"),
        default=default,
        help=f"dataplane backend (default: {default})",
    )


def add_state_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--state-dir",
        default=DEFAULT_STATE_DIR,
        metavar="DIR",
        help=f"state directory with routerd.db and keys (default: {DEFAULT_STATE_DIR})",
    )


def add_socket(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--socket",
        default=default_socket(),
        metavar="PATH",
        help=f"gRPC Unix socket (default: $ROUTERD_SOCKET or {DEFAULT_SOCKET})",
    )


def add_output(p: argparse.ArgumentParser, choices: tuple[str, ...], default: str) -> None:
    p.add_argument(
        "-o",
        "--output",
        choices=choices,
        default=default,
        help=f"output format (default: {default})",
    )


def emit(data: Any, fmt: str) -> None:
    """Print structured data as JSON or YAML."""
    if fmt == "json":
        print(json.dumps(data, indent=2, sort_keys=False, default=str))
    else:
        import yaml  # only YAML output needs it

        print(yaml.safe_dump(data, sort_keys=False, default_flow_style=False).rstrip())


def die(message: str, code: int = EXIT_FAIL) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def table(rows: list[list[str]], headers: list[str]) -> str:
    """Left-aligned columns separated by two spaces (readable at 100 columns)."""
    cols = [headers, *rows]
    widths = [max(len(str(r[i])) for r in cols) for i in range(len(headers))]
    lines = []
    for r in cols:
        cells = [str(c).ljust(w) for c, w in zip(r, widths, strict=True)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)
