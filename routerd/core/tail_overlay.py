"""A persistent map of values some keys of which a second layer (the tail) overrides.

The composition keeps two of them (objects and owners): claims write base values, the
tail writes its own, and the published map holds what the two make together. Writes go to
one mutation of the published map until ``finish``, so a pass that wrote many keys pays
for one new map, and a published map never changes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from routerd.core.desired import Key
from routerd.core.persistent import Map

V = TypeVar("V")
T = TypeVar("T")


class TailOverlay(Generic[V, T]):
    """A persistent map of base values with some keys overlaid by tail values.

    ``published[k]`` is ``combine(base[k] or None, tail[k])`` for tail keys, else
    ``base[k]``. Writes go to one mutation of the published map until ``finish``.

    Args:
        combine: the published value of a tail key from its base value and tail value.
        track: keep ``written`` (off where nobody reads it: a first pass would otherwise
            put every key of the state in a set for nothing).
    """

    def __init__(self, combine: Callable[[V | None, T], V], *, track: bool = True) -> None:
        self._combine = combine
        self._track = track
        self._map: Map[Key, V] = Map()
        self._mut = self._map.mutate()
        self._hidden: dict[Key, V] = {}  # base values of tail keys
        self._tail: dict[Key, T] = {}
        self._pending = False
        self.written: set[Key] = set()
        """Keys written since the caller last cleared this set (empty unless ``track``)."""

    def base(self, key: Key) -> V | None:
        if key in self._tail:
            return self._hidden.get(key)
        return self._mut.get(key)

    def set_base(self, key: Key, value: V | None) -> None:
        if key in self._tail:
            if value is None:
                self._hidden.pop(key, None)
            else:
                self._hidden[key] = value
            self._write(key, self._combine(value, self._tail[key]))
        else:
            self._write(key, value)

    def set_bases(self, values: dict[Key, V]) -> None:
        """``set_base`` of every item, for keys that hold no base value yet (one update)."""
        tail = self._tail
        if tail:
            for k in values.keys() & tail.keys():
                self.set_base(k, values.pop(k))
        if values:
            self._mut.update(values)
            if self._track:
                self.written.update(values)
            self._pending = True

    def set_tail(self, key: Key, value: T | None) -> None:
        if value is None:
            if key in self._tail:
                del self._tail[key]
                self._write(key, self._hidden.pop(key, None))
            return
        if key not in self._tail:
            base = self._mut.get(key)
            if base is not None:
                self._hidden[key] = base
        self._tail[key] = value
        self._write(key, self._combine(self._hidden.get(key), value))

    def _write(self, key: Key, value: V | None) -> None:
        mut = self._mut
        if value is None:
            if key in mut:
                del mut[key]
                if self._track:
                    self.written.add(key)
                self._pending = True
        elif mut.get(key) is not value:
            mut[key] = value
            if self._track:
                self.written.add(key)
            self._pending = True

    def finish(self) -> Map[Key, V]:
        """The published map with every write so far (the same object when none)."""
        if self._pending:
            self._map = self._mut.finish()
            self._mut = self._map.mutate()
            self._pending = False
        return self._map
