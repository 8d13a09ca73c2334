"""Findings about a World file: each with the World file's line and the item it is about.

An item is a site, segment, VM or router (``Segment/onprem-lan``, ``VM/cloud-vm``); the field
path of a finding is the part inside that item (``interfaces.0.segment``), which is how router
config errors name ``Kind/name`` and ``spec.capture.type``.
"""

from __future__ import annotations

from typing import Any

from routerd.core.errors import ConfigIssue
from routerd.core.loader import LineMap

from .spec import WORLD_KIND

ITEM_KINDS = {"sites": "Site", "vms": "VM", "routers": "Router"}


class Findings:
    """Collects issues with lines looked up in the World file's line map."""

    def __init__(self, file: str | None, lines: LineMap) -> None:
        self.file = file
        self.lines = lines
        self.errors: list[ConfigIssue] = []
        self.warnings: list[ConfigIssue] = []
        self.undecoded: set[str] = set()
        """Names of items that did not decode (references to them are not reported)."""
        self.decoded: dict[str, list[int]] = {}
        """Per item list: the file positions of the items that decoded, in order."""

    def item(self, key: str, i: int) -> tuple[Any, ...]:
        """The World-file path of the ``i``-th decoded item of list ``key``."""
        positions = self.decoded.get(key)
        return ("spec", key, positions[i] if positions is not None else i)

    def line(self, at: tuple[Any, ...]) -> int | None:
        key = at
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return None

    def issue(self, label: str, at: tuple[Any, ...], message: str, *, warn: bool = False) -> None:
        """Record a finding about ``label`` at World-file path ``at`` (``("spec", "vms", 0,
        "segment")``); the reported field path is the part inside the item."""
        found = ConfigIssue(label, _inner_path(at), message, self.line(at), self.file)
        (self.warnings if warn else self.errors).append(found)


def _inner_path(at: tuple[Any, ...]) -> str:
    if len(at) >= 3 and at[0] == "spec" and at[1] in ITEM_KINDS:
        rest = at[3:]
        if at[1] == "sites" and len(rest) >= 2 and rest[0] == "segments":
            rest = rest[2:]
        return ".".join(str(p) for p in rest)
    return ".".join(str(p) for p in at)


def item_label(data: Any, at: tuple[Any, ...]) -> str:
    """``VM/cloud-vm`` for a path inside ``spec.vms[i]`` (``Segment/x`` inside a site)."""
    if len(at) < 3 or at[0] != "spec" or at[1] not in ITEM_KINDS:
        return WORLD_KIND
    kind, where = ITEM_KINDS[at[1]], at[:3]
    if at[1] == "sites" and len(at) >= 5 and at[3] == "segments":
        kind, where = "Segment", at[:5]
    item = _get(data, where)
    name = item.get("name") if isinstance(item, dict) else None
    return f"{kind}/{name}" if isinstance(name, str) and name else f"{kind}[{where[-1]}]"


def _get(data: Any, at: tuple[Any, ...]) -> Any:
    for part in at:
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and isinstance(part, int) and part < len(data):
            data = data[part]
        else:
            return None
    return data
