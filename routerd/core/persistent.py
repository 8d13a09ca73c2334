"""Persistent (immutable, structurally shared) collections for published engine state.

The engine publishes what it lowered and what it knows about claims after every pass, and
API threads read it without locks. Publishing must not mean copying: at 100,000 claims a
dict copy of each published table costs milliseconds per pass, for a pass that changed one
claim. ``immutables.Map`` is a hash array mapped trie: ``set``/``delete`` return a new map
sharing all but O(log n) nodes with the old one (~1-2 µs), and a map can never change once
made, so whoever holds one holds a consistent state. ``PSet`` is the same for sets (the
owners of an object that 10,000 claims need).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Iterator, Set
from typing import Any, TypeVar

from immutables import Map

__all__ = ["EMPTY_MAP", "Map", "PSet"]

T = TypeVar("T", bound=Hashable)

EMPTY_MAP: Map[Any, Any] = Map()


class PSet(Set[T]):
    """An immutable set with O(log n) ``add``/``discard`` returning a new set.

    Compares equal to any ``collections.abc.Set`` with the same members (``frozenset``
    included); set operators return plain ``frozenset`` objects.
    """

    __slots__ = ("_items",)

    def __init__(self, items: Iterable[T] = ()) -> None:
        self._items: Map[T, None] = Map((i, None) for i in items)

    @classmethod
    def _of(cls, items: Map[T, None]) -> PSet[T]:
        out: PSet[T] = cls.__new__(cls)
        out._items = items
        return out

    @classmethod
    def _from_iterable(cls, it: Iterable[Any]) -> frozenset[Any]:
        return frozenset(it)

    def add(self, item: T) -> PSet[T]:
        """This set with ``item`` (the same object when already a member)."""
        if item in self._items:
            return self
        return PSet._of(self._items.set(item, None))

    def discard(self, item: T) -> PSet[T]:
        """This set without ``item`` (the same object when not a member)."""
        if item not in self._items:
            return self
        return PSet._of(self._items.delete(item))

    def __contains__(self, item: object) -> bool:
        return item in self._items

    def __iter__(self) -> Iterator[T]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return self._hash()

    def __repr__(self) -> str:
        return f"PSet({sorted(map(repr, self._items))})"
