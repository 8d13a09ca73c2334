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

from bisect import bisect_left
from collections.abc import Hashable, Iterable, Iterator, Set
from typing import Any, TypeVar

from immutables import Map

__all__ = ["EMPTY_MAP", "Map", "PSet"]

T = TypeVar("T", bound=Hashable)

EMPTY_MAP: Map[Any, Any] = Map()


class PSet(Set[T]):
    """An immutable set with O(log n) ``add``/``discard`` returning a new set.

    Compares equal to any ``collections.abc.Set`` with the same members (``frozenset``
    included); set operators return plain ``frozenset`` objects. Most objects have one
    owner, so a one-member set holds its member directly (no map).
    """

    __slots__ = ("_items", "_one", "_order")

    def __init__(self, items: Iterable[T] = ()) -> None:
        self._one: Any
        self._items: Map[T, None] | None = None
        self._order: tuple[T, ...] | None = None
        if type(items) is list and len(items) == 1:  # the common case: one owner
            self._one = items[0]
            return
        members = list(dict.fromkeys(items))
        self._one = members[0] if len(members) == 1 else _NONE
        if len(members) > 1:
            self._items = Map((i, None) for i in members)
            # sorted now, from the order the members came in (a fold's owner labels come
            # in the claims' order, sorted already: ~1 ms at 100,000), not later from the
            # map's hash order (~50 ms)
            self._order = tuple(sorted(members))  # type: ignore[type-var]

    @classmethod
    def one(cls, item: T) -> PSet[T]:
        """``PSet([item])``, made without looking at a list (a fold makes thousands)."""
        out: PSet[T] = cls.__new__(cls)
        out._one, out._items, out._order = item, None, None
        return out

    @classmethod
    def _of(cls, items: Map[T, None]) -> PSet[T]:
        out: PSet[T] = cls.__new__(cls)
        out._order = None
        if len(items) == 1:
            out._one, out._items = next(iter(items)), None
        else:
            out._one, out._items = _NONE, items or None
        return out

    @classmethod
    def _from_iterable(cls, it: Iterable[Any]) -> frozenset[Any]:
        return frozenset(it)

    def _map(self) -> Map[T, None]:
        if self._items is not None:
            return self._items
        return Map() if self._one is _NONE else Map({self._one: None})

    def add(self, item: T) -> PSet[T]:
        """This set with ``item`` (the same object when already a member)."""
        if item in self:
            return self
        if self._one is _NONE and self._items is None:
            out: PSet[T] = PSet.__new__(PSet)
            out._one, out._items, out._order = item, None, None
            return out
        return PSet._of(self._map().set(item, None))

    def add_keeping_order(self, item: T) -> PSet[T]:
        """``add``, and the new set's sorted order made from this one's when it has it:
        one insertion (O(n) copying) rather than a sort of the new set from its map's
        hash order. For a set made once and ordered (a first pass's owners of a shared
        key, plus the tail's label), not for one growing member by member."""
        out = self.add(item)
        order = self._order
        if out is not self and order is not None:
            at = bisect_left(order, item)  # type: ignore[call-overload]
            out._order = (*order[:at], item, *order[at:])
        return out

    def add_all(self, items: Iterable[T]) -> PSet[T]:
        """This set with every one of ``items``: one update of the map, however many
        (the same object when all are members already)."""
        new = [i for i in dict.fromkeys(items) if i not in self]
        if not new:
            return self
        if len(new) == 1:
            return self.add(new[0])
        edit = self._map().mutate()
        for i in new:
            edit[i] = None
        return PSet._of(edit.finish())

    def discard(self, item: T) -> PSet[T]:
        """This set without ``item`` (the same object when not a member)."""
        if item not in self:
            return self
        return PSet._of(self._map().delete(item))

    def ordered(self) -> tuple[T, ...]:
        """The members in sorted order: sorted once per set (the owners of a sysctl every
        claim needs are thousands), never for the common one-member set."""
        if self._items is None:
            return () if self._one is _NONE else (self._one,)
        if self._order is None:
            self._order = tuple(sorted(self._items))  # type: ignore[type-var]
        return self._order

    def __contains__(self, item: object) -> bool:
        if self._items is not None:
            return item in self._items
        return self._one is not _NONE and self._one == item

    def __iter__(self) -> Iterator[T]:
        if self._items is not None:
            return iter(self._items)
        return iter(() if self._one is _NONE else (self._one,))

    def __len__(self) -> int:
        if self._items is not None:
            return len(self._items)
        return 0 if self._one is _NONE else 1

    def __hash__(self) -> int:
        return self._hash()

    def __reduce__(self) -> tuple[type[PSet[T]], tuple[list[T]]]:
        return (PSet, (list(self),))

    def __repr__(self) -> str:
        return f"PSet({sorted(map(repr, self))})"


_NONE: Any = object()
