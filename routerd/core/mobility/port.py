"""The mobility store port: what survives a restart, and an in-memory implementation.

A restarted router must never announce a sequence it announced before for another move
(that would tie with, or lose to, its own old path), must keep its pins, and must keep the
move journal that ``routerctl history address`` shows. ``MobilityStore`` is what the
controller needs for that; ``routerd.state.store.Store`` implements it on SQLite and
``MemoryMobilityStore`` in memory (tests, the simulator).

The controller writes one ``MobilityBatch`` per step, before the step's originations reach
the speaker: a sequence is durable before any other router can have seen it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import Protocol

from routerd.core.mobility.records import MoveRecord, Own, Pin


@dataclass(frozen=True)
class StoredMobility:
    """Everything the store holds for the controller's start.

    Attributes:
        own: address -> what this router originated when it stopped.
        high: address -> the highest sequence seen or used.
        pins: address -> stored pin (``routerctl pin``; static claims are config).
    """

    own: dict[str, Own] = field(default_factory=dict)
    high: dict[str, int] = field(default_factory=dict)
    pins: dict[str, Pin] = field(default_factory=dict)


@dataclass(frozen=True)
class MobilityBatch:
    """One step's changes, written in one transaction.

    Attributes:
        own_put: originations started or changed.
        own_drop: addresses no longer originated.
        high: (address, highest sequence) that rose.
        moves: journal records, in order.
    """

    own_put: tuple[Own, ...] = ()
    own_drop: tuple[str, ...] = ()
    high: tuple[tuple[str, int], ...] = ()
    moves: tuple[MoveRecord, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.own_put or self.own_drop or self.high or self.moves)


class MobilityStore(Protocol):
    """Durable mobility state (thread-safe: pins are written from API threads)."""

    def mobility_load(self) -> StoredMobility:
        """Everything stored, for a controller's start."""

    def mobility_commit(self, batch: MobilityBatch) -> list[MoveRecord]:
        """Write a step's changes at once; returns the moves with their journal ``seq``."""

    def mobility_put_pin(self, pin: Pin) -> None:
        """Store or replace a pin."""

    def mobility_drop_pin(self, address: str) -> bool:
        """Remove a pin; False when there was none."""

    def mobility_moves(
        self, *, address: str | None = None, after: int = 0, limit: int = 1000
    ) -> list[MoveRecord]:
        """Journal records after ``after`` (oldest first), of one address or all."""

    def mobility_head(self) -> int:
        """The newest journal ``seq`` (0 when the journal is empty)."""


class MemoryMobilityStore:
    """``MobilityStore`` in memory; ``fail`` makes the next commit raise (tests)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.own: dict[str, Own] = {}
        self.high: dict[str, int] = {}
        self.pins: dict[str, Pin] = {}
        self.moves: list[MoveRecord] = []
        self.commits = 0
        self.fail: Exception | None = None

    def mobility_load(self) -> StoredMobility:
        with self._lock:
            return StoredMobility(dict(self.own), dict(self.high), dict(self.pins))

    def mobility_commit(self, batch: MobilityBatch) -> list[MoveRecord]:
        with self._lock:
            if self.fail is not None:
                exc, self.fail = self.fail, None
                raise exc
            self.commits += 1
            for own in batch.own_put:
                self.own[own.address] = own
            for address in batch.own_drop:
                self.own.pop(address, None)
            for address, high in batch.high:
                self.high[address] = max(high, self.high.get(address, 0))
            stored = [replace(m, seq=len(self.moves) + i + 1) for i, m in enumerate(batch.moves)]
            self.moves.extend(stored)
            return stored

    def mobility_put_pin(self, pin: Pin) -> None:
        with self._lock:
            self.pins[pin.address] = pin

    def mobility_drop_pin(self, address: str) -> bool:
        with self._lock:
            return self.pins.pop(address, None) is not None

    def mobility_moves(
        self, *, address: str | None = None, after: int = 0, limit: int = 1000
    ) -> list[MoveRecord]:
        with self._lock:
            out = [
                m for m in self.moves if m.seq > after and (address is None or m.address == address)
            ]
            return out[:limit]

    def mobility_head(self) -> int:
        with self._lock:
            return self.moves[-1].seq if self.moves else 0
