"""The state store as core sees it: the records that cross, and one small port per user.

The engine's event bus journals ``JournalEntry`` rows, the plugin listing shows
``PluginRun`` rows, and every caller that opens a store handles ``StoreError``. They are
plain data, so core defines them and the SQLite store (``routerd.state``) reads and writes
them.

Core never names the SQLite store: each core user states the few methods it calls as a
``Protocol`` here (``PartStore`` for the config inputs, ``JournalStore`` for the event bus,
``MetaStore`` and ``EngineStore`` for the engine, ``PluginRecords`` for the plugin listing,
``PluginStore`` for a plugin run,
``DoctorStore`` for doctor checks). ``routerd.state.store.Store`` satisfies all of them;
tests may hand in anything smaller that does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from routerd.core.action_journal import ActionRecord, HeldAddress
from routerd.core.dynamic import DynamicPart


class JournalEntry(NamedTuple):
    """One claim transition as journaled and streamed to watchers.

    A tuple in the journal table's column order: the first pass at 10,000 claims journals
    30,000 of them, and the store inserts them as they are, with no row built per entry.
    """

    seq: int
    claim: str
    address: str
    from_state: str
    to_state: str
    trigger: str
    reason: str
    message: str
    at: float
    generation: int


@dataclass(frozen=True)
class PluginRun:
    id: int
    plugin: str
    trigger_type: str
    trigger_topic: str
    started_at: float
    completed_at: float | None
    exit_code: int | None
    status: str
    stdout_digest: str
    stderr: str
    error: str
    generation: int | None


class StoreError(RuntimeError):
    """The state store cannot be opened or is from a newer routerd."""


class PartStore(Protocol):
    """Stored dynamic config parts, read side (the config inputs, the plugin listing)."""

    def parts_version(self) -> tuple[int, float]:
        """A cheap fingerprint that changes whenever parts are added, changed or removed."""
        ...

    def list_parts(self, source: str | None = None) -> list[DynamicPart]: ...


class JournalStore(Protocol):
    """The claim-transition journal (the engine's event bus)."""

    def max_seq(self) -> int: ...

    def append_journal(self, entries: Iterable[JournalEntry]) -> None: ...

    def journal(
        self, *, after_seq: int = 0, claim: str | None = None, limit: int = 10000
    ) -> list[JournalEntry]: ...


class MetaStore(Protocol):
    """Small named values that survive a restart (the engine's generation)."""

    def get_meta(self, key: str, default: str = "") -> str: ...

    def set_meta(self, key: str, value: str) -> None: ...


class EngineStore(PartStore, JournalStore, MetaStore, Protocol):
    """Everything the reconcile engine keeps across restarts."""


class PluginRecords(PartStore, Protocol):
    """What the plugin listing reads: parts and the runs that produced them."""

    def list_runs(self, plugin: str | None = None, limit: int = 50) -> list[PluginRun]: ...


class PluginStore(PluginRecords, Protocol):
    """What a plugin run records: the run row and the part it produced."""

    def next_generation(self, source: str) -> int: ...

    def put_part(self, part: DynamicPart) -> DynamicPart:
        """Store a part (generation 0: the next one).

        Raises:
            StoreError: the part could not be written; nothing was stored.
        """
        ...

    def start_run(self, plugin: str, trigger_type: str, trigger_topic: str = "") -> int: ...

    def finish_run(
        self,
        run_id: int,
        *,
        status: str,
        exit_code: int | None,
        stdout_digest: str = "",
        stderr: str = "",
        error: str = "",
        generation: int | None = None,
    ) -> None: ...


class DoctorStore(PluginRecords, Protocol):
    """What doctor checks read: parts, plugin runs, provider actions and holdings."""

    def open_actions(self, profile: str) -> list[ActionRecord]: ...

    def provider_holdings(self, profile: str = "") -> dict[str, HeldAddress]: ...
