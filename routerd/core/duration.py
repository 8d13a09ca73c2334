"""Go-syntax durations (``10s``, ``4m30s``, ``1h``, ``250ms``).

The YAML of the Go implementation routerd succeeds uses Go's ``time.ParseDuration`` syntax;
configs written for it must load unchanged, so we parse exactly that grammar (no bare numbers,
no negative values here).
"""

from __future__ import annotations

import re

_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")


def parse_duration(text: str) -> float:
    """Parse a Go duration string into seconds.

    Args:
        text: e.g. ``"10s"``, ``"4m30s"``, ``"1.5h"``, ``"0s"``.

    Returns:
        The duration in seconds (may be 0).

    Raises:
        ValueError: when the text is not a Go duration.
    """
    s = text.strip()
    if not s:
        raise ValueError("empty duration; use Go syntax such as 10s, 4m30s or 1h")
    if s == "0":
        return 0.0
    pos = 0
    total = 0.0
    while pos < len(s):
        m = _PART.match(s, pos)
        if not m:
            raise ValueError(f"invalid duration {text!r}; use Go syntax such as 10s, 4m30s or 1h")
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    return total


def format_duration(seconds: float) -> str:
    """Render seconds in Go style (``4m30s``); sub-second values in ``ms``, those that would
    round to ``0ms`` in ``µs`` (``262µs``: ``parse_duration`` reads it back)."""
    if seconds < 1 and seconds > 0:
        ms = round(seconds * 1000)
        return f"{ms}ms" if ms else f"{max(1, round(seconds * 1e6))}µs"
    whole = round(seconds)
    h, rem = divmod(whole, 3600)
    m, s = divmod(rem, 60)
    out = ""
    if h:
        out += f"{h}h"
    if m:
        out += f"{m}m"
    if s or not out:
        out += f"{s}s"
    return out
