"""Where each field of each resource was written: ``(resource index, dotted path) -> line``.

Validation messages name the line of the field they are about, so a loaded config keeps
the line of every field of every resource. As a dict that is ~18 entries a claim (each
a tuple key, a string and an int: a few KB a claim); but resources written alike have
the same fields at the same distances from their first line. So the index keeps, per
resource, its first line and the number of its *shape* (the fields in order with their
line offsets), and each distinct shape once: 16 bytes a resource when they are written
alike.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Mapping

Shape = tuple[tuple[str, int], ...]


class LineIndex(Mapping[tuple[int, str], int]):
    """A read-only ``(resource index, dotted path) -> line`` mapping, built resource by
    resource with ``add`` (in index order) while a config is loaded."""

    __slots__ = ("_bases", "_ids", "_len", "_offsets", "_shape_ids")

    def __init__(self) -> None:
        self._bases = array("L")
        self._ids = array("L")
        self._offsets: list[dict[str, int]] = []
        self._shape_ids: dict[Shape, int] = {}
        self._len = 0

    def add(self, index: int, lines: Iterable[tuple[str, int]]) -> None:
        """The lines of resource ``index`` (the next one): ``(dotted path, line)`` pairs,
        the resource itself under ``""``; a path given twice keeps its last line."""
        if index != len(self._bases):
            raise ValueError(f"resource {index} added out of order (next is {len(self._bases)})")
        entries = dict(lines)
        base = min(entries.values(), default=0)
        shape = tuple((path, line - base) for path, line in entries.items())
        sid = self._shape_ids.get(shape)
        if sid is None:
            sid = self._shape_ids[shape] = len(self._offsets)
            self._offsets.append(dict(shape))
        self._bases.append(base)
        self._ids.append(sid)
        self._len += len(shape)

    def __getitem__(self, key: tuple[int, str]) -> int:
        index, path = key
        if not 0 <= index < len(self._bases):
            raise KeyError(key)
        offset = self._offsets[self._ids[index]].get(path)
        if offset is None:
            raise KeyError(key)
        return self._bases[index] + offset

    def __iter__(self) -> Iterator[tuple[int, str]]:
        for index, sid in enumerate(self._ids):
            for path in self._offsets[sid]:
                yield (index, path)

    def __len__(self) -> int:
        return self._len

    def __repr__(self) -> str:
        return f"LineIndex({len(self._bases)} resources, {len(self._offsets)} shapes)"
