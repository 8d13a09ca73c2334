"""routerctl output: the proto JSON mapping for scripts, aligned tables and prose for people.

``-o json`` prints the v1 response through ``google.protobuf.json_format`` with every field
present (a zero count is printed, not omitted), so scripts see a stable shape; ``-o yaml`` is
the same data as YAML. Struct documents carry numbers as doubles; integral ones are printed
as integers (``51820``, not ``51820.0``), which the proto JSON parser reads back the same.
Tables are tab-free, two-space aligned and meant to fit 100 columns.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any, TypeVar

import yaml
from google.protobuf import json_format
from google.protobuf.descriptor import Descriptor
from google.protobuf.duration_pb2 import Duration
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from routerd.cli.common import DATA_FORMATS as DATA_FORMATS
from routerd.core.duration import format_duration

M = TypeVar("M", bound=Message)


def tidy(value: Any) -> Any:
    """Integral floats -> int, recursively (Struct numbers are doubles)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: tidy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [tidy(v) for v in value]
    return value


def to_data(msg: Message) -> Any:
    """The proto JSON mapping of ``msg`` as Python data, every field present, maps sorted."""
    data = json_format.MessageToDict(msg, always_print_fields_with_no_presence=True)
    return tidy(_sort_maps(msg.DESCRIPTOR, data))


def _sort_maps(desc: Descriptor, data: Any) -> Any:
    """Map fields and Struct documents in key order (protobuf map order is unspecified)."""
    if desc.full_name in ("google.protobuf.Struct", "google.protobuf.Value"):
        return _sorted_keys(data)
    if not isinstance(data, dict) or desc.full_name.startswith("google.protobuf."):
        return data
    for f in desc.fields:
        name = f.json_name
        if name not in data or f.message_type is None:
            continue
        if f.message_type.GetOptions().map_entry:
            value_type = f.message_type.fields_by_name["value"].message_type
            items = sorted(data[name].items())
            data[name] = {k: _sort_maps(value_type, v) if value_type else v for k, v in items}
        elif isinstance(data[name], list):
            data[name] = [_sort_maps(f.message_type, v) for v in data[name]]
        else:
            data[name] = _sort_maps(f.message_type, data[name])
    return data


def _sorted_keys(data: Any) -> Any:
    if isinstance(data, dict):
        return {k: _sorted_keys(data[k]) for k in sorted(data)}
    if isinstance(data, list):
        return [_sorted_keys(v) for v in data]
    return data


def dump(data: Any, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(data, indent=2)
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False).rstrip()


def emit(msg: Message, fmt: str) -> None:
    """Print a response as JSON or YAML."""
    print(dump(to_data(msg), fmt))


def emit_line(msg: M, fmt: str, line: Callable[[M], str]) -> None:
    """Print one streamed message at once: a JSON line, a YAML document, or ``line(msg)``."""
    if fmt == "json":
        print(json.dumps(to_data(msg), separators=(",", ":")))
    elif fmt == "yaml":
        print("---\n" + dump(to_data(msg), "yaml"))
    else:
        print(line(msg))
    sys.stdout.flush()


def epoch(ts: Timestamp) -> float:
    return float(ts.seconds + ts.nanos / 1e9)


def stamp(ts: Timestamp) -> str:
    """``2026-05-29 14:10:02Z``, or ``-`` when unset."""
    if ts.seconds == 0 and ts.nanos == 0:
        return "-"
    return time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(epoch(ts)))


def when(ts: Timestamp, now: float | None = None) -> str:
    """``2026-05-29 14:10:02Z (3m ago)``, or ``-`` when unset."""
    if ts.seconds == 0 and ts.nanos == 0:
        return "-"
    return f"{stamp(ts)} ({ago(ts, now)})"


def ago(ts: Timestamp, now: float | None = None) -> str:
    """``3m ago`` / ``in 2m`` relative to now, or ``-`` when unset."""
    if ts.seconds == 0 and ts.nanos == 0:
        return "-"
    delta = (time.time() if now is None else now) - epoch(ts)
    if delta < 0:
        return f"in {format_duration(-delta)}"
    if delta < 1:
        return "just now"
    return f"{format_duration(delta)} ago"


def seconds(d: Duration) -> float:
    return float(d.seconds + d.nanos / 1e9)


def span(d: Duration) -> str:
    """A duration for people: ``4m30s``, ``12ms``, ``262µs`` (a quiet pass)."""
    s = seconds(d)
    return format_duration(s) if s > 0 else "0s"


def fields(pairs: list[tuple[str, str]]) -> str:
    """``Label:  value`` lines with the values aligned (kubectl describe style)."""
    width = max((len(k) for k, _ in pairs), default=0) + 1
    return "\n".join(f"{(k + ':').ljust(width)}  {v}".rstrip() for k, v in pairs)


def clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
