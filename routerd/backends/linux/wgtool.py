"""Kernel-module WireGuard through ``wg`` with the configuration on stdin.

``wg syncconf IF /dev/stdin`` applies a full config without disturbing sessions of peers
that did not change; the config (with the private key) goes through a pipe, never argv, a
file or the environment (D11, docs/decisions.md). ``wg show IF dump`` reads the device back; its
first line holds the private key, which is only used to derive the public key and then dropped.

The same commands also work against wireguard-go (``wg`` prefers the UAPI socket when one
exists), which is how this path is exercised on machines without the kernel module.
"""

from __future__ import annotations

import subprocess

from routerd.core.errors import DataplaneError

WG = "wg"


def _run(args: list[str], op: str, stdin: str | None = None) -> str:
    try:
        proc = subprocess.run(
            [WG, *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DataplaneError(op, str(exc)) from exc
    if proc.returncode != 0:
        # wg's stderr names the problem; it never echoes the config it read.
        raise DataplaneError(op, proc.stderr.strip() or f"exit {proc.returncode}")
    return proc.stdout


def show_dump(ifname: str) -> str:
    """``wg show IF dump`` (first line includes the private key: parse, derive, drop)."""
    return _run(["show", ifname, "dump"], f"wg show {ifname}")


def syncconf(ifname: str, config: str) -> None:
    """Apply a full config read from stdin."""
    _run(["syncconf", ifname, "/dev/stdin"], f"wg syncconf {ifname}", stdin=config)
