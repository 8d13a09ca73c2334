"""The Router config: an immutable, indexed collection of typed resources.

Both the startup config and the effective config are ``RouterConfig`` objects; lowering,
validation and doctor read them through the same small index API.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from routerd.core.resources import ROUTER_API_VERSION, Resource, bare_name

R = TypeVar("R", bound=Resource)


class RouterConfig:
    """An ordered, immutable set of resources with lookups by kind and name.

    Attributes:
        name: ``metadata.name`` of the Router envelope.
        resources: the resources in file order (startup) or merge order (effective).
        file: the file the config was read from, when there is one.
        lines: ``(resource index, dotted path) -> line`` for error messages.
    """

    __slots__ = ("_by_kind", "_index", "file", "lines", "name", "resources")

    def __init__(
        self,
        name: str,
        resources: Iterable[Resource],
        *,
        file: str | None = None,
        lines: dict[tuple[int, str], int] | None = None,
    ) -> None:
        self.name = name
        self.resources: tuple[Resource, ...] = tuple(resources)
        self.file = file
        self.lines = lines or {}
        self._by_kind: dict[str, list[Resource]] = {}
        self._index: dict[tuple[str, str], Resource] = {}
        for r in self.resources:
            self._by_kind.setdefault(r.kind, []).append(r)
            self._index.setdefault((r.kind, r.name), r)

    def of(self, kind: type[R]) -> list[R]:
        """All resources of one kind, in order."""
        return list(self._by_kind.get(kind.KIND, ()))  # type: ignore[arg-type]

    def get(self, kind: type[R], ref: str) -> R | None:
        """Look up by ``name`` or ``Kind/name``."""
        return self._index.get((kind.KIND, bare_name(ref, kind.KIND)))  # type: ignore[return-value]

    def find(self, kind: str, name: str) -> Resource | None:
        return self._index.get((kind, name))

    def identities(self) -> set[tuple[str, str, str]]:
        return {r.identity for r in self.resources}

    def __iter__(self) -> Iterator[Resource]:
        return iter(self.resources)

    def __len__(self) -> int:
        return len(self.resources)

    def line_of(self, index: int, path: str) -> int | None:
        """Best line for a path: the deepest known ancestor of ``path``."""
        parts = path.split(".") if path else []
        while True:
            line = self.lines.get((index, ".".join(parts)))
            if line is not None or not parts:
                return line
            parts.pop()

    def to_doc(self) -> dict[str, Any]:
        return {
            "apiVersion": ROUTER_API_VERSION,
            "kind": "Router",
            "metadata": {"name": self.name},
            "spec": {"resources": [r.to_doc() for r in self.resources]},
        }

    def digest(self) -> str:
        """SHA-256 of the canonical JSON form; equal configs have equal digests."""
        blob = json.dumps(self.to_doc(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()

    def replace(self, resources: Iterable[Resource]) -> RouterConfig:
        """A new config with the same name and other resources (no line info)."""
        return RouterConfig(self.name, resources, file=self.file)
